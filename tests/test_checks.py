"""Unit tests per check on a hand-built snapshot: pass, fail (every subject), not_evaluable."""

from __future__ import annotations

import pytest
from checks_world import DENIED, MISSING, World, event, grant, member_add, state_change, user
from gcevidence.catalog import load_catalog
from gcevidence.findings import Finding


@pytest.fixture
def world(tmp_path):
    return World(tmp_path)


def ids(finding: Finding) -> list[str]:
    return [e.subject_id for e in finding.exceptions]


def test_every_check_passes_on_the_clean_org_and_all_ids_are_reported(world):
    findings = world.run_all()
    assert [f.check for f in findings] == sorted(load_catalog().checks)
    for f in findings:
        if f.check in ("access.role_drift", "access.role_definition_drift"):
            continue  # both need a previous pack
        assert f.status == "pass", (f.check, f.reason, f.exceptions)
        assert f.exceptions == ()
        spec = load_catalog().checks[f.check]
        assert f.title == spec.title and f.severity == spec.severity and f.ref == spec.ref
        assert f.to_dict()["ref"] == spec.ref
        assert f.controls["iso27001-2022"] and f.controls["pci-dss-4.0.1"]
        assert f.notebook == spec.paper
        assert f.population is not None


def test_role_drift_absent_is_reported_not_dropped(world):
    drift = [f for f in world.run_all() if f.check == "access.role_drift"]
    assert len(drift) == 1


# --- access.terminated_active ------------------------------------------------------------


def test_terminated_active_lists_every_leaver_with_an_active_user(world):
    world.data["users"][2]["state"] = "active"  # carol
    world.data["users"].append(user("u-erin", "Erin", "ERIN@example.com"))
    world.data["users"].append(user("u-gone", "Gone", "gone@example.com", state="deleted"))
    world.data["hr_roster"] += [
        {
            "employee_id": "E4",
            "email": "erin@example.com",
            "status": "terminated",
            "termination_date": "2026-10-02",
            "department": "",
            "groups": "",
        },
        {
            "employee_id": "E5",
            "email": "gone@example.com",
            "status": "terminated",
            "termination_date": "2026-10-02",
            "department": "",
            "groups": "",
        },
    ]
    f = world.run("access.terminated_active")
    assert f.status == "fail"
    assert sorted(ids(f)) == ["u-carol", "u-erin"]
    assert f.population == 3
    erin = next(e for e in f.exceptions if e.subject_id == "u-erin")
    assert "terminated 2026-10-02 (HR), still active in Genesys" in erin.detail
    assert erin.subject_type == "user" and erin.subject_name == "Erin"
    assert "evidence/hr_roster.csv" in f.evidence and "evidence/users.csv" in f.evidence


def test_terminated_active_ignores_termination_dates_after_today(world):
    world.data["users"].append(user("u-notice", "On notice", "notice@example.com"))
    world.data["hr_roster"].append(
        {
            "employee_id": "E6",
            "email": "notice@example.com",
            "status": "terminated",
            "termination_date": "2026-12-15",
            "department": "",
            "groups": "",
        }
    )
    f = world.run("access.terminated_active")
    assert f.status == "pass" and f.population == 1
    assert "1 more with a termination date after 2026-11-30 not yet due" in f.reason


def test_terminated_active_without_roster_is_not_evaluable(world):
    world.data["hr_roster"] = MISSING
    f = world.run("access.terminated_active")
    assert f.status == "not_evaluable"
    assert "no HR roster (params hr.roster)" in f.reason


# --- access.deprovision_latency ----------------------------------------------------------


