"""access.oauth_clients and access.trustees on hand-built snapshots: pass, every exception,
not_evaluable naming the permission."""

from __future__ import annotations

import pytest
from checks_world import DENIED, World, client_usage, event, grant, oauth_client, trustee


@pytest.fixture
def world(tmp_path):
    return World(tmp_path)


def ids(finding):
    return [e.subject_id for e in finding.exceptions]


# --- access.oauth_clients --------------------------------------------------------------------


def test_oauth_clients_pass_and_disabled_clients_are_listed_not_judged(world):
    f = world.run("access.oauth_clients")
    assert f.status == "pass", f.reason
    assert f.population == 1
    assert f.extra["not_active"] == [{"id": "c-old", "name": "Old bot", "state": "disabled"}]
    assert "1 disabled or inactive client(s) listed, not judged" in f.reason
    assert f.extra["thresholds"]["oauth_client_unused_days"]["value"] == 90


def test_oauth_clients_list_privileged_implicit_password_and_unused_clients(world):
    data = world.data
    data["oauth_clients"] += [
        # privileged through its roleDivisions only (no subject grant): still counted
        oauth_client("c-ci", "CI pipeline", role_ids="r-ma"),
        oauth_client("c-imp", "Widget", grant_type="TOKEN"),
        oauth_client("c-pw", "Legacy script", grant_type="PASSWORD"),
        oauth_client("c-idle", "Idle export", created="2025-01-01T00:00:00Z"),
        # unused, but created inside the window: not yet in service, not an exception
        oauth_client("c-new", "New integration", created="2026-11-20T00:00:00Z"),
        # a code-grant client holding Master Admin: a person signs in, so not this rule
        oauth_client("c-code", "Admin portal", grant_type="CODE", role_ids="r-ma"),
    ]
    data["oauth_client_usage"] += [
        client_usage("c-ci", "CI pipeline", 50),
        client_usage("c-imp", "Widget", 900),
        client_usage("c-pw", "Legacy script", 12),
        client_usage("c-idle", "Idle export", 0),
        client_usage("c-new", "New integration", 0),
        client_usage("c-code", "Admin portal", 3),
    ]
    data["oauth_clients"][2]["role_divisions"] = "r-ma@*"  # every division
    # privileged through a subject grant only
    data["oauth_clients"][0]["role_ids"] = "r-emp"
    data["role_grants"].append(
        grant("r-ma", "Master Admin", "c-etl", "Nightly ETL", "PC_OAUTH_CLIENT")
    )
    f = world.run("access.oauth_clients")
    assert f.status == "fail"
    assert sorted(ids(f)) == ["c-ci", "c-etl", "c-idle", "c-imp", "c-pw"]
    detail = {e.subject_id: e.detail for e in f.exceptions}
    assert "holding privileged role(s) Master Admin in all divisions: its tokens" in detail["c-ci"]
    assert "holding privileged role(s) Master Admin in Home: its tokens" in detail["c-etl"]
    assert "implicit grant" in detail["c-imp"] and "password grant" in detail["c-pw"]
    assert "no API request in the last 90 days" in detail["c-idle"]
    assert all(e.subject_type == "oauth_client" for e in f.exceptions)
    assert f.extra["created_within_window"] == ["c-new"]
    # the two sources disagree for the ETL client (grant only) and the CI client (list only)
    disagree = {d["client_id"]: d for d in f.extra["roles_and_grants_disagree"]}
    assert disagree["c-etl"]["grants_only"] == ["Master Admin"]
    assert disagree["c-ci"]["roles_only"] == ["Master Admin"]
    assert f.population == 7


def test_oauth_clients_unused_threshold_follows_the_baseline_and_params(world):
    world.data["oauth_clients"].append(oauth_client("c-q", "Quiet", created="2025-06-01T00:00:00Z"))
    world.data["oauth_client_usage"].append(client_usage("c-q", "Quiet", 0))
    assert ids(world.run("access.oauth_clients")) == ["c-q"]
    world.params_text += "thresholds: {oauth_client_unused_days: 30}\n"
    f = world.run("access.oauth_clients")
    assert f.extra["threshold_days"] == 30 and ids(f) == ["c-q"]


