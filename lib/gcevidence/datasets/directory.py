"""The organisation, its people, divisions, roles, who holds them, and the groups that do."""

from __future__ import annotations

import hashlib

from gcevidence.datasets.model import Entity, compact, document, flag, table
from gcevidence.endpoints import ENDPOINTS
from gcevidence.privacy import user_fields

ORGANIZATION = document("organization", (ENDPOINTS["organization"],))

# Expansions are best effort on the users listing: the users collector re-reads pages and
# people that came back without one (collect_users explains which and why).
USER_EXPANSIONS = (
    "authorization",
    "authorization.unusedRoles",
    "dateLastLogin",
    "dateWelcomeSent",
    "lasttokenissued",
)


def user_row(user: Entity) -> Entity:
    """One users row."""
    division = user.get("division") or {}
    return {
        "id": user.get("id", ""),
        "name": user.get("name", ""),
        "email": user.get("email", ""),
        "username": user.get("username", ""),
        "state": user.get("state", ""),
        "department": user.get("department", ""),
        "title": user.get("title", ""),
        "division_id": division.get("id", ""),
        "division_name": division.get("name", ""),
        "manager_id": (user.get("manager") or {}).get("id", ""),
        "date_last_login": user.get("dateLastLogin", ""),
        "date_welcome_sent": user.get("dateWelcomeSent", ""),
        "last_token_issued": (user.get("lastTokenIssued") or {}).get("dateIssued", ""),
    }


# state=any: the default (active) hides inactive and deleted users, and state=inactive alone
# stops at 10,000 results, so one state=any listing it is. date_last_login is the last
# username/password login only; last_token_issued is the last sign-in by any method (SSO too).
USERS = table(
    "users",
    "id name email username state department title division_id division_name manager_id "
    "date_last_login date_welcome_sent last_token_issued",
    (ENDPOINTS["users"], ENDPOINTS["user"]),
    params={"state": "any", "expand": USER_EXPANSIONS},
    row=user_row,
    drops=user_fields(),
    collector="users",
    about="one row per user, in every state (active, inactive, deleted)",
)


def unused_role_rows(user: Entity) -> list[Entity]:
    """One row per role Genesys reports as unused by this user."""
    return [
        {"user_id": user.get("id", ""), "role_id": r.get("id", ""), "role_name": r.get("name", "")}
        for r in (user.get("authorization") or {}).get("unusedRoles") or []
    ]


UNUSED_ROLES = table(
    "unused_roles",
    "user_id role_id role_name",
    (ENDPOINTS["users"],),
    params={"expand": ("authorization.unusedRoles",)},
    rows=unused_role_rows,
    collector="users",
    about="one row per (user, role) Genesys reports as unused; read with the users listing",
)


def division_row(division: Entity) -> Entity:
    """One divisions row."""
    return {
        "id": division.get("id", ""),
        "name": division.get("name", ""),
        "home_division": flag(division.get("homeDivision")),
    }


DIVISIONS = table("divisions", "id name home_division", (ENDPOINTS["divisions"],), row=division_row)


def permission_rows(role: Entity) -> list[Entity]:
    """One role_permissions row per permission a role grants, normalised and sorted.

    Each policy's actions become `domain:entity:action` strings (the form of `permissions`),
    with the policy's resource condition or named resources, if any, as canonical JSON; a
    `permissions` string no policy covers is kept too, without a condition.
    """
    found: set[tuple[str, str]] = set()
    for policy in role.get("permissionPolicies") or []:
        prefix = f"{policy.get('domain', '')}:{policy.get('entityName', '')}"
        condition = compact(
            {k: policy[k] for k in ("resourceConditionNode", "namedResources") if policy.get(k)}
        )
        found.update((f"{prefix}:{action}", condition) for action in policy.get("actionSet") or [])
    covered = {permission for permission, _ in found}
    found.update((p, "") for p in role.get("permissions") or [] if p not in covered)
    return [
        {
            "role_id": role.get("id", ""),
            "role_name": role.get("name", ""),
            "permission": permission,
            "condition": condition,
        }
        for permission, condition in sorted(found)
    ]


def permissions_digest(role: Entity) -> str:
    """sha256 of a role's normalised permissions: equal digests, equal permissions."""
    lines = "\n".join(f"{r['permission']}|{r['condition']}" for r in permission_rows(role))
    return "sha256:" + hashlib.sha256(lines.encode("utf-8")).hexdigest()


