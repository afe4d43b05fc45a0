"""access.role_drift: role grants changed since the previous sealed pack without an audit trail.

The baseline is the newest earlier pack of the same org that verified against its manifest
(gcevidence.history.previous_snapshot); the pipeline hands it over as ctx.previous. A grant
added (removed) is explained by a PeoplePermissions/Role MemberAdd (MemberRemove) event for the
same user and role between the two packs' collection times; a removal is also explained when
the user was deleted in that window (deleting a user drops its grants without MemberRemove).

Grants are what people hold, directly or through a group (gcevidence.role_holders). A grant
held through a group is also explained by the role event naming the group as grantee, or by a
Groups event on that group naming the user (a membership change). A baseline pack made before
group members were collected is compared on direct grants only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from gcevidence.audit_events import succeeded
from gcevidence.audit_trail import audit_trail
from gcevidence.checks.common import fmt_time, parse_time, records, users_by_id
from gcevidence.checks.registry import (
    CheckContext,
    Outcome,
    register_check,
    unavailable_because,
)
from gcevidence.findings import ExceptionItem
from gcevidence.history import role_membership_events, user_role_grants

FIRST_RUN = "first run for this org: no earlier sealed pack to compare"


@dataclass(frozen=True, order=True)
class Grant:
    user_id: str
    role_id: str
    division_id: str

    @property
    def subject_id(self) -> str:
        """The drift subject id convention: user id / role id / division id."""
        return f"{self.user_id}/{self.role_id}/{self.division_id}"


def _grants(snapshot, expand_groups: bool) -> dict[Grant, dict[str, str]]:
    return {
        Grant(r["subject_id"], r["role_id"], r["division_id"]): r
        for r in records(user_role_grants(snapshot, expand_groups))
    }


def grant_changes(previous, current) -> tuple[dict[Grant, dict], dict[Grant, dict]]:
    """Grants people hold (directly or through a group) added and removed between two
    snapshots, each with its grants row. A pack made before group members were collected is
    compared on direct grants only, so that group-derived grants do not look new."""
    expand = previous.has("group_members") and current.has("group_members")
    before, now = _grants(previous, expand), _grants(current, expand)
    added = {g: now[g] for g in sorted(now.keys() - before.keys())}
    removed = {g: before[g] for g in sorted(before.keys() - now.keys())}
    return added, removed


def _deleted_users(snapshot, start: dt.datetime, end: dt.datetime) -> dict[str, dict]:
    """Users deleted in the window (Directory/User/Delete events), keyed by user id."""
    if not snapshot.has("audit_events"):
        return {}
    out = {}
    for e in audit_trail(snapshot).records("Directory", "User"):
        if (e["service_name"], e["entity_type"], e["action"]) != ("Directory", "User", "Delete"):
            continue
        when = parse_time(e["event_date"])
        if when and start < when <= end and e["status"] in ("SUCCESS", ""):
            out.setdefault(e["entity_id"], e)
    return out


def _data_time(snapshot, collected_at: str | None = None) -> dt.datetime | None:
    """When a snapshot's state was taken, on the org's clock.

    The later of its collection time and its newest audit event: the same in a real org,
    and right for an org whose clock runs apart from ours (a simulator moved a month on).
    """
    times = [parse_time(collected_at or snapshot.meta.get("collected_at", ""))]
    if snapshot.has("audit_events"):
        times.append(parse_time(audit_trail(snapshot).latest))
    known = [t for t in times if t is not None]
    return max(known) if known else None


@register_check("access.role_drift")
def role_drift(ctx: CheckContext) -> Outcome:
    info = ctx.previous_info or {}
    rejected = list(info.get("rejected") or [])
    extra: dict = {"rejected_packs": rejected} if rejected else {}
    previous = ctx.previous
    if previous is None:
        return Outcome(status="not_evaluable", reason=info.get("problem") or FIRST_RUN, extra=extra)
    baseline = info.get("run_id") or "previous pack"
    if not previous.has("role_grants"):
        return Outcome(
            status="not_evaluable",
            extra=extra,
            reason=f"the previous pack {baseline} holds no role grants to compare",
        )
    until = _data_time(ctx.snapshot) or dt.datetime.now(dt.UTC)
    since = _data_time(previous, info.get("collected_at")) or until
    added, removed = grant_changes(previous, ctx.snapshot)
    extra.update(
        baseline={"run_id": baseline, "collected_at": fmt_time(since)},
        added=len(added),
        removed=len(removed),
    )
    note = ""
    if rejected:
        note = (
            f"; pack {rejected[0]['run_id']} {rejected[0]['problem']} and was not used "
            "as the baseline"
        )
    window = f"between {fmt_time(since)} and {fmt_time(until)}"
    if not added and not removed:
        return Outcome(
            population=0,
            extra={**extra, "explained_changes": []},
            reason=f"no role grant changed since pack {baseline} ({fmt_time(since)})" + note,
        )
    if not ctx.snapshot.has("audit_events"):
        why = unavailable_because(ctx.snapshot.status("audit_events"))
        return Outcome(
            status="not_evaluable",
            population=len(added) + len(removed),
            extra=extra,
            reason=f"{len(added)} grant(s) added and {len(removed)} removed since "
            f"pack {baseline}, but audit events are unavailable ({why}) "
            "so they cannot be explained" + note,
        )

    period_start = parse_time((ctx.snapshot.meta.get("period") or {}).get("start", ""))
    if period_start and period_start > since:
        extra["audit_gap"] = (
            f"audit events were collected from {fmt_time(period_start)}, "
            f"after the baseline's collection at {fmt_time(since)}; changes "
            "in between cannot be matched"
        )
        note += f"; {extra['audit_gap']}"
    events = _events_in_window(ctx.snapshot, since, until)
    group_changes = _group_changes(ctx.snapshot, since, until)
    deleted = _deleted_users(ctx.snapshot, since, until)
    users = users_by_id(ctx.snapshot)
    old_users = users_by_id(previous)
    explained, exceptions = [], []
    for kind, changes, action in (
        ("added", added, "MemberAdd"),
        ("removed", removed, "MemberRemove"),
    ):
        for grant, row in changes.items():
            user = users.get(grant.user_id) or old_users.get(grant.user_id) or {}
            user_name = user.get("name") or row.get("subject_name") or grant.user_id
            role, division = row["role_name"], row["division_name"] or grant.division_id
            record = {
                "change": kind,
                "subject_id": grant.subject_id,
                "user_id": grant.user_id,
                "user_name": user_name,
                "role_id": grant.role_id,
                "role_name": role,
                "division_id": grant.division_id,
                "division_name": division,
            }
            via = [g for g in str(row.get("via_group_ids") or "").split(";") if g]
            event = _matching_event(events, action, grant, via)
            if event is None and via:
                event = _membership_event(group_changes, grant.user_id, via)
            if event is not None:
                explained.append(
                    {
                        **record,
                        "by": event["by_name"] or event["by_id"],
                        "by_id": event["by_id"],
                        "when": event["event_date"],
                        "event_id": event["event_id"],
                        "explained_by": event["action"],
                    }
                )
                continue
            if kind == "removed" and grant.user_id in deleted:
                e = deleted[grant.user_id]
                explained.append(
                    {
                        **record,
                        "by": e["user_name"] or e["user_id"],
                        "by_id": e["user_id"],
                        "when": e["event_date"],
                        "event_id": e["id"],
                        "explained_by": "user deleted",
                    }
                )
                continue
            verb = "granted" if kind == "added" else "removed"
            names = [n for n in str(row.get("via_group_names") or "").split(";") if n]
            how = f" (via group {'; '.join(names)})" if names else ""
            exceptions.append(
                ExceptionItem(
                    "grant",
                    grant.subject_id,
                    f"{user_name}: {role} in {division}",
                    f"{role} {verb} {'to' if kind == 'added' else 'from'} {user_name}{how} "
                    f"in {division} since pack {baseline}, with no PeoplePermissions/Role "
                    f"{action} audit event"
                    + (" for the user or the group, nor a Groups membership event" if how else "")
                    + f" {window}",
                )
            )
    extra["explained_changes"] = explained  # each with the event_id that explains it
    extra["unexplained"] = len(exceptions)
    # Where an unexplained change's event was looked for (it cites no event: none was found).
    extra["searched_window"] = {
        "start": since.isoformat().replace("+00:00", "Z"),
        "end": until.isoformat().replace("+00:00", "Z"),
        "events_searched": len(events) + len(group_changes) + len(deleted),
    }
    total = len(added) + len(removed)
    summary = (
        f"{len(added)} grant(s) added and {len(removed)} removed since pack {baseline} "
        f"({fmt_time(since)})"
    )
    if exceptions:
        reason = f"{len(exceptions)} of {total} role grant changes have no audit event: {summary}"
    else:
        reason = f"all {total} role grant changes match an audit event: {summary}"
    return Outcome(
        exceptions,
        population=total,
        reason=reason + note,
        extra=extra,
        # The file as written: audit_events.csv, or .csv.zst when it is large (evidence_files).
        evidence=(ctx.snapshot.status("audit_events").path or "evidence/audit_events.csv",),
    )


def _events_in_window(snapshot, since: dt.datetime, until: dt.datetime) -> list[dict]:
    events = []
    for e in records(role_membership_events(snapshot)):
        when = parse_time(e["event_date"])
        if when and since < when <= until and e["status"] in ("SUCCESS", ""):
            events.append(e)
    return sorted(events, key=lambda e: (e["event_date"], e["event_id"]))


def _matching_event(
    events: list[dict], action: str, grant: Grant, via_groups: list[str] = ()
) -> dict | None:
    """The latest event of `action` for this role granted to the user, or to a group the user
    holds it through, in the window, if any."""
    grantees = {grant.user_id, *via_groups}
    found = None
    for e in events:
        if e["action"] != action or e["role_id"] != grant.role_id:
            continue
        if e["user_id"] in grantees or (not e["user_id"] and grant.user_id in e["mentions"]):
            found = e
    return found


def _group_changes(snapshot, since: dt.datetime, until: dt.datetime) -> list[dict]:
    """Groups service events in the window (membership changes), when audits were read."""
    if not snapshot.has("audit_events"):
        return []
    out = []
    for e in audit_trail(snapshot).records("Groups"):
        when = parse_time(e["event_date"])
        if e["service_name"] == "Groups" and when and since < when <= until and succeeded(e):
            out.append(e)
    return sorted(out, key=lambda e: (e["event_date"], e["id"]))


def _membership_event(changes: list[dict], user_id: str, via_groups: list[str]) -> dict | None:
    """The latest change of one of the groups that names the user (joined or left it)."""
    found = None
    for e in changes:
        text = f"{e['entity_name']} {e['property_changes']} {e['context']}"
        if e["entity_id"] in via_groups and user_id in text:
            found = {
                "by_name": e["user_name"],
                "by_id": e["user_id"],
                "event_date": e["event_date"],
                "event_id": e["id"],
                "action": "group membership",
            }
    return found