def test_deprovision_latency_lists_late_deactivations_and_records_delays(world):
    world.data["users"] += [
        user("u-late", "Late", "late@example.com", state="inactive"),
        user("u-del", "Deleted late", "del@example.com", state="deleted"),
        user("u-still", "Still", "still@example.com"),
    ]
    world.data["hr_roster"] += [
        {
            "employee_id": f"E{i}",
            "email": f"{n}@example.com",
            "status": "terminated",
            "termination_date": "2026-11-21",
            "department": "",
            "groups": "",
        }
        for i, n in enumerate(("late", "del", "still"), start=10)
    ]
    world.data["audit_events"] += [
        state_change("e-late", "2026-11-23T01:00:00Z", "u-late"),  # 49 h
        event("e-del", "2026-11-24T00:00:00Z", action="Delete", entity_id="u-del"),  # 72 h
    ]
    f = world.run("access.deprovision_latency")
    assert f.status == "fail"
    assert sorted(ids(f)) == ["u-del", "u-late"]
    assert f.population == 3  # carol (10 h), late, del
    late = next(e for e in f.exceptions if e.subject_id == "u-late")
    assert "terminated 2026-11-21" in late.detail and "49 h" in late.detail
    hours = {d["user_id"]: d["hours"] for d in f.extra["delays"]}
    assert hours == {"u-carol": 10.0, "u-late": 49.0, "u-del": 72.0}
    # Each late de-provisioning cites the audit event that took the user out.
    assert {e.subject_id: e.event_ids for e in f.exceptions} == {
        "u-late": ("e-late",),
        "u-del": ("e-del",),
    }
    assert {d["user_id"]: d["event_id"] for d in f.extra["delays"]}["u-carol"] == "e-carol-off"
    assert "access.terminated_active" in f.reason  # u-still is counted there
    assert f.extra["thresholds"]["deprovision_hours"]["value"] == 24


def test_deprovision_delay_runs_from_the_start_of_the_termination_day_in_the_hr_timezone(world):
    # carol: terminated 2026-11-25 (HR), deactivated 2026-11-25T10:00Z.
    assert world.run("access.deprovision_latency").extra["delays"][0]["hours"] == 10.0
    world.params_text += "hr: {timezone: Europe/Paris}\n"
    f = world.run("access.deprovision_latency")
    # Paris' 25 November began at 24 November 23:00 UTC (CET, UTC+1): one hour more.
    assert f.extra["delays"][0]["hours"] == 11.0
    assert f.extra["termination_timezone"] == "Europe/Paris"
    world.params_text = world.params_text.replace("Europe/Paris", "Pacific/Kiritimati")
    # UTC+14: the day began at 24 November 10:00 UTC, 24 hours before the deactivation.
    assert world.run("access.deprovision_latency").extra["delays"][0]["hours"] == 24.0


def test_a_leaver_is_due_once_the_termination_day_has_begun_in_the_hr_timezone(world):
    world.data["users"].append(user("u-dan", "Dan", "dan@example.com"))
    world.data["hr_roster"].append(
        {
            "employee_id": "E9",
            "email": "dan@example.com",
            "status": "terminated",
            "termination_date": "2026-12-01",  # the day after the period
            "department": "",
            "groups": "",
        }
    )
    f = world.run("access.terminated_active")
    assert "u-dan" not in ids(f) and f.extra["termination_not_yet_due"] == 1
    # In Paris, 1 December began at 30 November 23:00 UTC, inside the period.
    world.params_text += "hr: {timezone: Europe/Paris}\n"
    f = world.run("access.terminated_active")
    assert "u-dan" in ids(f) and f.extra["termination_not_yet_due"] == 0


def test_deprovision_latency_not_evaluable_without_audit_permission(world):
    world.data["audit_events"] = DENIED
    f = world.run("access.deprovision_latency")
    assert f.status == "not_evaluable"
    assert "audits:audit:view" in f.reason


def test_deprovision_latency_not_evaluable_without_roster(world):
    world.data["hr_roster"] = MISSING
    assert "no HR roster" in world.run("access.deprovision_latency").reason


# --- access.orphan_accounts --------------------------------------------------------------


def test_orphan_accounts_lists_every_active_user_without_hr_record(world):
    world.data["users"] += [
        user("u-x", "Shared", "shared@example.com"),
        user("u-y", "Ghost", ""),
        user("u-z", "Inactive", "z@example.com", state="inactive"),
    ]
    f = world.run("access.orphan_accounts")
    assert f.status == "fail" and sorted(ids(f)) == ["u-x", "u-y"]
    assert f.population == 4
    assert "matches no one in the HR roster" in f.exceptions[0].detail


