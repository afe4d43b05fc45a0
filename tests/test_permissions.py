"""The least-privilege permission list: README = what the declared datasets need = what preflight
probes.

A dataset's permission is the one its declared endpoints require (endpoints.py, each as the SDK's
API docs state it, compared with the simulator's route table in tests/test_endpoints.py); the
README must list exactly those, and preflight must probe each one.
"""

from __future__ import annotations

import re
from pathlib import Path

from gcevidence.datasets import SPECS
from gcevidence.endpoints import Paging
from gcevidence.preflight import permission_dependents, permission_probes

README = Path(__file__).resolve().parents[1] / "README.md"


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
        assert [c.strip() for c in listed.split(",")] == (checks or ["none"]), permission


def test_preflight_probes_every_permission_with_an_endpoint_that_requires_it():
    probes = permission_probes()
    needed = {s.permission for s in SPECS.values() if s.permission}
    assert set(probes) == needed == set(readme_table())
    for permission, endpoint in probes.items():
        assert endpoint.permission == permission, endpoint
        # Read-only: a GET, or the audit query preflight submits for a one-day look.
        assert endpoint.method == "GET" or endpoint.paging is Paging.ASYNC, endpoint


def test_a_dataset_needs_the_permission_of_every_endpoint_it_reads():
    for spec in SPECS.values():
        required = {e.permission for e in spec.reads if e.permission}
        assert required == ({spec.permission} if spec.permission else set()), spec.name
