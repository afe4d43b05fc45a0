"""access.role_definition_drift: role permissions against the previous pack's, on hand-built
snapshots; and how a role's permissions are normalised and hashed."""

from __future__ import annotations

import copy

import pytest
from checks_world import DENIED, World, base_data, build_snapshot, event, role_permission
from gcevidence.checks import REGISTRY, run_one
from gcevidence.datasets.directory import permission_rows, permissions_digest

PREV_AT = "2026-11-21T06:00:00Z"
INFO = {"run_id": "060000Z-prev", "collected_at": PREV_AT}


@pytest.fixture
def world(tmp_path):
    return World(tmp_path)


def run(world, previous, info=INFO):
    ctx = world.ctx(previous=previous)
    ctx = type(ctx)(
        ctx.snapshot, ctx.params, ctx.thresholds, ctx.today, previous, previous_info=info
    )
    return run_one(ctx, REGISTRY["access.role_definition_drift"])


@pytest.fixture
def previous(tmp_path):
    """The same org a week earlier: its audit trail ends at the baseline's collection."""
    data = copy.deepcopy(base_data())
    data["audit_events"] = [e for e in data["audit_events"] if e["event_date"] <= PREV_AT]
    return build_snapshot(tmp_path / "prev", data)


def role_event(eid, when, action, role_id, role_name=""):
    return event(
        eid,
        when,
        service="PeoplePermissions",
        entity_type="Role",
        action=action,
        entity_id=role_id,
        entity_name=role_name,
    )


def test_first_run_has_no_baseline(world):
    f = run(world, None, {})
    assert f.status == "not_evaluable" and "first run for this org" in f.reason


def test_unchanged_roles_pass(world, previous):
    f = run(world, previous)
    assert f.status == "pass" and f.population == 4
    assert "no role's permissions changed since pack 060000Z-prev" in f.reason


def test_changes_with_an_update_event_pass_and_are_listed(world, previous):
    world.data["role_permissions"].append(
        role_permission("r-qe", "Quality Evaluator", "recording:recording:download")
    )
    world.data["audit_events"].append(
        role_event("e-upd", "2026-11-24T09:00:00Z", "Update", "r-qe", "Quality Evaluator")
    )
    f = run(world, previous)
    assert f.status == "pass", f.reason
    (change,) = f.extra["explained_changes"]
    assert change["added"] == ["recording:recording:download"] and change["removed"] == []
    assert change["event_id"] == "e-upd" and change["explained_by"] == "Update"


def test_unexplained_changes_new_and_deleted_roles_are_exceptions(world, previous):
    data = world.data
    data["role_permissions"] = [
        r for r in data["role_permissions"] if r["permission"] != "quality:evaluation:add"
    ]
    data["role_permissions"] += [
        role_permission("r-qe", "Quality Evaluator", "quality:evaluation:delete"),
        role_permission("r-new", "Exporter", "analytics:dataExport:add"),
        # the same permission with a resource condition is a different grant
        role_permission("r-emp", "employee", "directory:user:view", '{"namedResources":["d1"]}'),
    ]
    data["role_permissions"] = [
        r
        for r in data["role_permissions"]
        if not (r["role_id"] == "r-emp" and r["condition"] == "")
    ]
    data["roles"] = [r for r in data["roles"] if r["id"] != "r-qa"] + [
        {"id": "r-new", "name": "Exporter"}
    ]
    # events that do not explain: before the baseline, another role, a failed update, and a
    # MemberAdd on the role (a grant, not a change of the role)
    data["audit_events"] += [
        role_event("e-old", "2026-11-20T09:00:00Z", "Update", "r-qe"),
        role_event("e-other", "2026-11-24T09:00:00Z", "Update", "r-ma"),
        {**role_event("e-fail", "2026-11-24T10:00:00Z", "Update", "r-emp"), "status": "FAILURE"},
        role_event("e-member", "2026-11-24T11:00:00Z", "MemberAdd", "r-qe"),
        # a Create by name alone explains the new role
        role_event("e-create", "2026-11-25T09:00:00Z", "Create", "", "Exporter"),
    ]
    f = run(world, previous)
    assert f.status == "fail"
    assert sorted(e.subject_id for e in f.exceptions) == ["r-emp", "r-qa", "r-qe"]
    detail = {e.subject_id: e.detail for e in f.exceptions}
    assert detail["r-qe"].startswith(
        "permissions changed (added quality:evaluation:delete; removed quality:evaluation:add)"
    )
    assert "no PeoplePermissions/Role Update audit event for the role" in detail["r-qe"]
    assert 'directory:user:view [{"namedResources":["d1"]}]' in detail["r-emp"]
    assert detail["r-qa"].startswith("role deleted (removed quality:evaluationForm:add)")
    assert "PeoplePermissions/Role Delete" in detail["r-qa"]
    assert [c["role_id"] for c in f.extra["explained_changes"]] == ["r-new"]
    assert all(e.subject_type == "role" for e in f.exceptions)


def test_changes_without_audit_events_are_not_evaluable(world, previous):
    world.data["role_permissions"].append(role_permission("r-qe", "Quality Evaluator", "a:b:c"))
    world.data["audit_events"] = DENIED
    f = run(world, previous)
    assert f.status == "not_evaluable" and "audits:audit:view" in f.reason


def test_a_baseline_without_role_permissions_is_named(world, tmp_path):
    old = copy.deepcopy(base_data())
    del old["role_permissions"]
    f = run(world, build_snapshot(tmp_path / "old", old))
    assert f.status == "not_evaluable" and "holds no role permissions" in f.reason


def test_not_evaluable_when_role_permissions_are_denied(world, previous):
    world.data["role_permissions"] = DENIED
    f = run(world, previous)
    assert f.status == "not_evaluable" and "authorization:role:view" in f.reason


def test_permissions_are_normalised_and_their_digest_ignores_order():
    role = {
        "id": "r1",
        "name": "R",
        "permissions": ["routing:queue:view", "admin"],
        "permissionPolicies": [
            {"domain": "routing", "entityName": "queue", "actionSet": ["view", "edit"]},
            {
                "domain": "quality",
                "entityName": "evaluation",
                "actionSet": ["view"],
                "resourceConditionNode": {"variableName": "division", "operator": "EQ"},
            },
        ],
    }
    rows = permission_rows(role)
    assert [(r["permission"], bool(r["condition"])) for r in rows] == [
        ("admin", False),
        ("quality:evaluation:view", True),
        ("routing:queue:edit", False),
        ("routing:queue:view", False),
    ]
    shuffled = {
        **role,
        "permissionPolicies": list(reversed(role["permissionPolicies"])),
        "permissions": ["admin", "routing:queue:view"],
    }
    assert permissions_digest(shuffled) == permissions_digest(role)
    changed = copy.deepcopy(role)
    changed["permissionPolicies"][0]["actionSet"] = ["view"]
    assert permissions_digest(changed) != permissions_digest(role)
    assert permissions_digest(role).startswith("sha256:")
