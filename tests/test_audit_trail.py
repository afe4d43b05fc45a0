"""The audit trail as the checks read it: the kinds of event they use, whole, and every count."""

from __future__ import annotations

from collections import Counter

from gcevidence.audit_trail import audit_trail
from gcevidence.checks.common import parse_time
from gcevidence.collect_audits import event_day
from gcevidence.snapshot import Snapshot, SnapshotWriter

OWN_ORG = "org-1"


def _event(n: int, date: str, service: str, kind: str, **fields: str) -> dict:
    return {
        "id": f"e{n:03d}",
        "event_date": date,
        "service_name": service,
        "entity_type": kind,
        "action": fields.pop("action", "Update"),
        "user_home_org_id": fields.pop("home", OWN_ORG),
        **fields,
    }


def _snapshot(tmp_path, events: list[dict]) -> Snapshot:
    writer = SnapshotWriter(tmp_path)
    events = sorted(events, key=lambda e: (event_day(e), e["event_date"], e["id"]))
    writer.write_table("audit_events", events, None, segment_of=event_day)
    writer.write_table(
        "role_grants",
        [{"subject_type": "PC_TRUSTEE_USER", "subject_id": "partner-user", "role_id": "r"}],
    )
    writer.finish(org={"id": OWN_ORG, "name": "Org"})
    return Snapshot(tmp_path)


def test_the_trail_keeps_what_checks_read_and_counts_every_event(tmp_path):
    events = [
        _event(1, "2026-01-01T08:00:00.000Z", "Routing", "Queue"),
        _event(2, "2026-01-01T09:00:00.000Z", "PeoplePermissions", "Role", action="MemberAdd"),
        _event(3, "2026-01-01T10:00:00.000Z", "Directory", "User", user_name="=cmd|x"),
        _event(4, "2026-01-01T11:00:00.000Z", "Routing", "Queue", home="partner-org"),
        _event(5, "2026-01-01T12:00:00.000Z", "Quality", "Evaluation", user_id="partner-user"),
        _event(6, "2026-01-01T23:30:00-02:00", "Routing", "Queue"),  # not a Z stamp
        _event(7, "2026-01-02T01:00:00.000Z", "Groups", "DirectoryGroup"),
        # A cell with a line break: that day is parsed whole, the rest row by row.
        _event(8, "2026-01-02T02:00:00.000Z", "Directory", "User", entity_name="two\r\nlines"),
        _event(9, "2026-01-02T03:00:00.000Z", "Architect", "Flow"),
        _event(10, "2026-01-03T04:00:00.000Z", "PeoplePermissions", "AccessToken"),
    ]
    trail = audit_trail(_snapshot(tmp_path, events))
    assert list(trail.events["id"]) == ["e002", "e003", "e004", "e005", "e007", "e008"]
    by_id = {e["id"]: e for e in trail.records()}
    assert by_id["e003"]["user_name"] == "=cmd|x"  # the CSV guard undone
    assert by_id["e008"]["entity_name"] == "two\r\nlines"
    assert [e["id"] for e in trail.records("Directory", "User")] == ["e003", "e008"]
    expected = Counter(
        (parse_time(e["event_date"]).date().isoformat(), e["service_name"]) for e in events
    )
    counted = {(d, s): n for d, s, n in trail.counts.itertuples(index=False)}
    assert counted == dict(expected)
    assert counted[("2026-01-01", "Routing")] == 3  # the offset stamp, on the day it names
    assert trail.rows == len(events) and trail.latest == "2026-01-03T04:00:00.000Z"


def test_the_trail_is_read_once_per_snapshot(tmp_path):
    snap = _snapshot(tmp_path, [_event(1, "2026-01-01T08:00:00.000Z", "Groups", "Group")])
    assert audit_trail(snap) is audit_trail(snap)
