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
    p = load_params(write(tmp_path, "org: {region: eu-west-1}\n"), today=dt.date(2026, 11, 30))
    assert p.period.end == dt.date(2026, 11, 30) and p.period.days == 90
    assert p.period.start == dt.date(2026, 9, 1)
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
