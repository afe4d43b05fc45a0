"""Access control checks: leavers, orphans, dormant users, privileged roles, unused roles, SoD."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from gcevidence.audit_events import succeeded, took_out_of_service
from gcevidence.checks.common import (
    day_start,
    fmt_time,
    join_names,
    parse_time,
    period_bounds,
    person_groups,
    records,
    roster_by_email,
    user_label,
)
from gcevidence.checks.registry import CheckContext, Outcome, register_check
from gcevidence.findings import ExceptionItem

NB = "A09_access_control"


def _live_users(ctx: CheckContext) -> list[dict[str, str]]:
    """Users that still exist (deleted ones hold no access)."""
    return [u for u in records(ctx.snapshot.table("users")) if u["state"] != "deleted"]


def _users_by_email(users: list[dict[str, str]]) -> dict[str, list[dict[str, str]]]:
    index: dict[str, list[dict[str, str]]] = defaultdict(list)
    for u in users:
        if u["email"]:
            index[u["email"].strip().lower()].append(u)
    return index


def _leavers(ctx: CheckContext) -> tuple[list[dict[str, str]], int]:
    """Roster people terminated on or before `today`, and how many leave only later."""
    terminated = [p for p in roster_by_email(ctx.snapshot).values() if p["status"] == "terminated"]
    # HR exports often carry a leaver before their last day; access may stay until then.
    due = [p for p in terminated if dt.date.fromisoformat(p["termination_date"]) <= ctx.today]
    return due, len(terminated) - len(due)


def _not_yet(later: int, today: dt.date) -> str:
    return f"; {later} more with a termination date after {today} not yet due" if later else ""


@register_check("access.terminated_active", notebook=NB, needs=("users", "hr_roster"))
def terminated_active(ctx: CheckContext) -> Outcome:
    by_email = _users_by_email(_live_users(ctx))
    leavers, later = _leavers(ctx)
    exceptions = []
    for person in sorted(leavers, key=lambda p: p["email"]):
        for user in by_email.get(person["email"], []):
            if user["state"] == "active":
                exceptions.append(
                    ExceptionItem(
                        "user",
                        user["id"],
                        user_label(user, person["email"]),
                        f"terminated {person['termination_date']} (HR), still active in Genesys "
                        f"({person['email']})",
                    )
                )
    summary = (
        f"{len(exceptions)} of {len(leavers)} terminated people still have an active user"
        if exceptions
        else f"none of {len(leavers)} terminated people has an active user"
    )
    return Outcome(
        exceptions,
        population=len(leavers),
        reason=summary + _not_yet(later, ctx.today),
        extra={"termination_not_yet_due": later},
    )


def _deactivation_time(event: dict[str, str]) -> dt.datetime | None:
    """When this audit event took a user out of service, or None if it did not."""
    if not took_out_of_service(event) or not succeeded(event):
        return None
    return parse_time(event["event_date"])


@register_check(
    "access.deprovision_latency", notebook=NB, needs=("users", "hr_roster", "audit_events")
)
def deprovision_latency(ctx: CheckContext) -> Outcome:
    limit_h = ctx.threshold("deprovision_hours")
    start, end = period_bounds(ctx)
    first_off: dict[str, dt.datetime] = {}
    for event in records(ctx.snapshot.table("audit_events")):
        when = _deactivation_time(event)
        if when is None or not start <= when.date() <= end:
            continue  # leavers deactivated before the period are out of scope
        if event["entity_id"] not in first_off or when < first_off[event["entity_id"]]:
            first_off[event["entity_id"]] = when
    by_email = _users_by_email(records(ctx.snapshot.table("users")))
    leavers, _ = _leavers(ctx)
    exceptions, delays, unmeasured, still_active = [], [], [], 0
    for person in sorted(leavers, key=lambda p: p["email"]):
        term = day_start(dt.date.fromisoformat(person["termination_date"]))
        for user in by_email.get(person["email"], []):
            off = first_off.get(user["id"])
            if off is None:
                if user["state"] == "active":
                    still_active += 1
                else:
                    unmeasured.append(user["id"])
                continue
            hours = (off - term).total_seconds() / 3600
            delays.append(
                {
                    "user_id": user["id"],
                    "name": user_label(user),
                    "termination_date": person["termination_date"],
                    "deactivated_at": off.isoformat().replace("+00:00", "Z"),
                    "hours": round(hours, 1),
                }
            )
            if hours > limit_h:
                exceptions.append(
                    ExceptionItem(
                        "user",
                        user["id"],
                        user_label(user, person["email"]),
                        f"terminated {person['termination_date']} (HR), deactivated "
                        f"{fmt_time(off)}: {hours:.0f} h after the start of that day "
                        f"(limit {limit_h} h)",
                    )
                )
    notes = [f"{len(exceptions)} of {len(delays)} measured de-provisionings exceeded {limit_h} h"]
    if still_active:
        notes.append(
            f"{still_active} leaver(s) still active with no deactivation event are "
            "counted under access.terminated_active, not here"
        )
    if unmeasured:
        notes.append(
            f"{len(unmeasured)} leaver(s) already inactive with no deactivation event "
            "in the audit period could not be timed"
        )
    return Outcome(
        exceptions,
        population=len(delays),
        reason="; ".join(notes),
        extra={"delays": delays, "unmeasured_user_ids": unmeasured, "threshold_hours": limit_h},
    )


@register_check("access.orphan_accounts", notebook=NB, needs=("users", "hr_roster"))
def orphan_accounts(ctx: CheckContext) -> Outcome:
    known = roster_by_email(ctx.snapshot)
    active = [u for u in _live_users(ctx) if u["state"] == "active"]
    exceptions = [
        ExceptionItem(
            "user",
            u["id"],
            user_label(u, u["email"]),
            f"active user {u['email'] or '(no email)'} matches no one in the HR roster",
        )
        for u in sorted(active, key=lambda u: (u["email"].lower(), u["id"]))
        if u["email"].strip().lower() not in known
    ]
    return Outcome(
        exceptions,
        population=len(active),
        reason=f"{len(exceptions)} of {len(active)} active users match no HR record",
    )


@register_check("access.dormant_accounts", notebook=NB, needs=("users",))
def dormant_accounts(ctx: CheckContext) -> Outcome:
    dormant_days = ctx.threshold("dormant_days")
    active = [u for u in _live_users(ctx) if u["state"] == "active"]
    exceptions, idle = [], {}
    for u in sorted(active, key=lambda u: u["id"]):
        last_login = parse_time(u["date_last_login"])
        welcome = parse_time(u["date_welcome_sent"])
        name = user_label(u, u["email"])
        # A user who never logged in is idle since the invitation was sent.
        since = last_login or welcome
        if since:
            days = (ctx.today - since.date()).days
            idle[u["id"]] = days
            if days > dormant_days:
                how = (
                    f"last login {since.date()}"
                    if last_login
                    else f"never logged in; invited {since.date()}"
                )
                exceptions.append(
                    ExceptionItem(
                        "user",
                        u["id"],
                        name,
                        f"{how}, {days} days before {ctx.today} (limit {dormant_days})",
                    )
                )
        else:
            exceptions.append(
                ExceptionItem("user", u["id"], name, "no login or creation date recorded")
            )
    return Outcome(
        exceptions,
        population=len(active),
        reason=f"{len(exceptions)} of {len(active)} active users idle for more than "
        f"{dormant_days} days (or undated)",
        extra={"idle_days": idle, "threshold_days": dormant_days},
    )


def _active_ids(ctx: CheckContext) -> set[str]:
    return {u["id"] for u in records(ctx.snapshot.table("users")) if u["state"] == "active"}


def _user_holders(ctx: CheckContext, active: set[str]) -> dict[str, dict[str, dict[str, Any]]]:
    """role name -> active user id -> {"name", "divisions"}, from direct (not group) grants."""
    holders: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for g in records(ctx.snapshot.table("role_grants")):
        if g["subject_type"] != "PC_USER" or g["subject_id"] not in active:
            continue
        h = holders[g["role_name"]].setdefault(
            g["subject_id"], {"name": g["subject_name"], "divisions": set()}
        )
        h["divisions"].add(g["division_name"] or g["division_id"])
    return holders


def _no_policy(what: str, key: str) -> Outcome:
    return Outcome(status="not_evaluable", reason=f"no {what} declared (params {key})")


@register_check(
    "access.privileged_outside_group", notebook=NB, needs=("role_grants", "users", "hr_roster")
)
def privileged_outside_group(ctx: CheckContext) -> Outcome:
    policies = {n: p for n, p in ctx.params.privileged_roles.items() if p.allowed_groups}
    if not policies:
        return _no_policy("privileged roles with allowed_groups", "privileged_roles")
    holders = _user_holders(ctx, _active_ids(ctx))
    users = {u["id"]: u for u in records(ctx.snapshot.table("users"))}
    roster = roster_by_email(ctx.snapshot)
    # One exception per person, naming every privileged role they should not hold.
    problems: dict[str, list[str]] = defaultdict(list)
    examined: set[str] = set()
    for role in sorted(policies):
        allowed = set(policies[role].allowed_groups)
        for uid in sorted(holders.get(role, {})):
            examined.add(uid)
            email = users[uid]["email"].strip().lower()
            person = roster.get(email) if email else None
            if person is None:
                problems[uid].append(
                    f"holds {role} but {email or 'no email'} is not in the "
                    f"HR roster (allowed groups: {join_names(allowed)})"
                )
            elif not person_groups(person) & allowed:
                problems[uid].append(
                    f"holds {role} but HR groups are "
                    f"{join_names(person_groups(person))}, none of the allowed "
                    f"{join_names(allowed)}"
                )
    exceptions = [
        ExceptionItem("user", uid, user_label(users[uid], uid), "; ".join(texts))
        for uid, texts in sorted(problems.items())
    ]
    return Outcome(
        exceptions,
        population=len(examined),
        reason=f"{len(exceptions)} of {len(examined)} active privileged role holders "
        "are outside the allowed groups",
        extra={
            "roles": sorted(policies),
            "absent_roles": sorted(r for r in policies if r not in holders),
        },
    )


@register_check("access.privileged_count", notebook=NB, needs=("role_grants", "users"))
def privileged_count(ctx: CheckContext) -> Outcome:
    limits = {
        n: p.max_holders
        for n, p in ctx.params.privileged_roles.items()
        if p.max_holders is not None
    }
    if not limits:
        return _no_policy("privileged roles with max_holders", "privileged_roles")
    holders = _user_holders(ctx, _active_ids(ctx))
    exceptions, counts, by_division = [], {}, {}
    for role in sorted(limits):
        held = holders.get(role, {})
        counts[role] = len(held)
        per_div: dict[str, int] = defaultdict(int)
        for h in held.values():
            for div in h["divisions"]:
                per_div[div] += 1
        by_division[role] = dict(sorted(per_div.items()))
        if len(held) > limits[role]:
            exceptions.append(
                ExceptionItem(
                    "role",
                    role,
                    role,
                    f"{len(held)} holders, more than the maximum of {limits[role]}",
                )
            )
    return Outcome(
        exceptions,
        population=len(limits),
        reason=f"{len(exceptions)} of {len(limits)} privileged roles exceed their "
        "maximum number of holders",
        extra={"holders": counts, "max_holders": limits, "holders_by_division": by_division},
    )


@register_check("access.unused_roles", notebook=NB, needs=("unused_roles", "users"))
def unused_roles(ctx: CheckContext) -> Outcome:
    active = {u["id"]: u for u in _live_users(ctx) if u["state"] == "active"}
    unused: dict[str, set[str]] = defaultdict(set)
    for r in records(ctx.snapshot.table("unused_roles")):
        if r["user_id"] in active:
            unused[r["user_id"]].add(r["role_name"] or r["role_id"])
    exceptions = [
        ExceptionItem(
            "user",
            uid,
            user_label(active[uid], uid),
            f"holds {join_names(roles)}, which Genesys reports as unused by this user",
        )
        for uid, roles in sorted(unused.items())
    ]
    return Outcome(
        exceptions,
        population=len(active),
        reason=f"{len(exceptions)} of {len(active)} active users hold roles they do not use",
        extra={"unused_pairs": sum(len(r) for r in unused.values())},
    )


@register_check("access.sod_conflicts", notebook=NB, needs=("role_grants",))
def sod_conflicts(ctx: CheckContext) -> Outcome:
    pairs = ctx.params.sod_conflicts
    if not pairs:
        return _no_policy("incompatible role pairs", "sod_conflicts")
    users = (
        {u["id"]: u for u in records(ctx.snapshot.table("users"))}
        if ctx.snapshot.has("users")
        else {}
    )
    roles_of: dict[str, set[str]] = defaultdict(set)
    names: dict[str, str] = {}
    for g in records(ctx.snapshot.table("role_grants")):
        if g["subject_type"] == "PC_USER":
            roles_of[g["subject_id"]].add(g["role_name"])
            names[g["subject_id"]] = g["subject_name"]
    exceptions = []
    for uid in sorted(roles_of):
        user = users.get(uid)
        if user and user["state"] != "active":
            continue
        for a, b in pairs:
            if a in roles_of[uid] and b in roles_of[uid]:
                exceptions.append(
                    ExceptionItem(
                        "user",
                        uid,
                        user_label(user, names[uid] or uid),
                        f"holds both {a} and {b}, declared incompatible",
                    )
                )
    return Outcome(
        exceptions,
        population=len(roles_of),
        reason=f"{len(exceptions)} incompatible role combination(s) among "
        f"{len(roles_of)} users with role grants",
    )
