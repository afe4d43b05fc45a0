"""Checks on what real orgs have: SSO sign-in, identity providers, managed trunks, roles held
through groups, OAuth clients and trustees (hand-built snapshots, see checks_world)."""

from __future__ import annotations

import pytest
from checks_world import DENIED, World, grant, user


@pytest.fixture
def world(tmp_path):
    return World(tmp_path)


def ids(finding):
    return sorted(e.subject_id for e in finding.exceptions)


def details(finding):
    return {e.subject_id: e.detail for e in finding.exceptions}


def sso(world, providers=(("Okta", False), ("ADFS", True))):
    world.data["genesys_login"] = {"id": "pc-1", "name": "PureCloud", "disabled": True}
    world.data["identity_providers"] = [
        {"id": f"idp-{n}", "name": n, "provider_name": n, "disabled": str(d).lower()}
        for n, d in providers
    ]


# -- dormant accounts: the later of password login and token ---------------------------------


def test_an_sso_user_with_a_recent_token_is_not_dormant(world):
    world.data["users"] += [
        # SSO: no password login at all, or one from before SSO; a recent token
        user("u-sso", "Sso", "sso@example.com", last_login="", last_token="2026-11-25T08:00:00Z"),
        user(
            "u-old",
            "Old pw",
            "old@example.com",
            last_login="2025-01-10T08:00:00Z",
            last_token="2026-11-28T08:00:00Z",
        ),
        # idle by both dates
        user(
            "u-idle",
            "Idle",
            "idle@example.com",
            last_login="2025-01-10T08:00:00Z",
            last_token="2026-07-01T08:00:00Z",
        ),
        # a recent password login, an old token: the later date wins
        user(
            "u-pw",
            "Pw",
            "pw@example.com",
            last_login="2026-11-29T08:00:00Z",
            last_token="2026-02-01T08:00:00Z",
        ),
    ]
    f = world.run("access.dormant_accounts")
    assert ids(f) == ["u-idle"]
    text = details(f)["u-idle"]
    assert "last sign-in 2026-07-01 (last token issued; last password login 2025-01-10)" in text
    assert "152 days" in text
    basis = f.extra["basis"]
    assert basis["u-sso"] == basis["u-old"] == basis["u-idle"] == "token"
    assert basis["u-pw"] == "password login"
    assert "verdicts rest on: last token 3, password login 3" in f.reason


def test_dormant_on_a_password_login_or_an_invitation_says_so(world):
    world.data["users"] += [
        user("u-pw", "Pw", "pw@example.com", last_login="2026-06-01T08:00:00Z"),
        user("u-inv", "Inv", "inv@example.com", last_login="", welcome="2026-05-01T00:00:00Z"),
    ]
    text = details(world.run("access.dormant_accounts"))
    assert text["u-pw"].startswith("last sign-in 2026-06-01 (password login; no later token")
    assert text["u-inv"].startswith("never signed in; invited 2026-05-01")


# -- privileged roles through groups, clients and trustees -----------------------------------


def group_world(world):
    world.data["users"] += [
        user("u-in", "In Group", "in@example.com"),
        user("u-out", "Out Group", "out@example.com"),
        user("u-gone", "Gone", "gone@example.com", state="inactive"),
    ]
    world.data["hr_roster"] += [
        {
            "employee_id": "E8",
            "email": "in@example.com",
            "status": "active",
            "termination_date": "",
            "department": "IT",
            "groups": "GC-Platform-Admins",
        },
        {
            "employee_id": "E9",
            "email": "out@example.com",
            "status": "active",
            "termination_date": "",
            "department": "IT",
            "groups": "Telephony",
        },
    ]
    world.data["role_grants"] = [
        g for g in world.data["role_grants"] if g["subject_id"] != "g-1"
    ] + [
        grant("r-ma", "Master Admin", "g-oncall", "Platform On-Call", subject_type="PC_GROUP"),
        grant("r-ma", "Master Admin", "c-ci", "CI Pipeline", subject_type="PC_OAUTH_CLIENT"),
        grant("r-ma", "Master Admin", "t-ps", "Partner Eng", subject_type="PC_TRUSTEE_USER"),
        grant("r-ma", "Master Admin", "tg-ps", "Partner Team", subject_type="PC_TRUSTEE_GROUP"),
    ]
    world.data["group_members"] = [
        {
            "group_id": "g-oncall",
            "group_name": "Platform On-Call",
            "user_id": uid,
            "user_name": name,
            "user_state": state,
        }
        for uid, name, state in (
            ("u-in", "In Group", "active"),
            ("u-out", "Out Group", "active"),
            ("u-gone", "Gone", "inactive"),
            ("u-alice", "Alice Admin", "active"),  # also holds it directly
        )
    ]


