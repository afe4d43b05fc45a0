"""End to end: collect from the simulator over HTTP with params/demo.yaml's policy, run every
check, and find exactly the simulator's planted cases (sim.planted) — each one, and nothing else.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path

import pytest
import yaml
from gcevidence.simulator.clients import COLLECTOR_ROLE

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "params" / "demo.yaml"


def _missing() -> str:
    for module in ("gcevidence.simulator", "gcevidence.collect", "gcevidence.genesys"):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not on this branch yet"
    import gcevidence.simulator as simulator

    if not hasattr(simulator, "Simulator"):
        return "gcevidence.simulator.Simulator is not on this branch yet"
    if not DEMO.exists():
        return "params/demo.yaml is not on this branch yet"
    return ""


pytestmark = pytest.mark.skipif(bool(_missing()), reason=_missing() or "ready")


def _params_for(sim, tmp_path: Path, roster: bool = True):
    """demo.yaml's policy, pointed at this simulator, its roster and its `now`."""
    from gcevidence.config import load_params

    doc = yaml.safe_load(DEMO.read_text(encoding="utf-8"))
    doc["org"] = {"api_base_url": sim.base_url}
    # The simulator's `now` is today: the period ends on the last complete day before it.
    doc.setdefault("period", {})["end"] = (sim.now.date() - dt.timedelta(days=1)).isoformat()
    hr = doc.pop("hr", None) or {}
    if roster:  # the demo's policy keeps its timezone and groups' source
        doc["hr"] = {**hr, "roster": str(sim.write_roster(tmp_path / "roster.csv"))}
    doc["output"] = {"dir": str(tmp_path / "out"), "formats": ["html"]}
    doc.pop("signing", None)
    doc.pop("exceptions", None)
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return load_params(path, today=sim.now.date())


def _collect_and_check(sim, tmp_path: Path, roster: bool = True):
    from gcevidence.catalog import effective_thresholds
    from gcevidence.checks import CheckContext, run_checks
    from gcevidence.collect import collect
    from gcevidence.genesys import Credentials, GenesysClient

    params = _params_for(sim, tmp_path, roster=roster)
    thresholds = effective_thresholds(params)
    run_dir = tmp_path / "run"
    client = GenesysClient(
        Credentials(sim.client_id, sim.client_secret),
        api_base_url=sim.base_url,
        request_log=run_dir / "requests.jsonl",
    )
    try:
        snapshot = collect(
            params, client, run_dir, retention_days=thresholds["audit_retention_days"]["value"]
        )
    finally:
        client.close()
    findings = run_checks(CheckContext(snapshot, params, thresholds, today=params.period.end))
    return {f.check: f for f in findings}


def _mismatches(planted: dict, findings: dict, skip: set[str] = frozenset()) -> dict:
    out = {}
    for check_id, expected in planted.items():
        if check_id in skip:
            continue
        finding = findings[check_id]
        found = sorted(e.subject_id for e in finding.exceptions)
        if found != sorted(expected):
            out[check_id] = {
                "missed": sorted(set(expected) - set(found)),
                "extra": sorted(set(found) - set(expected)),
                "status": finding.status,
                "reason": finding.reason,
            }
    return out


@pytest.fixture(scope="module", params=["sso", "password"])
def e2e(tmp_path_factory, request):
    """(planted, statuses, findings, org) for the SSO org (the default) and the password org."""
    from gcevidence.simulator import SimConfig, Simulator

    tmp_path = tmp_path_factory.mktemp(f"e2e-{request.param}")
    cfg = SimConfig(seed=7, users=80, audit_events_per_day=40, sign_in=request.param)
    with Simulator(cfg) as sim:
        findings = _collect_and_check(sim, tmp_path)
        planted = {k: sorted(v) for k, v in sim.planted.items()}
        return planted, sim.planted_status, findings, sim.org


def test_every_planted_case_is_found_and_nothing_else(e2e):
    planted, _, findings, _ = e2e
    assert planted and any(planted.values()), "the simulator planted nothing"
    assert not _mismatches(planted, findings)


def test_statuses_follow_the_planted_cases(e2e):
    planted, statuses, findings, _ = e2e
    for check_id in planted:
        assert findings[check_id].status == statuses[check_id], (
            check_id,
            findings[check_id].reason,
        )
        if statuses[check_id] != "not_evaluable":
            assert findings[check_id].population is not None
    # Without a previous pack, drift cannot be evaluated, and says why.
    assert findings["access.role_drift"].status == "not_evaluable"


def test_no_sso_user_is_dormant_unless_planted(e2e):
    _, _, findings, org = e2e
    dormant = findings["access.dormant_accounts"]
    planted = {org.named[k] for k in ("dormant_1", "dormant_2", "dormant_never")}
    assert {e.subject_id for e in dormant.exceptions} == planted
    basis = dormant.extra["basis_counts"]
    if org.sign_in == "sso":
        # Verdicts rest on the token: nobody has a recent Genesys password login.
        assert basis["token"] > dormant.population * 0.9
    assert basis["invitation"] == 3  # two new hires and the user who never signed in


