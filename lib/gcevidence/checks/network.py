"""Communications checks: SIP signalling (TLS) and media (SRTP) on external trunks."""

from __future__ import annotations

from gcevidence.checks.common import records, split_list
from gcevidence.checks.registry import CheckContext, Outcome, register_check
from gcevidence.findings import ExceptionItem


def _external_active(ctx: CheckContext) -> list[dict[str, str]]:
    return sorted(
        (
            t
            for t in records(ctx.snapshot.table("trunks"))
            if t["state"] == "active" and t["trunk_type"] == "EXTERNAL"
        ),
        key=lambda t: t["id"],
    )


@register_check("network.trunk_tls")
def trunk_tls(ctx: CheckContext) -> Outcome:
    trunks = _external_active(ctx)
    exceptions = [
        ExceptionItem(
            "trunk", t["id"], t["name"], f"SIP transport is {t['transport'] or 'not set'}, not TLS"
        )
        for t in trunks
        if t["transport"].strip().lower() != "tls"
    ]
    return Outcome(
        exceptions,
        population=len(trunks),
        reason=f"{len(exceptions)} of {len(trunks)} active external trunks without TLS",
        extra={"transports": {t["id"]: t["transport"] for t in trunks}},
    )


@register_check("network.trunk_srtp")
def trunk_srtp(ctx: CheckContext) -> Outcome:
    trunks = _external_active(ctx)
    exceptions = [
        ExceptionItem(
            "trunk",
            t["id"],
            t["name"],
            "no SRTP cipher suite configured: media travels unencrypted",
        )
        for t in trunks
        if not split_list(t["srtp_cipher_suites"])
    ]
    return Outcome(
        exceptions,
        population=len(trunks),
        reason=f"{len(exceptions)} of {len(trunks)} active external trunks without SRTP",
    )
