"""Unit tests of the session, identity-provider, IP allowlist and audit-export checks on
hand-built snapshots (checks_world): auth.idle_timeout, auth.sso_providers,
network.ip_allowlist, logging.siem_export."""

from __future__ import annotations

import datetime as dt

import pytest
from checks_world import DENIED, World
from gcevidence.config import load_params
from gcevidence.datasets.sign_in import provider_row
from gcevidence.errors import InputError
from gcevidence.simulator.certs import saml_certificate

# The world's period ends 2026-11-30: its end is 2026-12-01T00:00Z, and the 30-day warning
# window of the PCI baseline closes on 2026-12-31T00:00Z.
PERIOD_END = dt.date(2026, 11, 30)


@pytest.fixture
def world(tmp_path):
    return World(tmp_path)


def ids(finding) -> list[str]:
    return sorted(e.subject_id for e in finding.exceptions)


def details(finding) -> dict[str, str]:
    return {e.subject_id: e.detail for e in finding.exceptions}


# -- auth.idle_timeout -----------------------------------------------------------------------


def bundle(priority, seconds, *groups, unit="Minutes"):
    return {
        "priority": priority,
        "timeoutSeconds": seconds,
        "inactivityTimeoutUnit": unit,
        "groups": list(groups),
    }


def group(gid, name, members):
    return {"id": gid, "name": name, "member_count": str(members), "state": "active", "type": ""}


def test_idle_timeout_at_the_baseline_passes_and_states_the_manual_test(world):
    f = world.run("auth.idle_timeout")
    assert f.status == "pass" and f.population == 1
    assert "within 15 minutes" in f.reason and "org-wide: 15 minutes" in f.reason
    assert "manual idle test" in f.extra["note"]
    assert f.extra["thresholds"]["idle_timeout_minutes"]["value"] == 15
    assert "evidence/token_timeout.json" in f.evidence and "evidence/groups.csv" in f.evidence


@pytest.mark.parametrize(
    "timeout, subject, words",
    [
        ({"idleTokenTimeoutSeconds": 900, "enableIdleTokenTimeout": False}, "enableIdle", "false"),
        ({"idleTokenTimeoutSeconds": 900}, "enableIdle", "not set"),
        ({"idleTokenTimeoutSeconds": 960, "enableIdleTokenTimeout": True}, "idleToken", "16 min"),
        ({"enableIdleTokenTimeout": True}, "idleToken", "no timeout length"),
    ],
)
def test_idle_timeout_disabled_or_longer_than_the_baseline_fails(world, timeout, subject, words):
    world.data["token_timeout"] = timeout
    f = world.run("auth.idle_timeout")
    assert f.status == "fail"
    (exc,) = f.exceptions
    assert exc.subject_type == "setting" and exc.subject_id.startswith(subject)
    assert words in exc.detail and "15 minutes" in exc.detail


def test_every_group_of_a_longer_group_timeout_is_named_with_its_members(world):
    world.data["groups"] = [
        group("g-wall", "Wallboards", 4),
        group("g-night", "Night shift", 12),
        group("g-ops", "Operations", 30),
    ]
    world.data["token_timeout"].update(
        inactivityTimeoutGroupsEnabled=True,
        inactivityTimeoutGroupBundles=[
            bundle(2, 600, "g-ops"),  # 10 minutes: fine
            bundle(1, 14400, "g-wall", "g-night", "g-unknown", unit="Hours"),
        ],
    )
    world.data["auth_settings"]["inactivityTimeoutExclusions"] = ["/api/v2/some/poll"]
    f = world.run("auth.idle_timeout")
    assert f.status == "fail" and f.population == 5  # the org timeout and four groups
    assert ids(f) == ["g-night", "g-unknown", "g-wall"]
    wall = next(e for e in f.exceptions if e.subject_id == "g-wall")
    assert wall.subject_type == "group" and wall.subject_name == "Wallboards"
    assert "4 member(s) of Wallboards" in wall.detail
    assert "240 minutes (4 hours)" in wall.detail and "priority 1" in wall.detail
    assert "not in the directory's group listing" in details(f)["g-unknown"]
    assert f.extra["inactivity_timeout_exclusions"] == ["/api/v2/some/poll"]
    assert "exempt from the inactivity timeout" in f.reason and "/api/v2/some/poll" in f.reason
    assert [b["priority"] for b in f.extra["group_timeouts"]] == [1, 2]


