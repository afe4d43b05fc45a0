"""Benchmark: collect a 10,000-user org with ~200,000 audit events from the simulator.

Collects the SSO org (the simulator's default: Genesys login off, lastTokenIssued, no or old
dateLastLogin) and the password-login org of the same people, and prints requests and
collection time for both: on SSO only the dormant suspects are read one by one. Compares
gcevidence's client (largest page sizes, concurrent pages, paced by the
inin-ratelimit headers) with a naive client written the way older guides do it (sequential,
default page size 25, sleep on 429). Prints requests made vs. the minimum the page sizes
allow, 429s received, wall time and peak memory.

    PYTHONPATH=lib python bench/collect.py [--users 10000] [--events 200000] [--skip-naive]
    PYTHONPATH=lib python bench/collect.py --demo   # the demo org: requests per endpoint

Both print the requests per declared endpoint. `--demo` collects the demo's org with
params/demo.yaml (300 users, 90 days, nine audit services) against the simulator's default
300 requests a minute, which the demo must stay well inside: any request past it makes the
demo wait for the next window.

Measured on 2 cores shared with other work (10,000 users, ~202,000 events, 10 ms latency, 3000
requests/min, a simulated audit query taking 1 s on the server), SSO org: 907 requests (minimum
903; users 20 pages + 1 page re-read + 3 dormant suspects; audit results 457, subject grants 308,
one status poll per audit query), 0 x 429, 30.5 s, peak RSS 177 MiB; password org: 907
requests, 33.9 s, 178 MiB (ratio 1.000). Before audit queries were polled at growing intervals
from the first second (and the simulator answered Running for two polls whatever the time):
997 requests (minimum 993), 26.2 s, peak RSS 175 MiB. Earlier
(before identity providers and group members were collected) gcevidence made 987 requests
(minimum 984), 0 x 429, 27.8 s, peak RSS 149 MiB;
naive 10,453 requests, 0 x 429, 682.6 s, peak RSS 123 MiB. At the real default of
300/min gcevidence needed 189 s and still received no 429 (it waits for the window).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import math
import multiprocessing as mp
import resource
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

import requests
from gcevidence.collect import collect
from gcevidence.config import DEFAULT_AUDIT_SERVICES, load_params
from gcevidence.endpoints import requests_by_endpoint
from gcevidence.genesys import Credentials, GenesysClient
from gcevidence.genesys.audits import plan_queries
from gcevidence.simulator import FaultConfig, SimConfig, Simulator
from gcevidence.snapshot import Snapshot

SERVICES = DEFAULT_AUDIT_SERVICES  # what a run queries by default
PERIOD_DAYS = 90
RETENTION_DAYS = 365
DEMO_PARAMS = Path(__file__).resolve().parents[1] / "params" / "demo.yaml"


def minimum_requests(snapshot_dir: Path, queries: int, probe_queries: int) -> int:
    """The fewest API calls the page sizes allow for what was collected."""
    doc = json.loads((snapshot_dir / "snapshot.json").read_text())
    status = {d["name"]: d for d in doc["datasets"]}
    pages = math.ceil(status["users"]["rows"] / 500)
    pages += math.ceil(status["roles"]["rows"] / 100)
    pages += math.ceil(status["divisions"]["rows"] / 100)
    pages += max(1, math.ceil(status["recording_keys"]["rows"] / 100))
    pages += max(1, math.ceil(status["trunks"]["rows"] / 100))
    subjects_per_role: dict[str, int] = {}
    for grant in Snapshot(snapshot_dir).raw("role_grants"):
        role = grant["role"]["id"]
        subjects_per_role[role] = subjects_per_role.get(role, 0) + 1
    roles = status["roles"]["rows"]
    pages += sum(max(1, math.ceil(n / 100)) for n in subjects_per_role.values())
    pages += roles - len(subjects_per_role)  # roles nobody holds still need one page
    # Each granted group's member pages.
    members = status["group_members"]["extra"]["member_counts"]
    pages += sum(max(1, math.ceil(g["listed"] / 100)) for g in members.values())
    objects = 9  # organization, auth settings, token timeout, key configs, rotation, settings,
    # identity providers, Genesys login, the collecting client
    audit_rows = {
        q["transaction_id"]: int(q["result_count"])
        for q in _csv(snapshot_dir / "evidence/audit_queries.csv")
    }
    # Submit, one status poll (a query the server has finished by the first poll), result pages.
    audit = sum(1 + 1 + max(1, math.ceil(n / 500)) for n in audit_rows.values())
    assert len(audit_rows) == queries + probe_queries
    # One realtime count per service reconciles the recent part of the period.
    reconcile = len(SERVICES) if status["audit_events"]["extra"]["reconciled_window"] else 0
    return 1 + pages + objects + audit + reconcile  # 1 = the token


def _csv(path: Path) -> list[dict]:
    import csv

    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def bench_gcevidence(sim: SimHandle, work: Path, max_workers: int) -> dict:
    params_path = work / "params.yaml"
    params_path.write_text(
        f"org: {{api_base_url: '{sim.base_url}'}}\n"
        f"period: {{days: {PERIOD_DAYS}}}\n"
        f"hr: {{roster: {sim.write_roster(work / 'roster.csv')}}}\n"
        "audit: {max_interval_days: 30}\n"
    )
    # The simulator's `now` is today: the period ends on the day before it, as in the demo.
    params = load_params(params_path, today=sim.now.date())
    run_dir = work / "run"
    client = GenesysClient(
        Credentials(sim.client_id, sim.client_secret),
        api_base_url=sim.base_url,
        request_log=run_dir / "requests.jsonl",
        max_workers=max_workers,
    )
    started = time.perf_counter()
    snap = collect(params, client, run_dir, retention_days=RETENTION_DAYS)
    wall = time.perf_counter() - started
    client.close()
    queries = len(plan_queries(SERVICES, params.period.start_utc, params.period.end_utc, 30))
    users = snap.status("users")
    return {
        "requests": client.stats.requests + client.stats.token_requests,
        "minimum": minimum_requests(run_dir, queries, len(SERVICES)),
        "user_requests": users.requests,
        "user_pages": users.extra["pages"],
        "page_rereads": users.extra["page_rereads"],
        "suspects": users.extra["dormant_suspects"],
        "429s": client.stats.status_429,
        "wall_s": wall,
        "peak_mib": _peak_rss_mib(),
        "users": snap.status("users").rows,
        "events": snap.status("audit_events").rows,
        "paced_wait_s": client.pacer.waited_seconds,
        "by_endpoint": by_endpoint(run_dir / "requests.jsonl"),
    }


def by_endpoint(request_log: Path) -> dict[str, int]:
    """Requests per declared endpoint, from a run's requests.jsonl."""
    lines = [json.loads(line) for line in request_log.read_text(encoding="utf-8").splitlines()]
    return requests_by_endpoint((e["method"], e["path"]) for e in lines)


