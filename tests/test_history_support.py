"""Hand-built snapshots for the history, drift and review tests (no simulator needed)."""

from __future__ import annotations

from pathlib import Path

from gcevidence.snapshot import Snapshot, SnapshotWriter

ORG = {"id": "org-1", "name": "Acme"}


def user(
    uid: str,
    name: str,
    *,
    manager: str = "",
    department: str = "Sales",
    state: str = "active",
    last_login: str = "2026-11-20T10:00:00Z",
) -> dict:
    return {
        "id": uid,
        "name": name,
        "email": f"{uid}@example.com",
        "username": uid,
        "state": state,
        "department": department,
        "manager_id": manager,
        "date_last_login": last_login,
        "division_id": "d1",
        "division_name": "Home",
    }


def grant(uid: str, role: str, division: str = "d1", *, names: dict | None = None) -> dict:
    names = names or {}
    return {
        "role_id": f"r-{role}",
        "role_name": role,
        "subject_id": uid,
        "subject_name": names.get(uid, uid),
        "subject_type": "PC_USER",
        "division_id": division,
        "division_name": f"Division {division}",
    }


def role_event(
    action: str,
    uid: str,
    role: str,
    when: str,
    by: str = "admin-1",
    by_name: str = "Ada Admin",
    *,
    org: str = "org-1",
) -> dict:
    return {
        "id": f"ev-{action}-{uid}-{role}-{when}",
        "event_date": when,
        "service_name": "PeoplePermissions",
        "level": "USER",
        "action": action,
        "entity_type": "Role",
        "entity_id": f"r-{role}",
        "entity_name": f"{uid}--r-{role}--{org}",
        "user_id": by,
        "user_name": by_name,
        "client_id": "",
        "status": "SUCCESS",
        "remote_ip": "",
        "property_changes": "[]",
        "context": "{}",
    }


def make_snapshot(
    root: Path,
    *,
    users=(),
    grants=(),
    events=(),
    unused=(),
    members=None,
    collected_at: str = "2026-11-30T06:00:00Z",
    period=("2026-09-01T00:00:00Z", "2026-11-30T23:59:59Z"),
) -> Snapshot:
    w = SnapshotWriter(root)
    w.write_table("users", users, expected_rows=len(users))
    w.write_table("role_grants", grants, expected_rows=len(grants))
    w.write_table("audit_events", events, expected_rows=len(events))
    w.write_table("unused_roles", unused, expected_rows=len(unused))
    if members is not None:  # packs made before group members were collected have none
        w.write_table("group_members", members, expected_rows=len(members))
    w.finish(
        org=ORG,
        region="us-east-1",
        api_base_url="http://127.0.0.1:1",
        client_id="gcevidence-sim",
        period={"start": period[0], "end": period[1]},
        collected_at=collected_at,
        tool_version="0.1.0",
    )
    return Snapshot(root)


def group_grant(gid: str, name: str, role: str, division: str = "d1") -> dict:
    return {**grant(gid, role, division), "subject_name": name, "subject_type": "PC_GROUP"}


def member(gid: str, name: str, uid: str) -> dict:
    return {
        "group_id": gid,
        "group_name": name,
        "user_id": uid,
        "user_name": uid,
        "user_state": "active",
    }