def test_group_timeouts_not_in_force_are_listed_not_judged(world):
    world.data["groups"] = [group("g-wall", "Wallboards", 4)]
    world.data["token_timeout"].update(
        inactivityTimeoutGroupsEnabled=False,
        inactivityTimeoutGroupBundles=[bundle(1, 14400, "g-wall")],
    )
    f = world.run("auth.idle_timeout")
    assert f.status == "pass" and f.population == 1
    assert "not in force" in f.reason
    assert f.extra["group_timeouts"][0]["in_force"] is False
    assert f.extra["group_timeouts"][0]["groups"][0]["name"] == "Wallboards"


def test_idle_timeout_follows_a_threshold_override(world):
    world.data["token_timeout"]["idleTokenTimeoutSeconds"] = 1800
    assert world.run("auth.idle_timeout").status == "fail"
    world.params_text += "thresholds: {idle_timeout_minutes: 30}\n"
    f = world.run("auth.idle_timeout")
    assert f.status == "pass" and "within 30 minutes" in f.reason


def test_idle_timeout_without_the_auth_settings_names_the_permission(world):
    world.data["auth_settings"] = DENIED
    f = world.run("auth.idle_timeout")
    assert f.status == "not_evaluable" and "directory:organization:admin" in f.reason


# -- auth.sso_providers ----------------------------------------------------------------------


def pem(common_name: str, not_after: dt.date) -> str:
    return saml_certificate(common_name, not_after - dt.timedelta(days=3 * 365), not_after)


def provider(pid, name, *pems, disabled=False, **raw):
    return provider_row(
        {
            "id": pid,
            "name": name,
            "providerName": name,
            "disabled": disabled,
            "certificates": list(pems),
            **raw,
        }
    )


def test_an_enabled_provider_with_a_long_valid_certificate_passes(world):
    world.data["identity_providers"] = [
        provider("idp-okta", "Okta", pem("okta signing", dt.date(2027, 1, 1)))
    ]
    f = world.run("auth.sso_providers")
    assert f.status == "pass" and f.population == 1
    (listed,) = f.extra["identity_providers"]
    assert listed["certificates"][0]["verdict"] == "valid until 2027-01-01"
    assert listed["certificates"][0]["subject"] == "CN=okta signing"


def test_expired_and_expiring_certificates_of_enabled_providers_are_exceptions(world):
    expired = pem("expired signing", dt.date(2026, 11, 15))
    edge = pem("edge signing", dt.date(2026, 12, 31))  # the last day of the warning window
    later = pem("later signing", dt.date(2027, 1, 1))  # one day beyond it
    world.data["identity_providers"] = [
        provider("idp-a", "Azure AD", expired),
        provider("idp-b", "Okta", edge, later),
        provider("idp-c", "Ping", later),
    ]
    f = world.run("auth.sso_providers")
    assert f.status == "fail" and f.population == 3
    fingerprints = {c["subject"]: c["sha256"] for p in f.extra["identity_providers"]
                    for c in p["certificates"]}  # fmt: skip
    assert ids(f) == sorted([fingerprints["CN=expired signing"], fingerprints["CN=edge signing"]])
    text = details(f)
    assert (
        "expired on 2026-11-15, before the period end" in text[fingerprints["CN=expired signing"]]
    )
    edge_text = text[fingerprints["CN=edge signing"]]
    assert "identity provider Okta" in edge_text and "expires on 2026-12-31, 30 day(s)" in edge_text
    assert "also carries 1 certificate(s) valid beyond the window" in edge_text
    assert all(e.subject_type == "certificate" for e in f.exceptions)


