"""Wall time of a `gcevidence demo` run, split into phases, and its peak memory.

Usage: python bench/pipeline.py [--users N] [--events-per-day N] [--no-pdf]
Peak memory is reported two ways: the largest resident set of this process and of any one
child (getrusage), and the peak PSS of the whole process tree (sampled every 0.2 s).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

from gcevidence.demo import run_demo
from gcevidence.simulator import SimConfig


def tree_rss_sampler(stop: threading.Event, peak: list[int]) -> None:
    try:
        import psutil
    except ImportError:
        return
    me = psutil.Process()
    while not stop.is_set():
        total = 0
        for proc in [me, *me.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):  # a child may exit while we look
                # PSS splits shared pages (Chromium's many processes) instead of counting
                # them once per process as RSS does.
                info = proc.memory_full_info()
                total += getattr(info, "pss", info.rss)
        peak[0] = max(peak[0], total)
        stop.wait(0.2)


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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=SimConfig().users)
    ap.add_argument("--events-per-day", type=int, default=SimConfig().audit_events_per_day)
    ap.add_argument("--no-pdf", action="store_true")
    args = ap.parse_args()
    cfg = SimConfig(users=args.users, audit_events_per_day=args.events_per_day)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GENESYSCLOUD_")}
    stop, peak = threading.Event(), [0]
    sampler = threading.Thread(target=tree_rss_sampler, args=(stop, peak), daemon=True)
    sampler.start()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="gcevidence-bench-") as out:
        result = run_demo(Path(out), pdf=not args.no_pdf, sim_config=cfg, env=env)
        files = sum(1 for p in result.pack_dir.rglob("*") if p.is_file())
        size = sum(p.stat().st_size for p in result.pack_dir.rglob("*") if p.is_file())
        parts = pack_parts(result.pack_dir)
    total = time.perf_counter() - started
    stop.set()
    sampler.join()
    self_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(
        f"demo: {args.users} users, {args.events_per_day} audit events/day, "
        f"{len(result.findings)} checks, pack {files} files, {size / 2**20:.1f} MiB"
    )
    print(
        "  " + ", ".join(f"{name} {n} files {b / 2**20:.1f} MiB" for name, (n, b) in parts.items())
    )
    for phase in ("collection", "checks", "execution", "rendering", "pdf", "sealing"):
        print(f"  {phase:<11} {result.timings.get(phase, 0.0):7.2f} s")
    print(f"  {'total':<11} {total:7.2f} s (wall, including simulator start-up)")
    print(
        f"peak RSS: this process {self_kib / 1024:.0f} MiB, largest child "
        f"{child_kib / 1024:.0f} MiB"
        + (f", whole tree PSS (sampled) {peak[0] / 2**20:.0f} MiB" if peak[0] else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
