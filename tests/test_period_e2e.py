"""Period report over three monthly packs of a changing simulated org (real loopback HTTP).

Month 1 carries the simulator's two leavers still active; one is deactivated before month 2
(fixed), the other never is (still open). A month is skipped between packs 2 and 3 (a gap).
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from conftest import SIM_NOW
from gcevidence import cli
from gcevidence.pack import sign
from gcevidence.report.period import build_reports, discover_packs
from test_history_e2e import SMALL_ORG, _month_params, _seal_direct

simulator = pytest.importorskip("gcevidence.simulator")

_RANK = {"pass": 0, "not_evaluable": 1, "fail": 2}


def _deactivate(sim, user_id: str) -> None:
    """What the people admin finally does: deactivate a leaver, with its audit event."""
    with sim.lock:
        org = sim.org
        when = org.now - dt.timedelta(days=2)
        org._leave(org.users[user_id], when, deleted=False)
        org.removal_event(user_id, when, "inactive", org.named["people_admin"])
        org.audit.set_now(org.now)
        org._index()
        sim._planted = None


@pytest.fixture(scope="module")
def months(tmp_path_factory):
    """OUT with three sealed monthly packs; their findings; the fixed and the open leaver."""
    from gcevidence import demo

    tmp = tmp_path_factory.mktemp("period")
    out = tmp / "output"
    config = simulator.SimConfig(**SMALL_ORG, now=SIM_NOW)
    packs, findings = [], []
    with demo.demo_params(out, config, {}) as (base, sim):
        fixed, still = sim.org.named["terminated_active_1"], sim.org.named["terminated_active_2"]
        assert {fixed, still} <= set(sim.planted["access.terminated_active"])
        for month in range(3):
            changes = None
            if month == 1:
                changes = sim.advance_month()
                _deactivate(sim, fixed)
            elif month == 2:
                sim.advance_month()  # nothing sealed this month: a gap
                changes = sim.advance_month()
            params = _month_params(base, sim, tmp, changes)
            pack, results, org_id = _seal_direct(params, sim, out)
            packs.append(pack)
            findings.append(results)
    return {
        "out": out,
        "tmp": tmp,
        "packs": packs,
        "findings": findings,
        "org_id": org_id,
        "fixed": fixed,
        "still": still,
    }


def _report(out, org_id):
    packs, excluded = discover_packs(out)
    [report] = build_reports(packs, excluded, org_id=org_id)
    return report


def test_month_grid_per_check_and_control_matches_each_pack(months):
    report = _report(months["out"], months["org_id"])
    ends = [dt.date.fromisoformat(p.parent.name) for p in months["packs"]]
    # Each pack ends on the last complete day before the simulator's clock.
    assert ends == [dt.date(2026, 11, 26), dt.date(2026, 12, 26), dt.date(2027, 2, 24)]
    assert report.months == ("2026-11", "2026-12", "2027-01", "2027-02")
    assert report.gaps == ("2027-01",) and report.excluded == ()
    rows = {r.key: r for r in report.checks}
    for pack, results, month in zip(
        months["packs"], months["findings"], ("2026-11", "2026-12", "2027-02"), strict=True
    ):
        for check, finding in results.items():
            [cell] = rows[check].months[month]
            assert cell.run_id == pack.name
            assert (cell.status, cell.exceptions) == (finding.status, len(finding.exceptions))
        # each control takes the worst result of the checks the pack maps to it
        for framework, controls in report.controls.items():
            for row in controls:
                mapped = [
                    f.status for f in results.values() if row.key in f.controls.get(framework, [])
                ]
                [cell] = row.months[month]
                assert cell.status == max(mapped, key=_RANK.__getitem__), (framework, row.key)
    assert [
        c.status
        for m in report.months
        if m in rows["access.role_drift"].months
        for c in rows["access.role_drift"].months[m]
    ] == ["not_evaluable", "fail", "fail"]
    assert set(report.controls) >= {"iso27001-2013", "iso27001-2022", "soc2", "pci-dss-4.0.1"}


def test_fixed_exception_closes_and_open_one_stays_open(months):
    report = _report(months["out"], months["org_id"])
    spans = {(s.check, s.subject_id): s for s in report.spans}
    first, second, third = (p.parent.name + "/" + p.name for p in months["packs"])
    fixed = spans["access.terminated_active", months["fixed"]]
    assert (fixed.opened_ref, fixed.closed_ref, fixed.days) == (first, second, 30)
    assert fixed.open_at_start and not fixed.still_open
    still = spans["access.terminated_active", months["still"]]
    assert still.still_open and still.opened_ref == first and still.days == 90
    # drift exceptions are a month's own: each closes in the next pack, against a new baseline
    drift = [s for s in report.spans if s.check == "access.role_drift"]
    by_pack = {ref: {s.subject_id for s in drift if s.opened_ref == ref} for ref in (second, third)}
    for ref, results in zip((second, third), months["findings"][1:], strict=True):
        assert by_pack[ref] == {e.subject_id for e in results["access.role_drift"].exceptions}
    assert {(s.closed_ref, s.days) for s in drift if s.opened_ref == second} == {(third, 60)}
    assert {(s.closed_ref, s.days) for s in drift if s.opened_ref == third} == {("", 0)}
    assert report.longest()[0].days == 90 and any(s.still_open for s in report.longest())


def test_cli_report_verifies_and_names_the_packs_by_digest(months, capsys):
    target = months["tmp"] / "reports-cli"
    argv = ["report", "period", str(months["out"]), "--out", str(target), "--no-pdf"]
    assert cli.main(argv) == 0
    [report_dir] = (target / months["org_id"]).iterdir()
    assert report_dir.name == "2026-11-26_2027-02-24"
    assert cli.main(["verify", str(report_dir)]) == 0
    doc = json.loads((report_dir / "period-report.json").read_text(encoding="utf-8"))
    manifests = [json.loads((p / "manifest.json").read_text()) for p in months["packs"]]
    assert [p["content_digest"] for p in doc["packs"]] == [m["content_digest"] for m in manifests]
    assert all((report_dir / p["link"]).is_file() for p in doc["packs"])
    page = (report_dir / "index.html").read_text(encoding="utf-8")
    assert all(p.name in page for p in months["packs"]) and "no pack" in page
    # the simulator's hostile names are shown as text
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_a_tampered_pack_is_refused_and_its_month_becomes_a_gap(months, capsys):
    second = months["packs"][1]
    evidence = second / "evidence" / "users.csv"
    original = evidence.read_bytes()
    try:
        evidence.write_bytes(original.replace(b"active", b"inactive", 1))
        report = _report(months["out"], months["org_id"])
        [excluded] = report.excluded
        assert excluded.path == second
        assert excluded.problem == "failed verification (changed: evidence/users.csv)"
        assert second not in [p.path for p in report.packs]
        assert report.gaps == ("2026-12", "2027-01")
        # without the December pack, the fixed leaver closes only in February
        spans = {(s.check, s.subject_id): s for s in report.spans}
        assert spans["access.terminated_active", months["fixed"]].days == 90
        target = months["tmp"] / "reports-tampered"
        argv = ["report", "period", str(months["out"]), "--out", str(target), "--no-pdf"]
        assert cli.main(argv) == 0
        assert f"excluded: {second.parent.name}/{second.name}: failed verification" in (
            capsys.readouterr().out
        )
    finally:
        evidence.write_bytes(original)


def test_a_signed_off_pack_shows_its_reviewer_and_stays_one_pack(months, capsys):
    key, _, key_id = sign.keygen(months["tmp"] / "reviewer.pem")
    first = months["packs"][0]
    argv = ["review", "sign", str(first), "--reviewer", "Jane Roe", "--key", str(key)]
    assert cli.main([*argv, "--date", "2026-12-01"]) == 0
    assert cli.main(["verify", str(first)]) == 0
    assert f"sign-off: valid, Jane Roe (reviewer) on 2026-12-01, key {key_id}" in (
        capsys.readouterr().out
    )
    report = _report(months["out"], months["org_id"])
    assert len(report.packs) == 3 and report.excluded == ()
    [signoff] = report.packs[0].signoffs
    assert (signoff.status, signoff.reviewer, signoff.key_id) == ("valid", "Jane Roe", key_id)
