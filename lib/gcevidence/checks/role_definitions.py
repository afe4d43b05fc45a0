"""access.role_definition_drift: what roles permit changed since the previous pack, unlogged.

Roles carry no modification date, so each pack keeps every role's permissions, normalised
(role_permissions, with a digest per role in roles). Against the newest earlier verified pack
of the org (the baseline access.role_drift uses too), a role whose permissions differ, a new
role and a role gone are each explained by a PeoplePermissions/Role audit event on that role
(Update, Create, Delete) between the two packs' collection times; any other is an exception.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from gcevidence.audit_events import succeeded
from gcevidence.audit_trail import audit_trail
from gcevidence.checks.common import fmt_time, parse_time, records
from gcevidence.checks.drift import FIRST_RUN, _data_time
from gcevidence.checks.registry import (
    CheckContext,
    Outcome,
    register_check,
    unavailable_because,
)
from gcevidence.findings import ExceptionItem

# The audit action that explains each kind of change of a role.
EXPLAINED_BY = {"changed": ("Update",), "created": ("Create", "Update"), "deleted": ("Delete",)}


@dataclass(frozen=True)
class RoleChange:
    role_id: str
    name: str
    kind: str  # changed | created | deleted
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()


def _definitions(snapshot) -> dict[str, tuple[str, frozenset[str]]]:
    """role id -> (name, its permissions as `permission` or `permission [condition]`)."""
    perms: dict[str, set[str]] = {}
    for r in records(snapshot.table("role_permissions")):
        text = f"{r['permission']} [{r['condition']}]" if r["condition"] else r["permission"]
        perms.setdefault(r["role_id"], set()).add(text)
    return {
        role["id"]: (role["name"], frozenset(perms.get(role["id"], ())))
        for role in records(snapshot.table("roles"))
    }


def role_changes(previous, current) -> list[RoleChange]:
    """Roles whose permissions differ between two snapshots, and roles added or removed."""
    before, now = _definitions(previous), _definitions(current)
    out = []
    for rid in sorted(set(before) | set(now)):
        if rid not in before:
            out.append(RoleChange(rid, now[rid][0], "created", tuple(sorted(now[rid][1]))))
        elif rid not in now:
            name, perms = before[rid]
            out.append(RoleChange(rid, name, "deleted", removed=tuple(sorted(perms))))
        elif before[rid][1] != now[rid][1]:
            added = tuple(sorted(now[rid][1] - before[rid][1]))
            removed = tuple(sorted(before[rid][1] - now[rid][1]))
            out.append(RoleChange(rid, now[rid][0], "changed", added, removed))
    return out


def _role_events(snapshot, since: dt.datetime, until: dt.datetime) -> list[dict[str, str]]:
    """PeoplePermissions/Role events in the window that change a role itself (not members)."""
    out = []
    for e in audit_trail(snapshot).records("PeoplePermissions", "Role"):
        when = parse_time(e["event_date"])
        if when and since < when <= until and succeeded(e):
            out.append(e)
    return sorted(out, key=lambda e: (e["event_date"], e["id"]))


def _explaining(events: list[dict[str, str]], change: RoleChange) -> dict[str, str] | None:
    """The latest event of a fitting action on the changed role (by id, or by name)."""
    found = None
    for e in events:
        if e["action"] in EXPLAINED_BY[change.kind] and (
            e["entity_id"] == change.role_id
            or (not e["entity_id"] and e["entity_name"] == change.name)
        ):
            found = e
    return found


def _what(change: RoleChange) -> str:
    parts = []
    if change.added:
        parts.append("added " + ", ".join(change.added))
    if change.removed:
        parts.append("removed " + ", ".join(change.removed))
    verb = {"changed": "permissions changed", "created": "role created", "deleted": "role deleted"}
    return f"{verb[change.kind]} ({'; '.join(parts) or 'no permissions'})"


@register_check("access.role_definition_drift")
def role_definition_drift(ctx: CheckContext) -> Outcome:
    info = ctx.previous_info or {}
    previous = ctx.previous
    if previous is None:
        return Outcome(status="not_evaluable", reason=info.get("problem") or FIRST_RUN)
    baseline = info.get("run_id") or "previous pack"
    if not previous.has("role_permissions") or not previous.has("roles"):
        return Outcome(
            status="not_evaluable",
            reason=f"the previous pack {baseline} holds no role permissions to compare (it was "
            "made before they were kept); the next pack will have a baseline",
        )
    until = _data_time(ctx.snapshot) or dt.datetime.now(dt.UTC)
    since = _data_time(previous, info.get("collected_at")) or until
    changes = role_changes(previous, ctx.snapshot)
    compared = len(records(ctx.snapshot.table("roles")))
    extra: dict = {"baseline": {"run_id": baseline, "collected_at": fmt_time(since)}}
    if not changes:
        return Outcome(
            population=compared,
            reason=f"no role's permissions changed since pack {baseline} ({fmt_time(since)}): "
            f"{compared} roles compared",
            extra={**extra, "explained_changes": []},
        )
    if not ctx.snapshot.has("audit_events"):
        why = unavailable_because(ctx.snapshot.status("audit_events"))
        return Outcome(
            status="not_evaluable",
            population=compared,
            extra={**extra, "changes": [c.__dict__ for c in changes]},
            reason=f"{len(changes)} role(s) changed since pack {baseline}, but audit events are "
            f"unavailable ({why}) so the changes cannot be explained",
        )
    events = _role_events(ctx.snapshot, since, until)
    window = f"between {fmt_time(since)} and {fmt_time(until)}"
    explained, exceptions = [], []
    for change in changes:
        event = _explaining(events, change)
        record = {
            "role_id": change.role_id,
            "role_name": change.name,
            "change": change.kind,
            "added": list(change.added),
            "removed": list(change.removed),
        }
        if event is not None:
            explained.append(
                {
                    **record,
                    "event_id": event["id"],
                    "when": event["event_date"],
                    "by": event["user_name"] or event["user_id"],
                    "explained_by": event["action"],
                }
            )
            continue
        actions = "/".join(EXPLAINED_BY[change.kind])
        exceptions.append(
            ExceptionItem(
                "role",
                change.role_id,
                change.name,
                f"{_what(change)} since pack {baseline}, with no PeoplePermissions/Role "
                f"{actions} audit event for the role {window}",
            )
        )
    summary = f"{len(changes)} role(s) changed since pack {baseline} ({fmt_time(since)})"
    reason = (
        f"{len(exceptions)} of {len(changes)} role changes have no audit event: {summary}"
        if exceptions
        else f"every role change matches an audit event: {summary}"
    )
    return Outcome(
        exceptions,
        population=compared,
        reason=reason,
        extra={**extra, "explained_changes": explained, "unexplained": len(exceptions)},
        evidence=("evidence/audit_events.csv",),
    )
