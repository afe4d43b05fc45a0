"""Access review workbooks: write, fill in, import, and check revocations were carried out."""

from __future__ import annotations

import csv
import json

import openpyxl
import pytest
from gcevidence.cli import main
from gcevidence.errors import InputError
from gcevidence.findings import ExceptionItem, Finding
from gcevidence.review import latest_decisions, read_review, write_review_workbooks
from test_history_support import grant, make_snapshot, user

HOSTILE = '=HYPERLINK("http://evil.example","x")'


def _finding(check, *subjects):
    items = tuple(ExceptionItem("user", s, s, "x") for s in subjects)
    return Finding(
        check,
        check,
        "fail" if items else "pass",
        "medium",
        {},
        3,
        items,
        (),
        "A09_access_control",
        "r",
    )


@pytest.fixture()
def snapshot(tmp_path):
    users = [
        user("m1", "Mia Manager", department="Sales"),
        user("u1", "Ann", manager="m1"),
        user("u2", HOSTILE, manager="m1", last_login=""),
        user("u3", "Carl", manager="", department="Support"),
        user("u4", "Gone", manager="m1", state="deleted"),
    ]
    names = {u["id"]: u["name"] for u in users}
    grants = [
        grant("u1", "Master Admin", names=names),
        grant("u1", "Employee", names=names),
        grant("u2", "Employee", names=names),
        grant("u2", "Quality Evaluator", "d2", names=names),
        grant("u3", "Employee", names=names),
        grant("m1", "Employee", names=names),
    ]
    unused = [{"user_id": "u2", "role_id": "r-Quality Evaluator", "role_name": "Quality Evaluator"}]
    return make_snapshot(tmp_path / "run1", users=users, grants=grants, unused=unused)


FINDINGS = [_finding("access.dormant_accounts", "u2"), _finding("access.unused_roles")]


