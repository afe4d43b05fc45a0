"""access.role_drift on hand-built snapshots: added, removed, (un)explained, first run."""

from __future__ import annotations

import datetime as dt

import pytest
from gcevidence.checks import REGISTRY, CheckContext, run_one
from test_history_support import grant, make_snapshot, role_event, user

PREV_AT, NOW_AT = "2026-10-31T06:00:00Z", "2026-11-30T06:00:00Z"
USERS = [
    user("u1", "Ann"),
    user("u2", "Bob"),
    user("u3", "=cmd|' /C calc'!A0"),
    user("admin-1", "Ada Admin"),
]


def run_drift(current, previous=None, info=None):
    ctx = CheckContext(
        current,
        None,
        {},
        dt.date(2026, 11, 30),
        previous=previous,
        previous_info=info
        if info is not None
        else ({"run_id": "060000Z-prev", "collected_at": PREV_AT} if previous is not None else {}),
    )
    return run_one(ctx, REGISTRY["access.role_drift"])


@pytest.fixture()
def previous(tmp_path):
    return make_snapshot(
        tmp_path / "prev",
        users=USERS,
        collected_at=PREV_AT,
        grants=[
            grant("u1", "Employee"),
            grant("u1", "Master Admin"),
            grant("u2", "Employee"),
            grant("u3", "Employee"),
        ],
    )


def test_changes_with_audit_events_pass_and_are_listed_with_who_and_when(tmp_path, previous):
    current = make_snapshot(
        tmp_path / "now",
        users=USERS,
        collected_at=NOW_AT,
        grants=[
            grant("u1", "Employee"),
            grant("u2", "Employee"),
            grant("u2", "Master Admin"),
            grant("u2", "Master Admin", "d2"),
            grant("u3", "Employee"),
        ],
        events=[
            role_event("MemberAdd", "u2", "Master Admin", "2026-11-10T09:00:00Z"),
            role_event("MemberRemove", "u1", "Master Admin", "2026-11-11T09:00:00Z"),
            # an event from before the baseline explains nothing
            role_event("MemberAdd", "u3", "Master Admin", "2026-10-01T09:00:00Z"),
        ],
    )
    f = run_drift(current, previous)
    assert f.status == "pass", f.reason
    assert f.exceptions == () and f.population == 3
    explained = {(c["change"], c["subject_id"]): c for c in f.extra["explained_changes"]}
    assert set(explained) == {
        ("added", "u2/r-Master Admin/d1"),
        ("added", "u2/r-Master Admin/d2"),
        ("removed", "u1/r-Master Admin/d1"),
    }
    removal = explained[("removed", "u1/r-Master Admin/d1")]
    assert removal["by"] == "Ada Admin" and removal["when"] == "2026-11-11T09:00:00Z"
    assert all(c["event_id"] for c in f.extra["explained_changes"])
    assert removal["role_name"] == "Master Admin" and removal["user_name"] == "Ann"
    assert "all 3 role grant changes match an audit event" in f.reason
    assert f.to_dict()["check"] == "access.role_drift"


def test_unexplained_changes_fail_and_only_they_are_exceptions(tmp_path, previous):
    current = make_snapshot(
        tmp_path / "now",
        users=USERS,
        collected_at=NOW_AT,
        grants=[
            grant("u1", "Employee"),
            grant("u1", "Master Admin"),
            grant("u3", "Employee"),
            grant("u3", "Master Admin"),
            grant("u2", "Quality Evaluator"),
        ],
        events=[
            role_event("MemberAdd", "u2", "Quality Evaluator", "2026-11-12T09:00:00Z"),
            # a removal event does not explain an addition
            role_event("MemberRemove", "u3", "Master Admin", "2026-11-13T09:00:00Z"),
            # nor does one for another role of the same user
            role_event("MemberRemove", "u2", "Master Admin", "2026-11-14T09:00:00Z"),
        ],
    )
    f = run_drift(current, previous)
    assert f.status == "fail"
    assert sorted(e.subject_id for e in f.exceptions) == [
        "u2/r-Employee/d1",
        "u3/r-Master Admin/d1",
    ]
    added = next(e for e in f.exceptions if e.subject_id.startswith("u3"))
    assert added.subject_type == "grant"
    assert added.subject_name == "=cmd|' /C calc'!A0: Master Admin in Division d1"
    assert "no PeoplePermissions/Role MemberAdd audit event" in added.detail
    assert [c["subject_id"] for c in f.extra["explained_changes"]] == ["u2/r-Quality Evaluator/d1"]
    assert (f.extra["added"], f.extra["removed"], f.extra["unexplained"]) == (2, 1, 2)
    assert f.reason.startswith("2 of 3 role grant changes have no audit event")
    # An unexplained change cites no event; the window that was searched is recorded instead.
    assert all(e.event_ids == () for e in f.exceptions)
    window = f.extra["searched_window"]
    assert window["start"] < "2026-11-12T09:00:00Z" <= window["end"]
    assert window["events_searched"] == 3


