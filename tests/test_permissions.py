"""The least-privilege permission list: README = what the datasets need = what the API asks.

The simulator's route table carries each endpoint's permission as the "Requires ANY/ALL
permissions" lines of the SDK API docs (platform-client-sdk-python) state it; the datasets
must declare the same, and the README must list exactly those.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from gcevidence.datasets import SPECS
from gcevidence.preflight import permission_dependents
from gcevidence.simulator.api import Api

README = Path(__file__).resolve().parents[1] / "README.md"
ENDPOINT = re.compile(r"\b(GET|POST) (/api/v2/[^\s?+]+)")


def readme_table() -> dict[str, str]:
    """permission -> the 'checks not_evaluable' cell, from the real-org section's table."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## Running it against a real org", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and re.fullmatch(r"`[a-z]+:[A-Za-z*]+:[A-Za-z*]+`", cells[0]):
            rows[cells[0].strip("`")] = cells[2]
    return rows


def test_readme_lists_exactly_the_permissions_the_datasets_need():
    needed = {s.permission for s in SPECS.values() if s.permission}
    assert set(readme_table()) == needed
    assert "authorization:grant:view" not in needed  # no collected endpoint needs it


def test_readme_names_the_checks_each_permission_guards():
    table = readme_table()
    for permission, checks in permission_dependents().items():
        listed = table[permission].split(" (")[0]
        assert [c.strip() for c in listed.split(",")] == checks, permission


@pytest.mark.parametrize("name", [n for n, s in SPECS.items() if ENDPOINT.search(s.source)])
def test_each_dataset_permission_is_what_its_endpoints_require(name):
    api = Api.__new__(Api)
    table = [(m, re.compile("^" + pattern + "$"), perm) for m, pattern, _f, perm in api._table()]
    spec = SPECS[name]
    for method, path in ENDPOINT.findall(spec.source):
        concrete = re.sub(r"\{[^}]+\}", "x", path)
        perms = [perm for m, rx, perm in table if m == method and rx.match(concrete)]
        assert perms, f"{method} {path}: no such simulated endpoint"
        assert perms[0] == spec.permission, (name, method, path)
