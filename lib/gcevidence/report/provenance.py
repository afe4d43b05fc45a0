"""Where the inputs that are not from the API come from, and how each threshold was set.

For the working papers (`report.show_inputs(ctx)`) and index.html: the HR roster's declared
source, digest, timezone and groups' source; the exceptions register's and the review
decisions' digests and who recorded them, when; and the threshold table's "set by" column.

And the provenance box at the top of index.html (issue 12 §1): the operator who ran the
collection, the OAuth client and the divisions it sees, the API host and region, the tool
version, and whether manifest.json is signed and by which key (the fingerprint `gcevidence
verify` prints). A division scope that is not "all", a missing operator and an unsigned
manifest are shown as warnings.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from IPython.display import HTML

from gcevidence.catalog import threshold_basis
from gcevidence.collection_scope import DivisionScope
from gcevidence.report.context import RunContext
from gcevidence.report.html import definition_list, esc, table

NOT_DECLARED = "not declared"


def _between(span: list[str]) -> str:
    if not span:
        return ""
    return span[0] if span[0] == span[-1] else f"{span[0]} to {span[-1]}"


def roster_sentence(info: dict[str, Any] | None) -> str:
    """ "Workday report 'Leavers' extracted 2026-11-30 by J. Doe, sha256 …, groups from Okta
    groups, dates in Europe/Paris" (or what is missing, named by its params key)."""
    if not info:
        return "none (params hr.roster): the checks that need it are not evaluable"
    source = info.get("source")
    if source:
        origin = (
            f"{source['system']} report '{source['report']}' extracted "
            f"{source['extracted_at']} by {source['extracted_by']}"
        )
    else:
        origin = f"source {NOT_DECLARED} (params hr.source)"
    groups = info.get("groups_source") or f"{NOT_DECLARED} (params hr.groups_source)"
    rows = "" if info.get("rows") is None else f", {info['rows']} people"
    return (
        f"{origin}; file {info.get('file', '')}{rows}, {info.get('sha256', '')}; "
        f"groups from {groups}; termination dates read as days in {info.get('timezone', 'UTC')}"
    )


def register_sentence(info: dict[str, Any] | None) -> str:
    """The exceptions register: its file and digest, and who approved its entries, when."""
    if not info:
        return "none (params exceptions.register): no exception is accepted"
    approved = ", ".join(info.get("approved_by") or ()) or "nobody"
    when = _between(info.get("approved_on") or [])
    until = _between(info.get("expires") or [])
    return (
        f"{info.get('file', '')}, {info.get('sha256', '')}; {info.get('entries', 0)} "
        f"acceptance(s) approved by {approved}"
        + (f" on {when}" if when else "")
        + (f", expiring {until}" if until else "")
    )


def decisions_sentence(info: dict[str, Any] | None) -> str:
    """The access-review decisions the pack carries: digest, reviewers, dates, workbooks."""
    if not info:
        return "none recorded yet (gcevidence review import)"
    reviewers = ", ".join(info.get("reviewers") or ()) or "no reviewer named"
    dates = _between(info.get("review_dates") or [])
    books = "; ".join(
        f"{b['file']} ({b['sha256'][:12]}…, imported {b['imported_at']})"
        for b in info.get("workbooks") or ()
    )
    return (
        f"{info.get('file', '')}, {info.get('sha256', '')}; {info.get('decisions', 0)} "
        f"decision(s) by {reviewers}"
        + (f", reviewed {dates}" if dates else "")
        + (f"; from {books}" if books else "")
    )


def input_rows(inputs: dict[str, Any]) -> list[tuple[str, str]]:
    """(input, provenance) rows for the papers and index.html."""
    return [
        ("HR roster", roster_sentence(inputs.get("hr_roster"))),
        ("Exceptions register", register_sentence(inputs.get("exceptions_register"))),
        ("Access review decisions", decisions_sentence(inputs.get("review_decisions"))),
    ]


def inputs_html(inputs: dict[str, Any] | None) -> str:
    """The inputs not from the API as a two-column table (every value escaped)."""
    return definition_list(input_rows(inputs or {}))


def threshold_rows(
    thresholds: dict[str, dict[str, Any]], names: Iterable[str] | None = None
) -> list[tuple]:
    """(threshold, value, source, set by) — "tool default — confirm against your policy" where
    the number is the toolkit's own."""
    rows = []
    for name in names if names is not None else sorted(thresholds):
        entry = thresholds.get(name)
        if entry is None:
            rows.append((name, "unknown", "", ""))
            continue
        rows.append((name, entry.get("value"), entry.get("source", ""), threshold_basis(entry)))
    return rows


def thresholds_html(thresholds: dict[str, dict[str, Any]] | None) -> str:
    return table(("threshold", "value", "source", "set by"), threshold_rows(thresholds or {}))


def run_inputs(ctx: RunContext) -> dict[str, Any]:
    """The run's recorded inputs; a notebook run on its own describes its params instead."""
    recorded = (ctx.run or {}).get("inputs")
    if isinstance(recorded, dict):
        return recorded
    from gcevidence.inputs import input_provenance

    return input_provenance(ctx.params)


def show_inputs(ctx: RunContext) -> HTML:
    """Where the HR roster, the exceptions register and the review decisions come from."""
    return HTML(inputs_html(run_inputs(ctx)))


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
