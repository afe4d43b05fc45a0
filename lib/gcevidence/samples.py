"""Reproducible samples of the populations an auditor tests against tickets.

Each population (gcevidence.populations) is written in full to `populations/<name>.csv`, and a
sample of it to `samples/<name>.csv`: one row per sampled item with the fields needed to find
its ticket, and empty `ticket_reference`, `tested_by`, `tested_on`, `result` and `comment`
columns for the auditor. `samples/samples.json` records, per population, the seed, the size,
the method and the ids drawn; `samples/README.txt` says how to draw the same sample again.

Method: simple random sampling without replacement over the population's distinct ids sorted
in ascending order, with Python's `random.Random(seed).sample(ids, size)`; the seed is the first
8 bytes (big-endian) of SHA-256 of "<run id>/<population name>". The size comes from
SAMPLE_SIZES, this toolkit's default by population size (small populations are tested in
full); the auditor may choose another size and draw again the same way.
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gcevidence.csvsafe import guard
from gcevidence.populations import Population

POPULATIONS_DIR = "populations"
SAMPLES_DIR = "samples"
SIDECAR = "samples.json"
SCHEMA = "gcevidence.samples/1"
# (largest population size of the band, sample size; None = every item): the toolkit's default.
SAMPLE_SIZES: tuple[tuple[int | None, int | None], ...] = (
    (10, None),
    (50, 10),
    (250, 25),
    (1000, 40),
    (None, 60),
)
AUDITOR_COLUMNS = ("ticket_reference", "tested_by", "tested_on", "result", "comment")
METHOD = (
    "simple random sampling without replacement over the population's distinct ids sorted in "
    "ascending order: random.Random(seed).sample(ids, size) (Python); seed = first 8 bytes, "
    "big-endian, of SHA-256 of '<run id>/<population>'; size from the toolkit's default table "
    "by population size (the auditor's to adjust)"
)


def sample_size(population_size: int) -> int:
    """How many items the default table samples from a population of this size."""
    for upper, size in SAMPLE_SIZES:
        if upper is None or population_size <= upper:
            return population_size if size is None else min(size, population_size)
    return population_size  # unreachable: the last band has no upper bound


def size_table() -> list[tuple[str, str]]:
    """The default table in words: (population size, sample size)."""
    rows, lower = [], 1
    for upper, size in SAMPLE_SIZES:
        band = f"{lower}–{upper}" if upper is not None else f"more than {lower - 1}"
        rows.append((band, "every item (tested in full)" if size is None else str(size)))
        lower = (upper or 0) + 1
    return rows


def sample_seed(run_id: str, population: str) -> int:
    """The seed of one population's sample: reproducible from the run id and the name."""
    digest = hashlib.sha256(f"{run_id}/{population}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def draw(ids: Iterable[str], run_id: str, population: str, size: int | None = None) -> list[str]:
    """The ids drawn, in draw order; `size` defaults to the table's."""
    keys = sorted(set(ids))
    k = sample_size(len(keys)) if size is None else min(size, len(keys))
    return random.Random(sample_seed(run_id, population)).sample(keys, k)


@dataclass(frozen=True)
class Sample:
    """One population's sample: what was drawn and from what."""

    population: str
    seed: int
    population_size: int  # distinct ids
    size: int
    ids: tuple[str, ...]  # in draw order


def take_sample(pop: Population, run_id: str) -> Sample:
    ids = draw(pop.ids, run_id, pop.name)
    return Sample(pop.name, sample_seed(run_id, pop.name), len(set(pop.ids)), len(ids), tuple(ids))


def _write_csv(path: Path, columns: Iterable[str], rows: Iterable[Iterable[Any]]) -> str:
    """Write a guarded CSV; returns its sha256."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(list(columns))
        for row in rows:
            writer.writerow([guard("" if v is None else str(v)) for v in row])
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def write_samples(run_dir: Path, populations: dict[str, Population], run_id: str) -> dict:
    """populations/<name>.csv, samples/<name>.csv, samples.json and README.txt; returns the
    sidecar document."""
    run_dir = Path(run_dir)
    (run_dir / POPULATIONS_DIR).mkdir(exist_ok=True)
    (run_dir / SAMPLES_DIR).mkdir(exist_ok=True)
    entries: dict[str, Any] = {}
    for name, pop in populations.items():
        if not pop.available:
            entries[name] = {"available": False, "reason": pop.reason, "title": pop.title}
            continue
        pop_rel = f"{POPULATIONS_DIR}/{name}.csv"
        pop_digest = _write_csv(
            run_dir / pop_rel, pop.columns, ([r[c] for c in pop.columns] for r in pop.rows)
        )
        sample = take_sample(pop, run_id)
        order = {sid: i for i, sid in enumerate(sample.ids, 1)}
        chosen = sorted(
            (r for r in pop.rows if r[pop.key] in order), key=lambda r: order[r[pop.key]]
        )
        sample_rel = f"{SAMPLES_DIR}/{name}.csv"
        _write_csv(
            run_dir / sample_rel,
            ("draw", *pop.columns, *AUDITOR_COLUMNS),
            (
                [order[r[pop.key]], *(r[c] for c in pop.columns), *("",) * len(AUDITOR_COLUMNS)]
                for r in chosen
            ),
        )
        entries[name] = {
            "available": True,
            "title": pop.title,
            "built_from": pop.built_from,
            "population_file": pop_rel,
            "population_sha256": pop_digest,
            "population_rows": len(pop.rows),
            "key": pop.key,
            "population_size": sample.population_size,
            "seed": sample.seed,
            "seed_input": f"{run_id}/{name}",
            "size": sample.size,
            "tested_in_full": sample.size == sample.population_size,
            "sample_file": sample_rel,
            "selected": list(sample.ids),
        }
    doc = {
        "schema": SCHEMA,
        "run_id": run_id,
        "method": METHOD,
        "size_table": [{"population": a, "sample": b} for a, b in size_table()],
        "populations": entries,
    }
    (run_dir / SAMPLES_DIR / SIDECAR).write_text(
        json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8"
    )
    (run_dir / SAMPLES_DIR / "README.txt").write_text(readme(run_id, entries), encoding="utf-8")
    return doc


# How to draw one population's sample again (standard library only; quoted in README.txt).
REDRAW = """\
import csv, hashlib, json, random
name = "role_changes"  # or joiners, privileged_grants, leavers
meta = json.load(open("samples/samples.json", encoding="utf-8"))["populations"][name]
size = meta["size"]  # or the size you choose
unguard = lambda v: v[1:] if v.startswith("'") else v  # the CSV formula guard
with open(meta["population_file"], encoding="utf-8", newline="") as fh:
    ids = sorted({unguard(row[meta["key"]]) for row in csv.DictReader(fh)})
seed = int.from_bytes(hashlib.sha256(meta["seed_input"].encode()).digest()[:8], "big")
print(random.Random(seed).sample(ids, size) == meta["selected"])
"""


def readme(run_id: str, entries: dict[str, Any]) -> str:
    """samples/README.txt: what the files are and how to draw each sample again."""
    table = "\n".join(f"  {a:<22} {b}" for a, b in size_table())
    lines = [
        f"Samples of run {run_id}: populations an auditor tests against tickets.",
        "",
        "Each samples/<population>.csv holds the sampled items of populations/<population>.csv",
        "in draw order, with empty ticket_reference, tested_by, tested_on, result and comment",
        "columns to fill in while matching each item to its ticket or approval.",
        "",
        f"Method: {METHOD}.",
        "",
        "Default sample size by population size (this toolkit's default, not a standard's;",
        "the auditor's to adjust):",
        table,
        "",
        "To draw a sample again (Python 3, standard library only), run this from the pack",
        "folder; it prints True when the draw matches samples.json:",
        "",
        *(f"  {line}" for line in REDRAW.splitlines()),
        "",
        "A cell that began with = + - @ or ' carries one more leading ' in the CSV files (a",
        "guard against spreadsheet formulas); `unguard` above removes it.",
        "",
        "Populations:",
    ]
    for name, e in entries.items():
        if e.get("available"):
            lines.append(
                f"  {name}: {e['population_size']} item(s), sample {e['size']}"
                + (" (tested in full)" if e["tested_in_full"] else "")
                + f", seed {e['seed']}"
            )
        else:
            lines.append(f"  {name}: not available ({e['reason']})")
    return "\n".join(lines) + "\n"
