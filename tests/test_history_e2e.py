"""Three monthly packs over a simulated org that changes between them (real loopback HTTP).

Drift findings must match the simulator's planted changes exactly, and the trend frames must
cover all three packs.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from gcevidence import cli
from gcevidence.config import PeriodConfig
from gcevidence.exceptions_register import apply_register, load_register
from gcevidence.history import (
    find_previous_packs,
    history_points,
    people_changes,
    previous_snapshot,
    privileged_holders,
)
from gcevidence.oscal import read_assessment_results
from gcevidence.report.history_charts import history_html

simulator = pytest.importorskip("gcevidence.simulator")
if not hasattr(simulator, "Simulator"):
    pytest.skip("the simulator is not built yet", allow_module_level=True)

SMALL_ORG = {"seed": 23, "users": 120, "audit_events_per_day": 40, "audit_history_days": 400}


def _seal_direct(params, sim, out):
    """collect -> checks (with the previous pack) -> findings.json + OSCAL -> sealed pack."""
    from gcevidence.catalog import effective_thresholds
    from gcevidence.checks import CheckContext, run_checks
    from gcevidence.collect import collect
    from gcevidence.findings_files import findings_document
    from gcevidence.genesys import Credentials, GenesysClient
    from gcevidence.oscal import write_assessment_results
    from gcevidence.pack import PackBuilder
    from gcevidence.snapshot import dumps

    thresholds = effective_thresholds(params)
    client = GenesysClient(Credentials(sim.client_id, sim.client_secret), api_base_url=sim.base_url)
    with client, PackBuilder(out, params.period.end) as pb:
        snap = collect(params, client, pb.dir)
        org_id = snap.meta["org"]["id"]
        previous, info = previous_snapshot(out, org_id)
        findings = run_checks(
            CheckContext(
                snap,
                params,
                thresholds,
                today=params.period.end,
                previous=previous,
                previous_info=info,
            )
        )
        run = {
            "id": pb.run_id,
            "generated_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "period": params.period.stamps(),
            "org": snap.meta["org"],
            "baseline": params.baseline,
            "tool_version": "test",
        }
        doc = findings_document(run, snap, findings)
        (pb.dir / "findings.json").write_text(dumps(doc), encoding="utf-8")
        write_assessment_results(doc, pb.dir)
        pack = pb.seal({"org": snap.meta["org"]})
    return pack, {f.check: f for f in findings}, org_id


def _month_params(base, sim, tmp_path, changes: dict | None):
    """demo params moved to the simulator's current date, with this month's HR roster."""
    # The period ends on the last complete day before the simulator's `now`.
    end = (
        dt.date.fromisoformat(changes["now"][:10]) - dt.timedelta(days=1)
        if changes
        else base.period.end
    )
    roster = sim.write_roster(tmp_path / f"roster-{end}.csv")
    return dataclasses.replace(base, period=PeriodConfig(end, base.period.days), hr_roster=roster)


def _role_ids(pack):
    from gcevidence.snapshot import Snapshot

    roles = Snapshot(pack).table("roles")
    return dict(zip(roles["name"], roles["id"], strict=True))


def _expected(changes, role_ids, key):
    return {f"{u}/{role_ids[r]}/{d}" for u, r, d in changes[key]}


def test_three_monthly_packs_drift_matches_planted_changes(tmp_path):
    from gcevidence.demo import demo_params

    out = tmp_path / "output"
    env: dict[str, str] = {}
    with demo_params(out, simulator.SimConfig(**SMALL_ORG), env) as (base, sim):
        packs, results, months = [], [], []
        for month in range(3):
            if month:
                months.append(sim.advance_month())
            params = _month_params(base, sim, tmp_path, months[-1] if months else None)
            pack, findings, org_id = _seal_direct(params, sim, out)
            packs.append(pack)
            results.append(findings)

    first = results[0]["access.role_drift"]
    assert first.status == "not_evaluable"
    assert first.reason == "first run for this org: no earlier sealed pack to compare"
    assert results[0]["access.role_definition_drift"].reason == first.reason

    for month, changes in enumerate(months, start=1):
        drift = results[month]["access.role_drift"]
        role_ids = _role_ids(packs[month])
        role_ids.update(_role_ids(packs[month - 1]))
        unexplained = _expected(changes, role_ids, "unexplained_grants")
        assert len(unexplained) == 1
        assert drift.status == "fail", drift.reason
        assert {e.subject_id for e in drift.exceptions} == unexplained
        explained = {(c["change"], c["subject_id"]) for c in drift.extra["explained_changes"]}
        planted = {("added", s) for s in _expected(changes, role_ids, "grants")} | {
            ("removed", s) for s in _expected(changes, role_ids, "removals")
        }
        assert planted <= explained
        # anything else explained belongs to a hire or a leaver of that month
        movers = set(changes["hires"]) | set(changes["leavers"])
        assert {s.split("/")[0] for _, s in explained - planted} <= movers
        assert all(c["by"] and c["when"] for c in drift.extra["explained_changes"])
        # What roles permit: the logged change is explained, the unlogged one is the exception.
        definitions = results[month]["access.role_definition_drift"]
        (quiet_id, quiet_name, added, dropped), *_ = changes["unexplained_role_definitions"]
        assert definitions.status == "fail", definitions.reason
        assert [e.subject_id for e in definitions.exceptions] == [quiet_id]
        detail = definitions.exceptions[0].detail
        assert all(p in detail for p in added + dropped) and "no PeoplePermissions/Role" in detail
        logged = {c["role_id"]: c for c in definitions.extra["explained_changes"]}
        ((logged_id, _, logged_added, _),) = changes["role_definitions"]
        assert logged[logged_id]["added"] == logged_added
        assert logged[logged_id]["explained_by"] == "Update"

    # a risk acceptance for the unexplained grant (by name pattern) turns the finding to pass
    register_file = tmp_path / "register.yaml"
    register_file.write_text(
        "entries:\n  - check: access.role_drift\n    subject_pattern: '*: Telephony Admin in *'\n"
        "    reason: emergency change, ticket CHG-1\n    approved_by: CISO\n"
        f"    approved_on: {months[0]['now'][:10]}\n    expires: 2099-12-31\n"
    )
    [accepted] = apply_register(
        [results[1]["access.role_drift"]],
        load_register(register_file),
        dt.date.fromisoformat(months[0]["now"][:10]),
    )
    assert accepted.status == "pass"
    assert accepted.extra["exceptions_accepted"] == accepted.extra["exceptions_total"] == 1

    # the real run's OSCAL export is valid too (model and trestle's own validator)
    oscal = packs[-1] / "findings.oscal.json"
    assert read_assessment_results(oscal).results[0].findings
    proc = subprocess.run(
        [
            str(Path(sys.executable).with_name("trestle")),
            "partial-object-validate",
            "-f",
            str(oscal),
            "-e",
            "assessment-results",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr

    refs = find_previous_packs(out, org_id)
    assert [r.path for r in refs] == packs and all(r.verified for r in refs)
    points = history_points(out, org_id)
    assert len(points) == 3
    holders = privileged_holders(points, list(base.privileged_roles))
    assert len(holders) == 3 * len(base.privileged_roles)
    assert list(dict.fromkeys(holders["run_id"])) == [p.name for p in packs]
    page = history_html(points, points[-1].snapshot, list(base.privileged_roles))
    assert page.count("data:image/png;base64,") == 2
    assert all(p.name in page for p in packs)
    moved = people_changes(points)
    for month, changes in enumerate(months, start=1):
        step = moved[moved["to_run"] == packs[month].name]
        assert set(step[step["change"] == "appeared"]["user_id"]) == set(changes["hires"])
        assert set(step[step["change"] == "disappeared"]["user_id"]) == set(changes["leavers"])


@pytest.mark.slow
def test_three_demo_pipeline_runs_carry_drift_and_history(tmp_path):
    """The same story through run_pipeline (notebooks executed, no PDF)."""
    from gcevidence import pipeline
    from gcevidence.demo import demo_params

    out = tmp_path / "output"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GENESYSCLOUD_")}
    with demo_params(out, simulator.SimConfig(**SMALL_ORG), env) as (base, sim):
        results, months = [], []
        for month in range(3):
            if month:
                months.append(sim.advance_month())
            params = _month_params(base, sim, tmp_path, months[-1] if months else None)
            results.append(pipeline.run_pipeline(params, out, env=env, pdf=False))
            if month == 0:  # a manager completes the first pack's review: revoke one person
                review = _complete_a_review(results[0].pack_dir, tmp_path)
                assert cli.main(["review", "import", str(review), "--out", str(out)]) == 0
    drifts = [next(f for f in r.findings if f.check == "access.role_drift") for r in results]
    assert [d.status for d in drifts] == ["not_evaluable", "fail", "fail"]
    for drift, changes, result in zip(drifts[1:], months, results[1:], strict=True):
        role_ids = _role_ids(result.pack_dir)
        assert {e.subject_id for e in drift.exceptions} == _expected(
            changes, role_ids, "unexplained_grants"
        )
        assert (result.pack_dir / "findings.oscal.json").is_file()
    # the next packs carry the recorded decisions; the revocation was never carried out
    for result in results[1:]:
        assert list((result.pack_dir / "review").glob("previous-decisions-*.json"))
        assert list((result.pack_dir / "review").glob("access-review-*.xlsx"))
    assert (
        cli.main(
            [
                "review",
                "import",
                str(review),
                "--out",
                str(out),
                "--snapshot",
                str(results[-1].pack_dir),
            ]
        )
        == 1
    )


def _complete_a_review(pack, tmp_path):
    """Copy one manager's CSV review out of the pack and decide: revoke the first person."""
    source = sorted((pack / "review").glob("access-review-manager-*.csv"))[0]
    with source.open(encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    header = rows[0]
    for row in rows[1:]:
        row[header.index("decision")] = "revoke" if row is rows[1] else "keep"
        row[header.index("reviewer")] = "Manager"
        row[header.index("review_date")] = "2026-12-01"
    done = tmp_path / source.name
    with done.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    return done