def test_one_workbook_per_manager_or_department_with_flags(tmp_path, snapshot):
    paths = write_review_workbooks(
        snapshot, FINDINGS, tmp_path / "reviews", privileged_roles=["Master Admin"]
    )
    names = sorted(p.name for p in paths)
    assert names == [
        "access-review-department-sales.csv",
        "access-review-department-sales.xlsx",
        "access-review-department-support.csv",
        "access-review-department-support.xlsx",
        "access-review-manager-mia-manager.csv",
        "access-review-manager-mia-manager.xlsx",
    ]
    with (tmp_path / "reviews" / "access-review-manager-mia-manager.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert [r["user_id"] for r in rows] == ["u2", "u1"]  # sorted by name; deleted users left out
    hostile, ann = rows
    assert hostile["name"] == "'" + HOSTILE  # guarded in CSV
    assert hostile["flags"] == "dormant; unused role: Quality Evaluator"
    assert hostile["divisions"] == "Division d1; Division d2" and hostile["last_login"] == "never"
    assert ann["flags"] == "privileged: Master Admin"
    assert ann["roles"] == "Employee; Master Admin" and ann["manager"] == "Mia Manager"
    assert ann["decision"] == ann["reviewer"] == ""

    wb = openpyxl.load_workbook(tmp_path / "reviews" / "access-review-manager-mia-manager.xlsx")
    ws = wb["Access review"]
    assert ws.freeze_panes == "C2" and ws["A1"].font.bold
    cell = ws["B2"]
    assert cell.value == HOSTILE and cell.data_type == "s"  # shown as text, never evaluated
    validations = ws.data_validations.dataValidation
    assert any(
        v.formula1 == '"keep,revoke,modify"' and "K2:K3" in str(v.sqref) for v in validations
    )


def _fill_xlsx(path, decisions):
    wb = openpyxl.load_workbook(path)
    ws = wb["Access review"]
    header = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        uid = row[0].value
        if uid in decisions:
            for key, value in zip(
                ("decision", "reviewer", "comment", "review_date"), decisions[uid], strict=True
            ):
                row[header.index(key)].value = value
    wb.save(path)


def test_round_trip_xlsx_records_decisions_and_finds_revocations_not_done(
    tmp_path, snapshot, capsys
):
    out = tmp_path / "out"
    write_review_workbooks(snapshot, FINDINGS, tmp_path / "reviews")
    book = tmp_path / "reviews" / "access-review-manager-mia-manager.xlsx"
    _fill_xlsx(
        book,
        {
            "u1": ("revoke", "Mia", "left the admin team", "2026-12-02"),
            "u2": ("keep", "Mia", "=1+1", "2026-12-02"),
        },
    )
    decisions = read_review(book)
    assert [(d.user_id, d.decision) for d in decisions] == [("u2", "keep"), ("u1", "revoke")]
    assert decisions[0].comment == "=1+1"

    # the later snapshot still has u1's roles: the revocation was not carried out
    assert (
        main(["review", "import", str(book), "--out", str(out), "--snapshot", str(snapshot.root)])
        == 1
    )
    printed = capsys.readouterr().out
    assert "NOT CARRIED OUT: revoke Ann (u1)" in printed and "Master Admin" in printed
    saved = latest_decisions(out)
    doc = json.loads(saved.read_text())
    assert saved.name.startswith("decisions-") and doc["sources"][0]["decided"] == 2
    assert {d["user_id"]: d["decision"] for d in doc["decisions"]} == {"u1": "revoke", "u2": "keep"}
    assert doc["decisions"][1]["roles"] == ["Employee", "Master Admin"]

    # once u1 is deactivated, nothing is outstanding
    later_users = [
        user("m1", "Mia Manager"),
        user("u1", "Ann", manager="m1", state="inactive"),
        user("u2", "x", manager="m1"),
    ]
    later = make_snapshot(tmp_path / "run2", users=later_users, grants=[grant("u1", "Employee")])
    assert (
        main(["review", "import", str(book), "--out", str(out), "--snapshot", str(later.root)]) == 0
    )
    # re-importing the same file replaces its decisions instead of doubling them
    assert len(json.loads(latest_decisions(out).read_text())["decisions"]) == 2


def test_round_trip_csv_keeps_hostile_cells_as_text(tmp_path, snapshot):
    write_review_workbooks(snapshot, FINDINGS, tmp_path / "reviews")
    path = tmp_path / "reviews" / "access-review-manager-mia-manager.csv"
    rows = list(csv.reader(path.open()))
    rows[1][10:14] = ["modify", "Mia", "@SUM(A1)", "2026-12-01"]
    with path.open("w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    [hostile, ann] = read_review(path)
    assert hostile.name == HOSTILE and hostile.decision == "modify"
    assert hostile.comment == "@SUM(A1)" and ann.decision == ""


@pytest.mark.parametrize(
    "column, value, field, problem",
    [
        (10, "delete", "row 2.decision", "not a decision"),
        (13, "02/12/2026", "row 2.review_date", "date"),
        (11, "", "row 2.reviewer", "reviewer"),
    ],
)
def test_bad_review_input_names_file_row_and_value(
    tmp_path, snapshot, column, value, field, problem
):
    write_review_workbooks(snapshot, FINDINGS, tmp_path / "reviews")
    path = tmp_path / "reviews" / "access-review-manager-mia-manager.csv"
    rows = list(csv.reader(path.open()))
    rows[1][10:14] = ["keep", "Mia", "", "2026-12-01"]
    rows[1][column] = value
    with path.open("w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    with pytest.raises(InputError) as info:
        read_review(path)
    assert info.value.file == str(path) and info.value.field == field
    assert info.value.value == value and problem in info.value.problem


def test_cli_reports_bad_input_with_exit_2(tmp_path, capsys):
    bad = tmp_path / "review.csv"
    bad.write_text("user_id,name\nu1,Ann\n")
    assert main(["review", "import", str(bad), "--out", str(tmp_path)]) == 2
    assert "required columns are missing" in capsys.readouterr().err
    assert latest_decisions(tmp_path) is None


def test_privileged_roles_default_to_the_policy_the_findings_recorded(tmp_path, snapshot):
    policy = Finding(
        "access.privileged_outside_group",
        "p",
        "pass",
        "high",
        {},
        1,
        (),
        (),
        "A09_access_control",
        "r",
        extra={"roles": ["Master Admin"]},
    )
    write_review_workbooks(snapshot, [*FINDINGS, policy], tmp_path / "reviews")
    with (tmp_path / "reviews" / "access-review-manager-mia-manager.csv").open() as fh:
        ann = [r for r in csv.DictReader(fh) if r["user_id"] == "u1"][0]
    assert ann["flags"] == "privileged: Master Admin"


def test_next_pack_carries_the_latest_recorded_decisions(tmp_path, snapshot):
    out = tmp_path / "output"
    write_review_workbooks(snapshot, FINDINGS, tmp_path / "reviews")
    book = tmp_path / "reviews" / "access-review-department-support.csv"
    assert main(["review", "import", str(book), "--out", str(out)]) == 0
    building = out / ".building-070000Z-abcd" / "review"
    paths = write_review_workbooks(snapshot, FINDINGS, building)
    carried = [p for p in paths if p.name.startswith("previous-decisions-")]
    assert len(carried) == 1
    assert carried[0].read_bytes() == latest_decisions(out).read_bytes()
