"""The organisation, its people, divisions, roles, who holds them, and the groups that do."""

from __future__ import annotations

from gcevidence.datasets.model import Entity, document, flag, table
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
    }


ROLES = table(
    "roles",
    "id name description default_role_id base default user_count permission_count",
    (ENDPOINTS["roles"],),
    row=role_row,
    collector="roles",
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
