"""Communications checks: SIP signalling (TLS) and media (SRTP) on external trunks.

A managed trunk (`managed: true`, e.g. Genesys Cloud Voice) is operated by Genesys: its
transport and SRTP properties are not returned to customers, and its protection is Genesys'
responsibility. Such trunks are listed as covered by Genesys' attestation, never as exceptions.
"""

from __future__ import annotations

from gcevidence.checks.common import records, split_list
from gcevidence.checks.registry import CheckContext, Outcome, register_check
from gcevidence.findings import ExceptionItem

GENESYS_OPERATED = "operated by Genesys: covered by Genesys' attestation"
TRANSPORT = "trunk_transport_protocolVariant"
SRTP = "trunk_media_srtpCipherSuites"


def _external_active(ctx: CheckContext) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Active external trunks: (operated by the customer, operated by Genesys)."""
    trunks = sorted(
        (
            t
            for t in records(ctx.snapshot.table("trunks"))
            if t["state"] == "active" and t["trunk_type"] == "EXTERNAL"
        ),
        key=lambda t: t["id"],
    )
    managed = [t for t in trunks if t.get("managed") == "true"]
    return [t for t in trunks if t.get("managed") != "true"], managed


def _absent(trunk: dict[str, str], key: str) -> bool:
    return key in split_list(trunk.get("absent_properties", ""))


def _managed_extra(managed: list[dict[str, str]]) -> dict:
    return {
        "genesys_operated": [
            {
                "id": t["id"],
                "name": t["name"],
                "metabase_id": t["metabase_id"],
                "note": GENESYS_OPERATED,
            }
            for t in managed
        ]
    }


def _managed_note(managed: list[dict[str, str]]) -> str:
    if not managed:
        return ""
    names = "; ".join(t["name"] for t in managed)
    return f"; {len(managed)} more trunk(s) {GENESYS_OPERATED} ({names})"


@register_check("network.trunk_tls")
def trunk_tls(ctx: CheckContext) -> Outcome:
    trunks, managed = _external_active(ctx)
    exceptions = []
    for t in trunks:
        if t["transport"].strip().lower() == "tls":
            continue
        if _absent(t, TRANSPORT):
            detail = f"the API returned no {TRANSPORT} property for this trunk: TLS not shown"
        else:
            detail = f"SIP transport is {t['transport'] or 'not set'}, not TLS"
        exceptions.append(ExceptionItem("trunk", t["id"], t["name"], detail))
    return Outcome(
        exceptions,
        population=len(trunks),
        reason=f"{len(exceptions)} of {len(trunks)} active external trunks operated by the "
        f"organisation without TLS" + _managed_note(managed),
        extra={"transports": {t["id"]: t["transport"] for t in trunks}, **_managed_extra(managed)},
    )


@register_check("network.trunk_srtp")
def trunk_srtp(ctx: CheckContext) -> Outcome:
    trunks, managed = _external_active(ctx)
    exceptions = []
    for t in trunks:
        if split_list(t["srtp_cipher_suites"]):
            continue
        if _absent(t, SRTP):
            detail = (
                f"the API returned no {SRTP} property for this trunk: no SRTP cipher suite "
                "shown, media presumed unencrypted"
            )
        else:
            detail = "no SRTP cipher suite configured: media travels unencrypted"
        exceptions.append(ExceptionItem("trunk", t["id"], t["name"], detail))
    return Outcome(
        exceptions,
        population=len(trunks),
        reason=f"{len(exceptions)} of {len(trunks)} active external trunks operated by the "
        f"organisation without SRTP" + _managed_note(managed),
        extra=_managed_extra(managed),
    )