def test_removal_of_a_deleted_user_is_explained_by_the_deletion(tmp_path, previous):
    deletion = {
        **role_event("Delete", "u2", "x", "2026-11-05T08:00:00Z"),
        "service_name": "Directory",
        "entity_type": "User",
        "entity_id": "u2",
        "entity_name": "Bob",
    }
    current = make_snapshot(
        tmp_path / "now",
        users=USERS[:1] + USERS[2:],
        collected_at=NOW_AT,
        grants=[grant("u1", "Employee"), grant("u1", "Master Admin"), grant("u3", "Employee")],
        events=[deletion],
    )
    f = run_drift(current, previous)
    assert f.status == "pass"
    [change] = f.extra["explained_changes"]
    assert change["explained_by"] == "user deleted" and change["user_name"] == "Bob"


def test_window_starts_at_the_baselines_newest_event_when_the_org_clock_runs_ahead(tmp_path):
    # a simulated org moved a month on: its events are dated after our collection time
    before = make_snapshot(
        tmp_path / "prev",
        users=USERS,
        collected_at=PREV_AT,
        grants=[grant("u1", "Employee")],
        events=[role_event("MemberAdd", "u2", "Employee", "2026-12-20T09:00:00Z")],
    )
    current = make_snapshot(
        tmp_path / "now",
        users=USERS,
        collected_at="2026-10-31T07:00:00Z",
        grants=[grant("u1", "Employee"), grant("u2", "Employee"), grant("u3", "Employee")],
        events=[
            role_event("MemberAdd", "u2", "Employee", "2026-12-20T09:00:00Z"),
            role_event("MemberAdd", "u3", "Employee", "2027-01-15T09:00:00Z"),
        ],
    )
    f = run_drift(current, before, {"run_id": "p", "collected_at": PREV_AT})
    # u2's event was already in the baseline's data: it does not explain a later change
    assert [e.subject_id for e in f.exceptions] == ["u2/r-Employee/d1"]
    assert [c["user_id"] for c in f.extra["explained_changes"]] == ["u3"]


def test_group_grants_are_not_user_drift(tmp_path, previous):
    group_grant = {**grant("g1", "Reporting Admin"), "subject_type": "PC_GROUP"}
    current = make_snapshot(
        tmp_path / "now",
        users=USERS,
        collected_at=NOW_AT,
        grants=[
            grant("u1", "Employee"),
            grant("u1", "Master Admin"),
            grant("u2", "Employee"),
            grant("u3", "Employee"),
            group_grant,
        ],
    )
    f = run_drift(current, previous)
    assert f.status == "pass" and f.population == 0
    assert f.reason.startswith("no role grant changed since pack 060000Z-prev")


def test_first_run_is_not_evaluable_and_says_so(tmp_path):
    current = make_snapshot(tmp_path / "now", users=USERS, grants=[grant("u1", "Employee")])
    f = run_drift(current, None, {"problem": "", "rejected": []})
    assert f.status == "not_evaluable"
    assert f.reason == "first run for this org: no earlier sealed pack to compare"


def test_tampered_previous_pack_is_reported_not_used(tmp_path):
    current = make_snapshot(tmp_path / "now", users=USERS, grants=[grant("u1", "Employee")])
    problem = (
        "no verified earlier pack for this org: pack 060000Z-prev failed verification "
        "(changed: evidence/role_grants.csv) and is not used as a baseline"
    )
    info = {
        "problem": problem,
        "rejected": [
            {
                "run_id": "060000Z-prev",
                "path": "x",
                "generated_at": PREV_AT,
                "problem": "failed verification (changed: evidence/role_grants.csv)",
            }
        ],
    }
    f = run_drift(current, None, info)
    assert f.status == "not_evaluable" and f.reason == problem
    assert f.extra["rejected_packs"][0]["run_id"] == "060000Z-prev"


def test_changes_without_audit_events_dataset_are_not_evaluable(tmp_path, previous):
    from gcevidence.snapshot import Snapshot, SnapshotWriter

    w = SnapshotWriter(tmp_path / "now")
    w.write_table("users", USERS)
    w.write_table("role_grants", [grant("u1", "Employee")])
    w.mark_unavailable("audit_events", "403", missing_permission="audits:audit:view")
    w.finish(org={"id": "org-1"}, collected_at=NOW_AT)
    f = run_drift(Snapshot(tmp_path / "now"), previous)
    assert f.status == "not_evaluable" and "audits:audit:view" in f.reason


