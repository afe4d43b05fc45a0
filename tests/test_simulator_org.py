"""The synthetic org: deterministic, realistic, and planted as documented.

The planted cases are listed in lib/gcevidence/simulator/PLANTED.md.
"""

from __future__ import annotations

import csv
import datetime as dt
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from gcevidence.config import load_params
from gcevidence.simulator import SimConfig, Simulator
from gcevidence.simulator.planted import CHECK_IDS, DEMO_POLICY

ROOT = Path(__file__).resolve().parents[1]
NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)


def org_fingerprint(sim: Simulator) -> tuple:
    org = sim.org
    users = tuple(
        (u.id, u.name, u.email, u.state, u.date_last_login)
        for u in sorted(org.users.values(), key=lambda u: u.id)
    )
    grants = tuple(
        sorted((s, g.role_id, g.division_id, g.made_at) for s, gs in org.grants.items() for g in gs)
    )
    days = tuple(e.id for d in range(5) for e in org.audit.day(NOW.date() - dt.timedelta(d)))
    return org.id, users, grants, days


def test_same_seed_same_org_other_seed_other_org():
    a = Simulator(SimConfig(seed=11, users=80, now=NOW, audit_events_per_day=30))
    b = Simulator(SimConfig(seed=11, users=80, now=NOW, audit_events_per_day=30))
    c = Simulator(SimConfig(seed=12, users=80, now=NOW, audit_events_per_day=30))
    assert org_fingerprint(a) == org_fingerprint(b)
    assert org_fingerprint(a)[0] != org_fingerprint(c)[0]
    assert a.planted == b.planted


@pytest.mark.parametrize("sign_in", ["sso", "password"])
def test_planted_cases_cover_every_check_as_documented(make_simulator, sign_in):
    simulator = make_simulator(sign_in=sign_in)
    planted, named = simulator.planted, simulator.org.named
    sso = sign_in == "sso"
    assert set(planted) == set(CHECK_IDS)
    assert "access.role_drift" not in planted
    # Genesys login off: the password policy and MFA are the identity provider's.
    judged_elsewhere = {"auth.password_policy", "auth.mfa_required"} if sso else set()
    # The default org's audit export is active; only the SSO org has an enabled provider.
    clean = {"logging.audit_completeness", "logging.retention", "logging.siem_export"}
    if not sso:
        clean.add("auth.sso_providers")
    for check in CHECK_IDS:
        if check not in clean | judged_elsewhere:
            assert planted[check], check
        assert planted[check] == sorted(planted[check])
    status = simulator.planted_status
    assert {c for c, s in status.items() if s == "not_evaluable"} == judged_elsewhere
    assert all(
        status[c] == ("fail" if planted[c] else "pass") for c in set(CHECK_IDS) - judged_elsewhere
    )
    assert planted["access.terminated_active"] == sorted(
        [named["terminated_active_1"], named["terminated_active_2"]]
    )
    assert planted["access.deprovision_latency"] == sorted(
        named[f"deprovision_slow_{i}"] for i in (1, 2, 3)
    )
    assert planted["access.orphan_accounts"] == sorted(
        named[k] for k in ("orphan_service", "orphan_temp", "orphan_hostile")
    )
    assert planted["access.dormant_accounts"] == sorted(
        named[k] for k in ("dormant_1", "dormant_2", "dormant_never")
    )
    assert planted["access.privileged_outside_group"] == sorted(
        named[k]
        for k in (
            "telephony_engineer",
            "it_contractor",
            "supervisor_qe_holder",
            "group_admin_outside",  # Master Admin via the group Platform On-Call
            "master_admin_client",
            "master_admin_trustee",
        )
    )
    assert named["group_admin_allowed"] not in planted["access.privileged_outside_group"]
    assert planted["access.privileged_count"] == ["Master Admin"]
    assert planted["access.unused_roles"] == sorted(named[f"unused_role_{i}"] for i in (1, 2, 3))
    assert planted["access.sod_conflicts"] == sorted([named["sod_qa_lead"], named["sod_evaluator"]])
    if sso:
        assert planted["auth.password_policy"] == planted["auth.mfa_required"] == []
    else:
        assert planted["auth.password_policy"] == [
            "passwordRequirements.minimumDigits",
            "passwordRequirements.minimumLength",
        ]
        assert planted["auth.mfa_required"] == ["multifactorAuthenticationRequired"]
    assert planted["crypto.recording_keys"] == [named["key_config_error"]]
    assert planted["crypto.key_rotation"] == sorted(
        [named["newest_recording_key"], "rotationschedule.period"]
    )
    assert planted["network.trunk_tls"] == [named["trunk_udp"]]
    assert planted["network.trunk_srtp"] == sorted([named["trunk_udp"], named["trunk_no_srtp"]])
    assert (
        named["trunk_managed"] not in planted["network.trunk_tls"] + planted["network.trunk_srtp"]
    )
    assert planted["logging.privileged_grants"] == sorted(
        [named["bad_grant_master_admin"], named["bad_grant_quality_evaluator"]]
    )
    assert planted["logging.activity_gaps"] == [(NOW.date() - dt.timedelta(37)).isoformat()]
    assert planted["auth.idle_timeout"] == [named["long_idle_group"]]
    assert named["short_idle_group"] not in planted["auth.idle_timeout"]
    okta = [p for p in simulator.org.identity_providers if p["name"] == "Okta"]
    fingerprints = [
        x509.load_pem_x509_certificate(p["certificates"][0].encode())
        .fingerprint(hashes.SHA256())
        .hex()
        for p in okta
    ]
    assert planted["auth.sso_providers"] == fingerprints and len(fingerprints) == int(sso)
    assert planted["network.ip_allowlist"] == ["0.0.0.0/0"]
    assert planted["logging.siem_export"] == [] and status["logging.siem_export"] == "pass"
    # issue 9, access checks (cov-access)
    assert planted["access.oauth_clients"] == sorted(
        named[k]
        for k in ("master_admin_client", "oauth_implicit", "oauth_password", "oauth_unused")
    )
    assert planted["access.trustees"] == sorted(
        named[k] for k in ("trustee_no_expiry", "trustee_full_access", "trustee_long")
    )
    assert planted["data.recording_retention"] == sorted(
        named[k]
        for k in ("retention_forever", "retention_errors", "retention_export", "retention_too_long")
    )
    reporting = _group(simulator.org, "Reporting Analysts").member_ids
    assert planted["access.sensitive_permissions"] == sorted(
        [
            *reporting,
            *(
                named[k]
                for k in (
                    "telephony_engineer",  # Master Admin: *:*:* grants both permissions
                    "it_contractor",
                    "group_admin_outside",
                    "master_admin_client",
                    "master_admin_trustee",
                    "supervisor_qe_holder",  # Quality Evaluator: recording:recording:view
                    "unused_role_2",  # Reporting Admin: audits:audit:view
                    "oauth_unused",  # an OAuth client holding Reporting Admin
                )
            ),
            simulator.client_id,  # the collector itself: its role reads the audit trail
        ]
    )