def test_orphan_accounts_not_evaluable_without_roster(world):
    world.data["hr_roster"] = MISSING
    assert world.run("access.orphan_accounts").status == "not_evaluable"


# --- access.dormant_accounts -------------------------------------------------------------


def test_dormant_accounts_lists_idle_never_logged_in_and_undated(world):
    world.data["users"] += [
        user("u-idle", "Idle", "idle@example.com", last_login="2026-08-31T10:00:00Z"),  # 91 d
        user("u-edge", "Edge", "edge@example.com", last_login="2026-09-01T10:00:00Z"),  # 90 d
        user(
            "u-never", "Never", "never@example.com", last_login="", welcome="2026-03-01T00:00:00Z"
        ),
        user("u-new", "New", "new@example.com", last_login="", welcome="2026-11-01T00:00:00Z"),
        user("u-nodate", "No date", "nodate@example.com", last_login="", welcome=""),
        user("u-off", "Off", "off@example.com", state="inactive", last_login=""),
    ]
    f = world.run("access.dormant_accounts")
    assert f.status == "fail"
    assert sorted(ids(f)) == ["u-idle", "u-never", "u-nodate"]
    details = {e.subject_id: e.detail for e in f.exceptions}
    assert details["u-nodate"] == "no sign-in, token or invitation date recorded"
    assert "never signed in" in details["u-never"]
    assert "91 days" in details["u-idle"]
    assert f.extra["idle_days"]["u-edge"] == 90


def test_dormant_threshold_follows_baseline_and_override(world):
    world.data["users"].append(
        user("u-50", "Fifty", "f@example.com", last_login="2026-10-11T00:00:00Z")
    )
    assert world.run("access.dormant_accounts").status == "pass"  # PCI: 90 days
    world.params_text = world.params_text.replace("pci-dss-4.0.1", "cis-v8")
    assert ids(world.run("access.dormant_accounts")) == ["u-50"]  # CIS: 45 days
    world.params_text = world.params_text + "thresholds: {dormant_days: 60}\n"
    f = world.run("access.dormant_accounts")
    assert f.status == "pass"
    assert f.extra["thresholds"]["dormant_days"] == {
        "value": 60,
        "source": "params",
        "overridden": True,
        "origin": "params",
        "note": "",
        "baseline_value": 45,
    }


def test_dormant_accounts_not_evaluable_when_users_unreadable(world):
    world.data["users"] = DENIED
    assert world.run("access.dormant_accounts").status == "not_evaluable"


# --- access.privileged_outside_group / privileged_count ----------------------------------


def test_privileged_outside_group_lists_each_holder_once(world):
    world.data["users"] += [
        user("u-mal", "Mallory", "mallory@example.com"),
        user("u-ext", "Contractor", "ext@contractor.com"),
        user("u-off", "Off", "off@example.com", state="inactive"),
    ]
    world.data["role_grants"] += [
        grant("r-ma", "Master Admin", "u-bob", "Bob Agent"),  # Sales: outside
        grant("r-ma", "Master Admin", "u-ext", "Contractor"),  # not in roster
        grant("r-qe", "Quality Evaluator", "u-bob", "Bob Agent"),  # Sales: outside
        grant("r-ma", "Master Admin", "u-dave", "Dave Deleted"),  # deleted: ignored
        grant("r-ma", "Master Admin", "u-off", "Off"),  # inactive: ignored
    ]
    f = world.run("access.privileged_outside_group")
    assert f.status == "fail"
    assert ids(f) == ["u-bob", "u-ext"]  # once per person, even with two roles
    bob = f.exceptions[0]
    assert "holds Master Admin" in bob.detail and "holds Quality Evaluator" in bob.detail
    assert "Sales" in bob.detail
    assert f.population == 3  # alice, bob, ext
    assert "not in the HR roster" in f.exceptions[1].detail