def test_group_members_holding_master_admin_are_reported_with_their_group(e2e):
    _, _, findings, org = e2e
    outside = {e.subject_id: e for e in findings["access.privileged_outside_group"].exceptions}
    member = outside[org.named["group_admin_outside"]]
    assert member.subject_type == "user" and "via group Platform On-Call" in member.detail
    assert org.named["group_admin_allowed"] not in outside
    assert outside[org.named["master_admin_client"]].subject_type == "oauth_client"
    assert outside[org.named["master_admin_trustee"]].subject_type == "trustee_user"
    count = findings["access.privileged_count"]
    assert count.extra["holders"]["Master Admin"] == 9
    assert count.extra["holders_split"]["Master Admin"]["people via a group"] == 2
    assert count.extra["via_groups"]["Master Admin"] == ["Platform On-Call"]


def test_the_managed_trunk_is_listed_but_never_an_exception(e2e):
    _, _, findings, org = e2e
    managed = org.named["trunk_managed"]
    for check in ("network.trunk_tls", "network.trunk_srtp"):
        f = findings[check]
        assert managed not in {e.subject_id for e in f.exceptions}
        assert [t["id"] for t in f.extra["genesys_operated"]] == [managed]
        assert "PureCloud Voice - AWS" in f.reason and "Genesys' attestation" in f.reason
    srtp = {e.subject_id: e.detail for e in findings["network.trunk_srtp"].exceptions}
    assert "returned no trunk_media_srtpCipherSuites property" in srtp[org.named["trunk_no_srtp"]]


def test_mfa_and_password_name_the_idp_when_genesys_login_is_off(e2e):
    _, _, findings, org = e2e
    for check in ("auth.mfa_required", "auth.password_policy"):
        f = findings[check]
        if org.sign_in == "sso":
            assert f.status == "not_evaluable" and "Okta" in f.reason, f.reason
            assert "Genesys login is disabled" in f.reason and "ADFS" not in f.reason
        else:
            assert f.status == "fail" and "Okta" not in f.reason


def test_sessions_identity_providers_allowlist_and_export_name_their_subjects(e2e):
    _, _, findings, org = e2e
    idle = {e.subject_id: e for e in findings["auth.idle_timeout"].exceptions}
    wallboards = idle[org.named["long_idle_group"]]
    assert wallboards.subject_name == "Wallboard Displays"
    assert "2 member(s) of Wallboard Displays" in wallboards.detail
    assert "240 minutes (4 hours)" in wallboards.detail
    assert org.named["short_idle_group"] not in idle  # its 10 minutes are within the baseline
    assert "/api/v2/analytics/queues/observations/query" in findings["auth.idle_timeout"].reason
    sso = findings["auth.sso_providers"]
    assert "ADFS" in sso.reason and all("ADFS" not in e.detail for e in sso.exceptions)
    if org.sign_in == "sso":
        (okta,) = sso.exceptions
        expiry = org.now.date() + dt.timedelta(days=12)
        assert "identity provider Okta: signing certificate CN=acme-cc.okta.example" in (
            okta.detail
        )
        assert f"expires on {expiry}, 12 day(s) after the period end" in okta.detail
    allow = findings["network.ip_allowlist"]
    assert allow.population == 3 and "every IPv4 address" in allow.exceptions[0].detail
    export = findings["logging.siem_export"]
    assert "Audit events to Splunk (EventBridge)" in export.reason
    assert "EventBridge sandbox (old)" in export.reason  # disabled: listed, not an exception


def test_every_exception_names_its_subject_in_plain_words(e2e):
    _, _, findings, _ = e2e
    for finding in findings.values():
        for exc in finding.exceptions:
            assert exc.subject_id and exc.detail and "\n" not in exc.detail


def test_planted_cases_still_found_after_a_month_moves_on(make_simulator, tmp_path):
    # This org's audit export reports ERROR, and Okta's certificate expired meanwhile.
    sim = make_simulator(seed=3, users=60, audit_events_per_day=30, siem_export="error")
    sim.advance_month()
    findings = _collect_and_check(sim, tmp_path)
    assert not _mismatches(sim.planted, findings)
    export = findings["logging.siem_export"]
    assert export.status == "fail" and [e.subject_id for e in export.exceptions] == [
        sim.org.named["siem_export"]
    ]
    assert "ERROR (The partner event source could not be created" in export.exceptions[0].detail
    (okta,) = findings["auth.sso_providers"].exceptions
    assert "before the period end" in okta.detail