@pytest.mark.parametrize("seed, users, sign_in", [(1, 45, "sso"), (99, 250, "password")])
def test_planted_shape_holds_for_other_seeds_and_sizes(seed, users, sign_in):
    sim = Simulator(
        SimConfig(seed=seed, users=users, now=NOW, audit_events_per_day=20, sign_in=sign_in)
    )
    counts = {k: len(v) for k, v in sim.planted.items()}
    password = sign_in == "password"
    assert counts == {
        "access.terminated_active": 2,
        "access.deprovision_latency": 3,
        "access.orphan_accounts": 3,
        "access.dormant_accounts": 3,
        "access.privileged_outside_group": 6,
        "access.privileged_count": 1,
        # admin, People Admin, Quality Administrator, Telephony Admin, and the collector's own
        # Evidence Collector (directory:organization:admin, telephony:plugin:all)
        "access.undeclared_privileged_roles": 5,
        "access.unused_roles": 3,
        "access.sod_conflicts": 2,
        "auth.password_policy": 2 if password else 0,
        "auth.mfa_required": 1 if password else 0,
        "crypto.recording_keys": 1,
        "crypto.key_rotation": 2,
        "network.trunk_tls": 1,
        "network.trunk_srtp": 2,
        "logging.audit_completeness": 0,
        "logging.privileged_grants": 2,
        "logging.retention": 0,
        "logging.activity_gaps": 1,
        "auth.idle_timeout": 1,
        "auth.sso_providers": 0 if password else 1,
        "network.ip_allowlist": 1,
        "logging.siem_export": 0,
        # issue 9, access checks (cov-access)
        "access.oauth_clients": 4,
        "access.trustees": 3,
        "data.recording_retention": 4,
        # 8 holders of Master Admin, Quality Evaluator or Reporting Admin outside the allowed
        # groups, the collector (Evidence Collector: audits:audit:view), and the supervisors in
        # Reporting Analysts (how many grows with the org)
        "access.sensitive_permissions": 9 + len(_group(sim.org, "Reporting Analysts").member_ids),
    }
    assert len(sim.org.users) == users


