"""Which divisions the collecting OAuth client sees (issue 12 §1): from its own grants, shown on
the index, under every population table and in the run block; unknown when it cannot be read."""

from __future__ import annotations

import pytest
from gcevidence.collection_scope import ALL, LIMITED, UNKNOWN, division_scope, scope_of
from gcevidence.datasets import SPECS
from gcevidence.findings_files import run_block
from gcevidence.report.context import RunContext
from gcevidence.report.index import index_html
from gcevidence.report.provenance import provenance_rows
from gcevidence.report.sections import show_population
from test_collect_sim import params_for, run

DIVISIONS = [{"id": f"d{i}", "name": name} for i, name in enumerate(("Home", "Sales", "Care"))]
EVERY_PERMISSION = {s.permission for s in SPECS.values() if s.permission}


def client(*division_ids: str) -> dict:
    return {
        "id": "c1",
        "name": "collector",
        "roleDivisions": [{"roleId": "r1", "divisionId": d} for d in division_ids],
    }


@pytest.mark.parametrize(
    ("grants", "state", "outside"),
    [
        (("*",), ALL, ()),
        (("d0", "d1", "d2"), ALL, ()),
        (("d0", "*"), ALL, ()),
        (("d1",), LIMITED, ("Care (d2)", "Home (d0)")),
        ((), LIMITED, ("Care (d2)", "Home (d0)", "Sales (d1)")),
        (("d1", "gone"), LIMITED, ("Care (d2)", "Home (d0)")),
    ],
)
def test_the_scope_follows_the_grants(grants, state, outside):
    scope = scope_of(client(*grants), DIVISIONS)
    assert (scope.state, scope.out_of_scope) == (state, outside)
    assert scope.divisions == 3 and scope.complete == (state == ALL)


def test_without_the_clients_grants_the_scope_is_unknown_never_all():
    for scope in (
        scope_of(None, DIVISIONS, "missing permission oauth:client:view"),
        scope_of({"id": "c1", "name": "x"}, DIVISIONS),  # no roleDivisions at all
        scope_of(client("*"), []),  # the divisions could not be read
    ):
        assert scope.state == UNKNOWN and not scope.complete
        assert scope.summary().startswith("UNKNOWN — not verified")
        assert "All" not in scope.summary()


def context(sim, tmp_path, **client_kwargs):
    snap, _, run_dir = run(sim, tmp_path)
    params = params_for(sim, tmp_path)
    run_doc = run_block(params, snap, "run-1", "2026-11-27T12:00:00Z", sim.client_id)
    return snap, RunContext(run_dir, params, snap, [], {}, run_doc), run_doc


def index_of(run_doc: dict) -> str:
    return index_html(
        run=run_doc,
        params_digest="sha256:p",
        content_digest="sha256:c",
        findings=[],
        datasets=[],
        notebooks=[],
        extra_files=[],
    )


def test_a_client_with_every_division_says_so_everywhere(make_simulator, tmp_path):
    sim = make_simulator()
    snap, ctx, run_doc = context(sim, tmp_path)
    scope = division_scope(snap)
    assert scope.state == ALL and scope.divisions == len(sim.org.divisions)
    assert snap.meta["collector_scope"]["state"] == ALL
    assert run_doc["division_scope"]["state"] == ALL
    population = show_population(ctx, "users").data
    assert f"All {len(sim.org.divisions)} divisions" in population and "division *" in population
    (divisions,) = [r for r in provenance_rows(run_doc, "") if r[0] == "Divisions the client sees"]
    assert divisions[1] == scope.summary() and divisions[2] is False  # no warning
    assert scope.summary() in index_of(run_doc)


def test_a_division_limited_client_names_every_division_out_of_scope(make_simulator, tmp_path):
    sim = make_simulator(collector_divisions=("Home", "Sales"))
    snap, ctx, run_doc = context(sim, tmp_path)
    outside = [d for d in sim.org.divisions if d.name not in ("Home", "Sales")]
    scope = division_scope(snap)
    assert scope.state == LIMITED and scope.in_scope == ("Home", "Sales")
    assert scope.out_of_scope == tuple(sorted(f"{d.name} ({d.id})" for d in outside))
    # The index, every population table and the run block of findings.json say it.
    index = index_of(run_doc)
    assert "<strong>WARNING:</strong> LIMITED" in index
    for name in ("users", "audit_events"):
        population = show_population(ctx, name).data
        assert "LIMITED" in population
        assert all(f"{d.name} ({d.id})" in population for d in outside)
    assert run_doc["division_scope"]["out_of_scope"] == list(scope.out_of_scope)
    assert all(d.id in index for d in outside)


def test_a_missing_permission_makes_the_scope_unknown(make_simulator, tmp_path):
    sim = make_simulator(permissions=EVERY_PERMISSION - {"oauth:client:view"})
    snap, ctx, run_doc = context(sim, tmp_path)
    assert not snap.has("collector_client")
    assert snap.status("collector_client").missing_permission == "oauth:client:view"
    scope = division_scope(snap)
    assert scope.state == UNKNOWN and "oauth:client:view" in scope.summary()
    assert "UNKNOWN — not verified" in show_population(ctx, "users").data
    assert "UNKNOWN — not verified" in index_of(run_doc)