def role_row(role: Entity) -> Entity:
    """One roles row."""
    return {
        "id": role.get("id", ""),
        "name": role.get("name", ""),
        "description": role.get("description", ""),
        "default_role_id": role.get("defaultRoleId", ""),
        "base": flag(role.get("base")),
        "default": flag(role.get("default")),
        # Not requested (userCount=false): empty unless the API sends it anyway, in which
        # case it is Genesys' own count of users holding the role.
        "user_count": role.get("userCount", ""),
        "permission_count": len(role.get("permissions") or []),
        "permissions": ";".join(role_permissions(role)),
        "permissions_sha256": permissions_digest(role),
    }


def role_permissions(role: Entity) -> list[str]:
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


# permissions: the role's `permissions` and each domain:entityName:action of its
# permissionPolicies, `;`-separated (what access.undeclared_privileged_roles reads).
ROLES = table(
    "roles",
    "id name description default_role_id base default user_count permission_count permissions "
    "permissions_sha256",
    (ENDPOINTS["roles"],),
    row=role_row,
    collector="roles",
)
# Roles have no modification date: what each grants is kept, normalised, so that the next
# pack can tell which roles changed (access.role_definition_drift). Read with the roles.
ROLE_PERMISSIONS = table(
    "role_permissions",
    "role_id role_name permission condition",
    (ENDPOINTS["roles"],),
    rows=permission_rows,
    collector="roles",
    about="one row per (role, permission it grants), from the role's permission policies",
)


def sensitive_role_row(found: Entity) -> Entity:
    """One sensitive_roles row (raw: the permission asked for and the role the API named)."""
    role = found.get("role") or {}
    return {
        "permission": found.get("permission", ""),
        "role_id": role.get("id", ""),
        "role_name": role.get("name", ""),
    }


# The roles listing filtered by `permission`, once per permission of params
# sensitive_permissions: the roles Genesys says carry it.
SENSITIVE_ROLES = table(
    "sensitive_roles",
    "permission role_id role_name",
    (ENDPOINTS["roles"],),
    row=sensitive_role_row,
    collector="sensitive_roles",
    about="one row per (sensitive permission of the params, role the API lists for it)",
)


def grant_rows(grant: Entity) -> list[Entity]:
    """One row per division of a subject grant (raw: the subject with its `role`)."""
    role = grant.get("role") or {}
    return [
        {
            "role_id": role.get("id") or "",
            "role_name": role.get("name") or "",
            "subject_id": grant.get("id", ""),
            "subject_name": grant.get("name", ""),
            "subject_type": str(grant.get("type", "")),
            "division_id": division.get("id", ""),
            "division_name": division.get("name", ""),
        }
        for division in grant.get("divisions") or [{}]
    ]


# Subjects are users (PC_USER), groups (PC_GROUP), OAuth clients (PC_OAUTH_CLIENT) and partner
# organisations' users or groups (PC_TRUSTEE_USER, PC_TRUSTEE_GROUP).
ROLE_GRANTS = table(
    "role_grants",
    "role_id role_name subject_id subject_name subject_type division_id division_name",
    (ENDPOINTS["roles"], ENDPOINTS["role_subject_grants"]),
    rows=grant_rows,
    collector="roles",
    about="one row per (subject, role, division): who holds which role where",
)


def member_row(member: Entity) -> Entity:
    """One group_members row (raw: the member with its `group`)."""
    group = member.get("group") or {}
    return {
        "group_id": group.get("id", ""),
        "group_name": group.get("name", ""),
        "user_id": member.get("id", ""),
        "user_name": member.get("name", ""),
        "user_state": member.get("state", ""),
    }


GROUP_MEMBERS = table(
    "group_members",
    "group_id group_name user_id user_name user_state",
    (ENDPOINTS["group_members"],),
    row=member_row,
    collector="group_members",
    about="one row per (group, member) for every group that holds a role (PC_GROUP grants)",
)


def group_row(group: Entity) -> Entity:
    """One groups row (a Group)."""
    return {
        "id": group.get("id", ""),
        "name": group.get("name", ""),
        "member_count": str(group.get("memberCount", "")),
        "state": group.get("state", ""),
        "type": group.get("type", ""),
    }


# Read for the names of the groups that idle-timeout group bundles list by id.
GROUPS = table(
    "groups",
    "id name member_count state type",
    (ENDPOINTS["groups"],),
    row=group_row,
    about="every directory group, with its member count",
)