def _group(org, name):
    return next(g for g in org.groups if g.name == name)


def test_too_small_org_is_refused():
    with pytest.raises(ValueError, match="at least 45"):
        Simulator(SimConfig(users=44, now=NOW))


def test_planted_cases_are_visible_over_the_api(simulator, tmp_path):
    """Re-derive a few planted cases from what a client can see: API + roster CSV."""
    simulator.faults.token_drop_rate = 0  # this reading has no recovery for dropped tokens
    s = requests.Session()
    token = s.post(
        f"{simulator.base_url}/oauth/token",
        auth=(simulator.client_id, simulator.client_secret),
        data={"grant_type": "client_credentials"},
        timeout=10,
    ).json()["access_token"]
    s.headers["Authorization"] = f"Bearer {token}"
    users = s.get(
        f"{simulator.base_url}/api/v2/users",
        timeout=10,
        params={
            "pageSize": 500,
            "state": "any",
            "expand": "dateLastLogin,dateWelcomeSent,lasttokenissued",
        },
    ).json()
    roster = list(csv.DictReader(simulator.write_roster(tmp_path / "r.csv").open(encoding="utf-8")))
    by_email = {r["email"].lower(): r for r in roster}
    active = [u for u in users["entities"] if u["state"] == "active"]
    terminated = sorted(
        u["id"]
        for u in active
        if by_email.get(u["email"].lower(), {}).get("status") == "terminated"
    )
    orphans = sorted(u["id"] for u in active if u["email"].lower() not in by_email)
    assert terminated == simulator.planted["access.terminated_active"]
    assert orphans == simulator.planted["access.orphan_accounts"]
    now = simulator.now

    def last_sign_in(u: dict) -> dt.datetime:
        dates = [u.get("dateLastLogin"), (u.get("lastTokenIssued") or {}).get("dateIssued")]
        known = [dt.datetime.fromisoformat(d) for d in dates if d]
        return max(known) if known else dt.datetime.fromisoformat(u["dateWelcomeSent"])

    dormant = sorted(u["id"] for u in active if now - last_sign_in(u) > dt.timedelta(days=90))
    assert dormant == simulator.planted["access.dormant_accounts"]
    # The gap day has no events in any service; its neighbours have some.
    gap = dt.date.fromisoformat(simulator.planted["logging.activity_gaps"][0])
    for day, expect_empty in ((gap, True), (gap + dt.timedelta(1), False)):
        body = {"interval": f"{day}T00:00:00Z/{day + dt.timedelta(1)}T00:00:00Z"}
        simulator.faults.audit_polls = 0
        tx = s.post(f"{simulator.base_url}/api/v2/audits/query", json=body, timeout=10).json()
        s.get(f"{simulator.base_url}/api/v2/audits/query/{tx['id']}", timeout=10)
        res = s.get(
            f"{simulator.base_url}/api/v2/audits/query/{tx['id']}/results", timeout=10
        ).json()
        assert (res["entities"] == []) is expect_empty


def test_deprovisioning_events_are_in_the_audit_trail(simulator):
    org = simulator.org
    events = [
        e
        for d in range(91)
        for e in org.audit.day(NOW.date() - dt.timedelta(d))
        if e.service == "Directory"
        and e.entity_type == "User"
        and e.action in ("Update", "Delete", "Deactivate")
    ]
    offs = {
        e.entity_id: e
        for e in events
        if e.action in ("Delete", "Deactivate")
        or any(p == "state" for p, _o, _n in e.property_changes)
    }
    for key in (
        "deprovision_slow_1",
        "deprovision_slow_2",
        "deprovision_slow_3",
        "deprovision_fast_1",
        "deprovision_fast_2",
    ):
        assert org.named[key] in offs
    assert offs[org.named["deprovision_slow_3"]].action == "Delete"
    # Inactive leavers are recorded in both forms: Deactivate, and an Update of `state`.
    assert offs[org.named["deprovision_slow_1"]].action == "Deactivate"
    change = offs[org.named["deprovision_slow_2"]].property_changes[0]
    assert change == ("state", ("active",), ("inactive",))
    everything = [e for d in range(91) for e in org.audit.day(NOW.date() - dt.timedelta(d))]
    shapes = {}
    for key, role in (
        ("bad_grant_master_admin", "Master Admin"),
        ("bad_grant_quality_evaluator", "Quality Evaluator"),
    ):
        grant = next(e for e in everything if e.id == org.named[key])
        user_id, role_id, org_id = grant.entity_name.split("--")
        assert role_id == org.role(role).id and org_id == org.id
        assert org.member_events[grant.id] == ("MemberAdd", role_id, user_id)
        shapes[key] = grant.entity_id
    assert shapes["bad_grant_master_admin"] == org.role("Master Admin").id
    assert shapes["bad_grant_quality_evaluator"] == ""  # the other shape: entity.name only
    grant = next(e for e in everything if e.id == org.named["bad_grant_master_admin"])
    assert grant.entity_name.split("--")[0] == org.named["it_contractor"]
    assert grant.user_id == org.named["telephony_engineer"]


