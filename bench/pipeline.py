"""Wall time of a `gcevidence demo` run, split into phases, and its peak memory.

Usage: python bench/pipeline.py [--users N] [--events-per-day N] [--no-pdf] [--rate-limit N]
       [--incremental] [--keep DIR]
Peak memory is reported two ways: the largest resident set of this process (getrusage), and
the peak PSS of the whole process tree (sampled every 0.2 s), split into the pipeline, the
notebook kernels and Chromium. The simulator runs in a process of its own, left out of both:
a real run has no simulator. (A forked child's getrusage peak counts the parent's pages it
shared before exec, so it is not printed.)
With --incremental a second run follows a month later (the simulator moved on 30 days) into
the same output folder: it takes the audit days the first pack holds, and the audit requests
of both are printed. The simulator's clock then starts 31 days behind ours, so that the second
run's period still ends before today, as a monthly run's does.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import json
import multiprocessing as mp
import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

from gcevidence.config import PeriodConfig, load_params
from gcevidence.demo import DEFAULT_OUT, demo_roster_source
from gcevidence.pipeline import RunResult, run_pipeline
from gcevidence.resources import DEMO_PARAMS
from gcevidence.simulator import SimConfig, Simulator

# The phase the pipeline is in now (set by the wrapped phases), and the tree's peak PSS per
# phase: {phase: (bytes, {kind of process: bytes})}.
CURRENT_PHASE = ["start"]
PHASE_PEAKS: dict[str, tuple[int, dict]] = {}


def watch_phases() -> None:
    """Wrap the pipeline's phases so that the sampler knows which one is running."""
    import gcevidence.pipeline as pipeline

    def wrapped(name, fn):
        def run(state):
            CURRENT_PHASE[0] = name
            try:
                return fn(state)
            finally:
                CURRENT_PHASE[0] = "between"

        return run

    pipeline.PHASES = tuple((name, wrapped(name, fn)) for name, fn in pipeline.PHASES)


def tree_rss_sampler(stop: threading.Event, peak: list, exclude: frozenset[int]) -> None:
    """Keep in peak[0] the largest PSS of the process tree seen, and in peak[1] what it was
    made of (MiB per kind of process: this one, notebook kernels, Chromium, others); the peak
    of each phase in PHASE_PEAKS."""
    try:
        import psutil
    except ImportError:
        return
    me = psutil.Process()
    while not stop.is_set():
        total, parts = 0, {}
        for proc in [me, *me.children(recursive=True)]:
            if proc.pid in exclude:  # the simulator: not part of a run
                continue
            with contextlib.suppress(psutil.Error):  # a child may exit while we look
                # PSS splits shared pages (Chromium's many processes) instead of counting
                # them once per process as RSS does.
                info = proc.memory_full_info()
                size = getattr(info, "pss", info.rss)
                total += size
                kind = _kind(proc, me)
                parts[kind] = parts.get(kind, 0) + size
        if total > peak[0]:
            peak[0], peak[1] = total, parts
        phase = CURRENT_PHASE[0]
        if total > PHASE_PEAKS.get(phase, (0, {}))[0]:
            PHASE_PEAKS[phase] = (total, parts)
        stop.wait(0.2)


def _kind(proc, me) -> str:
    if proc.pid == me.pid:
        return "pipeline"
    line = " ".join(proc.cmdline())
    if "ipykernel" in line:
        return "kernels"
    if "chrom" in line:
        return "chromium"
    return f"other ({proc.name()})"


def breakdown(parts: dict) -> str:
    return ", ".join(f"{k} {v / 2**20:.0f}" for k, v in sorted(parts.items()))


