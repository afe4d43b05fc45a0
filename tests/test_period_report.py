"""Period report over hand-sealed packs: grids, exception spans, gaps, exclusion, CLI contract."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from gcevidence import cli
from gcevidence.history import find_previous_packs
from gcevidence.pack import PackBuilder
from gcevidence.report.period import build_reports, discover_packs
from gcevidence.snapshot import dumps

HOSTILE = "<script>alert(1)</script>"
CONTROLS_A = {"soc2": ["CC6.2"], "iso27001-2022": ["5.18"]}
CONTROLS_B = {"soc2": ["CC7.2"]}


def finding(check, status, subjects=(), controls=None):
    return {
        "check": check,
        "title": f"title of {check}",
        "status": status,
        "severity": "high",
        "controls": controls if controls is not None else {},
        "population": 10,
        "exceptions": [
            {"subject_type": "user", "subject_id": s, "subject_name": f"name {s}", "detail": "x"}
            for s in subjects
        ],
        "evidence": [],
        "notebook": "A09_access_control",
        "reason": "",
    }


def a(status, *subjects):
    return finding("access.a", status, subjects, CONTROLS_A)


def b(status, *subjects):
    return finding("logging.b", status, subjects, CONTROLS_B)


def seal(out, period_end, generated_at, findings, org="org-1", name="Acme"):
    with PackBuilder(out, period_end) as pb:
        doc = {
            "schema": "gcevidence.findings/1",
            "run": {
                "id": pb.run_id,
                "generated_at": generated_at,
                "org": {"id": org, "name": name},
            },
            "datasets": [],
            "findings": findings,
        }
        (pb.dir / "findings.json").write_text(dumps(doc), encoding="utf-8")
        (pb.dir / "index.html").write_text("<html>pack</html>", encoding="utf-8")
        return pb.seal({"org": {"id": org}})


@pytest.fixture()
def out(tmp_path):
    """org-1: Sep, two in Oct, none in Nov (a gap), Dec (access.a not evaluable), Jan; org-2."""
    out = tmp_path / "output"
    packs = [
        seal(out, "2026-09-30", "2026-09-30T06:00:00Z", [a("fail", "u1", "u2"), b("pass")]),
        seal(out, "2026-10-31", "2026-10-31T06:00:00Z", [a("fail", "u1", "u2")]),
        seal(
            out,
            "2026-10-31",
            "2026-10-31T07:00:00Z",
            [a("fail", "u2", "u3"), b("fail", "2026-10-03")],
        ),
        seal(out, "2026-12-31", "2026-12-31T06:00:00Z", [a("not_evaluable"), b("pass")]),
        seal(out, "2027-01-31", "2027-01-31T06:00:00Z", [a("fail", "u3"), b("pass")]),
    ]
    seal(out, "2026-11-30", "2026-11-30T06:00:00Z", [a("pass")], org="org-2", name="Other")
    return out, packs


def _report(out, **kwargs):
    packs, excluded = discover_packs(out)
    [report] = build_reports(packs, excluded, org_id="org-1", **kwargs)
    return report


def _statuses(row):
    return {
        m: [(c.status, c.exceptions, c.newest) for c in cells] for m, cells in row.months.items()
    }


def test_month_grid_per_check_and_per_control(out):
    out, packs = out
    report = _report(out)
    assert report.months == ("2026-09", "2026-10", "2026-11", "2026-12", "2027-01")
    assert report.gaps == ("2026-11",)
    assert [p.path for p in report.packs] == packs
    rows = {r.key: r for r in report.checks}
    assert list(rows) == ["access.a", "logging.b"]
    assert _statuses(rows["access.a"]) == {
        "2026-09": [("fail", 2, True)],
        "2026-10": [("fail", 2, False), ("fail", 2, True)],  # both shown, the newest marked
        "2026-12": [("not_evaluable", 0, True)],
        "2027-01": [("fail", 1, True)],
    }
    # logging.b is absent from the first October pack: only the second one has a cell
    assert _statuses(rows["logging.b"])["2026-10"] == [("fail", 1, True)]
    assert rows["logging.b"].months["2026-10"][0].ref == f"2026-10-31/{packs[2].name}"

    soc2 = {r.key: r for r in report.controls["soc2"]}
    assert list(soc2) == ["CC6.2", "CC7.2"]
    assert _statuses(soc2["CC6.2"]) == {
        "2026-09": [("fail", None, True)],
        "2026-10": [("fail", None, False), ("fail", None, True)],
        "2026-12": [("not_evaluable", None, True)],
        "2027-01": [("fail", None, True)],
    }
    assert _statuses(soc2["CC7.2"]) == {
        "2026-09": [("pass", None, True)],
        "2026-10": [("fail", None, True)],
        "2026-12": [("pass", None, True)],
        "2027-01": [("pass", None, True)],
    }
    assert [r.key for r in report.controls["iso27001-2022"]] == ["5.18"]


def test_exceptions_open_close_and_longest(out):
    out, packs = out
    report = _report(out)
    spans = {(s.check, s.subject_id): s for s in report.spans}
    assert len(report.spans) == 4
    u1, u2, u3 = spans["access.a", "u1"], spans["access.a", "u2"], spans["access.a", "u3"]
    # u1: listed in September and by the first October pack, gone in the second one
    assert (u1.opened_on, u1.closed_on, u1.days) == (
        dt.date(2026, 9, 30),
        dt.date(2026, 10, 31),
        31,
    )
    assert u1.closed_ref == f"2026-10-31/{packs[2].name}" and u1.open_at_start
    # u2: December's not-evaluable result closes nothing; January's pass-or-fail does
    assert (u2.closed_on, u2.days) == (dt.date(2027, 1, 31), 123)
    # u3: still open at the end, counted to the last pack
    assert u3.still_open and u3.days == 92 and not u3.open_at_start
    day = spans["logging.b", "2026-10-03"]
    assert (day.opened_on, day.closed_on, day.days) == (
        dt.date(2026, 10, 31),
        dt.date(2026, 12, 31),
        61,
    )
    assert report.longest() == (u2,)


def test_an_exception_that_comes_back_opens_a_new_span(tmp_path):
    out = tmp_path / "output"
    seal(out, "2026-09-30", "2026-09-30T06:00:00Z", [a("fail", "u1")])
    seal(out, "2026-10-31", "2026-10-31T06:00:00Z", [a("pass")])
    seal(out, "2026-11-30", "2026-11-30T06:00:00Z", [a("fail", "u1")])
    spans = _report(out).spans
    assert [(s.opened_on.month, s.closed_on and s.closed_on.month, s.days) for s in spans] == [
        (9, 10, 31),
        (11, None, 0),
    ]


def test_cli_writes_a_report_per_org_that_verifies(out, capsys):
    out, packs = out
    seal(out, "2027-01-31", "2027-01-31T09:00:00Z", [a("fail", HOSTILE)])
    assert cli.main(["report", "period", str(out), "--no-pdf"]) == 0
    lines = capsys.readouterr().out.splitlines()
    report_dir = out / "period-reports" / "org-1" / "2026-09-30_2027-01-31"
    assert str(report_dir / "index.html") in lines
    assert (out / "period-reports" / "org-2" / "2026-11-30_2026-11-30" / "index.html").is_file()
    assert sorted(p.name for p in report_dir.iterdir()) == [
        "index.html",
        "manifest.json",
        "period-report.json",
    ]
    assert cli.main(["verify", str(report_dir)]) == 0

    doc = json.loads((report_dir / "period-report.json").read_text(encoding="utf-8"))
    assert doc["schema"] == "gcevidence.period-report/1"
    assert doc["months_without_pack"] == ["2026-11"]
    assert len(doc["packs"]) == 6 and doc["excluded"] == []
    for pack in doc["packs"]:
        assert pack["content_digest"].startswith("sha256:") and pack["verified"] is True
        assert (report_dir / pack["link"]).resolve() == (out / pack["pack"] / "index.html")
    assert doc["exceptions"]["longest"] == {
        "days": 123,
        "still_open": False,
        "items": [{"check": "access.a", "subject_id": "u2"}],
    }
    page = (report_dir / "index.html").read_text(encoding="utf-8")
    assert HOSTILE not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script" not in page and "http://" not in page and "https://" not in page
    assert "no pack" in page
    assert "Longest time an exception stayed open: 123 days, access.a u2 (name u2).</p>" in page

    # the report folders are never mistaken for packs
    assert len(find_previous_packs(out, "org-1")) == 6
    found, excluded = discover_packs(out)
    assert len(found) == 7 and excluded == []

    # a second run replaces the earlier report of the same org and range
    assert cli.main(["report", "period", str(out), "--org", "org-1", "--no-pdf"]) == 0
    assert cli.main(["verify", str(report_dir)]) == 0
    assert [p.name for p in report_dir.parent.iterdir()] == [report_dir.name]


def test_range_and_out_folder(out, tmp_path, capsys):
    out, _ = out
    target = tmp_path / "reports"
    argv = ["report", "period", str(out), "--org", "org-1", "--from", "2026-10-01"]
    assert cli.main([*argv, "--to", "2026-12-31", "--out", str(target), "--no-pdf"]) == 0
    doc = json.loads(
        (target / "org-1" / "2026-10-01_2026-12-31" / "period-report.json").read_text()
    )
    assert doc["months"] == ["2026-10", "2026-11", "2026-12"]
    assert doc["months_without_pack"] == ["2026-11"]
    assert [p["period_end"] for p in doc["packs"]] == ["2026-10-31", "2026-10-31", "2026-12-31"]
    assert not (out / "period-reports").exists()


def test_a_tampered_pack_is_listed_and_excluded(out, capsys):
    out, packs = out
    findings = packs[0] / "findings.json"
    findings.write_text(findings.read_text().replace('"fail"', '"pass"', 1))
    report = _report(out)
    [excluded] = report.excluded
    assert excluded.path == packs[0]
    assert excluded.problem == "failed verification (changed: findings.json)"
    assert packs[0] not in [p.path for p in report.packs]
    # the range still starts at the excluded pack; its month is now a gap in the evidence
    assert report.months[0] == "2026-09" and report.gaps == ("2026-09", "2026-11")
    assert cli.main(["report", "period", str(out), "--org", "org-1", "--no-pdf"]) == 0
    printed = capsys.readouterr().out
    assert f"excluded: 2026-09-30/{packs[0].name}: failed verification" in printed


def test_unreadable_folder_in_a_pack_place_is_excluded_with_why(out):
    out, _ = out
    (out / "2026-12-31" / "notes").mkdir()
    report = _report(out)
    [excluded] = report.excluded
    assert excluded.run_id == "notes" and "manifest.json is missing" in excluded.problem


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--from", "2026-02-30"], "--from='2026-02-30': is not a date YYYY-MM-DD"),
        (["--to", "20261130"], "--to='20261130': is not a date YYYY-MM-DD"),
        (["--from", "2026-12-01", "--to", "2026-11-01"], "--from 2026-12-01 is after --to"),
        (["--org", "org-9"], "no verified pack under"),
        (["--from", "2028-01-01"], "no verified pack under"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_writes_nothing(out, capsys, argv, message):
    out, _ = out
    assert cli.main(["report", "period", str(out), "--no-pdf", *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("gcevidence: error: ") and message in err[0]
    assert not (out / "period-reports").exists()


def test_nothing_to_report_exits_2(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    for folder in (tmp_path / "empty", tmp_path / "missing"):
        assert cli.main(["report", "period", str(folder)]) == 2
        [line] = capsys.readouterr().err.strip().splitlines()
        assert line.startswith("gcevidence: error: ")
    assert not (tmp_path / "missing").exists()


def test_never_writes_into_a_pack_place_or_over_something_else(out, capsys):
    out, _ = out
    inside = out / "2026-12-31" / "reports"
    assert cli.main(["report", "period", str(out), "--out", str(inside), "--no-pdf"]) == 2
    assert "lies inside a period-end folder" in capsys.readouterr().err
    assert not inside.exists()
    squatter = out / "period-reports" / "org-2" / "2026-11-30_2026-11-30"
    squatter.mkdir(parents=True)
    (squatter / "notes.txt").write_text("mine")
    assert cli.main(["report", "period", str(out), "--org", "org-2", "--no-pdf"]) == 2
    assert "is not a period report" in capsys.readouterr().err
    assert [p.name for p in squatter.iterdir()] == ["notes.txt"]
    assert [p.name for p in squatter.parent.iterdir()] == [squatter.name]


def test_pdf_when_chromium_is_present(out):
    from gcevidence.report.render import find_chromium

    if find_chromium() is None:
        pytest.skip("no Chromium")
    out, _ = out
    assert cli.main(["report", "period", str(out), "--org", "org-2"]) == 0
    report_dir = out / "period-reports" / "org-2" / "2026-11-30_2026-11-30"
    assert (report_dir / "period-report.pdf").read_bytes().startswith(b"%PDF")
    manifest = json.loads((report_dir / "manifest.json").read_text())
    assert "period-report.pdf" in [f["path"] for f in manifest["files"]]
    assert cli.main(["verify", str(report_dir)]) == 0


def test_links_are_relative_paths(out):
    out, _ = out
    assert cli.main(["report", "period", str(out), "--org", "org-2", "--no-pdf"]) == 0
    doc = json.loads(
        Path(
            out / "period-reports" / "org-2" / "2026-11-30_2026-11-30" / "period-report.json"
        ).read_text()
    )
    assert doc["packs"][0]["link"].startswith("../../../2026-11-30/")
    assert str(out) not in json.dumps(doc)
