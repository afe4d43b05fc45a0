"""Communications checks: SIP signalling (TLS) and media (SRTP) on external trunks, and the
IP allowlist for sign-in.

A managed trunk (`managed: true`, e.g. Genesys Cloud Voice) is operated by Genesys: its
transport and SRTP properties are not returned to customers, and its protection is Genesys'
responsibility. Such trunks are listed as covered by Genesys' attestation, never as exceptions.
"""

from __future__ import annotations

import ipaddress

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


# -- the sign-in IP allowlist --------------------------------------------------------------------

_FAMILY = {4: "IPv4", 6: "IPv6"}
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def _network(entry: str) -> IpNetwork | None:
    """An allowlist entry as a network (an address alone is a /32 or /128), else None."""
    try:
        return ipaddress.ip_network(entry, strict=False)
    except ValueError:
        return None


@register_check("network.ip_allowlist")
def ip_allowlist(ctx: CheckContext) -> Outcome:
    settings = ctx.snapshot.object("auth_settings") or {}
    raw = settings.get("ipAddressAllowlist") or []
    entries = list(dict.fromkeys(str(e).strip() for e in (raw if isinstance(raw, list) else [raw])))
    entries = [e for e in entries if e]
    required = bool(getattr(ctx.params, "ip_allowlist_required", False))
    extra = {"ip_address_allowlist": entries, "ip_allowlist_required": required}
    if not entries:
        if required:
            exception = ExceptionItem(
                "setting",
                "ipAddressAllowlist",
                "ipAddressAllowlist",
                "no IP allowlist is set: sign-in is allowed from any address, and the params "
                "require an allowlist (ip_allowlist_required: true)",
            )
            return Outcome([exception], population=0, reason="no IP allowlist is set", extra=extra)
        return Outcome(
            population=0,
            reason="no IP allowlist is set: sign-in is not restricted by address (an optional "
            "setting; the params do not require it, ip_allowlist_required: false)",
            extra=extra,
        )
    networks = {e: _network(e) for e in entries}
    exceptions = [
        ExceptionItem(
            "allowlist_entry",
            e,
            e,
            "not an IP address or network (CIDR): what it admits cannot be judged",
        )
        for e, net in networks.items()
        if net is None
    ]
    for version, family in _FAMILY.items():
        members = {e: n for e, n in networks.items() if n is not None and n.version == version}
        whole = [e for e, n in members.items() if n.prefixlen == 0]
        for e in whole:
            exceptions.append(
                ExceptionItem(
                    "allowlist_entry",
                    e,
                    e,
                    f"admits every {family} address: the allowlist restricts nothing for {family}",
                )
            )
        collapsed = list(ipaddress.collapse_addresses(members.values()))
        if not whole and len(collapsed) == 1 and collapsed[0].prefixlen == 0:
            together = "; ".join(members)
            exceptions.extend(
                ExceptionItem(
                    "allowlist_entry",
                    e,
                    e,
                    f"together, the entries {together} admit every {family} address",
                )
                for e in members
            )
    if exceptions:
        reason = (
            f"{len(exceptions)} of the {len(entries)} allowlist entries admit every address or "
            "cannot be read"
        )
    else:
        reason = f"the IP allowlist restricts sign-in to {len(entries)} address range(s)"
    return Outcome(exceptions, population=len(entries), reason=reason, extra=extra)
