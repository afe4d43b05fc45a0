"""Roles, who each role is granted to, and the members of every group that holds a role.

A group's members hold its roles, so every granted group's members are read too (paged and
reconciled against the listing's own `total`). Clients and trustees are not users of the org
and are never looked up as users. The roles listing does not ask Genesys to count members
(userCount=false, see endpoints.py); each role's grant listing is reconciled against
its own `total` instead.
"""

from __future__ import annotations

import logging
from typing import Any

from gcevidence.datasets.directory import (
    GROUP_MEMBERS,
    ROLE_GRANTS,
    ROLE_PERMISSIONS,
    ROLES,
    SENSITIVE_ROLES,
)
from gcevidence.errors import ApiError
from gcevidence.genesys.paging import list_endpoint
from gcevidence.snapshot import SnapshotWriter

log = logging.getLogger(__name__)

ROLES_LISTING, SUBJECT_GRANTS = ROLE_GRANTS.reads
(MEMBERS,) = GROUP_MEMBERS.reads


def collect_roles(client: Any, writer: SnapshotWriter) -> list[dict]:
    """Write `roles`, `role_permissions` and `role_grants`; returns the raw subject grants
    (with their role)."""
    listing = list_endpoint(client, ROLES_LISTING, dict(ROLES.params))
    roles = listing.entities
    writer.write_table(
        ROLES.name,
        (ROLES.row(r) for r in roles),
        roles,
        expected_rows=listing.total,
        requests=listing.requests,
    )
    # The same answers, one row per permission: no request of its own.
    writer.write_table(
        ROLE_PERMISSIONS.name,
        [row for role in roles for row in ROLE_PERMISSIONS.normalise(role)],
        roles=len(roles),
        read_with="roles",
    )

    def grants_of(role: dict) -> tuple[dict, list[dict], int]:
        grants = list_endpoint(client, SUBJECT_GRANTS, ids={"roleId": role["id"]})
        return role, grants.entities, grants.requests

    raw: list[dict] = []
    requests = 0
    types: dict[str, int] = {}
    for role, subjects, reqs in client.map(grants_of, roles):
        requests += reqs
        for subject in subjects:
            kind = str(subject.get("type", ""))
            types[kind] = types.get(kind, 0) + 1
            raw.append({"role": {"id": role.get("id"), "name": role.get("name")}, **subject})
    writer.write_table(
        ROLE_GRANTS.name,
        [row for grant in raw for row in ROLE_GRANTS.normalise(grant)],
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
        # The group itself (its memberCount) is not read: the members listing is reconciled
        # against its own total, and a run stays within one minute's rate budget for longer.
        try:
            members = list_endpoint(client, MEMBERS, ids={"groupId": group_id})
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
        group = {"id": group_id, "name": name}
        rows += [GROUP_MEMBERS.row({**m, "group": group}) for m in members]
    status = writer.write_table(
        GROUP_MEMBERS.name,
        rows,
        raw,
        requests=requests,
        complete=not problems,
        groups=len(groups),
        member_counts=counts,
    )
    if problems:
        status.reason = "members unknown for " + "; ".join(problems[:5])


def collect_sensitive_roles(client: Any, writer: SnapshotWriter, permissions: list[str]) -> None:
    """Write `sensitive_roles`: the roles the API lists for each sensitive permission."""
    (listing_endpoint,) = SENSITIVE_ROLES.reads

    def roles_with(permission: str) -> tuple[str, list[dict], int]:
        listing = list_endpoint(client, listing_endpoint, {"permission": permission})
        return permission, listing.entities, listing.requests

    raw: list[dict] = []
    requests = 0
    for permission, roles, reqs in client.map(roles_with, sorted(permissions)):
        requests += reqs
        raw += [
            {"permission": permission, "role": {"id": r.get("id"), "name": r.get("name")}}
            for r in roles
        ]
    writer.write_table(
        SENSITIVE_ROLES.name,
        [SENSITIVE_ROLES.row(found) for found in raw],
        raw,
        requests=requests,
        permissions=sorted(permissions),
    )