def test_privileged_outside_group_not_evaluable_without_roster_or_policy(world):
    world.data["hr_roster"] = MISSING
    assert world.run("access.privileged_outside_group").status == "not_evaluable"
    world2 = World(world.tmp_path / "w2")
    world2.params_text = "period: {end: 2026-11-30, days: 10}\n"
    f = world2.run("access.privileged_outside_group")
    assert f.status == "not_evaluable" and "params privileged_roles" in f.reason


def test_privileged_count_lists_roles_over_their_maximum(world):
    world.data["users"].append(user("u-ops", "Ops", "ops@example.com"))
    world.data["role_grants"] += [
        grant("r-ma", "Master Admin", "u-bob", "Bob Agent", division="Sales"),
        grant("r-ma", "Master Admin", "u-ops", "Ops"),
        grant("r-ma", "Master Admin", "u-carol", "Carol Leaver"),
    ]  # inactive: not counted
    f = world.run("access.privileged_count")
    assert f.status == "fail"
    assert [(e.subject_type, e.subject_id) for e in f.exceptions] == [("role", "Master Admin")]
    assert "3 holders (3 people directly), more than the maximum of 2" in f.exceptions[0].detail
    assert f.extra["holders"] == {"Master Admin": 3}
    assert f.extra["holders_by_division"]["Master Admin"] == {"Home": 2, "Sales": 1}


def test_privileged_count_not_evaluable_on_403(world):
    world.data["role_grants"] = DENIED
    f = world.run("access.privileged_count")
    assert f.status == "not_evaluable" and "authorization:role:view" in f.reason


# --- access.undeclared_privileged_roles ---------------------------------------------------


def _admin_world(world):
    world.data["roles"] = [
        {"id": "r-ma", "name": "Master Admin", "permissions": "*:*:*;admin"},
        {"id": "r-emp", "name": "employee", "permissions": "directory:user:view"},
        {
            "id": "r-pa",
            "name": "People Admin",
            "permissions": "directory:user:add;routing:queue:view",
        },
        {"id": "r-tel", "name": "Telephony Admin", "permissions": "telephony:trunk:edit"},
        {"id": "r-arch", "name": "Flow Wildcard", "permissions": "architect:flow:*"},
        {
            "id": "r-ro",
            "name": "Auditor",
            "permissions": "authorization:role:view;audits:audit:view",
        },
    ]
    world.data["users"].append(user("u-old", "Gone", "gone@example.com", state="inactive"))
    world.data["role_grants"] += [
        grant("r-pa", "People Admin", "u-bob", "Bob Agent"),
        grant("r-pa", "People Admin", "c-1", "HR sync", subject_type="PC_OAUTH_CLIENT"),
        grant("r-arch", "Flow Wildcard", "g-2", "Flow builders", subject_type="PC_GROUP"),
        grant("r-tel", "Telephony Admin", "u-old", "Gone"),  # inactive: holds nothing
        grant("r-ro", "Auditor", "u-bob", "Bob Agent"),
    ]
    world.data["group_members"] = [
        {
            "group_id": "g-2",
            "group_name": "Flow builders",
            "user_id": "u-alice",
            "user_name": "Alice Admin",
            "user_state": "active",
        },
    ]


def test_undeclared_privileged_roles_are_listed_with_every_holder(world):
    _admin_world(world)
    f = world.run("access.undeclared_privileged_roles")
    assert f.status == "fail" and ids(f) == ["Flow Wildcard", "People Admin"]
    # Master Admin is declared; Telephony Admin is administrative but held by nobody active;
    # view permissions (the Auditor role) are not administrative.
    assert f.population == 3
    people = next(e for e in f.exceptions if e.subject_id == "People Admin")
    assert people.subject_type == "role"
    assert "directory:user:add" in people.detail and "held by 2:" in people.detail
    assert (
        "person Bob Agent (directly)" in people.detail and "OAuth client HR sync" in people.detail
    )
    flows = next(e for e in f.exceptions if e.subject_id == "Flow Wildcard")
    assert "person Alice Admin (via group Flow builders)" in flows.detail
    assert "architect:flow:*" in flows.detail and "wildcard" in flows.detail
    found = {r["role_name"]: r for r in f.extra["undeclared_roles"]}
    assert found["Telephony Admin"]["holders"] == [] and "Telephony Admin" in f.reason
    assert found["People Admin"]["admin_permissions"] == [
        {
            "permission": "directory:user:add",
            "pattern": "directory:user:add",
            "means": "users and groups (and so who holds a group's roles) can be created, "
            "changed or deleted",
        }
    ]