def test_group_members_are_judged_like_direct_holders_naming_the_group(world):
    group_world(world)
    f = world.run("access.privileged_outside_group")
    assert ids(f) == ["c-ci", "t-ps", "tg-ps", "u-out"]
    kinds = {e.subject_id: e.subject_type for e in f.exceptions}
    assert kinds == {
        "c-ci": "oauth_client",
        "t-ps": "trustee_user",
        "tg-ps": "trustee_group",
        "u-out": "user",
    }
    text = details(f)
    assert text["u-out"].startswith("holds Master Admin via group Platform On-Call but HR groups")
    assert (
        "OAuth client CI Pipeline holds Master Admin: not a person in the allowed groups"
        in (text["c-ci"])
    )
    assert "trustee user" in text["t-ps"] and "trustee group" in text["tg-ps"]
    # Alice (directly and via the group, in the allowed group) and the inactive member pass.
    assert f.population == 6


def test_privileged_count_counts_every_distinct_holder_and_shows_the_split(world):
    group_world(world)
    f = world.run("access.privileged_count")
    (e,) = f.exceptions
    assert f.extra["holders"]["Master Admin"] == 6  # alice, in, out, client, 2 trustees
    assert f.extra["holders_split"]["Master Admin"] == {
        "OAuth clients": 1,
        "people directly": 1,
        "people via a group": 2,
        "trustee groups": 1,
        "trustee users": 1,
    }
    assert "6 holders (" in e.detail and "groups: Platform On-Call" in e.detail
    assert "not from Genesys' userCount" in f.reason


def test_sod_includes_roles_held_through_a_group(world):
    group_world(world)
    world.data["role_grants"].append(
        grant("r-qa", "Quality Administrator", "g-oncall", "Platform On-Call", "PC_GROUP")
    )
    world.data["role_grants"].append(grant("r-qe", "Quality Evaluator", "u-in", "In Group"))
    f = world.run("access.sod_conflicts")
    assert ids(f) == ["u-in"]
    assert "Quality Administrator (via group Platform On-Call)" in details(f)["u-in"]


def test_holder_checks_not_evaluable_without_group_members(world):
    group_world(world)
    world.data["group_members"] = DENIED
    for check in ("access.privileged_outside_group", "access.privileged_count"):
        assert world.run(check).status == "not_evaluable"


# -- MFA and password policy with an identity provider --------------------------------------


def test_sso_only_makes_mfa_and_password_not_evaluable_naming_the_provider(world):
    sso(world)
    world.data["auth_settings"]["multifactorAuthenticationRequired"] = False
    world.data["auth_settings"]["passwordRequirements"]["minimumLength"] = 8
    mfa = world.run("auth.mfa_required")
    assert mfa.status == "not_evaluable" and not mfa.exceptions
    assert "Genesys login is disabled" in mfa.reason and "Okta" in mfa.reason
    assert "ADFS" not in mfa.reason.split("obtain")[1]  # the disabled one is not asked for
    assert "MFA policy for the Genesys Cloud application" in mfa.reason
    pw = world.run("auth.password_policy")
    assert pw.status == "not_evaluable" and not pw.exceptions
    assert "obtain the password policy of the identity provider Okta" in pw.reason
    assert "minimumLength 8" in pw.reason  # the dormant settings, for the record
    assert pw.extra["dormant_exceptions"] == ["passwordRequirements.minimumLength"]
    assert any("genesys_login" in path for path in pw.evidence)