def test_audit_history_reaches_back_and_no_further(simulator):
    org = simulator.org
    first = NOW.date() - dt.timedelta(days=400)
    assert org.audit.count(first) > 0
    assert org.audit.count(first - dt.timedelta(days=1)) == 0
    assert org.audit.count(NOW.date()) > 0  # today, up to now
    assert all(e.ts < NOW for e in org.audit.day(NOW.date()))


def test_roster_format_and_hostile_text(simulator, tmp_path):
    path = simulator.write_roster(tmp_path / "hr" / "roster.csv")
    raw = path.read_bytes().decode("utf-8")
    rows = list(csv.DictReader(raw.splitlines()))
    assert list(rows[0]) == [
        "employee_id",
        "email",
        "status",
        "termination_date",
        "department",
        "groups",
    ]
    assert {r["status"] for r in rows} == {"active", "terminated"}
    assert all((r["status"] == "terminated") == bool(r["termination_date"]) for r in rows)
    assert all(r["email"] == r["email"].lower() for r in rows)
    assert len({r["email"] for r in rows}) == len(rows)
    assert any("GC-Platform-Admins" in r["groups"].split(";") for r in rows)
    assert any(r["groups"] == "QA Department;QA Leads" for r in rows)
    names = {u.name for u in simulator.org.users.values()}
    for hostile in (
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        '=HYPERLINK("http://evil","x")',
        "@SUM(1)",
    ):
        assert hostile in names
    assert any("\u202e" in n for n in names) and any("\U0001f469" in n for n in names)
    assert "<script>alert(1)</script>" in {r["department"] for r in rows}
    assert any(u.title == "+cmd" for u in simulator.org.users.values()) or len(names) < 100
    mixed = [u for u in simulator.org.users.values() if u.email != u.email.lower()]
    assert mixed, "some Genesys emails differ in case from the roster"


def test_demo_params_match_the_simulators_policy():
    params = load_params(ROOT / "params" / "demo.yaml", today=NOW.date())
    assert params.org.api_base_url == "http://127.0.0.1:8999"
    assert params.baseline == "pci-dss-4.0.1" and params.period.days == 90
    assert params.hr_roster == (ROOT / "output" / "demo" / "hr_roster.csv").resolve()
    policy = {
        name: {
            k: list(v) if isinstance(v, tuple) else v
            for k, v in vars(p).items()
            if v not in (None, ())
        }
        for name, p in params.privileged_roles.items()
    }
    assert policy == DEMO_POLICY["privileged_roles"]
    assert [list(p) for p in params.sod_conflicts] == DEMO_POLICY["sod_conflicts"]
    raw = yaml.safe_load((ROOT / "params" / "demo.yaml").read_text())
    assert raw["period"]["days"] == DEMO_POLICY["period_days"]
    assert params.hr.timezone == raw["hr"]["timezone"] == DEMO_POLICY["hr_timezone"]
    assert {
        p: {"allowed_groups": list(pol.allowed_groups)}
        for p, pol in params.sensitive_permissions.items()
    } == DEMO_POLICY["sensitive_permissions"]
    assert params.thresholds == DEMO_POLICY["thresholds"]


