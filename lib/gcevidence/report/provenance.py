"""The provenance box at the top of index.html: who collected what, from where, and the seal.

An auditor reads it first (issue 12 §1): the operator who ran the collection, the OAuth client
and the divisions it sees, the API host and region, the tool version, and whether manifest.json
is signed and by which key (the fingerprint `gcevidence verify` prints). A division scope that
is not "all", a missing operator and an unsigned manifest are shown as warnings.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from gcevidence.collection_scope import DivisionScope
from gcevidence.report.html import esc

NO_OPERATOR = "not stated (give --operator NAME, or operator in the params)"
UNSIGNED = (
    "NOT signed: the manifest's digests show whether a file changed, but anyone could re-seal "
    "a changed pack (configure signing in the params)"
)


def signature_text(signed_by: str) -> str:
    """What the box says about the seal, given the signing key's fingerprint (or "")."""
    if not signed_by:
        return UNSIGNED
    return f"signed (Ed25519, manifest.sig) by key {signed_by}; compare with the published key id"


def provenance_rows(run: dict[str, Any], signed_by: str) -> list[tuple[str, str, bool]]:
    """(label, text, is a warning) for each line of the box."""
    scope = DivisionScope.from_dict(run.get("division_scope"))
    api = run.get("api_base_url") or ""
    host = urlsplit(api).netloc or api
    region = run.get("region")
    where = f"{host} (region {region})" if region else f"{host} (no region: a custom API URL)"
    operator = run.get("operator") or ""
    return [
        ("Operator", operator or NO_OPERATOR, not operator),
        ("Collected by (OAuth client id)", str(run.get("client_id") or ""), False),
        ("Divisions the client sees", scope.summary(), not scope.complete),
        ("API host and region", where, False),
        ("Tool version", f"gcevidence {run.get('tool_version', '')}", False),
        ("Manifest signature", signature_text(signed_by), not signed_by),
    ]


def provenance_html(run: dict[str, Any], signed_by: str = "") -> str:
    """The box: a two-column table, warnings highlighted and spelled out (never colour alone)."""
    cells = []
    for label, text, warning in provenance_rows(run, signed_by):
        mark = ' class="gce-not_evaluable"' if warning else ""
        flag = "<strong>WARNING:</strong> " if warning else ""
        cells.append(f"<tr><th>{esc(label)}</th><td{mark}>{flag}{esc(text)}</td></tr>")
    return (
        '<table class="gce-table" id="provenance"><caption>Provenance of this pack</caption>'
        f"<tbody>{''.join(cells)}</tbody></table>"
    )


__all__ = ["provenance_html", "provenance_rows", "signature_text"]