def test_the_warning_window_follows_a_threshold_override(world):
    world.data["identity_providers"] = [
        provider("idp-b", "Okta", pem("later signing", dt.date(2027, 1, 1)))
    ]
    world.params_text += "thresholds: {idp_certificate_warning_days: 60}\n"
    f = world.run("auth.sso_providers")
    assert f.status == "fail" and "within 60 days" in f.reason
    assert f.extra["thresholds"]["idp_certificate_warning_days"]["value"] == 60


def test_disabled_providers_are_listed_never_exceptions(world):
    world.data["identity_providers"] = [
        provider("idp-old", "ADFS", pem("adfs signing", dt.date(2025, 1, 1)), disabled=True)
    ]
    f = world.run("auth.sso_providers")
    assert f.status == "pass" and f.population == 0 and f.exceptions == ()
    assert "no identity provider is enabled" in f.reason and "ADFS" in f.reason
    assert f.extra["identity_providers"][0]["certificates"][0]["verdict"].startswith("expired")


def test_enabled_providers_without_a_readable_certificate_are_exceptions(world):
    world.data["identity_providers"] = [
        provider("idp-none", "No cert"),
        provider("idp-bad", "Bad cert", "-----BEGIN CERTIFICATE-----\nnot base64\n"),
        # The older single `certificate` field is read when the list is empty.
        provider("idp-single", "Single", certificate=pem("single", dt.date(2027, 6, 1))),
    ]
    f = world.run("auth.sso_providers")
    assert ids(f) == ["idp-bad/certificates[0]", "idp-none"]
    assert "carries no signing certificate" in details(f)["idp-none"]
    assert "not a PEM X.509 certificate" in details(f)["idp-bad/certificates[0]"]


def test_sso_providers_without_the_permission_names_it(world):
    world.data["identity_providers"] = DENIED
    f = world.run("auth.sso_providers")
    assert f.status == "not_evaluable" and "sso:provider:view" in f.reason


# -- network.ip_allowlist --------------------------------------------------------------------


def allowlist(world, *entries):
    world.data["auth_settings"]["ipAddressAllowlist"] = list(entries)
    return world.run("network.ip_allowlist")


def test_an_empty_allowlist_passes_with_a_note_unless_the_params_require_one(world):
    f = world.run("network.ip_allowlist")
    assert f.status == "pass" and f.population == 0
    assert "no IP allowlist is set" in f.reason and "ip_allowlist_required: false" in f.reason
    world.params_text += "ip_allowlist_required: true\n"
    f = allowlist(world)
    assert f.status == "fail" and ids(f) == ["ipAddressAllowlist"]
    assert "ip_allowlist_required: true" in f.exceptions[0].detail


def test_narrow_ranges_and_single_addresses_pass(world):
    f = allowlist(world, "203.0.113.0/24", "198.51.100.7", "2001:db8::/32")
    assert f.status == "pass" and f.population == 3
    assert f.extra["ip_address_allowlist"] == ["203.0.113.0/24", "198.51.100.7", "2001:db8::/32"]


def test_entries_that_admit_everyone_or_cannot_be_read_are_exceptions(world):
    f = allowlist(world, "203.0.113.0/24", "0.0.0.0/0", "::/0", "0.0.0.0/0", "office", "10.0.0.300")
    assert f.status == "fail" and f.population == 5  # the duplicate counted once
    assert ids(f) == ["0.0.0.0/0", "10.0.0.300", "::/0", "office"]
    text = details(f)
    assert "every IPv4 address" in text["0.0.0.0/0"] and "every IPv6 address" in text["::/0"]
    assert "not an IP address or network" in text["office"]


def test_entries_that_together_cover_a_family_are_all_listed(world):
    f = allowlist(world, "0.0.0.0/1", "128.0.0.0/1", "2001:db8::/32")
    assert ids(f) == ["0.0.0.0/1", "128.0.0.0/1"]
    assert (
        "together, the entries 0.0.0.0/1; 128.0.0.0/1 admit every IPv4" in (details(f)["0.0.0.0/1"])
    )


