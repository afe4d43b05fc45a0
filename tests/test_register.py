"""The exceptions register: acceptances with expiry, never a silent pass."""

from __future__ import annotations

import datetime as dt
import textwrap

import pytest
from gcevidence.errors import InputError
from gcevidence.exceptions_register import apply_register, load_register, unused_entries
from gcevidence.findings import ExceptionItem, Finding

TODAY = dt.date(2026, 11, 30)


def finding(
    check="access.dormant_accounts", subjects=(("u1", "Ann"), ("u2", "Bob")), status=None
) -> Finding:
    items = tuple(
        ExceptionItem("user", sid, name, "no login for 200 days") for sid, name in subjects
    )
    return Finding(
        check=check,
        title="Dormant accounts",
        status=status or ("fail" if items else "pass"),
        severity="medium",
        controls={"soc2": ["CC6.2"]},
        population=10,
        exceptions=items,
        evidence=("evidence/users.csv",),
        notebook="A09_access_control",
        reason="2 users dormant",
    )


def write(tmp_path, body: str):
    path = tmp_path / "register.yaml"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


ENTRY = """\
    entries:
      - check: access.dormant_accounts
        subject: {subject}
        reason: Seasonal agent, account kept for the peak
        approved_by: Head of Contact Centre
        approved_on: 2026-10-01
        expires: {expires}
"""


def test_every_exception_accepted_turns_fail_into_pass_with_both_counts(tmp_path):
    reg = load_register(
        write(
            tmp_path,
            """\
        entries:
          - check: access.dormant_accounts
            subject: u1
            reason: Seasonal agent
            approved_by: CISO
            approved_on: 2026-10-01
            expires: 2027-01-31
          - check: access.dormant_accounts
            subject_pattern: "B*"
            reason: Bobs are on leave
            approved_by: CISO
            approved_on: 2026-10-01
            expires: 2026-12-31
        """,
        )
    )
    [out] = apply_register([finding()], reg, TODAY)
    assert out.status == "pass"
    assert out.extra["exceptions_total"] == 2 and out.extra["exceptions_accepted"] == 2
    # accepted exceptions stay listed, with who accepted them and until when
    assert [e.subject_id for e in out.exceptions] == ["u1", "u2"]
    assert out.exceptions[0].accepted == {
        "reason": "Seasonal agent",
        "approved_by": "CISO",
        "approved_on": "2026-10-01",
        "expires": "2027-01-31",
    }
    assert out.exceptions[1].accepted["expires"] == "2026-12-31"
    assert "earliest expiry 2026-12-31" in out.reason
    assert out.to_dict()["exceptions"][0]["accepted"]["approved_by"] == "CISO"


def test_partial_acceptance_keeps_the_failure(tmp_path):
    reg = load_register(write(tmp_path, ENTRY.format(subject="u1", expires="2027-01-31")))
    [out] = apply_register([finding()], reg, TODAY)
    assert out.status == "fail"
    assert (out.extra["exceptions_total"], out.extra["exceptions_accepted"]) == (2, 1)
    assert out.exceptions[1].accepted is None
    assert "1 of 2 exceptions accepted" in out.reason


def test_expired_acceptance_never_accepts_and_is_reported(tmp_path):
    reg = load_register(write(tmp_path, ENTRY.format(subject="u1", expires="2026-11-29")))
    [out] = apply_register([finding(subjects=(("u1", "Ann"),))], reg, TODAY)
    assert out.status == "fail"
    assert out.exceptions[0].accepted is None
    assert "acceptance expired on 2026-11-29" in out.exceptions[0].detail
    assert out.extra["expired_acceptances"][0]["expires"] == "2026-11-29"
    assert out.extra["exceptions_accepted"] == 0
    assert "expired" in out.reason


def test_acceptance_holds_through_its_expiry_day(tmp_path):
    reg = load_register(write(tmp_path, ENTRY.format(subject="u1", expires="2026-11-30")))
    [out] = apply_register([finding(subjects=(("u1", "Ann"),))], reg, TODAY)
    assert out.status == "pass"


def test_pattern_matches_subject_id_or_name_and_only_its_check(tmp_path):
    reg = load_register(
        write(
            tmp_path,
            """\
        entries:
          - check: access.orphan_accounts
            subject_pattern: "svc-*"
            reason: Service accounts owned by IT
            approved_by: CISO
            approved_on: 2026-01-01
            expires: 2027-01-01
        """,
        )
    )
    orphans = finding(
        "access.orphan_accounts", (("svc-1", "x"), ("u9", "svc-backup"), ("u8", "Carl"))
    )
    other = finding("access.dormant_accounts", (("svc-1", "x"),))
    out_orphans, out_other = apply_register([orphans, other], reg, TODAY)
    assert [e.accepted is not None for e in out_orphans.exceptions] == [True, True, False]
    assert out_orphans.status == "fail"
    assert out_other.exceptions[0].accepted is None


def test_not_evaluable_stays_not_evaluable(tmp_path):
    reg = load_register(write(tmp_path, ENTRY.format(subject="u1", expires="2027-01-31")))
    ne = finding(subjects=(), status="not_evaluable")
    assert apply_register([ne], reg, TODAY) == [ne]


def test_no_register_changes_nothing():
    f = finding()
    assert apply_register([f], None, TODAY) == [f]


def test_unused_entries_are_reported(tmp_path):
    reg = load_register(write(tmp_path, ENTRY.format(subject="nobody", expires="2027-01-31")))
    assert [e.index for e in unused_entries([finding()], reg)] == [0]


@pytest.mark.parametrize(
    "body, field, problem",
    [
        (
            ENTRY.format(subject="u1", expires="2027-01-31").replace(
                "        expires: 2027-01-31\n", ""
            ),
            "entries[0].expires",
            "required",
        ),
        (ENTRY.format(subject="u1", expires='""'), "entries[0].expires", "required"),
        (ENTRY.format(subject="u1", expires="2026-09-01"), "entries[0].expires", "before"),
        (ENTRY.format(subject="u1", expires="2027-02-30"), "entries[0].expires", "date"),
        (ENTRY.format(subject="u1", expires="next year"), "entries[0].expires", "date"),
        (
            ENTRY.format(subject="u1", expires="2027-01-31").replace(
                "access.dormant_accounts", "access.dormnat"
            ),
            "entries[0].check",
            "unknown check",
        ),
        (
            ENTRY.format(subject="u1", expires="2027-01-31") + "        owner: me\n",
            "entries[0].owner",
            "unknown key",
        ),
        (
            ENTRY.format(subject="u1", expires="2027-01-31").replace(
                "        reason: Seasonal agent, account kept for the peak\n", ""
            ),
            "entries[0].reason",
            "required",
        ),
        (
            ENTRY.format(subject="u1", expires="2027-01-31").replace("        subject: u1\n", ""),
            "entries[0]",
            "exactly one",
        ),
        (
            ENTRY.format(subject="u1", expires="2027-01-31").replace(
                "        subject: u1\n", "        subject: u1\n        subject_pattern: '*'\n"
            ),
            "entries[0]",
            "exactly one",
        ),
        ("acceptances: []\n", "(top level)", "entries"),
        ("entries: [: bad\n", "(file)", "YAML"),
    ],
)
def test_malformed_registers_are_refused_naming_file_field_and_value(
    tmp_path, body, field, problem
):
    path = write(tmp_path, body)
    with pytest.raises(InputError) as info:
        load_register(path)
    err = info.value
    assert err.file == str(path) and err.field == field
    assert problem in err.problem
    assert err.exit_status == 2


def test_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="cannot be read"):
        load_register(tmp_path / "nope.yaml")