def breakdown(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {n}" for name, n in counts.items())


def bench_demo() -> None:
    """Collect the demo's org with params/demo.yaml and print its requests per endpoint."""
    cfg = SimConfig()
    with Simulator(cfg) as sim, tempfile.TemporaryDirectory() as tmp:
        base = load_params(DEMO_PARAMS)
        params = dataclasses.replace(
            base,
            org=dataclasses.replace(base.org, api_base_url=sim.base_url),
            hr_roster=sim.write_roster(Path(tmp) / "roster.csv"),
        )
        run_dir = Path(tmp) / "run"
        with GenesysClient(
            Credentials(sim.client_id, sim.client_secret),
            api_base_url=sim.base_url,
            request_log=run_dir / "requests.jsonl",
        ) as client:
            started = time.perf_counter()
            collect(params, client, run_dir)
            wall = time.perf_counter() - started
            requests_made = client.stats.requests
        counts = by_endpoint(run_dir / "requests.jsonl")
    print(
        f"demo org: {requests_made} API requests (+1 token) of {cfg.rate_limit_per_minute} "
        f"a minute, collection {wall:.1f} s"
    )
    print(f"  per endpoint: {breakdown(counts)}")


class NaiveClient:
    """How older guides write it: one request after another, default page size, no paging math."""

    def __init__(self, sim: SimHandle):
        self.base = sim.base_url
        self.requests = 0
        self.status_429 = 0
        token = requests.post(
            f"{self.base}/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(sim.client_id, sim.client_secret),
            timeout=30,
        ).json()["access_token"]
        self.requests += 1
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, url: str, **kwargs) -> requests.Response:
        while True:
            self.requests += 1
            resp = self.session.request(
                method, url if url.startswith("http") else self.base + url, timeout=60, **kwargs
            )
            if resp.status_code == 429:
                self.status_429 += 1
                time.sleep(float(resp.headers.get("Retry-After", "1")))
                continue
            resp.raise_for_status()
            return resp

    def all_pages(self, path: str, **params) -> list[dict]:
        out, number = [], 1
        while True:
            body = self.call("GET", path, params={**params, "pageNumber": number}).json()
            out += body.get("entities", [])
            if number >= (body.get("pageCount") or 0):
                return out
            number += 1

    def collect(self, start: dt.datetime, end: dt.datetime, probe_start: dt.datetime) -> int:
        self.call("GET", "/api/v2/organizations/me")
        users = self.all_pages(
            "/api/v2/users",
            state="any",
            expand="authorization,authorization.unusedRoles,dateLastLogin,dateWelcomeSent,"
            "lasttokenissued",
        )
        roles = self.all_pages("/api/v2/authorization/roles")
        for role in roles:
            self.all_pages(f"/api/v2/authorization/roles/{role['id']}/subjectgrants")
        self.all_pages("/api/v2/authorization/divisions")
        for path in (
            "/api/v2/organizations/authentication/settings",
            "/api/v2/tokens/timeout",
            "/api/v2/recording/keyconfigurations",
            "/api/v2/recording/recordingkeys/rotationschedule",
            "/api/v2/recording/settings",
        ):
            self.call("GET", path)
        self.all_pages("/api/v2/recording/recordingkeys")
        self.all_pages("/api/v2/telephony/providers/edges/trunkbasesettings")
        events = 0
        specs = plan_queries(SERVICES, start, end, 30) + plan_queries(
            SERVICES, probe_start, probe_start + dt.timedelta(days=7), 7
        )
        for spec in specs:
            tid = self.call(
                "POST",
                "/api/v2/audits/query",
                json={"interval": spec.interval, "serviceName": spec.service},
            ).json()["id"]
            while self.call("GET", f"/api/v2/audits/query/{tid}").json()["state"] != "Succeeded":
                time.sleep(1)
            cursor = None
            while True:
                body = self.call(
                    "GET",
                    f"/api/v2/audits/query/{tid}/results",
                    params={"cursor": cursor} if cursor else {},
                ).json()
                events += len(body.get("entities", []))
                cursor = body.get("cursor")
                if not cursor:
                    break
        return len(users) + events


