"""One month of org life: hires, leavers, grants and removals, each with its audit events
except one deliberately unexplained grant (ground truth for access.role_drift)."""

from __future__ import annotations

import dataclasses
import datetime as dt

from gcevidence.simulator.audit import AuditQuery
from gcevidence.simulator.model import Grant, RosterRow
from gcevidence.simulator.org import GAP_DAY_OFFSET, Org

MONTH = dt.timedelta(days=30)


def advance_month(org: Org) -> dict:
    """Move `org.now` 30 days on and apply a month of changes; returns what changed."""
    rng = org.rng
    old_now = org.now
    new_now = old_now + MONTH
    org.now = new_now
    org.audit.set_now(new_now)
    n = org.named
    hr, admin = n["people_admin"], n["platform_admin_1"]
    gap_days = {org.gap_day, new_now.date() - dt.timedelta(days=GAP_DAY_OFFSET)}

    def moment(day_offset: int, hour: int) -> dt.datetime:
        """A time `day_offset` days after the old now (1..29), never on a gap day."""
        ts = dt.datetime.combine(
            old_now.date() + dt.timedelta(days=day_offset),
            dt.time(hour, rng.randrange(60)),
            tzinfo=dt.UTC,
        )
        return ts + dt.timedelta(days=1) if ts.date() in gap_days else ts

    # Users who signed in lately keep signing in; the dormant ones stay away.
    for u in org.users.values():
        last = u.last_activity()
        if u.state == "active" and last and old_now - last < dt.timedelta(days=60):
            org.sign_in_at(u, new_now - dt.timedelta(hours=rng.randrange(1, 24 * 14)))

    plain_agents = [
        u
        for u in org.users.values()
        if u.kind == "agent"
        and u.state == "active"
        and u.email.lower() in org.roster
        and org.roster[u.email.lower()].status == "active"
        and u.id not in n.values()
        and u.last_activity()
        and new_now - u.last_activity() < dt.timedelta(days=30)
    ]
    count = max(2, len(org.users) // 100)
    picks = rng.sample(plain_agents, min(len(plain_agents), count + 4))
    leavers, promoted = picks[:count], picks[count:]

    changes: dict = {
        "now": new_now.isoformat().replace("+00:00", "Z"),
        "hires": [],
        "leavers": [],
        "grants": [],
        "removals": [],
        "unexplained_grants": [],
    }
    for i in range(count):
        when = moment(1 + i % 25, 9)
        sup = next(u for u in org.users.values() if u.kind == "supervisor")
        u = org.add_user(
            "agent",
            department=sup.department,
            roster_groups=("Contact Center Agents",),
            roles=("User", "Communicate - User"),
            login_days=None,
            welcome_days=0,
            manager_id=sup.id,
        )
        u.date_welcome_sent = when
        if when + dt.timedelta(days=1) < new_now:
            org.sign_in_at(u, when + dt.timedelta(days=1))
        org.grants[u.id] = [Grant(g.role_id, g.division_id, when) for g in org.grants[u.id]]
        org.event(when, "Directory", "User", "Create", u.id, u.name, hr)
        for g in org.grants[u.id]:
            role = next(r for r in org.roles if r.id == g.role_id)
            org.member_event(when + dt.timedelta(minutes=5), "MemberAdd", u.id, role.name, hr)
        changes["hires"].append(u.id)

    for i, u in enumerate(leavers):
        when = moment(2 + i % 25, 17)
        row: RosterRow = org.roster[u.email.lower()]
        row.status, row.termination_date = "terminated", when.date()
        org._leave(u, when, deleted=False)
        org.removal_event(u.id, when, "inactive", hr)
        changes["leavers"].append(u.id)

    # A promotion: Supervisor granted (with event); Communicate - User removed (with event).
    p1, p2, p3 = promoted[0], promoted[1], promoted[2]
    when = moment(12, 10)
    org.grant(p1.id, "Supervisor", when)
    org.member_event(when, "MemberAdd", p1.id, "Supervisor", admin)
    changes["grants"].append([p1.id, "Supervisor", org.home.id])
    when = moment(14, 11)
    org.grant(p2.id, "Reporting Admin", when)
    org.member_event(when, "MemberAdd", p2.id, "Reporting Admin", admin)
    changes["grants"].append([p2.id, "Reporting Admin", org.home.id])
    comm = org.role("Communicate - User").id
    org.grants[p1.id] = [g for g in org.grants[p1.id] if g.role_id != comm]
    org.member_event(moment(12, 11), "MemberRemove", p1.id, "Communicate - User", admin)
    changes["removals"].append([p1.id, "Communicate - User", org.home.id])
    # The grant nobody logged: a drift check must flag it.
    org.grant(p3.id, "Telephony Admin", moment(20, 22))
    changes["unexplained_grants"].append([p3.id, "Telephony Admin", org.home.id])
    org.audit.set_now(new_now)
    _change_role_definitions(org, changes, old_now, moment(8, 10))
    org._index()
    return changes


# Roles whose permissions a month changes: Supervisor with a logged Update, then the first of
# the candidates the month's background audit events never touch (access.role_definition_drift).
# Each change adds the first permission of its list the role lacks (and the unlogged one drops
# the role's last permission when it has another).
LOGGED_ROLE = "Supervisor"
LOGGED_ADDS = (
    "analytics:conversationDetail:view",
    "quality:calibration:view",
    "routing:skill:view",
)
# Any role but the logged one and those other planted cases rest on (privileged, SoD,
# sensitive permissions).
UNLOGGED_ROLES = (
    "Collections Team Lead",
    "Outbound Admin",
    "Wallboard User",
    "User",
    "Communicate - User",
    "Telephony Admin",
    "People Admin",
    "Trusted External User",
    "admin",
    "employee",
)
UNLOGGED_ADDS = ("outbound:contact:delete", "outbound:dnclist:edit", "routing:email:manage")


def _change_role_definitions(org: Org, changes: dict, since: dt.datetime, when: dt.datetime):
    """One role's permissions change with a PeoplePermissions/Role Update event, one without.

    Background noise includes Role Update events on random roles, so the unlogged change goes
    to a role with none between the two packs (else it would look explained).
    """
    role, added, _ = _redefine(org, LOGGED_ROLE, LOGGED_ADDS, drop=False)
    org.event(
        when,
        "PeoplePermissions",
        "Role",
        "Update",
        role.id,
        role.name,
        org.named["platform_admin_1"],
        (("permissionPolicies", (), added),),
    )
    changes["role_definitions"] = [[role.id, role.name, list(added), []]]
    window = AuditQuery(
        since, org.now, "PeoplePermissions", (("EntityType", "Role"), ("Action", "Update")), False
    )
    touched = {e.entity_id for e in org.audit.all_matches(window)}
    name = next((n for n in UNLOGGED_ROLES if org.role(n).id not in touched), UNLOGGED_ROLES[0])
    quiet, added, dropped = _redefine(org, name, UNLOGGED_ADDS, drop=True)
    changes["unexplained_role_definitions"] = [[quiet.id, quiet.name, list(added), list(dropped)]]


def _redefine(org: Org, name: str, options: tuple[str, ...], drop: bool):
    """Replace a role by one with the first of `options` it lacks (and, with `drop`, without
    its last permission when it has more than one); returns (role, added, dropped)."""
    old = org.role(name)
    added = tuple(p for p in options if p not in old.permissions)[:1]
    dropped = old.permissions[-1:] if drop and len(old.permissions) > 1 else ()
    perms = tuple(p for p in old.permissions if p not in dropped) + added
    new = dataclasses.replace(old, permissions=perms)
    org.roles[org.roles.index(old)] = new
    org.role_by_name[name] = org.role_by_id[old.id] = new
    return new, added, dropped