def test_declaring_a_role_privileged_takes_it_out_and_nothing_left_passes(world):
    _admin_world(world)
    world.params_text = world.params_text.replace(
        "sod_conflicts:",
        "  People Admin: {max_holders: 2}\n  Flow Wildcard: {max_holders: 1}\nsod_conflicts:",
        1,
    )
    f = world.run("access.undeclared_privileged_roles")
    assert f.status == "pass" and f.population == 1 and f.exceptions == ()


def test_undeclared_privileged_roles_not_evaluable_without_roles(world):
    world.data["roles"] = DENIED
    f = world.run("access.undeclared_privileged_roles")
    assert f.status == "not_evaluable" and "authorization:role:view" in f.reason


# --- access.unused_roles / sod_conflicts -------------------------------------------------


def test_unused_roles_lists_every_pair(world):
    world.data["unused_roles"] = [
        {"user_id": "u-bob", "role_id": "r-qe", "role_name": "Quality Evaluator"},
        {"user_id": "u-bob", "role_id": "r-qa", "role_name": "Quality Administrator"},
        {"user_id": "u-alice", "role_id": "r-ma", "role_name": "Master Admin"},
        {"user_id": "u-dave", "role_id": "r-ma", "role_name": "Master Admin"},  # deleted
    ]
    f = world.run("access.unused_roles")
    assert f.status == "fail"
    assert ids(f) == ["u-alice", "u-bob"]  # once per user
    assert "Quality Administrator; Quality Evaluator" in f.exceptions[1].detail
    assert f.extra["unused_pairs"] == 3


def test_unused_roles_not_evaluable_when_unavailable(world):
    world.data["unused_roles"] = DENIED
    assert world.run("access.unused_roles").status == "not_evaluable"


def test_sod_conflicts_lists_every_user_with_both_roles(world):
    world.data["role_grants"] += [
        grant("r-qe", "Quality Evaluator", "u-bob", "Bob Agent"),
        grant("r-qa", "Quality Administrator", "u-bob", "Bob Agent", division="Sales"),
        grant("r-qe", "Quality Evaluator", "u-alice", "Alice Admin"),
        grant("r-qa", "Quality Administrator", "g-1", "Group", subject_type="PC_GROUP"),
    ]
    f = world.run("access.sod_conflicts")
    assert f.status == "fail" and ids(f) == ["u-bob"]
    assert "Quality Evaluator and Quality Administrator" in f.exceptions[0].detail


def test_sod_conflicts_not_evaluable_without_pairs_or_grants(world):
    world.data["role_grants"] = DENIED
    assert world.run("access.sod_conflicts").status == "not_evaluable"
    w2 = World(world.tmp_path / "w2")
    w2.params_text = "period: {end: 2026-11-30, days: 10}\n"
    assert "params sod_conflicts" in w2.run("access.sod_conflicts").reason


# --- auth --------------------------------------------------------------------------------


def test_password_policy_lists_every_setting_below_pci(world):
    world.data["auth_settings"]["passwordRequirements"] = {
        "minimumLength": 8,
        "minimumDigits": 0,
        "minimumLetters": 0,
        "expirationDays": 0,
    }
    f = world.run("auth.password_policy")
    assert f.status == "fail"
    assert sorted(ids(f)) == [
        "passwordRequirements.expirationDays",
        "passwordRequirements.minimumDigits",
        "passwordRequirements.minimumLength",
        "passwordRequirements.minimumLetters",
    ]
    assert all(e.subject_type == "setting" for e in f.exceptions)