class SimProcess:
    """The simulator in a process of its own, so that its memory and CPU are not the run's."""

    def __init__(self, cfg: SimConfig):
        ctx = mp.get_context("fork")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve, args=(cfg, child), daemon=True)
        self._proc.start()
        self.base_url, self.client_id, self.client_secret, self.now = self._conn.recv()

    @property
    def pid(self) -> int:
        return int(self._proc.pid or 0)

    def call(self, method: str, *args):
        """Call a method of the Simulator in its process and return its answer."""
        self._conn.send((method, args))
        return self._conn.recv()

    def stop(self) -> None:
        self._conn.send(("stop", ()))
        self._proc.join(timeout=30)


def _serve(cfg: SimConfig, conn) -> None:
    with Simulator(cfg) as sim:
        conn.send((sim.base_url, sim.client_id, sim.client_secret, sim.now))
        while True:
            method, args = conn.recv()
            if method == "stop":
                return
            conn.send(getattr(sim, method)(*args))


def bench_params(sim: SimProcess, out: Path, roster: Path, env: dict):
    """The demo params pointed at the simulator process, as `gcevidence demo` sets them."""
    env["GENESYSCLOUD_OAUTHCLIENT_ID"] = sim.client_id
    env["GENESYSCLOUD_OAUTHCLIENT_SECRET"] = sim.client_secret
    base = load_params(DEMO_PARAMS, today=sim.now.date())
    return dataclasses.replace(
        base,
        org=dataclasses.replace(
            base.org, api_base_url=sim.base_url, region=None, login_base_url=None
        ),
        hr_roster=sim.call("write_roster", roster),
        hr=dataclasses.replace(base.hr, source=demo_roster_source(sim.now)),
        output_dir=out or DEFAULT_OUT,
    )


PARTS = ("evidence/responses", "evidence/raw", "evidence", "review")


def pack_parts(pack: Path) -> dict[str, tuple[int, int]]:
    """(files, bytes) of the pack's parts: stored answers, raw, CSVs, review, everything else."""
    parts = {name: [0, 0] for name in (*PARTS, "papers and the rest")}
    for path in pack.rglob("*"):
        if path.is_file():
            rel = path.relative_to(pack).as_posix()
            name = next((p for p in PARTS if rel.startswith(p + "/")), "papers and the rest")
            parts[name][0] += 1
            parts[name][1] += path.stat().st_size
    return {name: (n, b) for name, (n, b) in parts.items()}


def audit_requests(pack: Path) -> tuple[int, int]:
    """(requests reading the period's audit trail, every audit endpoint request) of a pack."""
    doc = json.loads((pack / "snapshot.json").read_text(encoding="utf-8"))
    trail = next(d["requests"] for d in doc["datasets"] if d["name"] == "audit_events")
    with (pack / "requests.jsonl").open(encoding="utf-8") as fh:
        every = sum(1 for line in fh if json.loads(line)["path"].startswith("/api/v2/audits/"))
    return trail, every


