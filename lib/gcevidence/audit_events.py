"""How to read the audit events the checks rely on: role grants and users leaving service.

Every check, role drift, the charts and the history read these events through the two
functions here, so that no two places disagree about an event's shape. Events are rows of the
`audit_events` dataset (datasets.SPECS), as dicts of strings.

Which shape Genesys sends is not documented; both seen in the field are accepted:
- a PeoplePermissions/Role MemberAdd or MemberRemove with `entity.id` = the role id, or with
  only `entity.name` = `<granteeId>--<roleId>--<orgId>` (the grantee is a user or a group);
- a Directory/User event taking a user out of service: action `Delete`, `Deactivate`, or an
  update whose `state` property changes to inactive or deleted.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ROLE_MEMBER_ACTIONS = ("MemberAdd", "MemberRemove")
OUT_OF_SERVICE_ACTIONS = ("Delete", "Deactivate")
OUT_OF_SERVICE_STATES = ("inactive", "deleted")


@dataclass(frozen=True)
class RoleMemberChange:
    """A role granted to (MemberAdd) or removed from (MemberRemove) a grantee."""

    action: str
    role_id: str
    grantee_id: str  # "" when the event does not say (entity.id = role, no name triple)


def role_member_change(event: Mapping[str, Any]) -> RoleMemberChange | None:
    """The role and grantee of a PeoplePermissions/Role MemberAdd/MemberRemove, else None."""
    if (
        event.get("service_name") != "PeoplePermissions"
        or event.get("entity_type") != "Role"
        or event.get("action") not in ROLE_MEMBER_ACTIONS
    ):
        return None
    parts = str(event.get("entity_name") or "").split("--")
    if len(parts) == 3 and all(parts):
        grantee, role, _org = parts
        return RoleMemberChange(str(event["action"]), role, grantee)
    role = str(event.get("entity_id") or "")
    return RoleMemberChange(str(event["action"]), role, "") if role else None


def took_out_of_service(event: Mapping[str, Any]) -> bool:
    """Whether a Directory/User event deleted, deactivated or set inactive a user."""
    if event.get("service_name") != "Directory" or event.get("entity_type") != "User":
        return False
    if event.get("action") in OUT_OF_SERVICE_ACTIONS:
        return True
    return any(
        change.get("property") == "state"
        and any(str(v).lower() in OUT_OF_SERVICE_STATES for v in change.get("newValues") or [])
        for change in _property_changes(event.get("property_changes"))
    )


def succeeded(event: Mapping[str, Any]) -> bool:
    """An event recorded as SUCCESS (or without a status): failed attempts change nothing."""
    return str(event.get("status") or "SUCCESS") == "SUCCESS"


def _property_changes(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, list):
        parsed: Any = value
    else:
        try:
            parsed = json.loads(value) if value else []
        except (TypeError, ValueError):
            return []
    if isinstance(parsed, dict):
        parsed = [parsed]
    return [p for p in parsed if isinstance(p, dict)] if isinstance(parsed, list) else []
