"""Collection over real HTTP against the simulator: complete datasets or a clear error."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path

import pytest
from gcevidence.collect import collect
from gcevidence.config import load_params
from gcevidence.datasets import SPECS
from gcevidence.errors import (
    ApiError,
    AuditQueryFailed,
    AuthenticationError,
    IncompleteEvidence,
)
from gcevidence.evidence_files import read_bytes
from gcevidence.genesys import Credentials, GenesysClient
from gcevidence.genesys.retry import Retry
from gcevidence.snapshot import Snapshot

SERVICES = ("PeoplePermissions", "Directory")


def params_for(
    sim,
    tmp_path: Path,
    *,
    days: int = 20,
    services=SERVICES,
    timeout: int = 30,
    max_interval_days: int = 10,
    roster: bool = True,
    extra_yaml: str = "",
):
    roster_line = ""
    if roster:
        roster_line = f"hr: {{roster: {sim.write_roster(tmp_path / 'roster.csv')}}}\n"
    text = (
        f"org: {{api_base_url: '{sim.base_url}'}}\n"
        f"period: {{end: {sim.now.date() - dt.timedelta(days=1)}, days: {days}}}\n"
        f"{roster_line}"
        f"audit: {{services: [{', '.join(services)}], max_interval_days: "
        f"{max_interval_days}, query_timeout_seconds: {timeout}}}\n"
        "sensitive_permissions: {audits:audit:view: {allowed_groups: [IT]}}\n"
        f"{extra_yaml}"
    )
    path = tmp_path / "params.yaml"
    path.write_text(text, encoding="utf-8")
    return load_params(path, today=sim.now.date())


def client_for(sim, run_dir: Path, **kwargs) -> GenesysClient:
    kwargs.setdefault("max_workers", 4)
    kwargs.setdefault("backoff_base", 0.02)
    kwargs.setdefault("backoff_cap", 0.2)
    return GenesysClient(
        Credentials(sim.client_id, sim.client_secret),
        api_base_url=sim.base_url,
        request_log=run_dir / "requests.jsonl",
        **kwargs,
    )


def run(sim, tmp_path: Path, client_kwargs=None, **params_kwargs):
    run_dir = tmp_path / "run"
    params = params_for(sim, tmp_path, **params_kwargs)
    client = client_for(sim, run_dir, **(client_kwargs or {}))
    try:
        snap = collect(params, client, run_dir)
    finally:
        client.close()
    return snap, client, run_dir


def run_text(path: Path) -> str:
    """A run file's text, decompressed when it is zstd (a secret would hide in it otherwise)."""
    return read_bytes(path).decode("utf-8", errors="replace")


def assert_no_secrets(sim, run_dir: Path) -> None:
    basic = base64.b64encode(f"{sim.client_id}:{sim.client_secret}".encode()).decode()
    needles = [sim.client_secret, basic, *sim.tokens_issued]
    assert sim.tokens_issued
    compressed = 0
    for path in run_dir.rglob("*"):
        if path.is_file():
            compressed += path.suffix == ".zst"
            data = run_text(path)
            for needle in needles:
                assert needle not in data, f"secret material in {path.name}"
    assert compressed, "no compressed file was searched"


def test_clean_collection_is_complete_and_leaks_nothing(simulator, tmp_path):
    snap, client, run_dir = run(simulator, tmp_path)
    assert set(snap.statuses) == set(SPECS)
    for name, status in snap.statuses.items():
        assert status.available and status.complete, (name, status.reason)
    users = snap.table("users")
    assert len(users) == snap.status("users").expected_rows > 0
    assert list(users.columns) == list(SPECS["users"].columns)
    assert set(users["state"]) >= {"active", "inactive"}  # state=any, not the default
    for name, spec in SPECS.items():
        if spec.kind == "table":
            assert list(snap.table(name).columns) == list(spec.columns), name
    events = snap.table("audit_events")
    assert len(events) > 0 and events["id"].is_unique
    audit = snap.status("audit_events").extra
    assert audit["reconciled_window"] and sum(audit["reconciled_counts"].values()) > 0
    assert audit["count_mismatches"] == []
    assert set(events["service_name"]) <= set(SERVICES)
    probe = snap.object("audit_retention_probe")
    assert probe["required_days"] == 365 and probe["events_found"] > 0
    assert probe["transaction_id"] and probe["earliest_event"] >= probe["probe_start"]
    meta = snap.meta
    assert meta["org"]["id"] and meta["api_base_url"] == simulator.base_url
    assert meta["client_id"] == simulator.client_id and meta["period"]["end"]
    assert_no_secrets(simulator, run_dir)


