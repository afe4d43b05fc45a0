"""Logging and monitoring checks: audit trail completeness, privileged grants, retention, gaps,
and the export of audit events to the organisation's own log store."""

from __future__ import annotations

from collections import Counter, defaultdict

from gcevidence.audit_events import role_member_change, succeeded
from gcevidence.audit_trail import audit_trail
from gcevidence.checks.common import (
    join_names,
    parse_time,
    period_bounds,
    period_days,
    person_groups,
    records,
    roster_by_email,
    user_label,
)
from gcevidence.checks.registry import CheckContext, Outcome, missing_reason, register_check
from gcevidence.datasets.integrations import EVENTBRIDGE_SOURCE
from gcevidence.findings import ExceptionItem


@register_check("logging.audit_completeness")
def audit_completeness(ctx: CheckContext) -> Outcome:
    snap = ctx.snapshot
    names = ("audit_events", "audit_queries")
    denied = [n for n in names if not snap.has(n) and snap.status(n).missing_permission]
    if denied:  # only a missing permission makes this unknowable; anything else is a failure
        return Outcome(
            status="not_evaluable", reason="; ".join(missing_reason(snap, n) for n in denied)
        )
    exceptions = []
    for name in names:
        status = snap.status(name)
        if not snap.has(name):
            exceptions.append(
                ExceptionItem(
                    "dataset", name, name, f"could not be read: {status.reason or 'not collected'}"
                )
            )
        elif not status.complete and name == "audit_events":  # failed queries listed below
            exceptions.append(
                ExceptionItem(
                    "dataset",
                    name,
                    name,
                    f"incomplete: {status.rows} of "
                    f"{'?' if status.expected_rows is None else status.expected_rows} rows read",
                )
            )
    queries = records(snap.table("audit_queries")) if snap.has("audit_queries") else []
    for q in sorted(queries, key=lambda q: (q["service_name"], q["interval_start"])):
        if q["state"] != "Succeeded":
            exceptions.append(
                ExceptionItem(
                    "query",
                    q["transaction_id"],
                    q["service_name"],
                    f"audit query {q['service_name']} {q['interval_start']}..{q['interval_end']} "
                    f"ended {q['state'] or 'without a state'}",
                )
            )
    evidence = tuple(snap.status(n).path for n in (*names, "audit_days") if snap.has(n))
    events = snap.status("audit_events").rows if snap.has("audit_events") else 0
    taken = snap.status("audit_events").extra.get("from_pack") or {}
    # Days an earlier verified pack held were copied from it, not queried (audit_reuse.py).
    copied = (
        f" ({taken['events']} of them, days {taken['first_day']} to {taken['last_day']}, "
        f"copied from pack {taken['pack']}, whose overlap day {taken['overlap_day']} the API "
        "confirmed)"
        if taken
        else ""
    )
    return Outcome(
        exceptions,
        population=len(queries),
        evidence=evidence,
        reason=f"{len(exceptions)} problem(s) reading the audit trail"
        if exceptions
        else f"{len(queries)} audit queries succeeded; all {events} events read{copied}",
        extra={"queries": len(queries), "events": events, "from_pack": taken},
    )


