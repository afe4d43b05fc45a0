"""The coverage matrix: every in-scope requirement of the four frameworks accounted for, once."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from pathlib import Path

import pytest
from checks_world import World
from gcevidence.catalog import EXTRA_FRAMEWORKS_ENV, load_catalog, read_catalog, roll_up
from gcevidence.catalog.load import HERE
from gcevidence.catalog.schema import COVERAGE_KINDS
from gcevidence.coverage import (
    CSV_COLUMNS,
    TALLIES,
    coverage_matrix,
    tally_counts,
    write_coverage,
)
from gcevidence.csvsafe import unguard
from gcevidence.errors import CatalogError

# The in-scope sets as the standards number them (ids are facts; the files hold the same lists).
ISO_2022_THEMES = {"5": 37, "6": 8, "7": 14, "8": 34}
SOC2_SCOPE = [f"CC6.{i}" for i in range(1, 9)] + [f"CC7.{i}" for i in range(1, 6)]
SOC2_SCOPE += ["CC8.1", "CC9.1", "CC9.2"]
PCI_REQUIREMENTS = {"2", "3", "4", "7", "8", "10", "12"}
# Sub-requirements an auditor will look for by number (lockout, history, logging, incidents).
PCI_SAMPLE = {"2.2.2", "3.3.1.2", "4.2.1.1", "7.3.3", "8.3.4", "8.3.7", "8.3.10.1", "8.5.1"}
PCI_SAMPLE |= {"10.2.1.7", "10.6.3", "10.7.3", "12.5.2", "12.8.4", "12.10.7"}
ATTESTATIONS = ("SOC 2 Type II report", "attestation of compliance", "ISO/IEC 27001 certificate")


def ways(req) -> list[str]:
    return [k for k in COVERAGE_KINDS if getattr(req, k)]


def test_the_scopes_are_the_standards_sets():
    fws = load_catalog().frameworks
    iso22 = fws["iso27001-2022"].scope
    assert len(iso22) == 93
    assert set(iso22) == {
        f"{t}.{n}" for t, count in ISO_2022_THEMES.items() for n in range(1, count + 1)
    }
    iso13 = fws["iso27001-2013"]
    assert set(iso13.scope) == set(iso13.successor.correspondence) and len(iso13.scope) == 34
    assert list(fws["soc2"].scope) == SOC2_SCOPE
    pci = fws["pci-dss-4.0.1"].scope
    assert len(pci) == 151 and set(pci) >= PCI_SAMPLE
    assert {c.split(".")[0] for c in pci} == PCI_REQUIREMENTS
    assert all(re.fullmatch(r"\d+\.\d+\.\d+(\.\d+)?", c) for c in pci)
    # a row the file already has under those requirements is in scope: the list misses none
    pci_rows = fws["pci-dss-4.0.1"].requirements
    assert {c for c in pci_rows if c.split(".")[0] in PCI_REQUIREMENTS} == set(pci)


def test_every_in_scope_requirement_has_a_row_with_exactly_one_coverage():
    for fid in ("iso27001-2013", "iso27001-2022", "soc2", "pci-dss-4.0.1"):
        fw = load_catalog().frameworks[fid]
        assert fw.scope and fw.scope_description, fid
        for control in fw.scope:
            req = fw.requirements.get(control)
            assert req is not None, (fid, control)
            assert len(ways(req)) == 1 and req.title, (fid, control, ways(req))


def test_every_row_of_every_framework_states_exactly_one_coverage():
    for fw in load_catalog().frameworks.values():
        for req in fw.requirements.values():
            assert len(ways(req)) == 1, (fw.id, req.id)
            assert req.coverage == ways(req)[0]
            assert bool(req.coverage_text) == (req.coverage != "checks")


def test_every_control_a_check_names_has_a_row():
    cat = load_catalog()
    for spec in cat.checks.values():
        for fid, controls in spec.controls.items():
            for control in controls:
                req = cat.frameworks[fid].requirements.get(control)
                assert req is not None and req.coverage == "checks", (spec.id, fid, control)
                assert spec.id in [m.check for m in req.checks]


def test_genesys_rows_name_the_attestation_that_covers_them():
    for fw in load_catalog().frameworks.values():
        for req in fw.requirements.values():
            if req.coverage == "genesys":
                assert any(a in req.genesys for a in ATTESTATIONS), (fw.id, req.id)


def test_what_genesys_leaves_to_the_customer_is_a_manual_procedure():
    pci = load_catalog().frameworks["pci-dss-4.0.1"].requirements
    lockout = pci["8.3.4"]
    assert lockout.coverage == "manual"
    assert "30 minutes" in lockout.manual and "identity provider" in lockout.manual
    assert pci["8.3.7"].coverage == "manual" and "last 10" in pci["8.3.7"].manual
    assert "secure pause" in pci["3.3.1.2"].manual and "recordings" in pci["3.3.1.2"].manual
    assert "phones" in pci["4.2.1.1"].manual.lower()
    assert pci["8.2.2"].coverage == "checks"  # shared IDs: the orphan accounts test
    iso = load_catalog().frameworks["iso27001-2022"].requirements
    assert iso["5.1"].coverage == "organisation" and iso["7.1"].coverage == "organisation"


# --- the loader refuses a row without coverage, with two, and a scope id without a row --------


ORG_5_1 = (
    "    title: Policies for information security\n    organisation: >-\n"
    "      The information security policy and its topic-specific policies, approved by management"
    " and\n"
    "      communicated; documents of the ISMS, outside the tenant.\n"
)
BAD = [
    (
        ORG_5_1,
        ORG_5_1.replace("    organisation:", "    manual: Read it.\n    organisation:"),
        'requirements["5.1"]',
        "title, manual, organisation",
        "give exactly one of checks, manual, genesys, organisation",
    ),
    (
        ORG_5_1,
        ORG_5_1.replace("organisation:", "comment:"),
        'requirements["5.1"].comment',
        "The information security policy and its topic-specific policies, approved by management "
        "and communicated; documents of the ISMS, outside the tenant.",
        "unknown key",
    ),
    (
        ORG_5_1,
        "    title: Policies for information security\n    organisation: >-\n      \n",
        'requirements["5.1"].organisation',
        "",
        "must be non-empty text",
    ),
    (
        '  "8.34":\n    title: Protection of information systems during audit testing\n',
        '  "8.34x":\n    title: Protection of information systems during audit testing\n',
        'requirements["8.34x"]',
        "8.34x",
        "does not match the framework's id_pattern",
    ),
]


@pytest.mark.parametrize("old, new, field, value, problem", BAD, ids=[b[2] for b in BAD])
def test_a_row_stating_two_ways_or_a_bad_coverage_fails_at_load(
    catalog_copy, old, new, field, value, problem
):
    root, edit = catalog_copy
    path = edit("frameworks/iso27001-2022.yaml", old, new)
    with pytest.raises(CatalogError) as err:
        read_catalog(root)
    assert (err.value.file, err.value.field, err.value.value) == (str(path), field, value)
    assert problem in str(err.value) and err.value.exit_status == 2


def test_a_row_stating_no_coverage_fails_at_load(catalog_copy):
    root, edit = catalog_copy
    edit("frameworks/iso27001-2022.yaml", ORG_5_1, "    title: Policies for information security\n")
    with pytest.raises(CatalogError) as err:
        read_catalog(root)
    assert (err.value.field, err.value.value) == ('requirements["5.1"]', "title")
    assert "states no coverage" in str(err.value)
    assert "give exactly one of checks, manual, genesys, organisation" in str(err.value)


def test_an_in_scope_id_without_a_row_fails_at_load(catalog_copy):
    root, edit = catalog_copy
    block = (
        '  "8.34":\n    title: Protection of information systems during audit testing\n'
        "    manual: >-\n"
    )
    path = edit(
        "frameworks/iso27001-2022.yaml", block, '  "8.99":\n    title: moved\n    manual: >-\n'
    )
    with pytest.raises(CatalogError) as err:
        read_catalog(root)
    assert (err.value.file, err.value.field, err.value.value) == (
        str(path),
        "scope.ids[92]",
        "8.34",
    )
    assert "is in scope but has no row under requirements" in str(err.value)


def test_an_in_scope_id_given_twice_or_off_pattern_fails_at_load(catalog_copy):
    root, edit = catalog_copy
    edit("frameworks/soc2.yaml", '"CC9.1", "CC9.2",\n', '"CC9.1", "CC9.1",\n')
    with pytest.raises(CatalogError) as err:
        read_catalog(root)
    assert err.value.field == "scope.ids"
    root2, edit2 = catalog_copy
    edit2("frameworks/soc2.yaml", '"CC9.1", "CC9.1",\n', '"CC9.1", "XX9.2",\n')
    with pytest.raises(CatalogError) as err:
        read_catalog(root2)
    assert (err.value.field, err.value.value) == ("scope.ids[15]", "XX9.2")


# --- coverage.json and coverage.csv of a run --------------------------------------------------


def _run_doc(tmp_path: Path, findings: list) -> dict:
    from gcevidence.findings_files import findings_document

    world = World(tmp_path)
    run = {
        "id": "060000Z-ab12",
        "generated_at": "2026-11-30T06:00:00Z",
        "period": {"start": "2026-11-20T00:00:00Z", "end": "2026-11-30T23:59:59Z"},
        "org": {"id": "org-1", "name": "Test Org"},
        "baseline": "pci-dss-4.0.1",
    }
    return json.loads(json.dumps(findings_document(run, world.ctx().snapshot, findings)))


@pytest.fixture
def world_run(tmp_path):
    world = World(tmp_path / "org")
    world.data["auth_settings"]["multifactorAuthenticationRequired"] = False
    findings = world.run_all()
    return findings, _run_doc(tmp_path / "org", findings)


def test_coverage_json_accounts_for_every_requirement_with_this_runs_results(tmp_path, world_run):
    findings, doc = world_run
    json_path, _ = write_coverage(doc, tmp_path)
    cov = json.loads(json_path.read_text(encoding="utf-8"))
    assert cov["schema"] == "gcevidence.coverage/1" and cov["run"]["id"] == "060000Z-ab12"
    cat = load_catalog()
    assert [f["id"] for f in cov["frameworks"]] == list(cat.framework_ids)
    rolled = roll_up(findings)
    for fw in cov["frameworks"]:
        spec = cat.frameworks[fw["id"]]
        assert [r["id"] for r in fw["requirements"]] == list(spec.requirements)
        in_scope = [r for r in fw["requirements"] if r["in_scope"]]
        assert len(in_scope) == (len(spec.scope) or len(spec.requirements))
        assert sum(fw["counts"].values()) == len(in_scope)
        for r in fw["requirements"]:
            req = spec.requirements[r["id"]]
            assert r["coverage"] == req.coverage and r["title"] == req.title
            if r["coverage"] == "checks":
                # the same roll-up as the status matrix and OSCAL: the worst of its checks
                assert r["result"] == rolled[fw["id"]][r["id"]].status
                assert [c["check"] for c in r["checks"]] == [m.check for m in req.checks]
                assert all(c["rationale"] for c in r["checks"])
            else:
                assert r[r["coverage"]] == req.coverage_text and "checks" not in r
    pci = next(f for f in cov["frameworks"] if f["id"] == "pci-dss-4.0.1")
    rows = {r["id"]: r for r in pci["requirements"]}
    assert rows["8.4.2"]["result"] == "fail"  # MFA switched off in this org
    assert rows["8.3.4"]["coverage"] == "manual" and "30 minutes" in rows["8.3.4"]["manual"]
    assert rows["1.3.1"]["in_scope"] is False  # a row a check maps to, outside the scope
    expected = Counter(
        r["result"] if r["coverage"] == "checks" else r["coverage"]
        for r in pci["requirements"]
        if r["in_scope"]
    )
    assert pci["counts"] == {k: expected.get(k, 0) for k in TALLIES}
    failing = {r["id"] for r in pci["requirements"] if r.get("result") == "fail"}
    assert failing == set(load_catalog().checks["auth.mfa_required"].controls["pci-dss-4.0.1"])
    assert pci["counts"]["fail"] == 3 and pci["counts"]["manual"] > 0


def test_a_check_without_a_finding_leaves_its_requirements_not_evaluable(tmp_path, world_run):
    findings, doc = world_run
    doc["findings"] = [f for f in doc["findings"] if f["check"] != "auth.idle_timeout"]
    rows = {r.requirement: r for r in coverage_matrix(doc["findings"])["pci-dss-4.0.1"]}
    assert rows["8.2.8"].result == "not_evaluable"  # idle timeout is its only check
    assert rows["8.2.8"].checks[0].status == "not_evaluable"


def test_coverage_csv_has_a_row_per_requirement_and_guards_every_cell(tmp_path, monkeypatch):
    extra = tmp_path / "frameworks"
    extra.mkdir()
    (extra / "acme-isms.yaml").write_text(
        "schema: gcevidence.catalog.framework/1\nid: acme-isms\nlabel: ACME\nshort: ACME\n"
        "id_pattern: 'ACME-\\d{2}'\nreport: true\nrequirements:\n"
        "  ACME-01:\n    title: '=HYPERLINK(\"http://x\")'\n"
        "    manual: '+1 call the reception'\n"
        "  ACME-02:\n    title: Leavers\n    checks:\n"
        "      - check: access.terminated_active\n        rationale: the leaver rule\n",
        encoding="utf-8",
    )
    monkeypatch.setenv(EXTRA_FRAMEWORKS_ENV, str(extra))
    world = World(tmp_path / "org")
    findings = world.run_all()
    _, csv_path = write_coverage(_run_doc(tmp_path / "org", findings), tmp_path)
    with csv_path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == sum(len(fw.requirements) for fw in load_catalog().frameworks.values())
    acme = {r["requirement"]: r for r in rows if r["framework"] == "acme-isms"}
    assert acme["ACME-01"]["title"] == '\'=HYPERLINK("http://x")'
    assert acme["ACME-01"]["procedure_or_attestation"] == "'+1 call the reception"
    assert unguard(acme["ACME-01"]["title"]) == '=HYPERLINK("http://x")'
    assert acme["ACME-02"]["in_scope"] == "yes"  # no scope: every row counts
    assert acme["ACME-02"]["checks"] == "A09-1 access.terminated_active: pass"
    assert (acme["ACME-02"]["coverage"], acme["ACME-02"]["result"]) == ("checks", "pass")
    pci = {r["requirement"]: r for r in rows if r["framework"] == "pci-dss-4.0.1"}
    assert pci["12.9.1"]["coverage"] == "genesys" and pci["12.9.1"]["result"] == ""
    assert "attestation of compliance" in pci["12.9.1"]["procedure_or_attestation"]


# --- the summary paper's section --------------------------------------------------------------


def test_the_summary_section_counts_per_framework_and_lists_every_manual_procedure(world_run):
    import html as html_lib

    from gcevidence.report.coverage_html import count_rows, coverage_html, todo_rows

    findings, _ = world_run
    matrix = coverage_matrix(findings)
    markup = coverage_html(findings)
    text = html_lib.unescape(re.sub(r"<[^>]+>", " ", markup))
    cat = load_catalog()
    counts = {row[0]: row for row in count_rows(matrix)}
    assert list(counts) == [fw.short for fw in cat.reported_frameworks()]
    pci = counts["PCI DSS 4.0.1"]
    assert pci[2] == 151 and pci[3:] == tuple(tally_counts(matrix["pci-dss-4.0.1"]).values())
    assert counts["ISO 27001:2022"][2] == 93 and counts["SOC 2"][2] == 16
    manual = [
        (fw.short, r.id)
        for fw in cat.reported_frameworks()
        for r in fw.requirements.values()
        if r.coverage == "manual" and r.id in fw.scope
    ]
    assert [(row[1], row[2]) for row in todo_rows(matrix)] == manual
    for short, rid in manual:
        fw = next(f for f in cat.reported_frameworks() if f.short == short)
        assert " ".join(fw.requirements[rid].manual.split()) in " ".join(text.split())
    assert "Manual procedures: the auditor's to-do list" in text
    assert "12.9.1" in text and "12.1.1" in text  # a Genesys row and an organisational row


def test_the_summary_section_escapes_catalog_text(tmp_path, monkeypatch):
    from gcevidence.report.coverage_html import coverage_html

    extra = tmp_path / "frameworks"
    extra.mkdir()
    (extra / "acme-isms.yaml").write_text(
        "schema: gcevidence.catalog.framework/1\nid: acme-isms\nlabel: ACME\nshort: ACME\n"
        "id_pattern: 'ACME-\\d{2}'\nreport: true\nrequirements:\n"
        "  ACME-01:\n    title: Visitors <b>sign</b>\n"
        "    manual: <script>alert(1)</script> the book\n",
        encoding="utf-8",
    )
    monkeypatch.setenv(EXTRA_FRAMEWORKS_ENV, str(extra))
    markup = coverage_html([])
    assert "<script>" not in markup and "&lt;script&gt;alert(1)&lt;/script&gt; the book" in markup
    assert "Visitors &lt;b&gt;sign&lt;/b&gt;" in markup


def test_readme_states_the_coverage_counts_of_the_catalog():
    readme = (HERE.parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Coverage\n", 1)[1].split("\n### ", 1)[0]
    stated = {
        cells[0]: tuple(int(c) for c in cells[1:6])
        for line in section.splitlines()
        if len(cells := [c.strip() for c in line.strip().strip("|").split("|")]) == 7
        and cells[1].isdigit()
    }
    for fw in load_catalog().reported_frameworks():
        counts = Counter(fw.requirements[c].coverage for c in fw.scope)
        assert stated[fw.short] == (len(fw.scope), *(counts[k] for k in COVERAGE_KINDS)), fw.id