def test_a_baseline_older_than_the_audit_window_is_said_in_the_reason(tmp_path, previous):
    current = make_snapshot(
        tmp_path / "now",
        users=USERS,
        collected_at="2027-06-30T06:00:00Z",
        period=("2027-04-01T00:00:00Z", "2027-06-30T23:59:59Z"),
        grants=[grant("u1", "Employee"), grant("u2", "Employee"), grant("u3", "Employee")],
    )
    f = run_drift(current, previous)
    assert f.status == "fail" and [e.subject_id for e in f.exceptions] == ["u1/r-Master Admin/d1"]
    assert "audit events were collected from 2027-04-01 00:00 UTC" in f.reason
    assert f.extra["audit_gap"].endswith("changes in between cannot be matched")


def test_a_newer_tampered_pack_is_named_when_an_older_one_is_the_baseline(tmp_path, previous):
    current = make_snapshot(
        tmp_path / "now",
        users=USERS,
        collected_at=NOW_AT,
        grants=[
            grant("u1", "Employee"),
            grant("u1", "Master Admin"),
            grant("u2", "Employee"),
            grant("u3", "Employee"),
        ],
    )
    info = {
        "run_id": "060000Z-prev",
        "collected_at": PREV_AT,
        "rejected": [
            {
                "run_id": "060000Z-bad",
                "path": "x",
                "generated_at": NOW_AT,
                "problem": "failed verification (changed: findings.json)",
            }
        ],
    }
    f = run_drift(current, previous, info)
    assert f.status == "pass"
    assert f.reason.endswith(
        "pack 060000Z-bad failed verification (changed: findings.json) "
        "and was not used as the baseline"
    )
    assert f.extra["rejected_packs"][0]["run_id"] == "060000Z-bad"


def _group_packs(tmp_path, now_members, events=(), prev_members=("u1",), prev_has_members=True):
    from test_history_support import group_grant, member

    grants = [grant("u1", "Employee"), group_grant("g1", "On-Call", "Master Admin")]
    previous = make_snapshot(
        tmp_path / "prev",
        users=USERS,
        collected_at=PREV_AT,
        grants=grants,
        members=[member("g1", "On-Call", u) for u in prev_members] if prev_has_members else None,
    )
    current = make_snapshot(
        tmp_path / "now",
        users=USERS,
        collected_at=NOW_AT,
        grants=grants,
        members=[member("g1", "On-Call", u) for u in now_members],
        events=list(events),
    )
    return previous, current


def test_a_grant_through_a_new_group_membership_without_a_trail_is_an_exception(tmp_path):
    previous, current = _group_packs(tmp_path, ["u1", "u2"])
    f = run_drift(current, previous)
    assert f.status == "fail" and [e.subject_id for e in f.exceptions] == ["u2/r-Master Admin/d1"]
    assert "Master Admin granted to Bob (via group On-Call)" in f.exceptions[0].detail
    assert "nor a Groups membership event" in f.exceptions[0].detail


def test_a_group_membership_event_explains_the_grant(tmp_path):
    change = {
        **role_event("MemberAdd", "u2", "Master Admin", "2026-11-12T09:00:00Z"),
        "service_name": "Groups",
        "entity_type": "DirectoryGroup",
        "action": "Update",
        "entity_id": "g1",
        "entity_name": "On-Call",
        "property_changes": '[{"property": "group-membership", "newValues": ["u2"]}]',
    }
    previous, current = _group_packs(tmp_path, ["u1", "u2"], events=[change])
    f = run_drift(current, previous)
    assert f.status == "pass", f.reason
    (explained,) = f.extra["explained_changes"]
    assert explained["explained_by"] == "group membership" and explained["user_id"] == "u2"


def test_granting_the_role_to_the_group_explains_its_members_grants(tmp_path):
    event = role_event("MemberAdd", "g1", "Master Admin", "2026-11-12T09:00:00Z")
    previous, current = _group_packs(tmp_path, ["u1", "u2"], events=[event])
    assert run_drift(current, previous).status == "pass"


def test_a_pack_from_before_group_members_is_compared_on_direct_grants(tmp_path):
    previous, current = _group_packs(tmp_path, ["u1", "u2"], prev_has_members=False)
    f = run_drift(current, previous)
    assert f.status == "pass" and f.population == 0, f.reason
