import datetime as dt

import pytest
from gcevidence.config import load_params
from gcevidence.csvsafe import guard, unguard
from gcevidence.errors import InputError


def write(tmp_path, text):
    p = tmp_path / "p.yaml"
    p.write_text(text)
    return p


def test_minimal_params_get_defaults(tmp_path):
    p = load_params(write(tmp_path, "org: {region: eu-west-1}\n"), today=dt.date(2026, 12, 1))
    # The last complete UTC day before the collection, and exactly 90 days.
    assert p.period.end == dt.date(2026, 11, 30) and p.period.days == 90
    assert p.period.start == dt.date(2026, 9, 2)
    assert (p.period.end - p.period.start).days + 1 == 90
    assert p.baseline == "pci-dss-4.0.1"
    assert p.output_dir == (tmp_path / "output").resolve()


@pytest.mark.parametrize(
    "text, field",
    [
        ("orgg: {}\n", "orgg"),
        ("org: {regoin: x}\n", "org.regoin"),
        ("period: {end: 2026-13-01}\n", "period.end"),
        ("period: {days: 0}\n", "period.days"),
        ("baseline: pci\n", "baseline"),
        (
            "privileged_roles: {Master Admin: {max_holders: -1}}\n",
            "privileged_roles.Master Admin.max_holders",
        ),
        ("sod_conflicts: [[a]]\n", "sod_conflicts[0]"),
        ("output: {formats: [docx]}\n", "output.formats"),
    ],
)
def test_bad_params_name_file_field_and_value(tmp_path, text, field):
    with pytest.raises(InputError) as err:
        load_params(write(tmp_path, text))
    assert err.value.field == field
    assert str(tmp_path / "p.yaml") in str(err.value)
    assert err.value.exit_status == 2


def test_relative_paths_resolve_against_params_file(tmp_path):
    p = load_params(write(tmp_path, "hr: {roster: hr/roster.csv}\n"))
    assert p.hr_roster == (tmp_path / "hr" / "roster.csv").resolve()


@pytest.mark.parametrize(
    "value",
    ['=HYPERLINK("x")', "+1", "-2", "@a", "\tx", "\rx", "'q", "plain", "", "ש\u200fלום 👩‍💻"],
)
def test_csv_guard_round_trips_and_neutralises(value):
    guarded = guard(value)
    assert unguard(guarded) == value
    assert not guarded.startswith(("=", "+", "-", "@", "\t", "\r"))


def test_the_period_holds_exactly_its_days_and_says_so_to_the_second(tmp_path):
    p = load_params(
        write(tmp_path, "period: {end: 2026-11-30, days: 1}\n"), today=dt.date(2026, 12, 1)
    )
    assert p.period.start == p.period.end == dt.date(2026, 11, 30)
    assert p.period.stamps() == {"start": "2026-11-30T00:00:00Z", "end": "2026-11-30T23:59:59Z"}
    assert p.period.start_utc == dt.datetime(2026, 11, 30, tzinfo=dt.UTC)
    assert p.period.as_of == p.period.end_utc == dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    year = load_params(
        write(tmp_path, "period: {end: 2026-12-31, days: 365}\n"), today=dt.date(2027, 1, 1)
    )
    assert year.period.start == dt.date(2026, 1, 1)


def test_a_run_just_after_midnight_reports_the_day_that_just_ended(tmp_path):
    from gcevidence.config import last_complete_day

    assert last_complete_day(dt.date(2026, 12, 1)) == dt.date(2026, 11, 30)
    p = load_params(write(tmp_path, "period: {days: 7}\n"), today=dt.date(2026, 12, 1))
    assert p.period.stamps() == {"start": "2026-11-24T00:00:00Z", "end": "2026-11-30T23:59:59Z"}


@pytest.mark.parametrize("end", ["2026-12-01", "2026-12-02"])
def test_a_period_end_today_or_later_is_refused_in_the_file(tmp_path, end):
    path = write(tmp_path, f"period: {{end: {end}}}\n")
    with pytest.raises(InputError) as err:
        load_params(path, today=dt.date(2026, 12, 1))
    assert (err.value.file, err.value.field, err.value.value) == (str(path), "period.end", end)
    assert err.value.exit_status == 2 and "2026-11-30 or an earlier day" in str(err.value)
    assert "\n" not in str(err.value)


def test_a_period_end_flag_of_today_is_refused_naming_the_flag(tmp_path):
    path = write(tmp_path, "period: {days: 30}\n")
    with pytest.raises(InputError) as err:
        load_params(path, period_end=dt.date(2026, 12, 1), today=dt.date(2026, 12, 1))
    assert (err.value.file, err.value.field) == ("command line", "--period-end")
    assert err.value.value == "2026-12-01"
    assert load_params(path, period_end=dt.date(2026, 11, 30), today=dt.date(2026, 12, 1))


def test_cli_refuses_period_end_today_with_exit_2_and_writes_nothing(tmp_path, capsys):
    from gcevidence import cli

    path = write(tmp_path, f"output: {{dir: {tmp_path / 'out'}}}\n")
    today = dt.datetime.now(dt.UTC).date().isoformat()
    assert cli.main(["run", "--params", str(path), "--period-end", today]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"gcevidence: error: command line: --period-end='{today}': is not a")
    assert len(err.splitlines()) == 1 and not (tmp_path / "out").exists()


def test_hr_provenance_is_read_and_validated(tmp_path):
    text = (
        "hr:\n"
        "  roster: roster.csv\n"
        "  source: {system: Workday, report: Leavers, extracted_at: 2026-11-30,\n"
        "           extracted_by: J. Doe}\n"
        "  timezone: Europe/Paris\n"
        "  groups_source: Okta groups\n"
    )
    p = load_params(write(tmp_path, text), today=dt.date(2026, 12, 1))
    assert p.hr.source.system == "Workday" and p.hr.source.report == "Leavers"
    assert p.hr.source.extracted_at == "2026-11-30" and p.hr.source.extracted_by == "J. Doe"
    assert p.hr.timezone == "Europe/Paris" and p.hr.groups_source == "Okta groups"
    plain = load_params(write(tmp_path, "hr: {roster: r.csv}\n"), today=dt.date(2026, 12, 1))
    assert plain.hr.source is None and plain.hr.timezone == "UTC" and plain.hr.groups_source == ""


@pytest.mark.parametrize(
    "hr, field",
    [
        ("{timezone: Europe/Pariss}", "hr.timezone"),
        ("{timezone: Europe}", "hr.timezone"),
        ("{timezone: 5}", "hr.timezone"),
        ("{timezone: ''}", "hr.timezone"),
        ("{tz: UTC}", "hr.tz"),
        ("{source: {system: W, report: R, extracted_at: 2026-11-30}}", "hr.source.extracted_by"),
        (
            "{source: {system: W, report: R, extracted_at: 2026-11-30, extracted_by: J, when: x}}",
            "hr.source.when",
        ),
        (
            "{source: {system: W, report: R, extracted_at: last week, extracted_by: J}}",
            "hr.source.extracted_at",
        ),
        ("{source: Workday}", "hr.source"),
        ("{groups_source: [Okta]}", "hr.groups_source"),
    ],
)
def test_bad_hr_provenance_names_the_field(tmp_path, hr, field):
    with pytest.raises(InputError) as err:
        load_params(write(tmp_path, f"hr: {hr}\n"), today=dt.date(2026, 12, 1))
    assert err.value.field == field and err.value.exit_status == 2
    assert str(tmp_path / "p.yaml") in str(err.value)
