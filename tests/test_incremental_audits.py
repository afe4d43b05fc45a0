"""Incremental audit collection over three simulated months (real loopback HTTP).

Each month's pack takes the days the previous pack holds and queries only the rest, from one
overlap day; a full collection of the same month must give the same findings, every check and
every exception, with far fewer audit requests.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import shutil
from pathlib import Path
from types import SimpleNamespace

from gcevidence.audit_reuse import FULL_REQUESTED
from gcevidence.catalog import effective_thresholds
from gcevidence.checks import CheckContext, run_checks
from gcevidence.collect import collect
from gcevidence.config import AuditConfig, PeriodConfig
from gcevidence.findings_files import findings_document
from gcevidence.genesys import Credentials, GenesysClient
from gcevidence.history import previous_snapshot
from gcevidence.pack import PackBuilder
from gcevidence.rederive import differences, rederive
from gcevidence.report.audit_days import show_audit_provenance
from gcevidence.simulator import SimConfig
from gcevidence.snapshot import Snapshot, dumps

# Three months on, the simulator's clock must still be behind the wall clock: the realtime
# count reconciles up to the earlier of the two.
SMALL_ORG = {
    "seed": 29,
    "users": 120,
    "audit_events_per_day": 60,
    "rate_limit_per_minute": 6000,
    "now": dt.datetime(2026, 5, 20, 12, 0, tzinfo=dt.UTC),
}


def _seal(params, sim, out: Path, *, full: bool = False):
    """collect (taking audit days from the previous pack unless `full`) -> checks -> seal."""
    thresholds = effective_thresholds(params)
    client = GenesysClient(Credentials(sim.client_id, sim.client_secret), api_base_url=sim.base_url)
    found = {}

    def previous(org_id):
        if org_id not in found:
            found[org_id] = previous_snapshot(out, org_id)
        return found[org_id]

    with client, PackBuilder(out, params.period.end) as pb:
        client.log.attach(pb.dir / "requests.jsonl")
        snap = collect(params, client, pb.dir, previous=previous, full=full)
        client.log.close()
        org_id = snap.meta["org"]["id"]
        before, info = previous(org_id)
        findings = run_checks(
            CheckContext(
                snap,
                params,
                thresholds,
                today=params.period.end,
                previous=before,
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
        (pb.dir / "findings.json").write_text(
            dumps(findings_document(run, snap, findings)), encoding="utf-8"
        )
        pack = pb.seal({"org": snap.meta["org"]})
    return pack, findings


def _audit_requests(pack: Path) -> int:
    """The requests that read the period's audit trail: submit, status polls, result pages."""
    return Snapshot(pack).status("audit_events").requests


def _all_audit_requests(pack: Path) -> int:
    """Every audit call, the retention probe and the realtime counts (the same every run) too."""
    lines = (json.loads(x) for x in (pack / "requests.jsonl").read_text().splitlines())
    return sum(1 for e in lines if e["path"].startswith("/api/v2/audits/"))


def _comparable(findings) -> dict:
    """Each check's status and every exception; the reason too, except where it counts queries.

    The drift checks name the moments the packs were collected (on our clock, not the
    simulator's): those differ between any two runs and are masked.
    """
    today = dt.datetime.now(dt.UTC).date()
    ours = re.compile(
        "|".join(f"{d} \\d\\d:\\d\\d UTC" for d in (today, today - dt.timedelta(days=1)))
    )

    def text(value: str) -> str:
        return ours.sub("<collected>", value)

    return {
        f.check: (
            f.status,
            f.population if f.check != "logging.audit_completeness" else None,
            text(f.reason) if f.check != "logging.audit_completeness" else None,
            sorted((e.subject_type, e.subject_id, text(e.detail)) for e in f.exceptions),
        )
        for f in findings
    }


def _days(pack: Path) -> list[dict]:
    return Snapshot(pack).table("audit_days").to_dict("records")