# Checks that read only what the withheld permissions guard, and the permission named.
WITHHELD = {
    "telephony:plugin:all": {"network.trunk_tls", "network.trunk_srtp"},
    "directory:organization:admin": {
        "auth.password_policy",
        "auth.mfa_required",
        "auth.idle_timeout",
        "network.ip_allowlist",
    },
    "recording:encryptionKey:view": {"crypto.recording_keys", "crypto.key_rotation"},
    "integrations:integration:view": {"logging.siem_export"},
    # issue 9, access checks (cov-access)
    "oauth:client:view": {"access.oauth_clients"},
    "authorization:orgTrustee:view": {"access.trustees"},
    "recording:retentionPolicy:view": {"data.recording_retention"},
}


def test_missing_permissions_make_exactly_their_checks_not_evaluable(make_simulator, tmp_path):
    sim = make_simulator(
        seed=5, users=60, audit_events_per_day=30, permissions=_all_permissions() - set(WITHHELD)
    )
    findings = _collect_and_check(sim, tmp_path)
    blocked = {c for checks in WITHHELD.values() for c in checks}
    for permission, checks in WITHHELD.items():
        for check_id in checks:
            f = findings[check_id]
            assert f.status == "not_evaluable" and permission in f.reason, (check_id, f.reason)
    assert not _mismatches(sim.planted, findings, skip=blocked)


def test_without_a_roster_hr_checks_say_so_and_the_rest_still_run(make_simulator, tmp_path):
    # This org has no audit export either: the check asks for the manual procedure.
    sim = make_simulator(seed=9, users=60, audit_events_per_day=30, siem_export="none")
    findings = _collect_and_check(sim, tmp_path, roster=False)
    export = findings["logging.siem_export"]
    assert export.status == sim.planted_status["logging.siem_export"] == "not_evaluable"
    assert "how Genesys Cloud audit events reach it" in export.reason
    hr_checks = {
        "access.terminated_active",
        "access.deprovision_latency",
        "access.orphan_accounts",
        "access.privileged_outside_group",
        "logging.privileged_grants",
        "access.sensitive_permissions",
    }
    for check_id in hr_checks:
        f = findings[check_id]
        assert f.status == "not_evaluable" and "no HR roster (params hr.roster)" in f.reason
    assert not _mismatches(sim.planted, findings, skip=hr_checks)


def _all_permissions() -> set[str]:
    """Every permission the collection needs (datasets.SPECS), known to this simulator."""
    from gcevidence.datasets import SPECS

    return {s.permission for s in SPECS.values() if s.permission}


@pytest.mark.parametrize("sign_in", ["sso", "password"])
def test_without_sso_permission_auth_checks_say_so_unless_password_logins_decide(
    make_simulator, tmp_path, sign_in
):
    sim = make_simulator(
        seed=5,
        users=60,
        audit_events_per_day=30,
        sign_in=sign_in,
        permissions=_all_permissions() - {"sso:provider:view"},
    )
    findings = _collect_and_check(sim, tmp_path)
    for check in ("auth.mfa_required", "auth.password_policy"):
        f = findings[check]
        assert "sso:provider:view" in f.reason, f.reason
        if sign_in == "sso":
            assert f.status == "not_evaluable"
        else:  # password logins in the period prove Genesys login is on: the verdict stands
            assert f.status == "fail" and "this verdict stands" in f.reason
    certificates = findings["auth.sso_providers"]
    assert certificates.status == "not_evaluable" and "sso:provider:view" in certificates.reason
    skip = {"auth.mfa_required", "auth.password_policy", "auth.sso_providers"}
    assert not _mismatches(sim.planted, findings, skip=skip)


# --- issue 9, access checks (cov-access) -------------------------------------------------------


def test_oauth_clients_and_their_grants_agree_and_partner_activity_is_shown(e2e):
    _, _, findings, org = e2e
    clients = findings["access.oauth_clients"]
    assert clients.extra["roles_and_grants_disagree"] == []
    ci = org.named["master_admin_client"]
    # the same client is a privileged holder in both checks
    assert ci in {e.subject_id for e in clients.exceptions}
    assert ci in {e.subject_id for e in findings["access.privileged_outside_group"].exceptions}
    assert [c["id"] for c in clients.extra["not_active"]] == [org.named["oauth_disabled"]]
    trustees = findings["access.trustees"]
    activity = trustees.extra["activity"][org.partner_org_id]
    assert sorted(e["event_id"] for e in activity) == sorted(org.trustee_event_ids)
    assert {e["user_id"] for e in activity} == {org.named["master_admin_trustee"]}


def test_sensitive_permissions_count_wildcard_roles_the_filter_does_not_list(e2e):
    _, _, findings, _ = e2e
    roles = findings["access.sensitive_permissions"].extra["roles"]
    assert roles["audits:audit:view"] == {
        "Master Admin": "through *:*:*",
        "Reporting Admin": "listed by Genesys",
        COLLECTOR_ROLE: "listed by Genesys",  # the collecting client's own role
    }
    assert roles["recording:recording:view"]["Quality Evaluator"] == "listed by Genesys"
