"""`gcevidence preflight` against the simulator: one table, read-only, few requests, exit 0/2."""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest
from gcevidence.cli import main
from gcevidence.datasets import SPECS
from gcevidence.preflight import permission_dependents, run_preflight

ALL = {s.permission for s in SPECS.values() if s.permission}


def params_file(sim, tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text(
        f"org: {{api_base_url: '{sim.base_url}'}}\n"
        "privileged_roles:\n"
        "  Master Admin: {allowed_groups: [GC-Platform-Admins], max_holders: 3}\n"
        "  Quality Evaluator: {allowed_groups: [QA Department]}\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def creds(monkeypatch):
    def use(sim, secret=None):
        monkeypatch.setenv("GENESYSCLOUD_OAUTHCLIENT_ID", sim.client_id)
        monkeypatch.setenv("GENESYSCLOUD_OAUTHCLIENT_SECRET", secret or sim.client_secret)
        monkeypatch.delenv("GENESYSCLOUD_REGION", raising=False)

    return use


def run(sim, tmp_path, capsys, **kwargs):
    params = params_file(sim, tmp_path)
    before = sim.requests_served
    started = time.monotonic()
    status = run_preflight(params, tmp_path / "out.json", **kwargs)
    seconds = time.monotonic() - started
    out = capsys.readouterr().out
    doc = json.loads((tmp_path / "out.json").read_text())
    return status, out, doc, sim.requests_served - before, seconds


def row(doc, item):
    return next(r for r in doc["rows"] if r["item"] == item)


def test_sso_org_is_ready_and_the_table_says_how_it_works(make_simulator, tmp_path, capsys, creds):
    sim = make_simulator(users=300, now=None)  # the wall clock: yesterday has audit events
    creds(sim)
    today = dt.datetime.now(dt.UTC).date()
    status, out, doc, requests, seconds = run(
        sim, tmp_path, capsys, audit_day=today - dt.timedelta(days=3)
    )
    assert status == 0 and doc["ready"] and "ready: a run can proceed" in out
    assert requests <= 40 and doc["requests"] == requests and seconds < 60
    assert row(doc, "token lifetime")["result"] == "86400 s"
    assert "inin-ratelimit-allowed 300" in row(doc, "rate-limit headers")["result"]
    for permission in ALL:
        assert row(doc, permission)["result"] == "granted"
    assert row(doc, "Genesys login")["result"] == "off (SSO only)"
    assert row(doc, "identity providers")["result"] == "enabled: Okta; disabled: ADFS"
    sample = row(doc, "users sample")["result"]
    assert "lastTokenIssued 9" in sample  # nearly everyone signed in lately
    types = row(doc, "Master Admin: subject types")["result"]
    assert types == "PC_GROUP 1, PC_OAUTH_CLIENT 1, PC_TRUSTEE_USER 1, PC_USER 5"
    counts = row(doc, "Master Admin: counts")
    assert "subject grants total 8" in counts["result"] and "counts differ" in counts["detail"]
    assert row(doc, "Quality Evaluator: counts")["detail"] == "all counts agree"
    assert "1 managed" in row(doc, "trunks")["result"]
    audit = row(doc, "PeoplePermissions query")["result"]
    # Each state it was seen in, in order (a slow poll may miss Running on a loaded machine).
    seen = audit.split(";")[0].split(" → ")
    assert (
        seen[0] == "Queued"
        and seen[-1] == "Succeeded"
        and set(seen)
        <= {
            "Queued",
            "Running",
            "Succeeded",
        }
    )
    shapes = row(doc, "PeoplePermissions shapes")["result"]
    # the new hire's onboarding grants, three days ago, in both shapes
    assert "entity.id + name grantee--role--org" in shapes
    assert "name grantee--role--org only" in shapes
    assert "leaving service" in row(doc, "Directory shapes")["result"]
    # Read-only, and nothing written but the JSON asked for.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json", "params.yaml"]
    assert sim.client_secret not in out and sim.client_secret not in json.dumps(doc)


def test_password_org_shows_genesys_login_on(make_simulator, tmp_path, capsys, creds):
    sim = make_simulator(sign_in="password")
    creds(sim)
    status, _, doc, _, _ = run(sim, tmp_path, capsys)
    assert status == 0
    assert row(doc, "Genesys login")["result"] == "on"
    assert row(doc, "identity providers")["result"] == "enabled: none; disabled: ADFS"


def test_a_missing_permission_is_a_fix_naming_the_checks(make_simulator, tmp_path, capsys, creds):
    sim = make_simulator(permissions=ALL - {"recording:encryptionKey:view"})
    creds(sim)
    status, out, doc, _, _ = run(sim, tmp_path, capsys)
    assert status == 2 and not doc["ready"]
    missing = row(doc, "recording:encryptionKey:view")
    assert missing["result"] == "MISSING" and missing["ok"] is False
    assert (
        "crypto.key_rotation" in missing["detail"] and "crypto.recording_keys" in missing["detail"]
    )
    (fix,) = doc["fixes"]
    assert "grant the OAuth client's role the permission recording:encryptionKey:view" in fix
    assert "fixes before a run:" in out and "recording:encryptionKey:view" in out


def test_a_privileged_role_that_does_not_exist_is_a_fix(make_simulator, tmp_path, capsys, creds):
    sim = make_simulator()
    creds(sim)
    params = params_file(sim, tmp_path)
    params.write_text(params.read_text() + "  Master Admn: {max_holders: 2}\n")
    assert run_preflight(params) == 2
    assert "no role named 'Master Admn'" in capsys.readouterr().out


def test_rejected_credentials_exit_2_through_the_command(make_simulator, tmp_path, capsys, creds):
    sim = make_simulator()
    creds(sim, secret="wrong")
    assert main(["preflight", "--params", str(params_file(sim, tmp_path))]) == 2
    out = capsys.readouterr().out
    assert "REJECTED" in out and "wrong secret" in out and sim.requests_served == 0


def test_missing_credentials_exit_2(make_simulator, tmp_path, capsys, monkeypatch):
    sim = make_simulator()
    monkeypatch.delenv("GENESYSCLOUD_OAUTHCLIENT_ID", raising=False)
    monkeypatch.delenv("GENESYSCLOUD_OAUTHCLIENT_SECRET", raising=False)
    assert main(["preflight", "--params", str(params_file(sim, tmp_path))]) == 2
    assert "GENESYSCLOUD_OAUTHCLIENT_ID" in capsys.readouterr().err


def test_every_permission_has_a_probe_and_its_dependent_checks():
    deps = permission_dependents()
    assert set(deps) == ALL
    assert "auth.mfa_required" in deps["sso:provider:view"]
    assert "network.trunk_tls" in deps["telephony:plugin:all"]
    # oauth:client:view gives the division scope (the client's own grants) and the clients.
    assert "access.oauth_clients" in deps["oauth:client:view"]
    assert [p for p, checks in deps.items() if not checks] == []


def test_a_client_limited_to_some_divisions_is_a_warning_not_a_fix(
    make_simulator, tmp_path, capsys, creds
):
    """Preflight reads the client's own grants like the collection does and names every division
    out of scope; a run can still proceed (exit 0), and the pack will say the same."""
    sim = make_simulator(collector_divisions=("Home", "Sales"))
    creds(sim)
    status, out, doc, _, _ = run(sim, tmp_path, capsys)
    assert status == 0 and doc["ready"]
    scope = row(doc, "divisions the client sees")
    assert scope["result"] == "LIMITED" and "2 of 5 divisions (Home, Sales)" in scope["detail"]
    (warning,) = doc["warnings"]
    for name in ("Back Office", "Collections", "Customer Care"):
        assert name in warning
    assert "warnings (a run can proceed" in out and "out of scope: Back Office" in out


def test_the_division_scope_is_unknown_without_oauth_client_view(
    make_simulator, tmp_path, capsys, creds
):
    sim = make_simulator(permissions=ALL - {"oauth:client:view"})
    creds(sim)
    status, _, doc, _, _ = run(sim, tmp_path, capsys)
    assert status == 2  # a missing permission is a fix, as for every other one
    assert row(doc, "oauth:client:view")["result"] == "MISSING"
    scope = row(doc, "divisions the client sees")
    assert scope["result"] == "UNKNOWN" and "not verified" in scope["detail"]
    assert any("UNKNOWN — not verified" in w for w in doc["warnings"])


def test_a_client_with_every_division_has_no_warning(make_simulator, tmp_path, capsys, creds):
    sim = make_simulator()
    creds(sim)
    status, _, doc, _, _ = run(sim, tmp_path, capsys)
    assert status == 0 and doc["warnings"] == []
    assert row(doc, "divisions the client sees")["result"] == "all divisions"