def bench_naive(sim: SimHandle, work: Path, max_workers: int) -> dict:
    end = dt.datetime.combine(sim.now.date() + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
    start = end - dt.timedelta(days=PERIOD_DAYS + 1)
    started = time.perf_counter()
    client = NaiveClient(sim)
    client.collect(start, end, end - dt.timedelta(days=RETENTION_DAYS))
    wall = time.perf_counter() - started
    return {
        "requests": client.requests,
        "429s": client.status_429,
        "wall_s": wall,
        "peak_mib": _peak_rss_mib(),
    }


@dataclass(frozen=True)
class SimHandle:
    """What a client process needs to know about the simulator running in another process."""

    base_url: str
    client_id: str
    client_secret: str
    now: dt.datetime
    roster: Path

    def write_roster(self, path: Path) -> Path:
        return self.roster


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _serve(cfg: SimConfig, roster: Path, conn, stop) -> None:
    with Simulator(cfg) as sim:
        sim.write_roster(roster)
        conn.send(SimHandle(sim.base_url, sim.client_id, sim.client_secret, sim.now, roster))
        stop.wait()


def _in_child(fn, *args) -> dict:
    """Run one client in its own process, so that its peak RSS is its own.

    A child that fails sends its traceback (or dies without a word): either ends the benchmark
    instead of leaving it waiting forever.
    """
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe()

    def target():
        try:
            child.send(("ok", fn(*args)))
        except BaseException:
            child.send(("error", traceback.format_exc()))

    proc = ctx.Process(target=target)
    proc.start()
    while not parent.poll(1):
        if not proc.is_alive():
            raise SystemExit(f"{fn.__name__}: the benchmark process died (exit {proc.exitcode})")
    kind, result = parent.recv()
    proc.join()
    if kind == "error":
        raise SystemExit(f"{fn.__name__} failed:\n{result}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument(
        "--rate-limit",
        type=int,
        default=3000,
        help="simulated requests per minute (the default 300 scaled x10)",
    )
    parser.add_argument("--latency-ms", type=int, default=10)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument(
        "--demo", action="store_true", help="collect the demo org only: requests per endpoint"
    )
    parser.add_argument(
        "--sign-in",
        choices=("both", "sso", "password"),
        default="both",
        help="which simulated org(s) to collect (default both)",
    )
    args = parser.parse_args()
    if args.demo:
        bench_demo()
        return
    # ~93-95% of the simulated background events belong to the default services; the period
    # spans PERIOD_DAYS + 1 days (its end day is inclusive).
    per_day = max(1, round(args.events / (PERIOD_DAYS + 1) / 0.93))
    cfg = SimConfig(
        seed=11,
        users=args.users,
        audit_events_per_day=per_day,
        rate_limit_per_minute=args.rate_limit,
        faults=FaultConfig(latency_ms=args.latency_ms),
    )
    orgs = ("sso", "password") if args.sign_in == "both" else (args.sign_in,)
    results = {}
    for sign_in in orgs:
        results[sign_in] = _bench_org(
            dataclasses.replace(cfg, sign_in=sign_in), args, naive=sign_in == orgs[0]
        )
    if len(results) == 2:
        ratio = results["sso"]["requests"] / results["password"]["requests"]
        print(f"SSO org / password org: {ratio:.3f} x the requests")


def _bench_org(cfg: SimConfig, args, naive: bool) -> dict:
    # The simulator gets a process of its own: sharing the GIL with the client would measure
    # the simulator, and its memory would count as the client's.
    ctx = mp.get_context("fork")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        parent, child = ctx.Pipe()
        stop = ctx.Event()
        server = ctx.Process(
            target=_serve, args=(cfg, work / "roster.csv", child, stop), daemon=True
        )
        server.start()
        try:
            sim = parent.recv()
            (work / "ours").mkdir()
            ours = _in_child(bench_gcevidence, sim, work / "ours", args.workers)
            print(
                f"[{cfg.sign_in} org] {ours['users']} users, {ours['events']} audit events in "
                f"the period; latency {args.latency_ms} ms, rate limit {args.rate_limit}/min"
            )
            print(
                f"gcevidence: {ours['requests']} requests (minimum {ours['minimum']}; users "
                f"{ours['user_requests']} = {ours['user_pages']} pages + "
                f"{ours['page_rereads']} page re-reads + {ours['suspects']} dormant suspects), "
                f"{ours['429s']} x 429, collection {ours['wall_s']:.1f} s, "
                f"peak RSS {ours['peak_mib']:.0f} MiB; worker threads waited "
                f"{ours['paced_wait_s']:.0f} thread-s for the rate window"
            )
            print(f"  per endpoint: {breakdown(ours['by_endpoint'])}")
            if naive and not args.skip_naive:
                naive_result = _in_child(bench_naive, sim, work, args.workers)
                print(
                    f"naive:      {naive_result['requests']} requests, "
                    f"{naive_result['429s']} x 429, {naive_result['wall_s']:.1f} s wall, "
                    f"peak RSS {naive_result['peak_mib']:.0f} MiB"
                )
        finally:
            stop.set()
            server.join(timeout=10)
    return ours


if __name__ == "__main__":
    main()