@register_check("logging.privileged_grants")
def privileged_grants(ctx: CheckContext) -> Outcome:
    policies = {n: p for n, p in ctx.params.privileged_roles.items() if p.allowed_granters}
    if not policies:
        return Outcome(
            status="not_evaluable",
            reason="no privileged roles with allowed_granters declared (params privileged_roles)",
        )
    role_names = {r["id"]: r["name"] for r in records(ctx.snapshot.table("roles"))}
    users = {u["id"]: u for u in records(ctx.snapshot.table("users"))}
    roster = roster_by_email(ctx.snapshot)
    start, end = period_bounds(ctx)
    exceptions, population = [], 0
    grants_per_day: dict[str, Counter] = defaultdict(Counter)
    events = sorted(
        audit_trail(ctx.snapshot).records("PeoplePermissions", "Role"),
        key=lambda e: (e["event_date"], e["id"]),
    )
    group_names = _group_names(ctx)
    for e in events:
        change = role_member_change(e)
        if change is None or change.action != "MemberAdd" or not succeeded(e):
            continue
        when = parse_time(e["event_date"])
        if when is None or not start <= when.date() <= end:
            continue
        role = role_names.get(change.role_id, "")
        grants_per_day[role or change.role_id][str(when.date())] += 1
        if role not in policies:
            continue
        population += 1
        allowed = set(policies[role].allowed_granters)
        granter = users.get(e["user_id"])
        grantee = users.get(change.grantee_id)
        if grantee is None and change.grantee_id in group_names:
            to_whom = f"group {group_names[change.grantee_id]}"
        else:
            to_whom = user_label(grantee, change.grantee_id or "unknown grantee")
        if granter is None:
            who = (
                f"OAuth client {e['client_id']}"
                if not e["user_id"] and e["client_id"]
                else f"user {e['user_name'] or e['user_id'] or 'unknown'}"
            )
            detail = (
                f"{role} granted to {to_whom} on {when.date()} by {who}, not a person in "
                f"{join_names(allowed)}"
            )
        else:
            groups = person_groups(roster.get(granter["email"].strip().lower()))
            if groups & allowed:
                continue
            detail = (
                f"{role} granted to {to_whom} on {when.date()} by "
                f"{user_label(granter, e['user_id'])} (HR groups {join_names(groups)}), "
                f"not in the allowed granters {join_names(allowed)}"
            )
        exceptions.append(
            ExceptionItem("grant", e["id"], f"{role} to {to_whom}", detail, event_ids=(e["id"],))
        )
    return Outcome(
        exceptions,
        population=population,
        reason=f"{len(exceptions)} of {population} privileged role grants in the period "
        "were made by someone not allowed to grant them",
        extra={
            "grants_per_day": {
                r: dict(sorted(c.items())) for r, c in sorted(grants_per_day.items())
            }
        },
    )


def _group_names(ctx: CheckContext) -> dict[str, str]:
    """Group id -> name, for grants made to a group (from the role grants, when collected)."""
    if not ctx.snapshot.has("role_grants"):
        return {}
    return {
        g["subject_id"]: g["subject_name"]
        for g in records(ctx.snapshot.table("role_grants"))
        if g["subject_type"] == "PC_GROUP"
    }


@register_check("logging.retention")
def retention(ctx: CheckContext) -> Outcome:
    probe = ctx.snapshot.object("audit_retention_probe") or {}
    days = ctx.threshold("audit_retention_days")
    found = probe.get("events_found")
    window = " .. ".join(str(probe[k]) for k in ("probe_start", "probe_end") if probe.get(k))
    where = f" ({window})" if window else ""
    if not isinstance(found, int) or isinstance(found, bool):
        return Outcome(
            status="not_evaluable",
            reason="the retention probe recorded no event count",
            extra={"probe": probe},
        )
    probed = probe.get("required_days")
    if isinstance(probed, int) and probed != days and not (found and probed >= days):
        return Outcome(
            status="not_evaluable",
            population=1,
            reason=f"the retention probe looked {probed} days back{where}, but the "
            f"threshold is {days} days; re-run collection with that retention",
            extra={"probe": probe, "retention_days": days},
        )
    exceptions = []
    if found == 0:
        exceptions.append(
            ExceptionItem(
                "probe",
                window or "retention-boundary",
                f"{days} days before period end",
                f"no audit events found at the retention boundary{where}; the baseline requires "
                f"{days} days",
            )
        )
    return Outcome(
        exceptions,
        population=1,
        reason=(
            f"no audit events {days} days back{where}"
            if exceptions
            else f"{found} audit event(s) found {days} days back{where}"
        ),
        extra={"probe": probe, "retention_days": days},
    )


