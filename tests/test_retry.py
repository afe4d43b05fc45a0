"""The retry policy: its rules as a value, then its limits over loopback HTTP with faults."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time

import pytest
from gcevidence.errors import ApiError, AuthenticationError
from gcevidence.genesys import Credentials, GenesysClient
from gcevidence.genesys.audits import QUERY_PATH, REALTIME_PATH, _submit, realtime_total
from gcevidence.genesys.retry import GiveUp, Retry

FAST = Retry(total=5, backoff_base=0.01, backoff_cap=0.02)
SUBMIT = {"interval": "2026-11-01T00:00:00Z/2026-11-02T00:00:00Z", "serviceName": "Directory"}


def exhaust(policy: Retry, method: str, **failure) -> tuple[Retry, GiveUp]:
    """Increment until the policy gives up; the last policy that allowed a retry, and why."""
    while True:
        try:
            policy = policy.increment(method, **failure)
        except GiveUp as stop:
            return policy, stop


# --- the policy as a value ------------------------------------------------------------------


def test_increment_returns_a_new_policy_and_leaves_the_old_one():
    first = Retry()
    second = first.increment("GET", status=503)
    assert first.attempts == 0 and first.wait == 0.0
    assert second.attempts == 1 and second.history[0].status == 503
    with pytest.raises(AttributeError):
        second.total = 99  # type: ignore[misc]


def test_total_counts_every_attempt_including_the_first():
    last, stop = exhaust(Retry(total=4), "GET", status=503)
    assert last.attempts == 3 and stop.attempts == 4 and stop.retryable
    with pytest.raises(GiveUp):
        Retry(total=1).increment("GET", status=503)


def test_final_statuses_are_not_retried():
    for status in (400, 404, 409, 501):
        with pytest.raises(GiveUp) as stop:
            Retry().increment("GET", status=status)
        assert stop.value.attempts == 1 and not stop.value.retryable


def test_backoff_doubles_up_to_the_cap_with_jitter():
    policy = Retry(total=12, backoff_base=0.5, backoff_cap=4.0, jitter=0.5)
    waits: dict[int, list[float]] = {}
    for _ in range(40):
        step = policy
        for n in range(1, 11):
            step = step.increment("GET", status=500)
            waits.setdefault(n, []).append(step.wait)
    for n, values in waits.items():
        ceiling = min(4.0, 0.5 * 2 ** (n - 1))
        assert all(ceiling / 2 <= v <= ceiling for v in values), n
        assert len(set(values)) > 1  # jittered
    exact = Retry(backoff_base=1.0, backoff_cap=8.0, jitter=0.0)
    assert [exact.increment("GET", status=502).wait] == [1.0]


def test_retry_after_is_honoured_up_to_its_maximum():
    policy = Retry(max_retry_after=10.0)
    assert policy.increment("GET", status=429, headers={"Retry-After": "3"}).wait == 3.0
    capped = policy.increment("GET", status=429, headers={"Retry-After": "600"})
    assert capped.wait == 10.0 and capped.retry_after == 10.0
    reset = policy.increment("GET", status=429, headers={"inin-ratelimit-reset": "2"})
    assert reset.wait == 2.0
    # Retry-After only counts on a 429; a 503's backoff is the policy's own.
    assert policy.increment("GET", status=503, headers={"Retry-After": "90"}).retry_after is None


def test_unsafe_post_retried_at_most_twice_when_it_may_have_been_processed():
    for failure in ({"status": 503}, {"status": 500}, {"error": "ReadTimeout", "sent": True}):
        last, stop = exhaust(Retry(total=8), "POST", **failure)
        assert last.attempts == 2 and stop.attempts == 3, failure
        assert last.duplicate_risk and last.uncertain_retries == 2


def test_unsafe_post_retried_fully_when_known_unprocessed():
    last, stop = exhaust(Retry(total=8), "POST", status=429)
    assert stop.attempts == 8 and not last.duplicate_risk
    last, stop = exhaust(Retry(total=8), "POST", error="ConnectionError", sent=False)
    assert stop.attempts == 8 and not last.duplicate_risk


def test_uncertain_limit_counts_only_uncertain_retries():
    policy = Retry(total=8)
    for _ in range(3):
        policy = policy.increment("POST", status=429)
    policy = policy.increment("POST", status=503).increment("POST", status=502)
    assert policy.attempts == 5 and policy.uncertain_retries == 2
    policy = policy.increment("POST", status=429)  # still safe to repeat: refused unprocessed
    with pytest.raises(GiveUp):
        policy.increment("POST", status=503)


def test_idempotent_overrides_the_method():
    last, stop = exhaust(Retry(total=6), "POST", status=503, idempotent=True)
    assert stop.attempts == 6 and not last.duplicate_risk
    last, stop = exhaust(Retry(total=6, methods=frozenset({"HEAD"})), "GET", status=503)
    assert stop.attempts == 3  # GET not declared safe by this policy


def test_history_keeps_the_correlation_id():
    step = Retry().increment("POST", status=503, headers={"ININ-Correlation-Id": "c-1"})
    assert step.history[0].correlation_id == "c-1"
    assert step.history[0].describe() == "HTTP 503 (correlation id c-1)"


def test_invalid_policies_are_refused():
    for bad in ({"total": 0}, {"uncertain": -1}, {"jitter": 1.5}):
        with pytest.raises(ValueError):
            Retry(**bad)


def test_client_keywords_override_the_policy_fields():
    client = GenesysClient(
        Credentials("a", "b"),
        api_base_url="http://127.0.0.1:9",
        retry=Retry(uncertain=1),
        max_attempts=3,
        backoff_cap=0.1,
    )
    assert (client.retry.total, client.retry.backoff_cap, client.retry.uncertain) == (3, 0.1, 1)


# --- the limits over loopback HTTP, through the simulator's faults ---------------------------


def client_for(sim, tmp_path, policy: Retry = FAST, **kwargs) -> GenesysClient:
    client = GenesysClient(
        Credentials(sim.client_id, sim.client_secret),
        api_base_url=kwargs.pop("api_base_url", sim.base_url),
        login_base_url=kwargs.pop("login_base_url", None),
        request_log=tmp_path / "requests.jsonl",
        retry=policy,
        **kwargs,
    )
    client.authenticate()  # faults only hit API calls; the token comes first
    return client


def attempts(tmp_path, method: str, path: str) -> list[dict]:
    client_log = (tmp_path / "requests.jsonl").read_text(encoding="utf-8").splitlines()
    lines = [json.loads(line) for line in client_log]
    return [e for e in lines if e["method"] == method and e["path"].split("?")[0] == path]


@pytest.mark.parametrize(
    ("fault", "value", "expected"),
    [("rate_5xx", 1.0, "HTTP 5"), ("reset_rate", 1.0, "connection failed")],
)
def test_get_gets_every_attempt_then_gives_up(make_simulator, tmp_path, fault, value, expected):
    sim = make_simulator()
    with client_for(sim, tmp_path) as client:
        setattr(sim.faults, fault, value)
        with pytest.raises(ApiError) as err:
            client.get("/api/v2/organizations/me")
    assert expected in str(err.value) and "gave up after 5 attempts" in str(err.value)
    sent = attempts(tmp_path, "GET", "/api/v2/organizations/me")
    assert [e["attempt"] for e in sent] == [1, 2, 3, 4, 5]
    assert client.stats.retries == 4


def test_outage_stops_each_request_at_the_policy_total(make_simulator, tmp_path):
    sim = make_simulator()
    sim.faults.fail_after_requests = 2
    with client_for(sim, tmp_path) as client:
        client.get("/api/v2/organizations/me")
        client.get("/api/v2/organizations/me")
        with pytest.raises(ApiError) as err:
            client.get("/api/v2/authorization/divisions")
    assert err.value.status == 503 and err.value.exit_status == 3
    assert len(attempts(tmp_path, "GET", "/api/v2/authorization/divisions")) == FAST.total


def test_429_storm_is_retried_and_honours_retry_after(make_simulator, tmp_path):
    sim = make_simulator()
    sim.faults.rate_429, sim.faults.retry_after_seconds = 1.0, 1
    policy = FAST.replace(total=3, max_retry_after=0.2)
    with client_for(sim, tmp_path, policy) as client:
        started = time.monotonic()
        with pytest.raises(ApiError) as err:
            client.get("/api/v2/organizations/me")
        took = time.monotonic() - started
    assert err.value.status == 429 and client.stats.status_429 == 3
    # Two waits, each Retry-After (1 s) capped at max_retry_after (0.2 s).
    assert 0.38 <= took < 1.5


@pytest.mark.parametrize(
    ("fault", "kind"), [("rate_5xx", "HTTP 5"), ("reset_rate", "ConnectionError")]
)
def test_audit_submit_retried_at_most_twice_after_it_may_have_run(
    make_simulator, tmp_path, caplog, fault, kind
):
    sim = make_simulator()
    with client_for(sim, tmp_path, FAST.replace(total=8)) as client:
        setattr(sim.faults, fault, 1.0)
        with caplog.at_level(logging.WARNING, "gcevidence"), pytest.raises(ApiError) as err:
            client.post(QUERY_PATH, SUBMIT)
    assert "gave up after 3 attempts" in str(err.value)
    assert [e["attempt"] for e in attempts(tmp_path, "POST", QUERY_PATH)] == [1, 2, 3]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2 and all("duplicate may exist" in w for w in warnings)
    assert all(kind in w for w in warnings), warnings


def test_audit_submit_retried_fully_on_429(make_simulator, tmp_path, caplog):
    sim = make_simulator()
    with client_for(sim, tmp_path, FAST.replace(total=6)) as client:
        sim.faults.rate_429, sim.faults.retry_after_seconds = 1.0, 0
        with caplog.at_level(logging.WARNING, "gcevidence"), pytest.raises(ApiError):
            client.post(QUERY_PATH, SUBMIT)
    assert len(attempts(tmp_path, "POST", QUERY_PATH)) == 6
    assert not [r for r in caplog.records if "duplicate" in r.getMessage()]


def test_audit_submit_retried_fully_when_the_connection_was_never_made(make_simulator, tmp_path):
    sim = make_simulator()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"
    # The token from the simulator, the API on a port nobody listens on: refused, never sent.
    client = client_for(sim, tmp_path, api_base_url=closed, login_base_url=sim.base_url)
    with client, pytest.raises(ApiError) as err:
        client.post(QUERY_PATH, SUBMIT)
    assert "connection failed" in str(err.value)
    assert len(attempts(tmp_path, "POST", QUERY_PATH)) == FAST.total
    assert client.stats.connection_errors == FAST.total


def test_audit_submit_after_an_uncertain_attempt_names_the_transaction(
    make_simulator, tmp_path, caplog
):
    from gcevidence.genesys.audits import AuditQuerySpec

    sim = make_simulator()
    end = sim.now.replace(hour=0, minute=0, second=0, microsecond=0)
    spec = AuditQuerySpec("Directory", end.replace(day=1), end)
    with client_for(sim, tmp_path, FAST.replace(backoff_base=0.4, backoff_cap=0.4)) as client:
        sim.faults.rate_5xx = 1.0

        def heal() -> None:  # the outage ends after the first failed answer
            deadline = time.monotonic() + 5
            while client.stats.status_5xx == 0 and time.monotonic() < deadline:
                time.sleep(0.005)
            sim.faults.rate_5xx = 0.0

        healer = threading.Thread(target=heal)
        healer.start()
        with caplog.at_level(logging.WARNING, "gcevidence"):
            outcome = _submit(client, spec)
        healer.join()
    assert outcome.transaction_id and len(attempts(tmp_path, "POST", QUERY_PATH)) == 2
    named = [r.getMessage() for r in caplog.records if outcome.transaction_id in r.getMessage()]
    assert len(named) == 1 and "duplicate query may exist" in named[0]


def test_realtime_audit_count_is_a_read_and_gets_the_full_policy(make_simulator, tmp_path):
    sim = make_simulator()
    end = sim.now
    with client_for(sim, tmp_path) as client:
        sim.faults.rate_5xx = 1.0
        with pytest.raises(ApiError):
            realtime_total(client, "Directory", end.replace(day=end.day - 1), end)
    assert len(attempts(tmp_path, "POST", REALTIME_PATH)) == FAST.total


def test_token_request_uses_the_same_policy(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"
    client = GenesysClient(Credentials("x", "y"), api_base_url=closed, retry=FAST)
    with client, pytest.raises(AuthenticationError) as err:
        client.authenticate()
    assert "cannot connect to the login host" in str(err.value)
    assert client.stats.token_requests == FAST.total == client.stats.connection_errors
