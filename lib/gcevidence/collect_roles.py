"""Roles, who each role is granted to, and the members of every group that holds a role.

Subject grants name users (PC_USER), groups (PC_GROUP), OAuth clients (PC_OAUTH_CLIENT) and
partner organisations' users or groups (PC_TRUSTEE_USER, PC_TRUSTEE_GROUP). A group's members
hold its roles, so every granted group's members are read too (GET /api/v2/groups/{id}/members,
paged and reconciled against its `total`). Clients and trustees are not users of the org and
are never looked up as users.

The roles listing is read with userCount=false: the SDK docs warn that counting members "can
lead to slower load times or timeouts for role queries with large member counts", and each
role's grant listing is reconciled against its own `total` instead.
"""

from __future__ import annotations

import logging
from typing import Any

from gcevidence.errors import ApiError
from gcevidence.genesys.paging import list_all
from gcevidence.snapshot import SnapshotWriter

log = logging.getLogger(__name__)

GROUP_MEMBERS_PAGE_SIZE = 100  # largest page size known to work (Genesys' own tools use 100)


def collect_roles(client: Any, writer: SnapshotWriter) -> list[dict]:
    """Write `roles` and `role_grants`; returns the raw subject grants (with their role)."""
    listing = list_all(client, "/api/v2/authorization/roles", {"userCount": False})
    roles = listing.entities
    writer.write_table(
        "roles",
        (_role_row(r) for r in roles),
        roles,
        expected_rows=listing.total,
        requests=listing.requests,
    )

    def grants_of(role: dict) -> tuple[dict, list[dict], int]:
        grants = list_all(
            client, f"/api/v2/authorization/roles/{role['id']}/subjectgrants", page_size=100
        )
        return role, grants.entities, grants.requests

    rows: list[dict] = []
    raw: list[dict] = []
    requests = 0
    types: dict[str, int] = {}
    for role, subjects, reqs in client.map(grants_of, roles):
        requests += reqs
        for subject in subjects:
            kind = str(subject.get("type", ""))
            types[kind] = types.get(kind, 0) + 1
            raw.append({"role": {"id": role.get("id"), "name": role.get("name")}, **subject})
            for division in subject.get("divisions") or [{}]:
                rows.append(
                    {
                        "role_id": role.get("id", ""),
                        "role_name": role.get("name", ""),
                        "subject_id": subject.get("id", ""),
                        "subject_name": subject.get("name", ""),
                        "subject_type": kind,
                        "division_id": division.get("id", ""),
                        "division_name": division.get("name", ""),
                    }
                )
    writer.write_table(
        "role_grants",
        rows,
        raw,
        requests=requests,
        roles=len(roles),
        subjects=len(raw),
        subject_types=dict(sorted(types.items())),
        reconciled="each role's subject grants against the listing's own total",
    )
    return raw


def collect_group_members(client: Any, writer: SnapshotWriter, grants: list[dict]) -> None:
    """Write `group_members`: every member of every group some role is granted to."""
    groups: dict[str, str] = {}
    for g in grants:
        if g.get("type") == "PC_GROUP" and g.get("id"):
            groups.setdefault(str(g["id"]), str(g.get("name", "")))

    def members_of(group_id: str) -> tuple[str, list[dict], int, str]:
        # The group itself (GET /api/v2/groups/{id}, memberCount) is not read: the members
        # listing is reconciled against its own total, and a run stays within one minute's
        # rate budget for longer.
        try:
            members = list_all(
                client, f"/api/v2/groups/{group_id}/members", page_size=GROUP_MEMBERS_PAGE_SIZE
            )
        except ApiError as exc:
            if exc.status != 404:
                raise
            # A group still granted a role but gone from the directory: its members are unknown.
            return group_id, [], 1, f"group {groups[group_id]} ({group_id}): {exc}"
        return group_id, members.entities, members.requests, ""

    rows: list[dict] = []
    raw: list[dict] = []
    requests = 0
    problems: list[str] = []
    counts: dict[str, dict[str, Any]] = {}
    for group_id, members, reqs, problem in client.map(members_of, sorted(groups)):
        requests += reqs
        if problem:
            problems.append(problem)
            continue
        name = groups[group_id]
        counts[group_id] = {"name": name, "listed": len(members)}
        raw.append({"id": group_id, "name": name, "members": [m.get("id") for m in members]})
        for m in members:
            rows.append(
                {
                    "group_id": group_id,
                    "group_name": name,
                    "user_id": m.get("id", ""),
                    "user_name": m.get("name", ""),
                    "user_state": m.get("state", ""),
                }
            )
    status = writer.write_table(
        "group_members",
        rows,
        raw,
        requests=requests,
        complete=not problems,
        groups=len(groups),
        member_counts=counts,
    )
    if problems:
        status.reason = "members unknown for " + "; ".join(problems[:5])


def _bool(value: Any) -> str:
    return "" if value is None else ("true" if value else "false")


def _role_row(role: dict) -> dict:
    return {
        "id": role.get("id", ""),
        "name": role.get("name", ""),
        "description": role.get("description", ""),
        "default_role_id": role.get("defaultRoleId", ""),
        "base": _bool(role.get("base")),
        "default": _bool(role.get("default")),
        # Not requested (userCount=false, see the module docstring): empty unless the API
        # sends it anyway, in which case it is Genesys' own count of users holding the role.
        "user_count": role.get("userCount", ""),
        "permission_count": len(role.get("permissions") or []),
        "permissions": ";".join(role_permissions(role)),
    }


def role_permissions(role: dict) -> list[str]:
    """Every permission a role carries: its `permissions` strings and, for each of its
    permissionPolicies, domain:entityName:action per action of the actionSet; sorted, once."""
    found = {str(p) for p in role.get("permissions") or [] if p}
    for policy in role.get("permissionPolicies") or []:
        if not isinstance(policy, dict):
            continue
        domain, entity = policy.get("domain") or "", policy.get("entityName") or ""
        for action in policy.get("actionSet") or []:
            if domain and entity and action:
                found.add(f"{domain}:{entity}:{action}")
    return sorted(found)