@register_check("logging.activity_gaps")
def activity_gaps(ctx: CheckContext) -> Outcome:
    days = [str(d) for d in period_days(ctx)]
    per_day: Counter = Counter()
    per_service: dict[str, Counter] = defaultdict(Counter)
    # Counted once, per UTC day and service, when the trail was read (audit_trail.py).
    for day, service, count in audit_trail(ctx.snapshot).counts.itertuples(index=False):
        if not day:
            continue
        per_day[day] += int(count)
        per_service[service][day] += int(count)
    exceptions = [
        ExceptionItem("day", d, d, "no audit events at all on this day (UTC)")
        for d in days
        if per_day[d] == 0
    ]
    return Outcome(
        exceptions,
        population=len(days),
        reason=f"{len(exceptions)} of {len(days)} days without any audit event",
        extra={
            "events_per_day": {d: per_day[d] for d in days},
            "events_per_day_by_service": {
                s: {d: c[d] for d in days} for s, c in sorted(per_service.items())
            },
        },
    )


# -- the audit export to the SIEM ------------------------------------------------------------------

SIEM_MANUAL = (
    "obtain from the owner of the organisation's log platform how Genesys Cloud audit events "
    "reach it (another export, or a scheduled job reading the audit query API), and a sample of "
    "audit events of the period found there, to compare with evidence/audit_events.csv"
)


def _export_problem(row: dict[str, str]) -> str:
    """Why an EventBridge integration fails the check, or "" when it does not."""
    code = row["reported_state"]
    if row["intended_state"] == "ENABLED" and code != "ACTIVE":
        what = f"enabled, but Genesys reports it {code or 'without a state'}"
    elif code == "ERROR":
        what = f"{(row['intended_state'] or 'in no intended state').lower()}, and in ERROR"
    else:
        return ""
    if row["reported_detail"]:
        what += f" ({row['reported_detail']})"
    if row["reported_at"]:
        what += f" since {row['reported_at']}"
    return what + ": audit events may not reach the log store"


@register_check("logging.siem_export")
def siem_export(ctx: CheckContext) -> Outcome:
    installed = records(ctx.snapshot.table("integrations"))
    exports = sorted(
        (
            r
            for r in installed
            if r["integration_type"] == EVENTBRIDGE_SOURCE and r["intended_state"] != "DELETED"
        ),
        key=lambda r: (r["name"].casefold(), r["id"]),
    )
    exceptions = [
        ExceptionItem("integration", r["id"], r["name"], _export_problem(r))
        for r in exports
        if _export_problem(r)
    ]
    active = [
        r for r in exports if r["intended_state"] == "ENABLED" and r["reported_state"] == "ACTIVE"
    ]
    others = [r["name"] for r in exports if r not in active and not _export_problem(r)]
    extra = {
        "exports": [
            {k: r[k] for k in ("id", "name", "intended_state", "reported_state", "reported_at")}
            for r in exports
        ],
        "integrations_installed": len(installed),
    }
    listed = f"; listed, not in use: {'; '.join(others)}" if others else ""
    if exceptions:
        reason = (
            f"{len(exceptions)} of {len(exports)} Amazon EventBridge audit export(s) not active"
        )
        if active:
            reason += f"; active: {join_names(r['name'] for r in active)}"
        return Outcome(exceptions, population=len(exports), reason=reason + listed, extra=extra)
    if active:
        return Outcome(
            population=len(exports),
            reason=f"audit events are exported through {join_names(r['name'] for r in active)} "
            f"(Amazon EventBridge, enabled and ACTIVE){listed}",
            extra=extra,
        )
    return Outcome(
        status="not_evaluable",
        population=len(exports),
        reason=f"no Amazon EventBridge source integration is enabled and active among the "
        f"{len(installed)} installed integrations{listed}: {SIEM_MANUAL}",
        extra=extra,
    )
