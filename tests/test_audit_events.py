"""One reading of role-grant and leaving-service audit events, in every shape accepted."""

from __future__ import annotations

import json

import pytest
from gcevidence.audit_events import RoleMemberChange, role_member_change, took_out_of_service


def event(service="PeoplePermissions", etype="Role", action="MemberAdd", **fields):
    row = {
        "service_name": service,
        "entity_type": etype,
        "action": action,
        "entity_id": "",
        "entity_name": "",
        "property_changes": "[]",
        "status": "SUCCESS",
    }
    row.update(fields)
    return row


def test_role_event_with_the_role_as_entity_id_and_the_triple_as_name():
    e = event(entity_id="role-1", entity_name="user-1--role-1--org-1")
    assert role_member_change(e) == RoleMemberChange("MemberAdd", "role-1", "user-1")


def test_role_event_with_only_the_entity_name():
    e = event(action="MemberRemove", entity_name="user-2--role-9--org-1")
    assert role_member_change(e) == RoleMemberChange("MemberRemove", "role-9", "user-2")


def test_role_event_with_only_the_role_id_has_no_grantee():
    e = event(entity_id="role-3", entity_name="Quality Evaluator")
    assert role_member_change(e) == RoleMemberChange("MemberAdd", "role-3", "")


def test_a_group_grantee_is_read_like_a_user():
    e = event(entity_name="group-7--role-1--org-1")
    assert role_member_change(e).grantee_id == "group-7"


@pytest.mark.parametrize(
    "e",
    [
        event(action="Update", entity_id="role-1"),  # a role definition edit, not a grant
        event(etype="RoleSettings", entity_name="u--r--o"),
        event(service="Directory", entity_name="u--r--o"),
        event(entity_id="", entity_name="not-a-triple"),
        event(entity_name="u----o"),
    ],
)
def test_other_events_are_not_role_changes(e):
    assert role_member_change(e) is None


def changes(prop, new):
    return json.dumps([{"property": prop, "oldValues": ["active"], "newValues": new}])


@pytest.mark.parametrize(
    "e",
    [
        event("Directory", "User", "Delete"),
        event("Directory", "User", "Deactivate"),
        event("Directory", "User", "Update", property_changes=changes("state", ["inactive"])),
        event("Directory", "User", "Update", property_changes=changes("state", ["Deleted"])),
        # the dict form a caller may already have parsed
        event(
            "Directory",
            "User",
            "Update",
            property_changes=[{"property": "state", "newValues": ["inactive"]}],
        ),
    ],
)
def test_every_form_of_leaving_service(e):
    assert took_out_of_service(e)


@pytest.mark.parametrize(
    "e",
    [
        event("Directory", "User", "Update", property_changes=changes("title", ["inactive"])),
        event("Directory", "User", "Update", property_changes=changes("state", ["active"])),
        event("Directory", "User", "Create"),
        event("Directory", "User", "Update", property_changes="not json"),
        event("Groups", "DirectoryGroup", "Delete"),
        event("PeoplePermissions", "User", "Deactivate"),
    ],
)
def test_what_is_not_leaving_service(e):
    assert not took_out_of_service(e)