def describe(label: str, result: RunResult, wall: float) -> tuple[int, int]:
    """Print one run's pack, phases and requests; returns its audit requests."""
    pack = result.pack_dir
    files = sum(1 for p in pack.rglob("*") if p.is_file())
    size = sum(p.stat().st_size for p in pack.rglob("*") if p.is_file())
    trail, every = audit_requests(pack)
    with (pack / "requests.jsonl").open(encoding="utf-8") as fh:
        api = sum(1 for _ in fh)
    doc = json.loads((pack / "snapshot.json").read_text(encoding="utf-8"))
    status = next(d for d in doc["datasets"] if d["name"] == "audit_events")
    how = status["extra"].get("collection", "full")
    print(
        f"{label}: {len(result.findings)} checks, {status['rows']} audit events ({how}), "
        f"pack {files} files, {size / 2**20:.1f} MiB"
    )
    print(
        "  "
        + ", ".join(f"{n} {k} files {b / 2**20:.1f} MiB" for n, (k, b) in pack_parts(pack).items())
    )
    for phase in ("collection", "checks", "execution", "rendering", "pdf", "sealing"):
        tree, parts = PHASE_PEAKS.get(phase, (0, {}))
        print(
            f"  {phase:<11} {result.timings.get(phase, 0.0):7.2f} s, tree peak "
            f"{tree / 2**20:5.0f} MiB ({breakdown(parts)})"
        )
    PHASE_PEAKS.clear()
    print(f"  {'total':<11} {wall:7.2f} s (wall)")
    print(
        f"  requests: {api} in all; audit trail {trail} (submit, polls, result pages), "
        f"every audit endpoint {every} (with the retention probe and the realtime counts)"
    )
    return trail, every


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=SimConfig().users)
    ap.add_argument("--events-per-day", type=int, default=SimConfig().audit_events_per_day)
    ap.add_argument("--no-pdf", action="store_true")
    ap.add_argument(
        "--rate-limit",
        type=int,
        default=SimConfig().rate_limit_per_minute,
        help="the simulator's requests a minute (default the real 300)",
    )
    ap.add_argument("--incremental", action="store_true", help="a second run a month later")
    ap.add_argument(
        "--keep", type=Path, help="write the packs into DIR/output and keep them (to profile)"
    )
    args = ap.parse_args()
    now = dt.datetime.now(dt.UTC) - dt.timedelta(days=31 if args.incremental else 0)
    cfg = SimConfig(
        users=args.users,
        audit_events_per_day=args.events_per_day,
        rate_limit_per_minute=args.rate_limit,
        now=now,
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("GENESYSCLOUD_")}
    watch_phases()
    sim = SimProcess(cfg)  # before any thread starts: it forks
    stop, peak = threading.Event(), [0, {}]
    sampler = threading.Thread(
        target=tree_rss_sampler, args=(stop, peak, frozenset({sim.pid})), daemon=True
    )
    sampler.start()
    started = time.perf_counter()
    print(
        f"demo: {args.users} users, {args.events_per_day} audit events/day, "
        f"rate limit {args.rate_limit}/min (the simulator in its own process, not measured)"
    )
    try:
        with contextlib.ExitStack() as stack:
            tmp = args.keep or stack.enter_context(
                tempfile.TemporaryDirectory(prefix="gcevidence-bench-")
            )
            Path(tmp).mkdir(parents=True, exist_ok=True)
            out = Path(tmp) / "output"
            params = bench_params(sim, out, Path(tmp) / "roster.csv", env)
            first = run_pipeline(params, out, env=env, pdf=not args.no_pdf)
            first_peak, first_parts = peak[0], peak[1]
            requests = [describe("first run", first, time.perf_counter() - started)]
            if args.incremental:
                changes = sim.call("advance_month")
                end = dt.date.fromisoformat(changes["now"][:10]) - dt.timedelta(days=1)
                later = dataclasses.replace(
                    params,
                    period=PeriodConfig(end, params.period.days),
                    hr_roster=sim.call("write_roster", Path(tmp) / "roster-next-month.csv"),
                )
                peak[0], peak[1], began = 0, {}, time.perf_counter()
                second = run_pipeline(later, out, env=env, pdf=not args.no_pdf)
                requests.append(describe("second run", second, time.perf_counter() - began))
    finally:
        sim.stop()
    stop.set()
    sampler.join()
    self_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"peak RSS of this process (the pipeline): {self_kib / 1024:.0f} MiB")
    if first_peak:
        print(
            f"peak PSS of the whole tree (sampled): first run {first_peak / 2**20:.0f} MiB "
            f"({breakdown(first_parts)})"
            + (
                f"; second run {peak[0] / 2**20:.0f} MiB ({breakdown(peak[1])})"
                if args.incremental
                else ""
            )
        )
    if len(requests) == 2:
        (t1, e1), (t2, e2) = requests
        print(
            f"incremental: the second run made {t2 / t1:.0%} of the first's audit-trail "
            f"requests ({t2} / {t1}) and {e2 / e1:.0%} of its audit endpoint requests "
            f"({e2} / {e1})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
