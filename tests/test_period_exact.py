"""The period is exact: `period.days` whole UTC days ending on the last complete day.

A run just after midnight collects from a simulator whose clock reads 00:00:30Z; events planted
on the first second (00:00:00Z) of the first day and on the last second (23:59:59Z) of the last
day count, the seconds just outside do not, and the simulator's ground truth agrees.
"""

from __future__ import annotations

import datetime as dt

import pytest
from gcevidence.config import load_params

JUST_AFTER_MIDNIGHT = dt.datetime(2026, 11, 27, 0, 0, 30, tzinfo=dt.UTC)
DAYS = 3  # 2026-11-24, 25 and 26


def _at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from gcevidence.catalog import effective_thresholds
    from gcevidence.checks import CheckContext, run_checks
    from gcevidence.collect import collect
    from gcevidence.genesys import Credentials, GenesysClient
    from gcevidence.simulator import SimConfig, Simulator
    from gcevidence.simulator.planted import DEMO_POLICY, compute_planted

    tmp = tmp_path_factory.mktemp("exact")
    cfg = SimConfig(seed=11, users=60, audit_events_per_day=20, now=JUST_AFTER_MIDNIGHT)
    with Simulator(cfg) as sim:
        org, n = sim.org, sim.org.named
        grants = {}
        # Master Admin granted by the telephony engineer, who may not grant it: an exception
        # whenever the grant falls inside the period.
        for stamp in (
            "2026-11-23T23:59:59Z",
            "2026-11-24T00:00:00Z",
            "2026-11-26T23:59:59Z",
            "2026-11-27T00:00:00Z",
        ):
            event = org.member_event(
                _at(stamp), "MemberAdd", n["it_contractor"], "Master Admin", n["telephony_engineer"]
            )
            grants[stamp] = event.id
        roster = sim.write_roster(tmp / "roster.csv")
        params_file = tmp / "params.yaml"
        params_file.write_text(
            f"org: {{api_base_url: '{sim.base_url}'}}\n"
            f"period: {{days: {DAYS}}}\n"
            f"hr: {{roster: {roster}}}\n"
            "privileged_roles: {Master Admin: {allowed_granters: [GC-Platform-Admins]},\n"
            "  Quality Evaluator: {allowed_granters: [GC-Platform-Admins, QA Leads]}}\n"
            "audit: {services: [PeoplePermissions, Directory], max_interval_days: 30}\n",
            encoding="utf-8",
        )
        params = load_params(params_file, today=sim.now.date())
        thresholds = effective_thresholds(params)
        client = GenesysClient(
            Credentials(sim.client_id, sim.client_secret), api_base_url=sim.base_url
        )
        with client:
            snapshot = collect(params, client, tmp / "run", retention_days=30)
        findings = run_checks(CheckContext(snapshot, params, thresholds, today=params.period.end))
        return {
            "params": params,
            "snapshot": snapshot,
            "findings": {f.check: f for f in findings},
            "grants": grants,
            "planted": compute_planted(org, {**DEMO_POLICY, "period_days": DAYS}),
        }


def test_a_run_just_after_midnight_covers_the_days_before_it(run):
    params = run["params"]
    assert params.period.end == dt.date(2026, 11, 26)
    assert params.period.start == dt.date(2026, 11, 24)
    stamps = {"start": "2026-11-24T00:00:00Z", "end": "2026-11-26T23:59:59Z"}
    assert run["snapshot"].meta["period"] == {**stamps, "days": DAYS}
    audit = run["snapshot"].status("audit_events").extra
    assert (audit["interval_start"], audit["interval_end"]) == (
        "2026-11-24T00:00:00Z",
        "2026-11-27T00:00:00Z",
    )


def test_events_on_the_first_and_last_second_count_and_none_outside(run):
    finding = run["findings"]["logging.privileged_grants"]
    found = {e.subject_id for e in finding.exceptions}
    grants = run["grants"]
    inside = {grants["2026-11-24T00:00:00Z"], grants["2026-11-26T23:59:59Z"]}
    outside = {grants["2026-11-23T23:59:59Z"], grants["2026-11-27T00:00:00Z"]}
    assert inside <= found and not outside & found
    # The simulator's ground truth follows the same period.
    planted = set(run["planted"]["logging.privileged_grants"])
    assert inside <= planted and not outside & planted
    assert found == planted


def test_activity_counts_exactly_the_days_of_the_period(run):
    finding = run["findings"]["logging.activity_gaps"]
    assert finding.population == DAYS
    assert list(finding.extra["events_per_day"]) == ["2026-11-24", "2026-11-25", "2026-11-26"]
    # Today (up to 00:00:30) is not in the period: its events are neither collected nor counted.
    dates = set(run["snapshot"].table("audit_events")["event_date"].str[:10])
    assert "2026-11-27" not in dates and "2026-11-23" not in dates


def test_dormancy_is_measured_to_the_end_of_the_period(run):
    finding = run["findings"]["access.dormant_accounts"]
    assert len(finding.exceptions) == 3
    assert set(e.subject_id for e in finding.exceptions) == set(
        run["planted"]["access.dormant_accounts"]
    )
    assert all(
        "before the end of 2026-11-26" in e.detail for e in finding.exceptions if "days" in e.detail
    )
