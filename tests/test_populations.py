"""Joiners, role changes, privileged grants and leavers as populations with their audit event
ids, and reproducible samples of them (against the simulator over loopback HTTP)."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from gcevidence.populations import build_populations
from gcevidence.samples import (
    AUDITOR_COLUMNS,
    REDRAW,
    SAMPLE_SIZES,
    draw,
    sample_seed,
    sample_size,
    write_samples,
)

DEMO = Path(__file__).resolve().parents[1] / "params" / "demo.yaml"
SIM_NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def collected(tmp_path_factory):
    """(params, snapshot, planted populations, named subjects) of a small simulated org."""
    from gcevidence.catalog import effective_thresholds
    from gcevidence.collect import collect
    from gcevidence.config import load_params
    from gcevidence.genesys import Credentials, GenesysClient
    from gcevidence.simulator import SimConfig, Simulator

    tmp = tmp_path_factory.mktemp("populations")
    cfg = SimConfig(seed=7, users=80, audit_events_per_day=20, now=SIM_NOW)
    with Simulator(cfg) as sim:
        doc = yaml.safe_load(DEMO.read_text(encoding="utf-8"))
        doc["org"] = {"api_base_url": sim.base_url}
        doc["hr"] = {**doc["hr"], "roster": str(sim.write_roster(tmp / "roster.csv"))}
        doc["output"] = {"dir": str(tmp / "out"), "formats": ["html"]}
        path = tmp / "params.yaml"
        path.write_text(yaml.safe_dump(doc), encoding="utf-8")
        params = load_params(path, today=sim.now.date())
        thresholds = effective_thresholds(params)
        client = GenesysClient(
            Credentials(sim.client_id, sim.client_secret), api_base_url=sim.base_url
        )
        with client:
            snapshot = collect(
                params, client, tmp / "run", thresholds["audit_retention_days"]["value"]
            )
        return params, snapshot, sim.planted_populations, dict(sim.org.named)


def test_each_population_holds_exactly_the_planted_items(collected):
    params, snapshot, planted, _ = collected
    populations = build_populations(snapshot, params)
    assert {name: sorted(set(p.ids)) for name, p in populations.items()} == planted
    assert all(populations[n].rows for n in planted), "the simulator planted every population"


def test_rows_cite_audit_events_of_the_period(collected):
    params, snapshot, _, named = collected
    events = snapshot.table("audit_events").set_index("id")
    populations = build_populations(snapshot, params)
    joiners = populations["joiners"]
    assert {r["user_id"] for r in joiners.rows} == {named["new_hire_1"], named["new_hire_2"]}
    for name in ("joiners", "role_changes", "privileged_grants"):
        for row in populations[name].rows:
            event = events.loc[row["event_id"]]
            assert event["event_date"] == row["event_date"]
            assert params.period.stamps()["start"] <= row["event_date"] <= "9"
            assert row["event_date"][:10] <= params.period.end.isoformat()
    grants = populations["privileged_grants"].rows
    assert {r["event_id"] for r in grants} >= {
        named["bad_grant_master_admin"],
        named["bad_grant_quality_evaluator"],
    }
    assert {r["privileged"] for r in grants} == {"declared"}
    joiner = next(r for r in joiners.rows if r["user_id"] == named["new_hire_1"])
    assert joiner["in_hr_roster"] == "yes" and joiner["employee_id"] and joiner["created_by"]
    leavers = {r["user_id"]: r for r in populations["leavers"].rows}
    slow = leavers[named["deprovision_slow_1"]]
    assert (
        slow["deactivation_event_id"] in events.index
        and float(slow["hours_after_termination_day_start"]) > 24
    )
    assert leavers[named["terminated_active_1"]]["deactivation_event_id"] == ""


def test_a_population_without_its_dataset_says_why(collected, tmp_path):
    import dataclasses

    params, snapshot, _, _ = collected
    no_roster = dataclasses.replace(params, hr_roster=None)
    snapshot.statuses["hr_roster"], saved = (
        dataclasses.replace(snapshot.statuses["hr_roster"], available=False, reason="x"),
        snapshot.statuses["hr_roster"],
    )
    try:
        leavers = build_populations(snapshot, no_roster)["leavers"]
    finally:
        snapshot.statuses["hr_roster"] = saved
    assert not leavers.available and "no HR roster (params hr.roster)" in leavers.reason
    doc = write_samples(tmp_path, {"leavers": leavers}, "run-1")
    assert doc["populations"]["leavers"] == {
        "available": False,
        "reason": leavers.reason,
        "title": leavers.title,
    }
    assert not (tmp_path / "samples" / "leavers.csv").exists()


@pytest.mark.parametrize(
    "size, expected",
    [(0, 0), (1, 1), (10, 10), (11, 10), (50, 10), (51, 25), (250, 25), (251, 40), (1000, 40)]
    + [(1001, 60), (50000, 60)],
)
def test_sample_sizes_follow_the_documented_table(size, expected):
    assert sample_size(size) == expected
    ids = [f"id-{i:05d}" for i in range(size)]
    assert len(draw(ids, "run", "joiners")) == expected
    assert SAMPLE_SIZES[0] == (10, None)  # small populations are tested in full


def test_the_same_run_id_draws_the_same_sample_and_another_run_another():
    ids = [f"e-{i:04d}" for i in range(400)]
    first = draw(ids, "213834Z-c8eb", "role_changes")
    assert first == draw(list(reversed(ids)), "213834Z-c8eb", "role_changes")
    assert len(first) == len(set(first)) == 40 and set(first) <= set(ids)
    assert first != draw(ids, "213835Z-aaaa", "role_changes")
    assert first != draw(ids, "213834Z-c8eb", "joiners")
    assert sample_seed("213834Z-c8eb", "role_changes") == int.from_bytes(
        hashlib.sha256(b"213834Z-c8eb/role_changes").digest()[:8], "big"
    )


def test_samples_are_written_with_seed_method_and_empty_auditor_columns(collected, tmp_path):
    params, snapshot, _, _ = collected
    populations = build_populations(snapshot, params)
    doc = write_samples(tmp_path, populations, "120000Z-abcd")
    (tmp_path / "again").mkdir()
    again = write_samples(tmp_path / "again", populations, "120000Z-abcd")
    assert doc == again
    side = json.loads((tmp_path / "samples" / "samples.json").read_text(encoding="utf-8"))
    assert side == doc and "random.Random(seed).sample" in side["method"]
    for name, pop in populations.items():
        entry = side["populations"][name]
        assert entry["seed"] == sample_seed("120000Z-abcd", name)
        assert entry["size"] == sample_size(len(set(pop.ids)))
        with (tmp_path / entry["sample_file"]).open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
        assert [r[pop.key] for r in rows if r["draw"]] == [
            s for s in entry["selected"] for r in rows if r[pop.key] == s
        ]
        assert {int(r["draw"]) for r in rows} == set(range(1, entry["size"] + 1))
        for r in rows:
            assert all(r[c] == "" for c in AUDITOR_COLUMNS)
        with (tmp_path / entry["population_file"]).open(encoding="utf-8", newline="") as fh:
            assert len(list(csv.DictReader(fh))) == len(pop.rows)
    readme = (tmp_path / "samples" / "README.txt").read_text(encoding="utf-8")
    assert "120000Z-abcd" in readme and "tested in full" in readme


def test_the_readme_recipe_redraws_every_sample(collected, tmp_path):
    params, snapshot, _, _ = collected
    write_samples(tmp_path, build_populations(snapshot, params), "120000Z-abcd")
    for name in ("joiners", "role_changes", "privileged_grants", "leavers"):
        script = REDRAW.replace('name = "role_changes"', f'name = "{name}"')
        done = subprocess.run(
            [sys.executable, "-I", "-c", script], cwd=tmp_path, capture_output=True, text=True
        )
        assert done.stdout.strip() == "True", done.stderr
    assert REDRAW.splitlines()[0] in (tmp_path / "samples" / "README.txt").read_text()


def test_the_papers_show_populations_with_event_ids_and_the_sample_plan(collected, tmp_path):
    from gcevidence import report
    from gcevidence.report.context import RunContext

    params, snapshot, _, named = collected
    write_samples(snapshot.root, build_populations(snapshot, params), "run-x")
    ctx = RunContext(snapshot.root, params, snapshot, [], {}, {"id": "run-x"})
    joiners = report.show_joiners(ctx).data
    assert "event_id" in joiners and named["new_hire_1"] in joiners
    grants = report.show_privileged_grants(ctx).data
    assert named["bad_grant_master_admin"] in grants
    assert "termination_date" in report.show_leavers(ctx).data
    assert "granted" in report.show_role_changes(ctx).data
    plan = report.show_sample_plan(ctx).data
    assert "every item (tested in full)" in plan and "samples/joiners.csv" in plan
    assert "the auditor may choose other sizes" in plan
    sample = report.show_sample(ctx, "privileged_grants").data
    assert "ticket_reference" in sample and "tested_by" in sample


def test_a_packs_papers_read_its_populations_without_loading_the_snapshot(collected):
    """In a pack the kernels show the populations the pipeline wrote: the same rows, and not
    one table (users, grants, audit events) read again to show them."""
    from gcevidence import report
    from gcevidence.report.context import RunContext
    from gcevidence.report.populations import run_populations
    from gcevidence.snapshot import Snapshot

    params, snapshot, _, _ = collected
    built = build_populations(snapshot, params)
    write_samples(snapshot.root, built, "run-y")
    fresh = Snapshot(snapshot.root)
    ctx = RunContext(snapshot.root, params, fresh, [], {}, {"id": "run-y"})
    for show in (report.show_joiners, report.show_role_changes, report.show_leavers):
        show(ctx)
    report.show_privileged_grants(ctx)
    report.show_sample_plan(ctx)
    report.chart_role_grants(ctx)
    assert fresh._cache == {}  # noqa: SLF001 - nothing was read from the snapshot
    shown = run_populations(ctx)
    assert set(shown) == set(built)
    for name, pop in built.items():
        assert shown[name].available == pop.available, name
        assert list(shown[name].rows) == [dict(r) for r in pop.rows], name
        assert (shown[name].key, shown[name].columns) == (pop.key, pop.columns), name


def test_the_documented_size_table_is_the_one_the_code_uses():
    from gcevidence.samples import size_table

    doc = (Path(__file__).resolve().parents[1] / "docs" / "evidence-pack.md").read_text()
    section = doc.split("| population size | sample size |\n|---|---|\n", 1)[1].split("\n\n")[0]
    rows = [tuple(c.strip() for c in line.strip("|").split("|")) for line in section.splitlines()]
    assert rows == size_table()
