"""Memory and time of each working paper's cells, run in-process over one pack.

Usage: python bench/papers.py PACK_DIR [--notebook NAME ...] [--top N]

Each notebook runs in a child process of its own (as a kernel would): its code cells in order,
the parameters cell pointed at PACK_DIR and its params.yaml. Printed per notebook: the peak
RSS of the child, and the cells that raised it most (with their seconds). A sealed pack from
`bench/pipeline.py --keep DIR` is what a kernel of that size reads. The pack is only read.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import multiprocessing as mp
import resource
import sys
import time
from pathlib import Path

from gcevidence.catalog import load_catalog
from gcevidence.resources import NOTEBOOKS_DIR


def cells(name: str) -> list[str]:
    doc = json.loads((NOTEBOOKS_DIR / f"{name}.ipynb").read_text(encoding="utf-8"))
    return [
        "".join(c["source"])
        for c in doc["cells"]
        if c["cell_type"] == "code" and "parameters" not in c.get("metadata", {}).get("tags", [])
    ]


def run_cells(name: str, pack: str, conn) -> None:
    """Run one notebook's cells; send back [(cell, seconds, peak MiB after it)]."""
    namespace = {"run_dir": pack, "params_path": str(Path(pack) / "params.yaml")}
    rows = []
    for source in cells(name):
        began = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(source, name, "exec"), namespace)  # noqa: S102 - our own notebooks
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        rows.append((source.strip().splitlines()[-1][:70], time.perf_counter() - began, peak))
    conn.send(rows)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("pack", type=Path)
    ap.add_argument("--notebook", action="append", help="only these (default: every paper)")
    ap.add_argument("--top", type=int, default=6)
    args = ap.parse_args()
    catalog = load_catalog()
    names = args.notebook or [
        *(p.notebook for p in catalog.family_papers()),
        catalog.summary_paper.notebook,
    ]
    ctx = mp.get_context("spawn")  # a fresh interpreter, as a kernel is
    for name in names:
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=run_cells, args=(name, str(args.pack), child))
        proc.start()
        rows = parent.recv()
        proc.join()
        grown = []
        before = 0.0
        for cell, seconds, peak in rows:
            grown.append((peak - before, cell, seconds))
            before = peak
        total = sum(seconds for _, seconds, _ in rows)
        print(f"{name}: peak RSS {rows[-1][2]:.0f} MiB, {total:.1f} s in {len(rows)} cells")
        for mib, cell, seconds in sorted(grown, reverse=True)[: args.top]:
            print(f"  +{mib:6.0f} MiB {seconds:6.2f} s  {cell}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
