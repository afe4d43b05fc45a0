"""Above WORKBOOKS_PER_GROUP_LIMIT review groups, one filterable workbook instead of one per
manager (issue 11 §2: thousands of files in a pack are unusable); review import reads it."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from gcevidence import evidence_files, review
from gcevidence.cli import main
from gcevidence.evidence_files import FramedWriter, read_bytes
from gcevidence.review import GROUP_COLUMN, read_review, write_review_workbooks
from test_history_support import grant, make_snapshot, user

HOSTILE = '=HYPERLINK("http://evil.example","x")'


@pytest.fixture()
def many_managers(tmp_path):
    """60 managers with two reports each: 60 manager groups and one department group."""
    users, grants = [], []
    for m in range(60):
        users.append(user(f"m{m:02d}", f"Manager {m:02d}", department="Sales"))
        for r in range(2):
            uid = f"u{m:02d}{r}"
            name = HOSTILE if (m, r) == (7, 1) else f"Agent {m:02d}-{r}"
            users.append(user(uid, name, manager=f"m{m:02d}"))
            grants.append(grant(uid, "Employee"))
    return make_snapshot(tmp_path / "run", users=users, grants=grants)


def test_many_groups_get_one_workbook_with_a_filterable_group_column(tmp_path, many_managers):
    paths = write_review_workbooks(many_managers, [], tmp_path / "review")
    assert sorted(p.name for p in paths) == ["access-review-all.csv", "access-review-all.xlsx"]
    assert sorted(p.name for p in (tmp_path / "review").iterdir()) == sorted(p.name for p in paths)
    ws = openpyxl.load_workbook(tmp_path / "review" / "access-review-all.xlsx")["Access review"]
    header = [c.value for c in ws[1]]
    assert header[0] == GROUP_COLUMN and header[1:] == list(review.COLUMNS)
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert len(rows) == 180 and len({r[0] for r in rows}) == 61
    assert ws.auto_filter.ref == f"A1:O{len(rows) + 1}" and ws.freeze_panes == "D2"
    hostile = next(c for c in ws["C"] if c.value == HOSTILE)
    assert hostile.data_type == "s"  # shown as text, never evaluated
    decision = review.get_column_letter(header.index("decision") + 1)
    assert any(
        v.formula1 == '"keep,revoke,modify"' and f"{decision}2:{decision}181" in str(v.sqref)
        for v in ws.data_validations.dataValidation
    )


def test_a_few_groups_keep_one_workbook_each(tmp_path, many_managers, monkeypatch):
    monkeypatch.setattr(review, "WORKBOOKS_PER_GROUP_LIMIT", 61)
    paths = write_review_workbooks(many_managers, [], tmp_path / "review")
    assert len(paths) == 2 * 61 and not any(p.name.startswith("access-review-all") for p in paths)


def test_review_import_reads_the_combined_workbook(tmp_path, many_managers, capsys):
    write_review_workbooks(many_managers, [], tmp_path / "review")
    book = tmp_path / "review" / "access-review-all.xlsx"
    wb = openpyxl.load_workbook(book)
    ws = wb["Access review"]
    header = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        if row[header.index("user_id")].value == "u030":
            row[header.index("decision")].value = "revoke"
            row[header.index("reviewer")].value = "Manager 03"
            row[header.index("review_date")].value = "2026-12-01"
    wb.save(book)
    decisions = read_review(book)
    assert len(decisions) == 180
    assert [(d.user_id, d.decision) for d in decisions if d.decision] == [("u030", "revoke")]
    args = ["review", "import", str(book), "--out", str(tmp_path / "out")]
    assert main([*args, "--snapshot", str(many_managers.root)]) == 1  # still holds its role
    assert "NOT CARRIED OUT: revoke Agent 03-0 (u030)" in capsys.readouterr().out


def test_a_large_combined_csv_is_compressed_and_still_imports(tmp_path, many_managers, monkeypatch):
    monkeypatch.setattr(evidence_files, "CSV_PLAIN_LIMIT", 2000)
    paths = write_review_workbooks(many_managers, [], tmp_path / "review")
    (packed,) = [p for p in paths if p.suffix == ".zst"]
    assert packed.name == "access-review-all.csv.zst"
    rows = list(csv.reader(io.StringIO(read_bytes(packed).decode())))
    rows[1][11:15] = ["keep", "Manager 00", "fine", "2026-12-01"]  # after review_group
    filled = tmp_path / "filled.csv.zst"
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    with FramedWriter(filled) as out:
        out.write(buffer.getvalue())
    decisions = read_review(filled)
    assert len(decisions) == 180 and decisions[0].decision == "keep"
    assert next(d for d in decisions if d.user_id == "u071").name == HOSTILE  # unguarded
