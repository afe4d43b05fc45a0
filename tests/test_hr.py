"""HR roster: strict parsing; every error names the file, the row/column and the value."""

from __future__ import annotations

import pytest
from gcevidence.errors import InputError
from gcevidence.hr import load_roster, roster_groups

HEADER = "employee_id,email,status,termination_date,department,groups\n"


def write(tmp_path, text, name="roster.csv", encoding="utf-8"):
    p = tmp_path / name
    p.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return p


def test_valid_roster_lowercases_emails_and_keeps_groups(tmp_path):
    p = write(
        tmp_path,
        "\ufeff"
        + HEADER
        + 'E1,Alice@Example.COM,active,,IT,"GC-Platform-Admins;Staff"\n'
        + "E2,bob@example.com,terminated,2026-10-02,Sales,\n\n",
    )
    rows = load_roster(p)
    assert [r["email"] for r in rows] == ["alice@example.com", "bob@example.com"]
    assert rows[0]["groups"] == "GC-Platform-Admins;Staff"
    assert roster_groups(rows[0]["groups"]) == {"GC-Platform-Admins", "Staff"}
    assert rows[1]["termination_date"] == "2026-10-02"


def test_hostile_text_is_kept_verbatim(tmp_path):
    p = write(tmp_path, HEADER + 'E1,a@x.com,active,,"=HYPERLINK(""http://evil"",""x"")",G\n')
    assert load_roster(p)[0]["department"] == '=HYPERLINK("http://evil","x")'


@pytest.mark.parametrize(
    "body, field, value, problem",
    [
        ("E1,a@x.com,retired,,IT,\n", "row 2 column status", "retired", "status"),
        ("E1,a@x.com,terminated,,IT,\n", "row 2 column termination_date", "", "missing"),
        (
            "E1,a@x.com,terminated,02/10/2026,IT,\n",
            "row 2 column termination_date",
            "02/10/2026",
            "not a date",
        ),
        (
            "E1,a@x.com,terminated,2026-02-30,IT,\n",
            "row 2 column termination_date",
            "2026-02-30",
            "not a date",
        ),
        (
            "E1,a@x.com,active,2026-10-02,IT,\n",
            "row 2 column termination_date",
            "2026-10-02",
            "active",
        ),
        ("E1,,active,,IT,\n", "row 2 column email", "", "email"),
        (
            "E1,a@x.com,active,,IT,\nE2,b@x.com,active,,IT,\nE3,A@X.com,active,,IT,\n",
            "row 4 column email",
            "a@x.com",
            "row 2",
        ),
    ],
)
def test_bad_rows_name_file_row_column_and_value(tmp_path, body, field, value, problem):
    p = write(tmp_path, HEADER + body)
    with pytest.raises(InputError) as err:
        load_roster(p)
    e = err.value
    assert e.file == str(p) and e.field == field and e.value == value
    assert problem in e.problem
    assert e.exit_status == 2 and e.fix


def test_missing_columns_are_named(tmp_path):
    p = write(tmp_path, "employee_id,email,status\nE1,a@x.com,active\n")
    with pytest.raises(InputError) as err:
        load_roster(p)
    assert err.value.file == str(p) and "row 1" in err.value.field
    assert "termination_date" in err.value.problem and "groups" in err.value.problem


def test_non_utf8_names_line_and_byte_offset(tmp_path):
    data = (HEADER + "E1,a@x.com,active,,IT,\nE2,b@x.com,active,,").encode() + b"Caf\xe9,\n"
    p = write(tmp_path, data)
    with pytest.raises(InputError) as err:
        load_roster(p)
    e = err.value
    assert e.file == str(p) and e.field == "line 3"
    offset = data.index(bytes([0xE9]))
    assert e.value == f"byte offset {offset}"
    assert "UTF-8" in e.problem


def test_unreadable_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError) as err:
        load_roster(tmp_path / "nope.csv")
    assert "cannot be read" in err.value.problem


def test_non_utf8_after_a_bom_reports_the_offset_in_the_file(tmp_path):
    data = b"\xef\xbb\xbf" + HEADER.encode() + b"E1,a@x.com,active,,Caf\xe9,\n"
    with pytest.raises(InputError) as err:
        load_roster(write(tmp_path, data))
    assert err.value.value == f"byte offset {data.index(bytes([0xE9]))}"
    assert err.value.field == "line 2"


def test_row_numbers_count_blank_lines(tmp_path):
    p = write(tmp_path, HEADER + "E1,a@x.com,active,,IT,\n\nE2,b@x.com,retired,,IT,\n")
    with pytest.raises(InputError) as err:
        load_roster(p)
    assert err.value.field == "row 4 column status"


def test_termination_day_starts_at_midnight_in_the_declared_timezone():
    import datetime as dt

    from gcevidence.hr import termination_start

    utc = dt.UTC
    assert termination_start("2026-11-30") == dt.datetime(2026, 11, 30, tzinfo=utc)
    # Winter (CET, UTC+1) and summer (CEST, UTC+2) in Paris.
    assert termination_start("2026-11-30", "Europe/Paris") == dt.datetime(
        2026, 11, 29, 23, tzinfo=utc
    )
    assert termination_start("2026-07-01", "Europe/Paris") == dt.datetime(
        2026, 6, 30, 22, tzinfo=utc
    )
    assert termination_start("2026-11-30", "America/New_York") == dt.datetime(
        2026, 11, 30, 5, tzinfo=utc
    )