def test_password_policy_nist_forbids_composition_and_expiry(world):
    world.params_text = world.params_text.replace("pci-dss-4.0.1", "nist-800-63b-4")
    world.data["auth_settings"]["passwordRequirements"]["minimumLength"] = 15
    f = world.run("auth.password_policy")
    assert sorted(ids(f)) == [
        "passwordRequirements.expirationDays",
        "passwordRequirements.minimumDigits",
        "passwordRequirements.minimumLetters",
    ]
    world.data["auth_settings"]["passwordRequirements"] = {"minimumLength": 16}
    assert world.run("auth.password_policy").status == "pass"


def test_password_policy_and_mfa_not_evaluable_on_403(world):
    world.data["auth_settings"] = DENIED
    for check in ("auth.password_policy", "auth.mfa_required"):
        f = world.run(check)
        assert f.status == "not_evaluable"
        assert "directory:organization:admin" in f.reason


def test_mfa_not_required_fails(world):
    world.data["auth_settings"]["multifactorAuthenticationRequired"] = False
    f = world.run("auth.mfa_required")
    assert f.status == "fail" and ids(f) == ["multifactorAuthenticationRequired"]


# --- crypto ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "config, expected",
    [
        ({"key_configuration_type": "None"}, "only None"),
        ({"key_configuration_type": "Native"}, "only Native"),
    ],
)
def test_recording_keys_fail_without_customer_managed_config(world, config, expected):
    world.data["recording_key_configs"][0].update(config)
    f = world.run("crypto.recording_keys")
    assert f.status == "fail" and ids(f) == ["keyconfigurations"]
    assert expected in f.exceptions[0].detail


def test_recording_keys_lists_configs_in_error_or_disabled_beside_a_good_one(world):
    base = world.data["recording_key_configs"][0]
    world.data["recording_key_configs"] += [
        {
            **base,
            "id": "kc-2",
            "key_configuration_type": "LocalKeyManager",
            "last_error_code": "lkm.unreachable",
            "last_error_message": "timeout",
        },
        {**base, "id": "kc-3", "key_configuration_type": "Native"},
    ]
    f = world.run("crypto.recording_keys")
    assert f.status == "fail" and ids(f) == ["kc-2", "kc-3"]
    assert "lkm.unreachable" in f.exceptions[0].detail


def test_recording_keys_fail_when_none_and_not_evaluable_on_403(world):
    world.data["recording_key_configs"] = []
    assert world.run("crypto.recording_keys").status == "fail"
    world.data["recording_key_configs"] = DENIED
    f = world.run("crypto.recording_keys")
    assert f.status == "not_evaluable" and "recording:encryptionKey:view" in f.reason


def test_key_rotation_disabled_and_old_key(world):
    world.data["key_rotation_schedule"]["period"] = "DISABLED"
    world.data["recording_keys"] = [
        {
            "id": "k-old",
            "name": "old",
            "create_date": "2024-01-01T00:00:00Z",
            "key_configuration_type": "KmsSymmetric",
        },
        {
            "id": "k-newest",
            "name": "newest",
            "create_date": "2025-10-01T00:00:00Z",
            "key_configuration_type": "KmsSymmetric",
        },
    ]
    f = world.run("crypto.key_rotation")
    assert f.status == "fail"
    assert sorted(ids(f)) == ["k-newest", "rotationschedule.period"]
    assert [a["id"] for a in f.extra["key_ages"]] == ["k-old", "k-newest"]


def test_key_rotation_period_longer_than_cryptoperiod(world):
    world.params_text += "thresholds: {key_cryptoperiod_days: 30}\n"
    world.data["key_rotation_schedule"]["period"] = "YEARLY"
    world.data["recording_keys"][0]["create_date"] = "2026-11-20T00:00:00Z"
    f = world.run("crypto.key_rotation")
    assert ids(f) == ["rotationschedule.period"]
    world.data["recording_keys"] = DENIED
    assert world.run("crypto.key_rotation").status == "not_evaluable"


