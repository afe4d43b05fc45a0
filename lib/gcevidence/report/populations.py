"""Working-paper sections for the populations auditors test against tickets, and their samples.

`show_joiners(ctx)`, `show_role_changes(ctx)`, `show_privileged_grants(ctx)`,
`show_leavers(ctx)` show a population with the audit event ids each row rests on;
`show_sample_plan(ctx)` the sampling method, the default size table and each population's
sample; `show_sample(ctx, name)` the sampled rows. In a pack they read what the pipeline wrote
(populations/, samples/); a notebook run on its own builds them from its snapshot.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pandas as pd
from IPython.display import HTML

from gcevidence.csvsafe import unguard
from gcevidence.populations import (
    CHANGE_OF_ACTION,
    JOINERS,
    LEAVERS,
    PRIVILEGED_GRANTS,
    ROLE_CHANGES,
    Population,
    build_populations,
)
from gcevidence.report.context import RunContext
from gcevidence.report.html import esc, table
from gcevidence.samples import METHOD, SAMPLES_DIR, SIDECAR, size_table, take_sample

SHOWN_ROWS = 250  # rows shown in a paper; the CSV in the pack holds every one
# Rows of a population printed on paper: its sample is printed whole, and the population is in
# its CSV; printing hundreds of rows would only make Chromium heavier (report.html.table).
PRINTED_POPULATION_ROWS = 20


def _read_csv(path: Path) -> list[dict[str, str]]:
    return _read_table(path)[1]


def _read_table(path: Path) -> tuple[tuple[str, ...], list[dict[str, str]]]:
    """(header, rows) of a CSV the pack wrote, the CSV-injection guard undone."""
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        rows = [{k: unguard(v) for k, v in row.items()} for row in reader]
        return tuple(reader.fieldnames or ()), rows


def _sidecar(ctx: RunContext) -> dict[str, Any]:
    path = ctx.run_dir / SAMPLES_DIR / SIDECAR
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def run_populations(ctx: RunContext) -> dict[str, Population]:
    """The run's populations: as written to the pack (read once a kernel), else built from the
    snapshot (a notebook run on its own).

    A pack's populations are read from populations/ and samples.json alone: a kernel of a large
    org never loads the users, the grants and the audit trail again to show them.
    """
    if "populations" not in ctx.memo:
        entries = _sidecar(ctx).get("populations")
        written = _written_populations(ctx, entries) if entries else None
        ctx.memo["populations"] = written or build_populations(ctx.snapshot, ctx.params)
    return ctx.memo["populations"]


def has_written_populations(ctx: Any) -> bool:
    """Whether the run folder holds its populations (samples.json lists them)."""
    return bool(_sidecar(ctx).get("populations"))


def _written_populations(ctx: RunContext, entries: dict[str, Any]) -> dict[str, Population] | None:
    """The populations samples.json lists, from their files (None when one is missing)."""
    out = {}
    for name, entry in entries.items():
        title = str(entry.get("title", name))
        if not entry.get("available"):
            out[name] = Population(name, title, "", (), (), False, str(entry.get("reason", "")))
            continue
        file = ctx.run_dir / str(entry.get("population_file", ""))
        if not file.is_file():
            return None
        columns, rows = _read_table(file)
        key = str(entry.get("key", ""))
        built = str(entry.get("built_from", ""))
        out[name] = Population(name, title, key, columns, tuple(rows), True, "", built)
    return out


def role_change_events(pop: Population) -> pd.DataFrame:
    """The period's successful role grants and removals (event_date, action: MemberAdd or
    MemberRemove), as the role_changes population lists them."""
    if not pop.available or not pop.rows:
        return pd.DataFrame(columns=["event_date", "action"])
    frame = pd.DataFrame(list(pop.rows), columns=list(pop.columns))
    action = frame["change"].map({change: action for action, change in CHANGE_OF_ACTION.items()})
    return pd.DataFrame({"event_date": frame["event_date"], "action": action}).dropna()


def population_html(pop: Population, where: str = "") -> str:
    """A population as a table: every row up to SHOWN_ROWS, the count, where the rest is."""
    if not pop.available:
        return f'<p class="gce-note">{esc(pop.title)}: NOT AVAILABLE: {esc(pop.reason)}</p>'
    shown = pop.rows[:SHOWN_ROWS]
    caption = f"{pop.title}: {len(pop.rows)} row(s)"
    if len(pop.rows) > len(shown):
        caption += f", the first {len(shown)} shown; all are in {where or 'the pack'}"
    note = f'<p class="gce-note">Built from {esc(pop.built_from)}.</p>' if pop.built_from else ""
    return note + table(
        pop.columns,
        ([r.get(c, "") for c in pop.columns] for r in shown),
        caption=caption,
        elsewhere=f"{where or 'the pack'} holds the whole population",
        printed=PRINTED_POPULATION_ROWS,
    )


def _show(ctx: RunContext, name: str) -> HTML:
    pop = run_populations(ctx)[name]
    return HTML(population_html(pop, f"populations/{name}.csv"))


def show_joiners(ctx: RunContext) -> HTML:
    """Users created in the period, each with the Directory / User / Create event id."""
    return _show(ctx, JOINERS)


def show_role_changes(ctx: RunContext) -> HTML:
    """Role grants and removals of the period, each with its PeoplePermissions event id."""
    return _show(ctx, ROLE_CHANGES)


def show_privileged_grants(ctx: RunContext) -> HTML:
    """Grants of declared or administrative privileged roles in the period."""
    return _show(ctx, PRIVILEGED_GRANTS)


def show_leavers(ctx: RunContext) -> HTML:
    """Leavers of the period, each with the event that took their user out of service."""
    return _show(ctx, LEAVERS)


def sample_rows(ctx: RunContext) -> list[tuple]:
    """(population, size, sample, seed, file) per population, as written or re-drawn."""
    entries = _sidecar(ctx).get("populations") or {}
    rows = []
    for name, pop in run_populations(ctx).items():
        entry = entries.get(name)
        if not pop.available:
            rows.append((name, "not available", pop.reason, "", ""))
            continue
        if entry is None:  # a notebook run on its own: draw as the pipeline would
            s = take_sample(pop, ctx.run.get("id") or ctx.run_dir.name)
            entry = {"population_size": s.population_size, "size": s.size, "seed": s.seed}
            entry["sample_file"] = "(not written: standalone run)"
        full = " (tested in full)" if entry["size"] == entry["population_size"] else ""
        rows.append(
            (
                name,
                entry["population_size"],
                f"{entry['size']}{full}",
                entry["seed"],
                entry.get("sample_file", ""),
            )
        )
    return rows


def show_sample_plan(ctx: RunContext) -> HTML:
    """The selection method, the default size table and each population's sample."""
    method = (
        f"Selection: {METHOD}. The size table is this toolkit's default, not a standard's; "
        "the auditor may choose other sizes and draw again the same way (samples/README.txt)."
    )
    sizes = table(("population size", "sample size"), size_table(), caption="Default sample sizes")
    plan = table(
        ("population", "items", "sample", "seed", "sample file"),
        sample_rows(ctx),
        caption="Samples of this run",
    )
    return HTML(f'<p class="gce-note">{esc(method)}</p>{sizes}{plan}')


def show_sample(ctx: RunContext, name: str) -> HTML:
    """The sampled rows of one population, ready for ticket matching."""
    path = ctx.run_dir / SAMPLES_DIR / f"{name}.csv"
    if not path.is_file():
        pop = run_populations(ctx).get(name)
        why = pop.reason if pop is not None and not pop.available else "no sample written"
        return HTML(f'<p class="gce-note">Sample of {esc(name)}: {esc(why)}</p>')
    rows = _read_csv(path)
    columns = list(rows[0]) if rows else ["draw"]
    return HTML(
        table(
            columns,
            ([r.get(c, "") for c in columns] for r in rows),
            caption=f"Sample of {name}: {len(rows)} row(s), file samples/{name}.csv",
        )
    )
