"""Provenance of the inputs not from the API: the roster, the register, the review decisions."""

from __future__ import annotations

import datetime as dt
import hashlib
import textwrap

from gcevidence.config import load_params
from gcevidence.exceptions_register import load_register
from gcevidence.inputs import input_provenance
from gcevidence.report.provenance import input_rows, roster_sentence, threshold_rows
from gcevidence.review import ReviewDecision, record_decisions

ROSTER = (
    "employee_id,email,status,termination_date,department,groups\n"
    "E1,ann@example.com,active,,IT,GC-Platform-Admins\n"
    "E2,bob@example.com,terminated,2026-11-20,Sales,Sales\n"
)


def _params(tmp_path, hr_extra: str = ""):
    (tmp_path / "roster.csv").write_text(ROSTER, encoding="utf-8")
    (tmp_path / "register.yaml").write_text(
        textwrap.dedent(
            """\
            entries:
              - {check: access.dormant_accounts, subject: u1, reason: break-glass,
                 approved_by: CISO, approved_on: 2026-10-01, expires: 2027-03-31}
              - {check: access.orphan_accounts, subject_pattern: "svc-*", reason: services,
                 approved_by: J. Smith, approved_on: 2026-11-15, expires: 2027-01-31}
            """
        ),
        encoding="utf-8",
    )
    path = tmp_path / "params.yaml"
    path.write_text(
        f"hr:\n  roster: roster.csv\n{hr_extra}exceptions: {{register: register.yaml}}\n",
        encoding="utf-8",
    )
    return load_params(path, today=dt.date(2026, 12, 1))


def test_the_roster_is_recorded_with_its_digest_declared_source_timezone_and_groups(tmp_path):
    params = _params(
        tmp_path,
        "  source: {system: Workday, report: Leavers, extracted_at: 2026-11-30,"
        " extracted_by: J. Doe}\n  timezone: Europe/Paris\n  groups_source: Okta groups\n",
    )
    inputs = input_provenance(params, roster_rows=2)
    roster = inputs["hr_roster"]
    digest = "sha256:" + hashlib.sha256(ROSTER.encode()).hexdigest()
    assert roster == {
        "file": "roster.csv",
        "sha256": digest,
        "rows": 2,
        "source": {
            "system": "Workday",
            "report": "Leavers",
            "extracted_at": "2026-11-30",
            "extracted_by": "J. Doe",
        },
        "timezone": "Europe/Paris",
        "groups_source": "Okta groups",
    }
    text = roster_sentence(roster)
    assert text.startswith("Workday report 'Leavers' extracted 2026-11-30 by J. Doe;")
    assert digest in text and "groups from Okta groups" in text
    assert text.endswith("termination dates read as days in Europe/Paris")


def test_an_undeclared_source_is_said_so_naming_the_params_key(tmp_path):
    inputs = input_provenance(_params(tmp_path))
    text = roster_sentence(inputs["hr_roster"])
    assert "source not declared (params hr.source)" in text
    assert "groups from not declared (params hr.groups_source)" in text and "in UTC" in text


def test_register_and_review_decisions_show_their_digest_and_who_recorded_them(tmp_path):
    params = _params(tmp_path)
    register = load_register(params.exceptions_register)
    book = tmp_path / "access-review-manager-mia.csv"
    book.write_text("user_id,decision\nu1,revoke\n", encoding="utf-8")
    decisions = [
        ReviewDecision("u1", "Ann", ("Master Admin",), "revoke", "Mia", "", "2026-11-02", 2),
        ReviewDecision("u2", "Bob", (), "keep", "Leo", "", "2026-11-04", 3),
        ReviewDecision("u3", "Cy", (), "", "", "", "", 4),
    ]
    saved = record_decisions(book, decisions, tmp_path / "out", today=dt.date(2026, 11, 5))
    inputs = input_provenance(params, register, saved)
    reg = inputs["exceptions_register"]
    assert reg["sha256"] == register.digest and reg["entries"] == 2
    assert reg["approved_by"] == ["CISO", "J. Smith"]
    assert reg["approved_on"] == ["2026-10-01", "2026-11-15"]
    assert reg["expires"] == ["2027-01-31", "2027-03-31"]
    dec = inputs["review_decisions"]
    assert dec["sha256"] == "sha256:" + hashlib.sha256(saved.read_bytes()).hexdigest()
    assert dec["reviewers"] == ["Leo", "Mia"] and dec["decisions"] == 2
    assert dec["review_dates"] == ["2026-11-02", "2026-11-04"] and dec["updated_on"] == "2026-11-05"
    assert dec["workbooks"][0]["file"] == book.name
    assert dec["workbooks"][0]["sha256"] == hashlib.sha256(book.read_bytes()).hexdigest()
    rows = dict(input_rows(inputs))
    assert "approved by CISO, J. Smith on 2026-10-01 to 2026-11-15" in rows["Exceptions register"]
    assert (
        "decision(s) by Leo, Mia, reviewed 2026-11-02 to 2026-11-04"
        in rows["Access review decisions"]
    )


def test_without_inputs_the_rows_name_the_params_key_to_set(tmp_path):
    rows = dict(input_rows({}))
    assert "params hr.roster" in rows["HR roster"]
    assert "params exceptions.register" in rows["Exceptions register"]
    assert "review import" in rows["Access review decisions"]


def test_threshold_rows_say_who_set_each_number():
    rows = threshold_rows(
        {
            "dormant_days": {"value": 60, "source": "ISMS AC-01 §4", "origin": "params"},
            "key_cryptoperiod_days": {"value": 365, "source": "pci", "origin": "tool_default"},
            "password_min_length": {"value": 12, "source": "pci 8.3.6", "origin": "baseline"},
        }
    )
    basis = {r[0]: r[3] for r in rows}
    assert basis == {
        "dormant_days": "client policy: ISMS AC-01 §4",
        "key_cryptoperiod_days": "tool default — confirm against your policy",
        "password_min_length": "set by the baseline",
    }