def test_advance_month(make_simulator):
    sim = make_simulator(users=100)
    before_now = sim.now
    before = {s: {(g.role_id, g.division_id) for g in gs} for s, gs in sim.org.grants.items()}
    changes = sim.advance_month()
    org = sim.org
    assert sim.now == before_now + dt.timedelta(days=30)
    assert changes["hires"] and changes["leavers"] and changes["grants"] and changes["removals"]
    assert len(changes["unexplained_grants"]) == 1
    events = [
        e
        for d in range(31)
        for e in org.audit.day(sim.now.date() - dt.timedelta(d))
        if e.ts >= before_now
    ]
    adds = {tuple(e.entity_name.split("--")[:2]) for e in events if e.action == "MemberAdd"}
    removes = {tuple(e.entity_name.split("--")[:2]) for e in events if e.action == "MemberRemove"}
    for uid, role, _div in changes["grants"]:
        assert (uid, org.role(role).id) in adds
    for uid, role, _div in changes["removals"]:
        assert (uid, org.role(role).id) in removes
        assert org.role(role).id not in {g.role_id for g in org.grants[uid]}
    uid, role, _div = changes["unexplained_grants"][0]
    assert (uid, org.role(role).id) not in adds
    assert (org.role(role).id, org.home.id) not in before.get(uid, set())
    assert org.role(role).id in {g.role_id for g in org.grants[uid]}
    for uid in changes["hires"]:
        assert org.users[uid].state == "active" and org.users[uid].email.lower() in org.roster
    for uid in changes["leavers"]:
        u = org.users[uid]
        assert u.state == "inactive"
        assert org.roster[u.email.lower()].status == "terminated"
        assert any(
            e.entity_id == uid and (e.action == "Deactivate" or e.property_changes) for e in events
        )
    # Ground truth is recomputed for the new clock: the gap day moved 30 days into the past.
    assert sim.planted["logging.activity_gaps"] == [(NOW.date() - dt.timedelta(37)).isoformat()]
    assert sim.planted["access.terminated_active"]
    # The API serves the new state.
    token = requests.post(
        f"{sim.base_url}/oauth/token",
        auth=(sim.client_id, sim.client_secret),
        data={"grant_type": "client_credentials"},
        timeout=10,
    ).json()["access_token"]
    body = requests.get(
        f"{sim.base_url}/api/v2/users",
        params={"state": "any", "pageSize": 500},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    ).json()
    assert body["total"] == 100 + len(changes["hires"])


def test_simulate_command_serves_until_interrupted(tmp_path):
    roster = tmp_path / "roster.csv"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gcevidence",
            "simulate",
            "--port",
            "0",
            "--users",
            "50",
            "--seed",
            "3",
            "--roster",
            str(roster),
            "--client-id",
            "cid",
            "--client-secret",
            "sec",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**__import__("os").environ, "PYTHONPATH": str(ROOT / "lib")},
    )
    try:
        lines = []
        deadline = time.time() + 30
        while time.time() < deadline and not any("GENESYSCLOUD_API_BASE_URL" in x for x in lines):
            lines.append(proc.stdout.readline())
        text = "".join(lines)
        assert "export GENESYSCLOUD_OAUTHCLIENT_ID=cid" in text
        assert "export GENESYSCLOUD_OAUTHCLIENT_SECRET=sec" in text
        base = next(x for x in lines if "serving at" in x).split("serving at ")[1].split()[0]
        r = requests.post(
            f"{base}/oauth/token",
            auth=("cid", "sec"),
            data={"grant_type": "client_credentials"},
            timeout=10,
        )
        assert r.status_code == 200
        assert roster.exists()
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err


def test_day_counts_match_generated_days(simulator):
    audit = simulator.org.audit
    for back in range(0, 402, 13):
        day = NOW.date() - dt.timedelta(days=back)
        assert audit.count(day) == len(audit.day(day))


@pytest.mark.slow
def test_fifty_thousand_users_and_a_million_events_fit_in_memory():
    import resource

    sim = Simulator(SimConfig(users=50_000, audit_events_per_day=2_500, now=NOW))
    total = sum(sim.org.audit.count(NOW.date() - dt.timedelta(d)) for d in range(401))
    assert total > 950_000
    for d in range(0, 400, 3):  # generate a third of the history day by day
        sim.org.audit.day(NOW.date() - dt.timedelta(d))
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert peak_mib < 1024


def test_simulate_takes_the_sign_in_mode_and_defaults_to_sso():
    from gcevidence.cli import build_parser

    parser = build_parser()
    assert parser.parse_args(["simulate"]).sign_in == "sso"
    assert parser.parse_args(["simulate", "--sign-in", "password"]).sign_in == "password"
    with pytest.raises(ValueError, match="sign_in"):
        SimConfig(sign_in="kerberos")
