"""Time the checks alone on one collected snapshot, so that they can be profiled at scale.

Collect once (the simulator's rate limit raised: the checks do not care how fast it came):

    python bench/checks.py collect DIR [--users 50000] [--events-per-day 11111]

then time every check over it, as often as needed, with this tree's code:

    python bench/checks.py time DIR [--top 12]

`collect` writes DIR/run (the snapshot), DIR/roster.csv and DIR/bench.json (the simulator's
date, to rebuild the demo params). `time` prints the checks' wall time, the slowest checks,
and the peak RSS of the process. It runs the checks the way the pipeline does (one
CheckContext, every check), without an earlier pack.

Measured on 2 cores shared with other work, one snapshot of 50,000 users and 934,921 audit
events: main before issue 11 §3 took 95.8 s and 1.1 GiB (activity_gaps 22.6 s,
deprovision_latency 21.2 s, privileged_grants 20.7 s: each turned every event into a dict);
now 12.8 s and 417 MiB, of which reading the audit trail once is about 5 s.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import resource
import sys
import time
from pathlib import Path

from gcevidence.config import load_params
from gcevidence.resources import DEMO_PARAMS


def demo_params_for(folder: Path):
    """The demo params as `collect` used them: the simulator's date, the saved roster."""
    info = json.loads((folder / "bench.json").read_text())
    base = load_params(DEMO_PARAMS, today=dt.date.fromisoformat(info["today"]))
    return dataclasses.replace(base, hr_roster=folder / "roster.csv")


def cmd_collect(args: argparse.Namespace) -> int:
    from gcevidence.collect import collect
    from gcevidence.genesys import Credentials, GenesysClient
    from gcevidence.simulator import SimConfig, Simulator

    folder = Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    cfg = SimConfig(
        users=args.users,
        audit_events_per_day=args.events_per_day,
        rate_limit_per_minute=args.rate_limit,
    )
    with Simulator(cfg) as sim:
        sim.write_roster(folder / "roster.csv")
        (folder / "bench.json").write_text(json.dumps({"today": sim.now.date().isoformat()}))
        params = demo_params_for(folder)
        params = dataclasses.replace(
            params, org=dataclasses.replace(params.org, api_base_url=sim.base_url)
        )
        started = time.perf_counter()
        with GenesysClient(
            Credentials(sim.client_id, sim.client_secret), api_base_url=sim.base_url
        ) as client:
            client.log.attach(folder / "run" / "requests.jsonl")
            snap = collect(params, client, folder / "run")
            client.log.close()
    events = snap.status("audit_events").rows
    print(f"collected {events} audit events in {time.perf_counter() - started:.1f} s: {folder}")
    return 0


def cmd_time(args: argparse.Namespace) -> int:
    from gcevidence.catalog import effective_thresholds
    from gcevidence.checks import REGISTRY, CheckContext, run_checks
    from gcevidence.snapshot import Snapshot

    folder = Path(args.dir)
    params = demo_params_for(folder)
    thresholds = effective_thresholds(params)
    spent: dict[str, float] = {}
    originals = dict(REGISTRY)
    for name, reg in originals.items():  # time each check where run_checks calls it

        def timed(ctx, _fn=reg.fn, _name=name):
            started = time.perf_counter()
            try:
                return _fn(ctx)
            finally:
                spent[_name] = spent.get(_name, 0.0) + time.perf_counter() - started

        REGISTRY[name] = dataclasses.replace(reg, fn=timed)
    snap = Snapshot(folder / "run")
    started = time.perf_counter()
    findings = run_checks(
        CheckContext(snap, params, thresholds, today=params.period.end, previous_info={})
    )
    wall = time.perf_counter() - started
    REGISTRY.update(originals)
    events = snap.status("audit_events").rows
    print(f"checks: {len(findings)} over {events} audit events in {wall:.2f} s")
    for name, seconds in sorted(spent.items(), key=lambda kv: -kv[1])[: args.top]:
        print(f"  {name:<40} {seconds:7.2f} s")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process {peak:.0f} MiB")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    col = sub.add_parser("collect", help="collect one snapshot from the simulator")
    col.add_argument("dir")
    col.add_argument("--users", type=int, default=50_000)
    col.add_argument("--events-per-day", type=int, default=11_111)
    col.add_argument("--rate-limit", type=int, default=1_000_000, help="requests a minute")
    col.set_defaults(func=cmd_collect)
    tim = sub.add_parser("time", help="time the checks over a collected snapshot")
    tim.add_argument("dir")
    tim.add_argument("--top", type=int, default=12)
    tim.set_defaults(func=cmd_time)
    args = ap.parse_args()
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
