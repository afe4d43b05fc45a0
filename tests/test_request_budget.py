"""The demo's request budget: a collection of the demo org stays well inside one minute's limit.

The simulator, like Genesys, allows 300 requests a minute per token; a collection that needs
more waits for the next window (about a minute). The demo must leave room for the requests of
checks still to come, so its collection may use at most RATE_LIMIT - HEADROOM requests.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from gcevidence.collect import collect
from gcevidence.config import load_params
from gcevidence.endpoints import requests_by_endpoint
from gcevidence.genesys import Credentials, GenesysClient
from gcevidence.simulator import SimConfig, Simulator

DEMO = Path(__file__).resolve().parents[1] / "params" / "demo.yaml"
RATE_LIMIT = SimConfig().rate_limit_per_minute
HEADROOM = 20


def test_the_demo_collection_leaves_headroom_in_one_minutes_rate_limit(tmp_path):
    # The demo's org and policy exactly: default simulator (300 users, the wall clock as now),
    # params/demo.yaml pointed at it.
    with Simulator(SimConfig()) as sim:
        base = load_params(DEMO)
        params = dataclasses.replace(
            base,
            org=dataclasses.replace(base.org, api_base_url=sim.base_url),
            hr_roster=sim.write_roster(tmp_path / "roster.csv"),
        )
        run_dir = tmp_path / "run"
        with GenesysClient(
            Credentials(sim.client_id, sim.client_secret),
            api_base_url=sim.base_url,
            request_log=run_dir / "requests.jsonl",
        ) as client:
            snap = collect(params, client, run_dir)
            requests = client.stats.requests
    log = [json.loads(line) for line in (run_dir / "requests.jsonl").read_text().splitlines()]
    counts = requests_by_endpoint((e["method"], e["path"]) for e in log)
    breakdown = ", ".join(f"{name} {n}" for name, n in counts.items())
    assert "undeclared" not in counts, breakdown
    assert sum(n for name, n in counts.items() if name != "token") == requests
    assert requests <= RATE_LIMIT - HEADROOM, f"{requests} requests: {breakdown}"
    # Nothing was saved by reading less: every dataset complete, every query read to the end,
    # the recent audit events reconciled against the realtime count.
    assert all(s.complete for s in snap.statuses.values())
    queries = len(snap.table("audit_queries"))
    assert counts["audit_query"] == queries and counts["audit_realtime"] == len(
        params.audit.services
    )
    # A query the server finishes within a second or two is polled once or twice, not every
    # fraction of a second.
    assert counts["audit_query_status"] <= 2 * queries, breakdown
