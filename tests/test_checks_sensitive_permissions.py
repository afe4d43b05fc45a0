"""access.sensitive_permissions on hand-built snapshots, and its params."""

from __future__ import annotations

import pytest
from checks_world import DENIED, MISSING, World, grant, role_permission, user
from gcevidence.checks.access import grants_permission
from gcevidence.config import load_params
from gcevidence.errors import InputError


@pytest.fixture
def world(tmp_path):
    return World(tmp_path)


def ids(finding):
    return [e.subject_id for e in finding.exceptions]


def test_sensitive_permissions_pass_when_only_allowed_people_hold_them(world):
    f = world.run("access.sensitive_permissions")
    assert f.status == "pass", f.reason
    # Alice holds recording:recording:view through Master Admin's *:*:*
    assert f.population == 1
    roles = f.extra["roles"]["recording:recording:view"]
    assert roles == {"Master Admin": "through *:*:*", "Quality Evaluator": "listed by Genesys"}


def test_holders_outside_the_groups_are_listed_once_naming_permission_and_role(world):
    world.params_text += "  audits:audit:view: {allowed_groups: [GC-Platform-Admins]}\n"
    data = world.data
    data["roles"].append({"id": "r-rep", "name": "Reporting"})
    data["role_permissions"].append(role_permission("r-rep", "Reporting", "audits:audit:view"))
    data["sensitive_roles"].append(
        {"permission": "audits:audit:view", "role_id": "r-rep", "role_name": "Reporting"}
    )
    data["users"] += [user("u-erin", "Erin QA", "erin@example.com")]
    data["hr_roster"].append(
        {
            "employee_id": "E9",
            "email": "erin@example.com",
            "status": "active",
            "termination_date": "",
            "department": "QA",
            "groups": "QA Department",
        }
    )
    data["role_grants"] += [
        grant("r-qe", "Quality Evaluator", "u-bob", "Bob Agent"),  # Sales: outside
        grant("r-qe", "Quality Evaluator", "u-erin", "Erin QA"),  # QA Department: allowed
        grant("r-rep", "Reporting", "u-erin", "Erin QA"),  # not GC-Platform-Admins: outside
        grant("r-rep", "Reporting", "c-etl", "Nightly ETL", "PC_OAUTH_CLIENT"),
        grant("r-qe", "Quality Evaluator", "g-qa", "QA group", "PC_GROUP"),
        grant("r-qe", "Quality Evaluator", "u-carol", "Carol Leaver"),  # inactive: not held
    ]
    data["group_members"] = [
        {
            "group_id": "g-qa",
            "group_name": "QA group",
            "user_id": "u-bob",
            "user_name": "Bob Agent",
            "user_state": "active",
        }
    ]
    f = world.run("access.sensitive_permissions")
    assert f.status == "fail"
    assert ids(f) == ["c-etl", "u-bob", "u-erin"]
    detail = {e.subject_id: e.detail for e in f.exceptions}
    assert "OAuth client holds audits:audit:view (role Reporting)" in detail["c-etl"]
    assert detail["u-bob"].startswith(
        "holds recording:recording:view (role Quality Evaluator) directly and via group QA group"
    )
    assert "audits:audit:view (role Reporting)" in detail["u-erin"]
    assert "recording:recording:view" not in detail["u-erin"]
    assert f.population == 4  # alice, bob, erin, the client


def test_wildcards_grant_a_permission_only_part_by_part():
    assert grants_permission("*:*:*", "audits:audit:view")
    assert grants_permission("recording:*:view", "recording:recording:view")
    assert not grants_permission("recording:recording:delete", "recording:recording:view")
    assert not grants_permission("admin", "audits:audit:view")


def test_not_evaluable_without_policy_roster_or_role_permission(world):
    world.params_text = world.params_text.split("sensitive_permissions:")[0]
    f = world.run("access.sensitive_permissions")
    assert f.status == "not_evaluable" and "params sensitive_permissions" in f.reason
    world = World(world.tmp_path / "b")
    world.tmp_path.mkdir()
    world.data["hr_roster"] = MISSING
    assert "no HR roster" in world.run("access.sensitive_permissions").reason
    world.data["hr_roster"] = World(world.tmp_path).data["hr_roster"]
    world.data["sensitive_roles"] = DENIED
    f = world.run("access.sensitive_permissions")
    assert f.status == "not_evaluable" and "authorization:role:view" in f.reason


@pytest.mark.parametrize(
    "text, field, value",
    [
        ("sensitive_permissions: [audits:audit:view]", "sensitive_permissions", None),
        ("sensitive_permissions: {audits:audit: {allowed_groups: [IT]}}", None, "audits:audit"),
        ("sensitive_permissions: {a:b:c: {allowed_groups: []}}", "allowed_groups", []),
        ("sensitive_permissions: {a:b:c: {allowed: [IT]}}", "a:b:c.allowed", ["IT"]),
    ],
)
def test_bad_sensitive_permissions_name_field_and_value(tmp_path, text, field, value):
    path = tmp_path / "params.yaml"
    path.write_text(text + "\n")
    with pytest.raises(InputError) as err:
        load_params(path)
    assert err.value.exit_status == 2 and err.value.file == str(path)
    assert err.value.field.startswith("sensitive_permissions")
    if field:
        assert field in err.value.field
    if value is not None:
        assert err.value.value == value


def test_sensitive_permissions_are_parsed(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("sensitive_permissions: {recording:recording:view: {allowed_groups: [QA]}}\n")
    params = load_params(path)
    assert params.sensitive_permissions["recording:recording:view"].allowed_groups == ("QA",)