# --- network -----------------------------------------------------------------------------


def test_trunk_tls_and_srtp_list_every_active_external_trunk(world):
    world.data["trunks"] += [
        {
            "id": "t-4",
            "name": "Carrier B",
            "state": "active",
            "trunk_type": "EXTERNAL",
            "transport": "udp",
            "srtp_cipher_suites": "[]",
        },
        {
            "id": "t-5",
            "name": "Carrier C",
            "state": "active",
            "trunk_type": "EXTERNAL",
            "transport": "TCP",
            "srtp_cipher_suites": "",
        },
        {
            "id": "t-6",
            "name": "Carrier D",
            "state": "active",
            "trunk_type": "EXTERNAL",
            "transport": "tls",
            "srtp_cipher_suites": "",
        },
    ]
    tls = world.run("network.trunk_tls")
    assert tls.status == "fail" and ids(tls) == ["t-4", "t-5"] and tls.population == 4
    srtp = world.run("network.trunk_srtp")
    assert srtp.status == "fail" and ids(srtp) == ["t-4", "t-5", "t-6"]


def test_trunks_not_evaluable_on_403(world):
    world.data["trunks"] = DENIED
    for check in ("network.trunk_tls", "network.trunk_srtp"):
        f = world.run(check)
        assert f.status == "not_evaluable" and "telephony:plugin:all" in f.reason


# --- logging -----------------------------------------------------------------------------


def test_audit_completeness_fails_on_failed_query(world):
    world.data["audit_queries"].append(
        {
            "transaction_id": "q-2",
            "service_name": "PeoplePermissions",
            "interval_start": "2026-11-20T00:00:00Z",
            "interval_end": "2026-12-01T00:00:00Z",
            "state": "Failed",
            "result_count": "",
            "pages": "0",
        }
    )
    f = world.run("logging.audit_completeness")
    assert f.status == "fail" and ids(f) == ["q-2"] and "ended Failed" in f.exceptions[0].detail


def test_audit_completeness_fails_on_incomplete_events_and_not_evaluable_on_403(tmp_path):
    from checks_world import base_data, build_snapshot
    from gcevidence.checks.registry import REGISTRY, run_one

    w = World(tmp_path)
    ctx = w.ctx()
    ctx.snapshot.statuses["audit_events"].complete = False
    ctx.snapshot.statuses["audit_events"].expected_rows = 99
    f = run_one(ctx, REGISTRY["logging.audit_completeness"])
    assert f.status == "fail" and ids(f) == ["audit_events"]
    # every other audit-based check refuses incomplete data
    g = run_one(ctx, REGISTRY["logging.activity_gaps"])
    assert g.status == "not_evaluable" and "incomplete" in g.reason
    data = base_data()
    data["audit_events"] = DENIED
    data["audit_queries"] = DENIED
    snap = build_snapshot(tmp_path / "denied", data)
    ctx2 = type(ctx)(snap, ctx.params, ctx.thresholds, ctx.today)
    f2 = run_one(ctx2, REGISTRY["logging.audit_completeness"])
    assert f2.status == "not_evaluable" and "audits:audit:view" in f2.reason


