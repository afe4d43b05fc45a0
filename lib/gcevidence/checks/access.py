"""Access control checks: leavers, orphans, dormant users, privileged roles, unused roles, SoD."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from typing import Any

from gcevidence.audit_events import succeeded, took_out_of_service
from gcevidence.audit_trail import audit_trail
from gcevidence.checks.common import (
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
from gcevidence.hr import termination_start
from gcevidence.role_holders import HOLDER_LABELS, held_by_active, path_text, role_holders
from gcevidence.signin import (
    BASES,
    BASIS_INVITATION,
    BASIS_NONE,
    BASIS_PASSWORD,
    BASIS_TOKEN,
    LastSignIn,
    is_dormant,
    last_sign_in,
)


def _live_users(ctx: CheckContext) -> list[dict[str, str]]:
    """Users that still exist (deleted ones hold no access)."""
    return [u for u in records(ctx.snapshot.table("users")) if u["state"] != "deleted"]


def _users_by_email(users: list[dict[str, str]]) -> dict[str, list[dict[str, str]]]:
    index: dict[str, list[dict[str, str]]] = defaultdict(list)
    for u in users:
        if u["email"]:
            index[u["email"].strip().lower()].append(u)
    return index


def _zone(ctx: CheckContext) -> str:
    """The timezone the roster's termination dates are days in (params hr.timezone)."""
    hr = getattr(ctx.params, "hr", None)
    return getattr(hr, "timezone", "UTC") or "UTC"


def _terminated_at(ctx: CheckContext, person: dict[str, str]) -> dt.datetime:
    """When the person's termination day began, in the roster's timezone (as UTC)."""
    return termination_start(person["termination_date"], _zone(ctx))


def _leavers(ctx: CheckContext) -> tuple[list[dict[str, str]], int]:
    """Roster people whose termination day began before the end of the period, and how many
    leave only later."""
    terminated = [p for p in roster_by_email(ctx.snapshot).values() if p["status"] == "terminated"]
    # HR exports often carry a leaver before their last day; access may stay until then.
    due = [p for p in terminated if _terminated_at(ctx, p) < ctx.as_of]
    return due, len(terminated) - len(due)


def _not_yet(later: int, today: dt.date) -> str:
    return f"; {later} more with a termination date after {today} not yet due" if later else ""


def _day_words(ctx: CheckContext) -> str:
    """How the termination day is read: "that day (UTC)" or "that day in Europe/Paris"."""
    zone = _zone(ctx)
    return "that day (UTC)" if zone == "UTC" else f"that day in {zone}"


@register_check("access.terminated_active")
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


