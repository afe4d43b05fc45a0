"""SIP trunks: how signalling and media travel to carriers."""

from __future__ import annotations

from typing import Any

from gcevidence.datasets.model import Entity, flag, table
from gcevidence.endpoints import ENDPOINTS

# The properties the communications checks read: their absence is reported, not guessed.
SECURITY_PROPERTIES = ("trunk_transport_protocolVariant", "trunk_media_srtpCipherSuites")


def _property(trunk: Entity, key: str) -> Any:
    prop = (trunk.get("properties") or {}).get(key) or {}
    return (prop.get("value") or {}).get("instance") if isinstance(prop, dict) else None


def trunk_row(trunk: Entity) -> Entity:
    """One trunks row."""
    suites = _property(trunk, "trunk_media_srtpCipherSuites")
    enabled = _property(trunk, "trunk_enabled")
    props = trunk.get("properties") if isinstance(trunk.get("properties"), dict) else {}
    return {
        "id": trunk.get("id", ""),
        "name": trunk.get("name", ""),
        "state": trunk.get("state", ""),
        "trunk_type": trunk.get("trunkType", ""),
        "metabase_id": (trunk.get("trunkMetabase") or {}).get("id", ""),
        "managed": flag(trunk.get("managed")),
        "enabled": flag(enabled) if isinstance(enabled, bool) else (enabled or ""),
        "transport": str(_property(trunk, "trunk_transport_protocolVariant") or "").lower(),
        "srtp_cipher_suites": ";".join(suites) if isinstance(suites, list) else (suites or ""),
        "absent_properties": ";".join(k for k in SECURITY_PROPERTIES if k not in props),
        "date_created": trunk.get("dateCreated", ""),
        "date_modified": trunk.get("dateModified", ""),
    }


def without_sip_secrets(trunk: Entity) -> Entity:
    """The trunk as the API gave it, minus SIP credential passwords (never evidence)."""
    props = trunk.get("properties")
    if not isinstance(props, dict):
        return trunk
    clean = {k: ("[removed]" if "password" in k.lower() else v) for k, v in props.items()}
    return {**trunk, "properties": clean}


def sip_secrets(trunk: Entity) -> list[str]:
    """The values without_sip_secrets removes (the text inside each password property)."""
    props = trunk.get("properties")
    if not isinstance(props, dict):
        return []
    found = []
    for key, prop in props.items():
        if "password" in key.lower():
            value = prop.get("value") if isinstance(prop, dict) else prop
            value = value.get("instance") if isinstance(value, dict) else value
            found += [value] if isinstance(value, str) else []
    return found


# `properties` is an expansion: the trunks collector re-reads a trunk that came back without it
# (unless it is managed by Genesys, whose properties customers never see).
TRUNKS = table(
    "trunks",
    "id name state trunk_type metabase_id managed enabled transport srtp_cipher_suites "
    "absent_properties date_created date_modified",
    (ENDPOINTS["trunk_base_settings"], ENDPOINTS["trunk_base_setting"]),
    params={"expand": "properties"},
    row=trunk_row,
    scrub=without_sip_secrets,
    removes="every trunk property whose name contains 'password' (SIP credentials)",
    withheld=sip_secrets,
    collector="trunks",
)