def test_privileged_grants_lists_grants_by_people_outside_granter_groups(world):
    world.data["users"].append(user("u-qe", "Quinn", "quinn@example.com"))
    world.data["hr_roster"].append(
        {
            "employee_id": "E9",
            "email": "quinn@example.com",
            "status": "active",
            "termination_date": "",
            "department": "QA",
            "groups": "QA Leads",
        }
    )
    world.data["audit_events"] += [
        member_add("e-bad", "2026-11-22T10:00:00Z", "u-bob", "r-ma", "u-bob"),  # Sales
        member_add("e-ok-qa", "2026-11-22T11:00:00Z", "u-bob", "r-qe", "u-qe"),  # QA Leads ok
        member_add("e-bad-qa", "2026-11-23T11:00:00Z", "u-bob", "r-qe", "u-bob"),
        member_add("e-old", "2026-10-01T11:00:00Z", "u-bob", "r-ma", "u-bob"),  # before period
        member_add("e-emp", "2026-11-24T11:00:00Z", "u-bob", "r-emp", "u-bob"),  # not privileged
        member_add("e-client", "2026-11-24T12:00:00Z", "u-bob", "r-ma", ""),
    ]
    f = world.run("logging.privileged_grants")
    assert f.status == "fail"
    assert ids(f) == ["e-bad", "e-bad-qa", "e-client"]
    assert f.population == 5  # e-grant-ok, e-bad, e-ok-qa, e-bad-qa, e-client
    bad = f.exceptions[0]
    assert bad.subject_type == "grant" and "by Bob Agent" in bad.detail and "Sales" in bad.detail
    assert [e.event_ids for e in f.exceptions] == [("e-bad",), ("e-bad-qa",), ("e-client",)]


def test_privileged_grants_not_evaluable_without_roster_or_permission(world):
    world.data["hr_roster"] = MISSING
    assert "no HR roster" in world.run("logging.privileged_grants").reason
    world.data["roles"] = DENIED
    assert "authorization:role:view" in world.run("logging.privileged_grants").reason


def test_retention_fails_when_probe_finds_nothing(world):
    world.data["audit_retention_probe"]["events_found"] = 0
    f = world.run("logging.retention")
    assert f.status == "fail" and len(f.exceptions) == 1
    assert "retention boundary" in f.exceptions[0].detail
    world.data["audit_retention_probe"] = DENIED
    assert world.run("logging.retention").status == "not_evaluable"


def test_activity_gaps_lists_every_empty_day(world):
    world.data["audit_events"] = [
        e
        for e in world.data["audit_events"]
        if not e["event_date"].startswith(("2026-11-21", "2026-11-27"))
    ]
    f = world.run("logging.activity_gaps")
    assert f.status == "fail" and ids(f) == ["2026-11-21", "2026-11-27"]
    assert f.population == 10  # period.days: 10 is exactly ten days, 2026-11-21..30
    assert f.extra["events_per_day"]["2026-11-21"] == 0
    assert f.extra["events_per_day"]["2026-11-22"] >= 1
    world.data["audit_events"] = DENIED
    assert world.run("logging.activity_gaps").status == "not_evaluable"


# --- registry, summary ---------------------------------------------------------------------


def test_retention_probe_with_another_lookback_is_not_evaluable(world):
    world.data["audit_retention_probe"]["required_days"] = 90
    f = world.run("logging.retention")
    assert f.status == "not_evaluable" and "90 days back" in f.reason


def test_a_registered_check_may_return_a_finding_and_is_run(world, monkeypatch):
    from gcevidence.checks import registry

    monkeypatch.setitem(
        registry.REGISTRY,
        "zz.extra",
        registry.RegisteredCheck(
            "zz.extra", lambda ctx: registry.Outcome(population=0), "summary", ("users",), False
        ),
    )
    findings = world.run_all()
    assert findings[-1].check == "zz.extra" and findings[-1].status == "pass"


def test_roll_up_takes_the_worst_status_per_control(world):
    from gcevidence.catalog import roll_up

    world.data["auth_settings"]["multifactorAuthenticationRequired"] = False
    world.data["trunks"] = DENIED
    findings = world.run_all()
    matrix = roll_up(findings)
    assert matrix["iso27001-2022"]["8.5"].status == "fail"
    assert matrix["iso27001-2022"]["8.20"].status == "not_evaluable"
    assert matrix["iso27001-2022"]["5.16"].status == "pass"
    assert matrix["iso27001-2022"]["8.5"].title == "Secure authentication"
    assert "auth.mfa_required" in matrix["soc2"]["CC6.6"].checks
    assert roll_up([f.to_dict() for f in findings]) == matrix
    assert list(matrix["iso27001-2013"])[:3] == ["A.6.1.2", "A.8.3.2", "A.9.2.1"]