def test_request_log_lines(simulator, tmp_path):
    _, client, run_dir = run(simulator, tmp_path)
    lines = [
        json.loads(line)
        for line in (run_dir / "requests.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert len(lines) == client.stats.requests + client.stats.token_requests
    keys = {"time", "method", "path", "status", "attempt", "duration_ms", "bytes", "sha256"}
    for entry in lines:
        assert keys <= set(entry)
        assert entry["path"].startswith("/") and "://" not in entry["path"]
    token_calls = [e for e in lines if e["path"] == "/oauth/token"]
    assert token_calls and all(e["sha256"] is None for e in token_calls)
    api_calls = [e for e in lines if e["path"] != "/oauth/token"]
    assert all(len(e["sha256"]) == 64 for e in api_calls if e["status"])
    assert any("state=any" in e["path"] and "pageSize=500" in e["path"] for e in api_calls)
    # The roles listing never asks Genesys to count members (slow on large roles).
    roles = [e["path"] for e in api_calls if e["path"].startswith("/api/v2/authorization/roles?")]
    assert roles and all("userCount=false" in p for p in roles)
    # Clients, trustees and groups are never looked up as users.
    singles = {
        e["path"].split("?")[0].rsplit("/", 1)[1]
        for e in api_calls
        if e["path"].startswith("/api/v2/users/")
    }
    others = set(simulator.org.subjects) | {g.id for g in simulator.org.groups}
    assert not singles & others
    text = (run_dir / "requests.jsonl").read_text(encoding="utf-8")
    assert "Bearer" not in text and "Authorization" not in text


@pytest.mark.parametrize("users", [500, 1000])
def test_users_at_exact_multiples_of_the_page_size(make_simulator, tmp_path, users):
    sim = make_simulator(users=users, audit_events_per_day=20)
    snap, client, run_dir = run(sim, tmp_path, days=5, max_interval_days=5, services=("Directory",))
    status = snap.status("users")
    assert status.rows == status.expected_rows and status.complete
    assert snap.table("users")["id"].is_unique
    pages = [
        json.loads(line)["path"]
        for line in (run_dir / "requests.jsonl").read_text().splitlines()
        if json.loads(line)["path"].startswith("/api/v2/users?")
    ]
    assert len(pages) == status.expected_rows // 500 + (status.expected_rows % 500 > 0)


def test_other_listings_at_exact_multiples_and_empty(simulator, tmp_path):
    from gcevidence.genesys.paging import list_all

    with client_for(simulator, tmp_path) as client:
        for path in (
            "/api/v2/authorization/roles",
            "/api/v2/authorization/divisions",
            "/api/v2/recording/recordingkeys",
        ):
            total = list_all(client, path).total
            for size in {d for d in range(1, min(total, 25) + 1) if total % d == 0}:
                listing = list_all(client, path, page_size=size)
                assert len(listing.entities) == total and listing.pages == total // size
        roles = list_all(client, "/api/v2/authorization/roles").entities
        empty = 0
        for role in roles:
            members = list_all(
                client, f"/api/v2/authorization/roles/{role['id']}/users", page_size=25
            )
            assert len(members.entities) == members.total == role["userCount"]
            grants = list_all(client, f"/api/v2/authorization/roles/{role['id']}/subjectgrants")
            assert len(grants.entities) == grants.total
            empty += members.total == 0 and grants.total == 0 and grants.pages == 1
        assert empty, "the simulated org should have a role nobody holds"
        biggest = max(roles, key=lambda r: r["userCount"])
        path = f"/api/v2/authorization/roles/{biggest['id']}/subjectgrants"
        total = list_all(client, path).total
        for size in [d for d in range(2, 26) if total % d == 0] + [total]:
            listing = list_all(client, path, page_size=size)
            assert len(listing.entities) == total and listing.pages == total // size


def test_429_storm_ends_complete(make_simulator, tmp_path):
    sim = make_simulator(users=120, audit_events_per_day=30)
    sim.faults.rate_429 = 0.4
    sim.faults.retry_after_seconds = 0
    snap, client, run_dir = run(sim, tmp_path, client_kwargs={"max_attempts": 12})
    assert client.stats.status_429 > 10
    assert all(s.complete for s in snap.statuses.values())


def test_5xx_bursts_and_connection_resets_end_complete(make_simulator, tmp_path):
    sim = make_simulator(users=120, audit_events_per_day=30)
    sim.faults.rate_5xx = 0.2
    sim.faults.reset_rate = 0.1
    # About the reads' resilience: an audit submission that may have run is repeated at most
    # twice by default (tests/test_retry.py), which at a 28% fault rate fails one run in ten.
    retry = Retry(total=10, uncertain=9)
    snap, client, _ = run(sim, tmp_path, client_kwargs={"retry": retry})
    assert client.stats.status_5xx > 0 and client.stats.connection_errors > 0
    assert all(s.complete for s in snap.statuses.values())


def test_outage_is_a_clear_error_naming_the_call(make_simulator, tmp_path):
    sim = make_simulator(users=60, audit_events_per_day=10)
    sim.faults.fail_after_requests = 15
    with pytest.raises(ApiError) as err:
        run(sim, tmp_path, client_kwargs={"max_attempts": 3})
    assert err.value.exit_status == 3
    assert "/api/v2/" in str(err.value) and "HTTP 503" in str(err.value)
    doc = json.loads((tmp_path / "run" / "snapshot.json").read_text())
    assert doc["error"]


def test_token_expiring_mid_collection(make_simulator, tmp_path):
    import threading

    sim = make_simulator(users=120, audit_events_per_day=30)
    sim.faults.latency_ms = 3
    done = threading.Event()

    def revoke_tokens():  # every token the client holds dies, three times while it works
        for _ in range(3):
            if done.wait(0.6):
                return
            sim.expire_tokens()

    revoker = threading.Thread(target=revoke_tokens)
    revoker.start()
    try:
        snap, client, run_dir = run(sim, tmp_path)
    finally:
        done.set()
        revoker.join()
    assert client.stats.reauthentications > 0 and len(sim.tokens_issued) > 1
    assert all(s.complete for s in snap.statuses.values())
    assert_no_secrets(sim, run_dir)


def test_short_lived_tokens_are_renewed_before_expiry(make_simulator, tmp_path):
    sim = make_simulator(users=60, audit_events_per_day=10, token_lifetime_seconds=1)
    sim.faults.latency_ms = 5
    snap, client, _ = run(sim, tmp_path)
    assert len(sim.tokens_issued) > 1
    assert all(s.complete for s in snap.statuses.values())


def test_audit_query_needing_several_polls(make_simulator, tmp_path):
    sim = make_simulator(users=60, audit_events_per_day=30)
    sim.faults.audit_polls = 4
    snap, _, run_dir = run(sim, tmp_path)
    queries = snap.table("audit_queries")
    assert set(queries["state"]) == {"Succeeded"}
    log = [json.loads(line) for line in (run_dir / "requests.jsonl").read_text().splitlines()]
    for tid in queries["transaction_id"]:
        polls = [e for e in log if e["path"] == f"/api/v2/audits/query/{tid}"]
        assert len(polls) >= 4
    assert snap.status("audit_events").complete


def test_failed_audit_query_names_the_transaction(make_simulator, tmp_path):
    sim = make_simulator(users=60, audit_events_per_day=10)
    sim.faults.audit_fail = True
    with pytest.raises(AuditQueryFailed) as err:
        run(sim, tmp_path)
    assert err.value.exit_status == 3 and err.value.transaction_id in str(err.value)
    assert "Failed" in str(err.value)


def test_audit_query_that_never_finishes_times_out(make_simulator, tmp_path):
    sim = make_simulator(users=60, audit_events_per_day=10)
    sim.faults.audit_never_finish = True
    with pytest.raises(AuditQueryFailed) as err:
        run(sim, tmp_path, timeout=2)
    assert "unfinished after 2 s" in str(err.value) and err.value.transaction_id


# Dates that may legitimately be absent (an SSO user has no dateLastLogin): a dropped one is
# recovered only where it decides a verdict, i.e. for dormant suspects.
BEST_EFFORT_DATES = ["date_last_login", "date_welcome_sent", "last_token_issued"]


def dormant_ids(snap, today, days=90):
    from gcevidence.signin import is_dormant, last_sign_in

    return sorted(
        u["id"]
        for u in snap.table("users").to_dict("records")
        if u["state"] == "active"
        and is_dormant(
            last_sign_in(u["date_last_login"], u["last_token_issued"], u["date_welcome_sent"]),
            today,
            days,
        )
    )


@pytest.mark.parametrize("rate", [0.5, 1.0])
def test_dropped_expansions_are_recovered(make_simulator, tmp_path, rate):
    clean_sim = make_simulator(users=150, audit_events_per_day=5)
    clean, _, _ = run(clean_sim, tmp_path / "a", days=2, max_interval_days=2)
    sim = make_simulator(users=150, audit_events_per_day=5)
    sim.faults.drop_expand_rate = rate  # 1.0: every listing page drops one expansion
    dropped, _, run_dir = run(sim, tmp_path / "b", days=2, max_interval_days=2)
    for name in ("users", "unused_roles"):
        assert dropped.status(name).complete
        key = ["id"] if name == "users" else ["user_id", "role_id"]
        left = clean.table(name).sort_values(key).reset_index(drop=True)
        right = dropped.table(name).sort_values(key).reset_index(drop=True)
        if name == "users":
            left, right = (
                left.drop(columns=BEST_EFFORT_DATES),
                right.drop(columns=BEST_EFFORT_DATES),
            )
        assert left.equals(right), name
    assert len(clean.table("unused_roles")) > 0
    today = sim.now.date() - dt.timedelta(days=1)  # the period end
    assert dormant_ids(dropped, today) == dormant_ids(clean, today)
    assert dormant_ids(clean, today) == sim.planted["access.dormant_accounts"]


@pytest.mark.parametrize("sign_in", ["sso", "password"])
def test_users_cost_the_pages_plus_the_dormant_suspects(make_simulator, tmp_path, sign_in):
    sim = make_simulator(users=1200, audit_events_per_day=5, sign_in=sign_in)
    snap, _, run_dir = run(sim, tmp_path, days=2, max_interval_days=2)
    status = snap.status("users")
    log = [json.loads(line)["path"] for line in (run_dir / "requests.jsonl").open()]
    pages = [p for p in log if p.startswith("/api/v2/users?")]
    singles = [p for p in log if p.startswith("/api/v2/users/")]
    minimum = -(-status.expected_rows // 500)
    suspects = status.extra["dormant_suspects"]
    assert "lasttokenissued" in pages[0]
    assert len(pages) + len(singles) == status.requests
    assert status.requests <= 1.05 * minimum + suspects + 1e-9
    # Only suspects are read one by one, and each once: the planted dormant users and the
    # users whose page lost lastTokenIssued... which a page re-read recovers first.
    assert len(singles) == suspects
    assert suspects - status.extra["dormant_suspects_cleared"] == len(
        sim.planted["access.dormant_accounts"]
    )
    period_end = sim.now.date() - dt.timedelta(days=1)
    assert dormant_ids(snap, period_end) == sim.planted["access.dormant_accounts"]


def test_lasttokenissued_missing_everywhere_is_recovered_user_by_user(make_simulator, tmp_path):
    sim = make_simulator(users=150, audit_events_per_day=5)  # SSO: no recent password login
    sim.faults.token_drop_rate = 1.0  # every listing page loses it, every time
    snap, _, run_dir = run(sim, tmp_path, days=2, max_interval_days=2)
    status = snap.status("users")
    assert status.complete and status.extra["page_rereads"] == 2  # page 1 tried 3 times
    active = [u for u in snap.table("users").to_dict("records") if u["state"] == "active"]
    from gcevidence.signin import is_dormant, last_sign_in

    # Without tokens, everyone is a suspect whom no password login or recent invitation clears.
    today = sim.now.date() - dt.timedelta(days=1)  # the period end
    uncleared = [
        u
        for u in active
        if is_dormant(last_sign_in(u["date_last_login"], "", u["date_welcome_sent"]), today, 90)
    ]
    assert status.extra["dormant_suspects"] == len(uncleared) > len(active) * 0.9
    period_end = sim.now.date() - dt.timedelta(days=1)
    assert dormant_ids(snap, period_end) == sim.planted["access.dormant_accounts"]
    # Each suspect's re-read brought its token back (if the user ever signed in).
    for u in uncleared:
        assert bool(u["last_token_issued"]) == bool(sim.org.users[u["id"]].last_token_issued)


def test_403_makes_datasets_unavailable_naming_the_permission(make_simulator, tmp_path):
    sim = make_simulator(
        users=60,
        audit_events_per_day=10,
        permissions={
            "authorization:role:view",
            "directory:organization:admin",
            "recording:encryptionKey:view",
        },
    )
    snap, _, _ = run(sim, tmp_path)
    for name in ("audit_events", "audit_queries", "audit_retention_probe"):
        status = snap.status(name)
        assert not status.available and status.missing_permission == "audits:audit:view"
    trunks = snap.status("trunks")
    assert not trunks.available and trunks.missing_permission == "telephony:plugin:all"
    assert snap.status("users").complete and snap.status("roles").complete


def test_wrong_secret_and_wrong_client_id(simulator, tmp_path):
    for creds, hint in (
        (Credentials(simulator.client_id, "nope"), "wrong secret"),
        (Credentials("nobody", simulator.client_secret), "wrong client id"),
    ):
        with (
            GenesysClient(creds, api_base_url=simulator.base_url) as client,
            pytest.raises(AuthenticationError) as err,
        ):
            client.get("/api/v2/organizations/me")
        assert hint in str(err.value) and "nope" not in str(err.value)


def test_unreachable_login_host(tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with (
        GenesysClient(
            Credentials("x", "y"),
            api_base_url=f"http://127.0.0.1:{port}",
            backoff_base=0.01,
            backoff_cap=0.02,
        ) as client,
        pytest.raises(AuthenticationError) as err,
    ):
        client.get("/api/v2/organizations/me")
    assert "login host" in str(err.value) and f"127.0.0.1:{port}" in str(err.value)


def test_incomplete_evidence_is_exit_3():
    assert IncompleteEvidence("x").exit_status == 3


def test_snapshot_reads_back(simulator, tmp_path):
    snap, _, run_dir = run(simulator, tmp_path)
    again = Snapshot(run_dir)
    assert len(again.table("role_grants")) == snap.status("role_grants").rows
    first_raw = next(again.raw("audit_events"))
    assert first_raw["id"] in set(again.table("audit_events")["id"])


def test_progress_bar_goes_to_stderr(simulator, tmp_path, capsys):
    run_dir = tmp_path / "run"
    params = params_for(simulator, tmp_path, days=3, max_interval_days=3)
    with client_for(simulator, run_dir) as client:
        collect(params, client, run_dir, progress=True)
    out, err = capsys.readouterr()
    assert out == "" and "collecting" in err


def test_bad_roster_is_input_error_before_any_api_call(simulator, tmp_path):
    from gcevidence.errors import InputError

    params = params_for(simulator, tmp_path)
    params.hr_roster.write_bytes(b"employee_id,email\n1,a@b\n")
    with client_for(simulator, tmp_path / "run") as client, pytest.raises(InputError):
        collect(params, client, tmp_path / "run")
    assert client.stats.requests == 0


def test_without_roster_hr_is_unavailable_not_an_error(simulator, tmp_path):
    snap, _, _ = run(simulator, tmp_path, roster=False, days=3, max_interval_days=3)
    assert not snap.status("hr_roster").available
    assert "hr.roster" in snap.status("hr_roster").reason


@pytest.mark.slow
def test_pacing_keeps_a_collection_under_the_rate_limit(make_simulator, tmp_path):
    """More requests than one window allows: the client waits for the window, never 429s."""
    sim = make_simulator(users=60, audit_events_per_day=40, rate_limit_per_minute=45)
    snap, client, _ = run(sim, tmp_path, client_kwargs={"rate_limit_per_minute": 45})
    assert client.stats.requests > 45
    assert client.stats.status_429 == 0 and client.pacer.waited_seconds > 0
    assert all(s.complete for s in snap.statuses.values() if s.available)


def test_the_sso_org_costs_at_most_a_tenth_more_requests_than_the_password_org(
    make_simulator, tmp_path
):
    requests = {}
    for sign_in in ("sso", "password"):
        sim = make_simulator(users=300, audit_events_per_day=10, sign_in=sign_in)
        _, client, _ = run(sim, tmp_path / sign_in, days=10, max_interval_days=10)
        requests[sign_in] = client.stats.requests
    assert requests["sso"] <= 1.1 * requests["password"], requests