def test_oauth_clients_not_evaluable_without_oauth_permission(world):
    world.data["oauth_clients"] = DENIED
    world.data["oauth_client_usage"] = DENIED
    f = world.run("access.oauth_clients")
    assert f.status == "not_evaluable" and "oauth:client:view" in f.reason


def test_oauth_clients_with_no_privileged_roles_declared_say_roles_were_not_judged(world):
    world.params_text = world.params_text.split("privileged_roles:")[0] + "sod_conflicts: []\n"
    world.data["oauth_clients"].append(oauth_client("c-ci", "CI", role_ids="r-ma"))
    world.data["oauth_client_usage"].append(client_usage("c-ci", "CI", 10))
    f = world.run("access.oauth_clients")
    assert f.status == "pass" and "roles not judged" in f.reason


# --- access.trustees -------------------------------------------------------------------------


def test_trustees_pass_with_an_expiring_limited_trust(world):
    f = world.run("access.trustees")
    assert f.status == "pass", f.reason
    assert f.population == 1 and f.extra["trustees"][0]["organization"] == "Audit Firm"
    assert "0 audit event(s) in the period by partners' users" in f.reason


def test_trustees_list_no_expiry_too_far_and_full_access_but_not_disabled_or_expired(world):
    world.data["trustees"] += [
        trustee("t-forever", "Support Partner"),
        trustee("t-far", "Implementer", expires="2027-06-01T00:00:00Z"),
        trustee("t-full", "Vendor PS", full="true", expires="2026-12-15T00:00:00Z"),
        trustee("t-off", "Old BPO", enabled="false"),
        trustee("t-gone", "Past auditor", expires="2026-10-01T00:00:00Z"),
    ]
    f = world.run("access.trustees")
    assert f.status == "fail"
    assert sorted(ids(f)) == ["t-far", "t-forever", "t-full"]
    detail = {e.subject_id: e.detail for e in f.exceptions}
    assert "no expiry date" in detail["t-forever"]
    assert "expires 2027-06-01, 183 days after 2026-11-30 (limit 90)" in detail["t-far"]
    assert "full access" in detail["t-full"]
    assert f.population == 4  # enabled and unexpired
    listed = {t["id"]: t for t in f.extra["trustees"]}
    assert listed["t-gone"]["expired"] and not listed["t-off"]["enabled"]


def test_trustees_show_partner_users_activity_in_the_period(world):
    world.data["trustees"].append(trustee("org-partner", "Support Partner"))
    world.data["audit_events"] += [
        {
            **event("e-p1", "2026-11-25T10:00:00Z", user_id="tu-1"),
            "user_home_org_id": "org-partner",
        },
        {
            **event("e-p0", "2026-11-01T10:00:00Z", user_id="tu-1"),
            "user_home_org_id": "org-partner",
        },
        event("e-t2", "2026-11-26T10:00:00Z", user_id="tu-2"),
    ]
    world.data["role_grants"].append(
        grant("r-emp", "employee", "tu-2", "Partner engineer", "PC_TRUSTEE_USER")
    )
    f = world.run("access.trustees")
    activity = f.extra["activity"]
    assert [e["event_id"] for e in activity["org-partner"]] == ["e-p1"]  # e-p0 is before
    assert [e["event_id"] for e in activity["(trustee user, organisation not given)"]] == ["e-t2"]
    assert "2 audit event(s) in the period by partners' users (2 partner(s))" in f.reason


def test_trustees_without_audit_events_still_judge_the_trusts(world):
    world.data["audit_events"] = DENIED
    world.data["trustees"].append(trustee("t-forever", "Support Partner"))
    f = world.run("access.trustees")
    assert ids(f) == ["t-forever"] and "partners' activity is not shown" in f.reason


def test_trustees_not_evaluable_without_permission(world):
    world.data["trustees"] = DENIED
    f = world.run("access.trustees")
    assert f.status == "not_evaluable" and "authorization:orgTrustee:view" in f.reason


def test_an_active_client_without_usage_is_said_not_judged_never_unused(world):
    world.data["oauth_clients"].append(oauth_client("c-late", "Added late"))
    f = world.run("access.oauth_clients")
    assert f.status == "pass" and f.extra["usage_not_read"] == ["c-late"]
    assert "the usage of 1 active client(s) was not read: not judged" in f.reason