def test_native_login_on_without_mfa_fails_even_with_an_idp(world):
    world.data["identity_providers"] = [
        {"id": "idp-1", "name": "Okta", "provider_name": "Okta", "disabled": "false"}
    ]
    world.data["auth_settings"]["multifactorAuthenticationRequired"] = False
    f = world.run("auth.mfa_required")
    assert f.status == "fail" and ids(f) == ["multifactorAuthenticationRequired"]
    assert "Okta are not prompted by Genesys" in f.reason or "Okta" in f.reason


def test_never_a_pass_while_an_idp_bypasses_genesys_settings(world):
    world.data["identity_providers"] = [
        {"id": "idp-1", "name": "Okta", "provider_name": "Okta", "disabled": "false"}
    ]
    for check in ("auth.mfa_required", "auth.password_policy"):
        f = world.run(check)
        assert f.status == "not_evaluable" and "Okta" in f.reason, check


def test_missing_sso_permission_is_not_evaluable_naming_it(world):
    world.data["genesys_login"] = DENIED
    world.data["identity_providers"] = DENIED
    # Nobody logged in with a Genesys password in the period: Genesys login may be off.
    world.data["users"] = [
        {**u, "date_last_login": "2026-01-01T00:00:00Z"} for u in world.data["users"]
    ]
    for check in ("auth.mfa_required", "auth.password_policy"):
        f = world.run(check)
        assert f.status == "not_evaluable" and "sso:provider:view" in f.reason, check


def test_missing_sso_permission_keeps_the_verdict_when_password_logins_prove_native_login(world):
    world.data["genesys_login"] = DENIED
    world.data["identity_providers"] = DENIED
    world.data["auth_settings"]["multifactorAuthenticationRequired"] = False
    f = world.run("auth.mfa_required")
    assert f.status == "fail"
    assert "logged in with a Genesys password in the period" in f.reason
    assert "sso:provider:view" in f.reason and "this verdict stands" in f.reason
    assert world.run("auth.password_policy").status == "pass"


# -- trunks ------------------------------------------------------------------------------------


def test_managed_trunk_is_listed_as_genesys_operated_never_an_exception(world):
    world.data["trunks"].append(
        {
            "id": "t-pcv",
            "name": "PureCloud Voice - AWS",
            "state": "active",
            "trunk_type": "EXTERNAL",
            "metabase_id": "external_sip_pcv_aws.json",
            "managed": "true",
            "transport": "",
            "srtp_cipher_suites": "",
            "absent_properties": "trunk_transport_protocolVariant;trunk_media_srtpCipherSuites",
        }
    )
    for check in ("network.trunk_tls", "network.trunk_srtp"):
        f = world.run(check)
        assert f.status == "pass" and not f.exceptions, check
        assert "operated by Genesys: covered by Genesys' attestation" in f.reason
        assert "PureCloud Voice - AWS" in f.reason
        assert [t["id"] for t in f.extra["genesys_operated"]] == ["t-pcv"]
        assert f.population == 1  # the customer's own active external trunk


def test_customer_trunk_without_the_property_keeps_its_verdict_and_says_why(world):
    world.data["trunks"][0].update(
        transport="",
        srtp_cipher_suites="",
        absent_properties="trunk_transport_protocolVariant;trunk_media_srtpCipherSuites",
        managed="false",
    )
    tls, srtp = world.run("network.trunk_tls"), world.run("network.trunk_srtp")
    assert ids(tls) == ids(srtp) == ["t-1"]
    assert "returned no trunk_transport_protocolVariant property" in details(tls)["t-1"]
    assert "returned no trunk_media_srtpCipherSuites property" in details(srtp)["t-1"]