@register_check("access.deprovision_latency")
def deprovision_latency(ctx: CheckContext) -> Outcome:
    limit_h = ctx.threshold("deprovision_hours")
    start, end = period_bounds(ctx)
    first_off: dict[str, dt.datetime] = {}
    off_event: dict[str, str] = {}  # user id -> the audit event that took the user out
    for event in audit_trail(ctx.snapshot).records("Directory", "User"):
        when = _deactivation_time(event)
        if when is None or not start <= when.date() <= end:
            continue  # leavers deactivated before the period are out of scope
        if event["entity_id"] not in first_off or when < first_off[event["entity_id"]]:
            first_off[event["entity_id"]] = when
            off_event[event["entity_id"]] = event["id"]
    by_email = _users_by_email(records(ctx.snapshot.table("users")))
    leavers, _ = _leavers(ctx)
    exceptions, delays, unmeasured, still_active = [], [], [], 0
    for person in sorted(leavers, key=lambda p: p["email"]):
        term = _terminated_at(ctx, person)
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
                    "event_id": off_event[user["id"]],
                }
            )
            if hours > limit_h:
                exceptions.append(
                    ExceptionItem(
                        "user",
                        user["id"],
                        user_label(user, person["email"]),
                        f"terminated {person['termination_date']} (HR), deactivated "
                        f"{fmt_time(off)}: {hours:.0f} h after the start of {_day_words(ctx)} "
                        f"(limit {limit_h} h)",
                        event_ids=(off_event[user["id"]],),
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
        extra={
            "delays": delays,
            "unmeasured_user_ids": unmeasured,
            "threshold_hours": limit_h,
            "termination_timezone": _zone(ctx),
        },
    )


@register_check("access.orphan_accounts")
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


@register_check("access.dormant_accounts")
def dormant_accounts(ctx: CheckContext) -> Outcome:
    dormant_days = ctx.threshold("dormant_days")
    active = [u for u in _live_users(ctx) if u["state"] == "active"]
    exceptions, idle, basis = [], {}, {}
    for u in sorted(active, key=lambda u: u["id"]):
        # The later of the password login and the last token (any sign-in, SSO included);
        # a user who never signed in is idle since the invitation was sent.
        last = last_sign_in(u["date_last_login"], u["last_token_issued"], u["date_welcome_sent"])
        basis[u["id"]] = last.basis
        days = last.idle_days(ctx.today)
        if days is not None:
            idle[u["id"]] = days
        if not is_dormant(last, ctx.today, dormant_days):
            continue
        name = user_label(u, u["email"])
        if days is None:
            detail = "no sign-in, token or invitation date recorded"
        else:
            detail = (
                f"{_sign_in_words(last)}, {days} days before the end of {ctx.today} "
                f"(limit {dormant_days})"
            )
        exceptions.append(ExceptionItem("user", u["id"], name, detail))
    counts = Counter(basis.values())
    rests_on = ", ".join(
        f"{label} {counts.get(key, 0)}"
        for key, label in (
            (BASIS_TOKEN, "last token"),
            (BASIS_PASSWORD, "password login"),
            (BASIS_INVITATION, "invitation"),
            (BASIS_NONE, "undated"),
        )
    )
    return Outcome(
        exceptions,
        population=len(active),
        reason=f"{len(exceptions)} of {len(active)} active users idle for more than "
        f"{dormant_days} days (or undated); the last sign-in is the later of the last password "
        f"login and the last token issued (any method, SSO included); verdicts rest on: "
        f"{rests_on}",
        extra={
            "idle_days": idle,
            "threshold_days": dormant_days,
            "basis": basis,
            "basis_counts": {k: counts.get(k, 0) for k in BASES},
        },
    )


def _sign_in_words(last: LastSignIn) -> str:
    """What a dormancy verdict rests on, in words: which date, and the other one."""
    if last.basis == BASIS_INVITATION:
        return f"never signed in; invited {last.at.date()}"
    password = (
        f"last password login {last.password_login.date()}"
        if last.password_login
        else "no password login recorded"
    )
    if last.basis == BASIS_TOKEN:
        return f"last sign-in {last.at.date()} (last token issued; {password})"
    return f"last sign-in {last.at.date()} (password login; no later token issued)"


def _active_ids(ctx: CheckContext) -> set[str]:
    return {u["id"] for u in records(ctx.snapshot.table("users")) if u["state"] == "active"}


def _holders(ctx: CheckContext) -> dict[str, dict[tuple[str, str], dict[str, Any]]]:
    """role name -> (holder type, id) -> {name, divisions, via, direct}: active people (direct
    or through a group) and every OAuth client or trustee."""
    frame = held_by_active(role_holders(ctx.snapshot), _active_ids(ctx))
    holders: dict[str, dict[tuple[str, str], dict[str, Any]]] = defaultdict(dict)
    for r in records(frame):
        h = holders[r["role_name"]].setdefault(
            (r["holder_type"], r["holder_id"]),
            {"name": r["holder_name"], "divisions": set(), "via": set(), "direct": False},
        )
        h["divisions"].add(r["division_name"] or r["division_id"])
        if r["via_group_id"]:
            h["via"].add(r["via_group_name"] or r["via_group_id"])
        else:
            h["direct"] = True
    return holders


def _how(h: dict[str, Any]) -> str:
    """ " via group X" (or " directly and via group X"); nothing for a plain direct grant."""
    return f" {path_text(h['via'], h['direct'])}" if h["via"] else ""


def _no_policy(what: str, key: str) -> Outcome:
    return Outcome(status="not_evaluable", reason=f"no {what} declared (params {key})")


def _outside_groups(
    key: tuple[str, str],
    holder: dict,
    holds: str,
    allowed: set[str],
    users: dict[str, dict],
    roster: dict,
    *,
    name_others: bool = True,
) -> tuple[str, str]:
    """(the holder's name, why they may not hold `holds`, or "" when their HR groups allow it).

    A holder that is not a person (OAuth client, trustee) is never in an allowed HR group;
    `name_others` puts its name in the sentence as well as in the exception's subject.
    """
    kind, hid = key
    name = holder["name"] or hid
    if kind != "user":
        label = HOLDER_LABELS.get(kind, kind) + (f" {name}" if name_others else "")
        return name, (
            f"{label} holds {holds}: not a person in the allowed groups ({join_names(allowed)})"
        )
    name = user_label(users.get(hid), name)
    email = (users.get(hid) or {}).get("email", "").strip().lower()
    person = roster.get(email) if email else None
    if person is None:
        return name, (
            f"holds {holds}{_how(holder)} but {email or 'no email'} is not in the HR roster "
            f"(allowed groups: {join_names(allowed)})"
        )
    if not person_groups(person) & allowed:
        return name, (
            f"holds {holds}{_how(holder)} but HR groups are {join_names(person_groups(person))}, "
            f"none of the allowed {join_names(allowed)}"
        )
    return name, ""


def _holder_exceptions(
    problems: dict[tuple[str, str], list[str]], names: dict[tuple[str, str], str]
) -> list[ExceptionItem]:
    """One exception per holder with a problem, its problems joined, in subject id order."""
    return [
        ExceptionItem(kind, hid, names[(kind, hid)], "; ".join(texts))
        for (kind, hid), texts in sorted(problems.items(), key=lambda kv: kv[0][1])
        if texts
    ]


@register_check("access.privileged_outside_group")
def privileged_outside_group(ctx: CheckContext) -> Outcome:
    policies = {n: p for n, p in ctx.params.privileged_roles.items() if p.allowed_groups}
    if not policies:
        return _no_policy("privileged roles with allowed_groups", "privileged_roles")
    holders = _holders(ctx)
    users = {u["id"]: u for u in records(ctx.snapshot.table("users"))}
    roster = roster_by_email(ctx.snapshot)
    # One exception per holder, naming every privileged role they should not hold.
    problems: dict[tuple[str, str], list[str]] = defaultdict(list)
    names: dict[tuple[str, str], str] = {}
    for role in sorted(policies):
        allowed = set(policies[role].allowed_groups)
        for key, h in sorted(holders.get(role, {}).items()):
            names[key], problem = _outside_groups(key, h, role, allowed, users, roster)
            problems[key].extend([problem] if problem else [])
    examined = len({k for role in policies for k in holders.get(role, {})})
    exceptions = _holder_exceptions(problems, names)
    return Outcome(
        exceptions,
        population=examined,
        reason=f"{len(exceptions)} of {examined} privileged role holders (active people, "
        "directly or through a group, OAuth clients and trustees) are outside the allowed "
        "groups",
        extra={
            "roles": sorted(policies),
            "absent_roles": sorted(r for r in policies if r not in holders),
        },
    )


def _split(held: dict[tuple[str, str], dict[str, Any]]) -> dict[str, int]:
    """How a role's holders hold it: people directly, people only via a group, others."""
    split: Counter = Counter()
    for (kind, _hid), h in held.items():
        if kind == "user":
            split["people directly" if h["direct"] else "people via a group"] += 1
        else:
            split[SPLIT_LABELS.get(kind, "subjects of unknown type")] += 1
    return dict(sorted(split.items()))


SPLIT_LABELS = {
    "oauth_client": "OAuth clients",
    "trustee_user": "trustee users",
    "trustee_group": "trustee groups",
}


@register_check("access.privileged_count")
def privileged_count(ctx: CheckContext) -> Outcome:
    limits = {
        n: p.max_holders
        for n, p in ctx.params.privileged_roles.items()
        if p.max_holders is not None
    }
    if not limits:
        return _no_policy("privileged roles with max_holders", "privileged_roles")
    holders = _holders(ctx)
    exceptions, counts, by_division, splits, groups = [], {}, {}, {}, {}
    for role in sorted(limits):
        held = holders.get(role, {})
        counts[role] = len(held)
        splits[role] = _split(held)
        groups[role] = sorted({g for h in held.values() for g in h["via"]})
        per_div: dict[str, int] = defaultdict(int)
        for h in held.values():
            for div in h["divisions"]:
                per_div[div] += 1
        by_division[role] = dict(sorted(per_div.items()))
        if len(held) > limits[role]:
            how = ", ".join(f"{n} {what}" for what, n in splits[role].items())
            via = f" (groups: {join_names(groups[role])})" if groups[role] else ""
            exceptions.append(
                ExceptionItem(
                    "role",
                    role,
                    role,
                    f"{len(held)} holders ({how}{via}), more than the maximum of {limits[role]}",
                )
            )
    return Outcome(
        exceptions,
        population=len(limits),
        reason=f"{len(exceptions)} of {len(limits)} privileged roles exceed their "
        "maximum number of holders (every distinct holder counts: people directly or through a "
        "group, OAuth clients, trustees; counted from the subject grants and group members, "
        "not from Genesys' userCount)",
        extra={
            "holders": counts,
            "holders_split": splits,
            "via_groups": groups,
            "max_holders": limits,
            "holders_by_division": by_division,
        },
    )


@register_check("access.unused_roles")
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


@register_check("access.sod_conflicts")
def sod_conflicts(ctx: CheckContext) -> Outcome:
    pairs = ctx.params.sod_conflicts
    if not pairs:
        return _no_policy("incompatible role pairs", "sod_conflicts")
    users = (
        {u["id"]: u for u in records(ctx.snapshot.table("users"))}
        if ctx.snapshot.has("users")
        else {}
    )
    # role name -> how the person holds it (groups it comes through; "" = directly)
    roles_of: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    names: dict[str, str] = {}
    for r in records(role_holders(ctx.snapshot)):
        if r["holder_type"] == "user":
            roles_of[r["holder_id"]][r["role_name"]].add(r["via_group_name"])
            names[r["holder_id"]] = r["holder_name"]
    exceptions = []
    for uid in sorted(roles_of):
        user = users.get(uid)
        if user and user["state"] != "active":
            continue
        held = roles_of[uid]
        for a, b in pairs:
            if a in held and b in held:
                exceptions.append(
                    ExceptionItem(
                        "user",
                        uid,
                        user_label(user, names[uid] or uid),
                        f"holds both {a}{_paths(held[a])} and {b}{_paths(held[b])}, "
                        "declared incompatible",
                    )
                )
    return Outcome(
        exceptions,
        population=len(roles_of),
        reason=f"{len(exceptions)} incompatible role combination(s) among "
        f"{len(roles_of)} users with role grants (directly or through a group)",
    )


def _paths(via: set[str]) -> str:
    groups = {g for g in via if g}
    return f" ({path_text(groups, '' in via)})" if groups else ""


def grants_permission(held: str, wanted: str) -> bool:
    """Whether a role's permission grants `wanted`: each part equal, or `*` in the role's."""
    have, want = held.split(":"), wanted.split(":")
    return len(have) == len(want) == 3 and all(
        h in ("*", w) for h, w in zip(have, want, strict=True)
    )


def _carriers(ctx: CheckContext, permissions: list[str]) -> dict[str, dict[str, str]]:
    """permission -> role name -> how the role carries it: the roles the API lists for the
    permission, and the roles whose wildcard permissions grant it (whether the API's filter
    counts wildcards is not documented)."""
    out: dict[str, dict[str, str]] = {p: {} for p in permissions}
    for r in records(ctx.snapshot.table("sensitive_roles")):
        if r["permission"] in out:
            out[r["permission"]][r["role_name"] or r["role_id"]] = "listed by Genesys"
    for r in records(ctx.snapshot.table("role_permissions")):
        for wanted in permissions:
            role = r["role_name"] or r["role_id"]
            if role not in out[wanted] and grants_permission(r["permission"], wanted):
                how = "granted" if r["permission"] == wanted else f"through {r['permission']}"
                out[wanted][role] = how
    return out


def _carried(permission: str, role: str, how: str) -> str:
    """ "perm (role R)", or "perm (role R, through *:*:*)" for a wildcard."""
    return f"{permission} (role {role}{', ' + how if how.startswith('through') else ''})"


@register_check("access.sensitive_permissions")
def sensitive_permissions(ctx: CheckContext) -> Outcome:
    policies = ctx.params.sensitive_permissions
    if not policies:
        return _no_policy("sensitive permissions", "sensitive_permissions")
    carriers = _carriers(ctx, sorted(policies))
    holders = _holders(ctx)
    users = {u["id"]: u for u in records(ctx.snapshot.table("users"))}
    roster = roster_by_email(ctx.snapshot)
    problems: dict[tuple[str, str], list[str]] = defaultdict(list)
    names: dict[tuple[str, str], str] = {}
    for permission in sorted(policies):
        allowed = set(policies[permission].allowed_groups)
        for role in sorted(carriers[permission]):
            via_role = _carried(permission, role, carriers[permission][role])
            for key, h in sorted(holders.get(role, {}).items()):
                names[key], problem = _outside_groups(
                    key, h, via_role, allowed, users, roster, name_others=False
                )
                problems[key].extend([problem] if problem else [])
    exceptions = _holder_exceptions(problems, names)
    return Outcome(
        exceptions,
        population=len(problems),
        reason=f"{len(exceptions)} of {len(problems)} holders of sensitive permissions (active "
        "people, directly or through a group, OAuth clients and trustees) are outside the "
        "allowed groups",
        extra={
            "roles": {p: dict(sorted(r.items())) for p, r in carriers.items()},
            "permissions_without_roles": sorted(p for p, r in carriers.items() if not r),
        },
    )