def test_incremental_months_match_a_full_collection(tmp_path):
    from gcevidence.demo import demo_params

    out = tmp_path / "output"
    with demo_params(out, SimConfig(**SMALL_ORG), {}) as (base, sim):
        # One window of queries covers a month and its overlap day.
        audit = dataclasses.replace(base.audit, max_interval_days=31)
        packs = []
        for month in range(3):
            now = sim.advance_month()["now"] if month else sim.now.isoformat()
            end = dt.date.fromisoformat(now[:10]) - dt.timedelta(days=1)
            params = dataclasses.replace(
                base,
                period=PeriodConfig(end, 90),
                audit=audit,
                hr_roster=sim.write_roster(tmp_path / f"roster-{month}.csv"),
            )
            if month == 2:  # the same month collected in full, beside the same earlier packs
                shutil.copytree(out, tmp_path / "full")
                full_pack, full_findings = _seal(params, sim, tmp_path / "full", full=True)
            packs.append(_seal(params, sim, out))

    (first, _), (second, _), (third, third_findings) = packs
    assert _comparable(third_findings) == _comparable(full_findings)
    assert Snapshot(third).table("audit_events").equals(Snapshot(full_pack).table("audit_events"))

    # The second run asks for at most 40% of the first's audit requests.
    ratio = _audit_requests(second) / _audit_requests(first)
    assert ratio <= 0.40, ratio
    assert _audit_requests(third) / _audit_requests(full_pack) <= 0.40
    assert _all_audit_requests(third) < 0.7 * _all_audit_requests(full_pack)

    # Provenance: per day, the API or the pack (its run id and content digest).
    status = Snapshot(third).status("audit_events")
    manifest = json.loads((second / "manifest.json").read_text())
    assert status.extra["collection"] == "incremental"
    taken = status.extra["from_pack"]
    assert (taken["run_id"], taken["content_digest"]) == (second.name, manifest["content_digest"])
    days = _days(third)
    assert len(days) == 90
    from_pack = [d for d in days if d["source"] == "pack"]
    assert {(d["pack_run_id"], d["pack_content_digest"]) for d in from_pack} == {
        (second.name, manifest["content_digest"])
    }
    seam = next(d for d in days if d["overlap"])
    assert seam["source"] == "api" and seam["day"] == taken["overlap_day"]
    assert "the same ids as pack" in seam["overlap"]
    assert [d["day"] for d in from_pack] == [d["day"] for d in days[: len(from_pack)]]
    assert 55 <= len(from_pack) <= 60  # two months from the pack; the last month queried
    full_days = _days(full_pack)
    assert {d["source"] for d in full_days} == {"api"}
    assert [(d["day"], d["events"]) for d in full_days] == [(d["day"], d["events"]) for d in days]
    full_status = Snapshot(full_pack).status("audit_events")
    assert full_status.extra["full_reason"] == FULL_REQUESTED
    first_status = Snapshot(first).status("audit_events")
    assert first_status.extra["collection"] == "full"
    assert first_status.extra["full_reason"].startswith("first run for this org")
    # The queried days re-derive from the pack's own stored answers; the rest are the pack's.
    assert _rederived_days(third) == {
        d["day"] for d in days if d["source"] == "api" and int(d["events"])
    }
    assert differences(third) == []  # every other dataset re-derives as well
    # The A12 paper says where the days came from; the completeness check says so too.
    shown = show_audit_provenance(SimpleNamespace(snapshot=Snapshot(third))).data
    assert f"taken from pack {taken['pack']}" in shown and manifest["content_digest"] in shown
    assert f"{from_pack[0]['day']} to {from_pack[-1]['day']}" in shown
    assert "Every day of the period was read from the API (a full collection was requested" in (
        show_audit_provenance(SimpleNamespace(snapshot=Snapshot(full_pack))).data
    )
    completeness = next(f for f in third_findings if f.check == "logging.audit_completeness")
    assert completeness.status == "pass"
    assert f"copied from pack {taken['pack']}" in completeness.reason


def _rederived_days(pack: Path) -> set[str]:
    """The days whose audit_events rows are exactly what the pack's stored answers re-derive."""
    rows = Snapshot(pack).table("audit_events")
    derived = rederive(pack, "audit_events")
    queried = rows[rows["event_date"].str[:10] >= min(r["event_date"][:10] for r in derived)]
    assert [tuple(r.values()) for r in queried.to_dict("records")] == [
        tuple(str(v) for v in r.values()) for r in derived
    ]
    return {r["event_date"][:10] for r in derived}


def _late_event(sim, day: dt.date) -> None:
    """An event of `day` that reaches the audit trail only after the pack of that day sealed."""
    from gcevidence.simulator.audit import Event

    when = dt.datetime.combine(day, dt.time(12, 0), tzinfo=dt.UTC)
    user = next(iter(sim.org.users))
    with sim.lock:
        sim.org.audit.add(
            Event(
                when, "late-event-1", "PeoplePermissions", "AccessToken", "Create", user, "", user
            )
        )


def test_overlap_mismatch_falls_back_to_a_full_query(tmp_path):
    from gcevidence.demo import demo_params

    out = tmp_path / "output"
    with demo_params(out, SimConfig(**SMALL_ORG), {}) as (base, sim):
        audit = AuditConfig(base.audit.services, 31, base.audit.query_timeout_seconds)
        params = dataclasses.replace(base, audit=audit)
        first, _ = _seal(params, sim, out)
        sim.advance_month()
        end = params.period.end + dt.timedelta(days=30)
        params = dataclasses.replace(
            params,
            period=PeriodConfig(end, 90),
            hr_roster=sim.write_roster(tmp_path / "roster-1.csv"),
        )
        seam = end - dt.timedelta(days=30)
        _late_event(sim, seam)
        second, findings = _seal(params, sim, out)
    status = Snapshot(second).status("audit_events")
    assert status.extra["collection"] == "full"
    assert status.extra["full_reason"].startswith(f"the overlap day {seam} does not match pack")
    assert {d["source"] for d in _days(second)} == {"api"}
    assert status.complete and _rederived_days(second) == {
        d["day"] for d in _days(second) if int(d["events"])
    }


def test_full_is_an_option_of_run():
    from gcevidence.cli import build_parser

    argv = ["run", "--params", "p.yaml", "--full"]
    assert build_parser(argv).parse_args(argv).full is True
    assert build_parser(argv[:3]).parse_args(argv[:3]).full is False


def test_day_spans_fold_consecutive_days_of_one_source():
    from gcevidence.audit_reuse import DaySpan, day_spans

    rows = [
        {
            "day": "2026-01-01",
            "events": "3",
            "source": "pack",
            "pack_run_id": "r1",
            "pack_content_digest": "d1",
        },
        {
            "day": "2026-01-02",
            "events": "0",
            "source": "pack",
            "pack_run_id": "r1",
            "pack_content_digest": "d1",
        },
        {
            "day": "2026-01-03",
            "events": "5",
            "source": "api",
            "pack_run_id": "",
            "pack_content_digest": "",
        },
    ]
    assert day_spans(rows) == [
        DaySpan("2026-01-01", "2026-01-02", 2, 3, "pack", "r1", "d1"),
        DaySpan("2026-01-03", "2026-01-03", 1, 5, "api", "", ""),
    ]
