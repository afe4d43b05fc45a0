"""OAuth clients and their usage over HTTP: only active clients are queried, polls back off
until Complete, and a usage query that fails stops the run instead of calling a client unused."""

from __future__ import annotations

import json

import pytest
from gcevidence import collect_clients
from gcevidence.endpoints import requests_by_endpoint
from gcevidence.errors import IncompleteEvidence
from test_collect_sim import run


@pytest.fixture(autouse=True)
def quick_polls(monkeypatch):
    monkeypatch.setattr(collect_clients, "POLL_FIRST_SECONDS", 0.01)


def _counts(run_dir):
    log = [json.loads(line) for line in (run_dir / "requests.jsonl").read_text().splitlines()]
    return requests_by_endpoint((e["method"], e["path"]) for e in log)


def test_only_active_clients_are_queried_and_each_until_complete(make_simulator, tmp_path):
    sim = make_simulator()
    sim.faults.usage_polls = 2  # two polls answer Running, the third Complete
    snap, _, run_dir = run(sim, tmp_path, days=5, services=["PeoplePermissions"])
    active = [c for c in sim.org.oauth_clients if c.state == "active"]
    usage = snap.table("oauth_client_usage")
    assert sorted(usage["client_id"]) == sorted(c.id for c in active)
    assert set(usage["query_status"]) == {"Complete"} and set(usage["days"]) == {"90"}
    status = snap.status("oauth_client_usage")
    assert status.complete and status.extra["not_queried"] == 1
    counts = _counts(run_dir)
    assert counts["oauth_client_usage_summary"] == len(active)
    assert counts["oauth_client_usage_result"] == 3 * len(active)
    assert status.requests == 4 * len(active)
    by_id = dict(zip(usage["client_id"], usage["requests"], strict=True))
    assert by_id[sim.org.named["oauth_unused"]] == "0"
    assert int(by_id[sim.org.named["master_admin_client"]]) > 0


def test_a_failed_usage_query_stops_the_run_naming_the_client(make_simulator, tmp_path):
    sim = make_simulator()
    sim.faults.usage_fail = True
    with pytest.raises(IncompleteEvidence) as err:
        run(sim, tmp_path, days=5, services=["PeoplePermissions"])
    message = str(err.value)
    assert "oauth_client_usage: usage queries not Complete" in message
    assert "CI Deploy Pipeline" in message and "ended Failed; re-run later" in message


def test_the_usage_span_is_the_unused_threshold(make_simulator, tmp_path):
    sim = make_simulator()
    extra = "thresholds: {oauth_client_unused_days: 30}\n"
    snap, _, _ = run(sim, tmp_path, days=5, services=["PeoplePermissions"], extra_yaml=extra)
    assert set(snap.table("oauth_client_usage")["days"]) == {"30"}