def test_ip_allowlist_without_the_auth_settings_names_the_permission(world):
    world.data["auth_settings"] = DENIED
    f = world.run("network.ip_allowlist")
    assert f.status == "not_evaluable" and "directory:organization:admin" in f.reason


@pytest.mark.parametrize("value", ["'true'", 1, "[true]", "required"])
def test_ip_allowlist_required_must_be_true_or_false(tmp_path, value):
    path = tmp_path / "p.yaml"
    path.write_text(f"ip_allowlist_required: {value}\n")
    with pytest.raises(InputError) as err:
        load_params(path)
    assert err.value.field == "ip_allowlist_required" and err.value.exit_status == 2
    assert str(path) in str(err.value) and "must be true or false" in str(err.value)


# -- logging.siem_export ---------------------------------------------------------------------


def integration(iid, name, intended="ENABLED", code="ACTIVE", kind="amazon-eventbridge-source"):
    return {
        "id": iid,
        "name": name,
        "integration_type": kind,
        "integration_type_name": kind,
        "intended_state": intended,
        "reported_state": code,
        "reported_detail": "",
        "reported_at": "2026-11-20T08:00:00.000Z",
    }


def test_an_active_eventbridge_export_passes_naming_it(world):
    world.data["integrations"] += [
        integration("int-old", "Old sandbox", intended="DISABLED", code="INACTIVE"),
        integration("int-crm", "CRM actions", kind="custom-rest-actions", code="ERROR"),
    ]
    f = world.run("logging.siem_export")
    assert f.status == "pass" and f.population == 2
    assert "Audit events to the SIEM" in f.reason and "listed, not in use: Old sandbox" in f.reason
    assert f.extra["integrations_installed"] == 3
    assert [e["id"] for e in f.extra["exports"]] == ["int-siem", "int-old"]


@pytest.mark.parametrize(
    "intended, code, words",
    [
        ("ENABLED", "ERROR", "enabled, but Genesys reports it ERROR"),
        ("ENABLED", "INACTIVE", "enabled, but Genesys reports it INACTIVE"),
        ("ENABLED", "", "without a state"),
        ("DISABLED", "ERROR", "disabled, and in ERROR"),
    ],
)
def test_an_export_in_error_or_not_active_fails(world, intended, code, words):
    broken = integration("int-siem", "Audit events to the SIEM", intended=intended, code=code)
    broken["reported_detail"] = "the partner event source was not accepted"
    world.data["integrations"] = [broken]
    f = world.run("logging.siem_export")
    assert f.status == "fail" and ids(f) == ["int-siem"]
    detail = f.exceptions[0].detail
    assert words in detail and "the partner event source was not accepted" in detail
    assert "since 2026-11-20T08:00:00.000Z" in detail and f.exceptions[0].subject_type == (
        "integration"
    )


def test_an_error_beside_an_active_export_still_fails(world):
    world.data["integrations"].append(integration("int-2", "Second export", code="ERROR"))
    f = world.run("logging.siem_export")
    assert f.status == "fail" and ids(f) == ["int-2"]
    assert "active: Audit events to the SIEM" in f.reason


@pytest.mark.parametrize("disabled", [False, True])
def test_without_an_active_export_the_check_asks_for_the_manual_procedure(world, disabled):
    world.data["integrations"] = [integration("int-crm", "CRM", kind="custom-rest-actions")]
    if disabled:
        world.data["integrations"].append(
            integration("int-old", "Old sandbox", intended="DISABLED", code="INACTIVE")
        )
    f = world.run("logging.siem_export")
    assert f.status == "not_evaluable" and f.exceptions == ()
    assert "no Amazon EventBridge source integration is enabled and active" in f.reason
    assert "how Genesys Cloud audit events reach it" in f.reason
    assert ("Old sandbox" in f.reason) is disabled


def test_siem_export_without_the_permission_names_it(world):
    world.data["integrations"] = DENIED
    f = world.run("logging.siem_export")
    assert f.status == "not_evaluable" and "integrations:integration:view" in f.reason
