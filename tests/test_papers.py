"""Working papers generated from the catalog: sections, header, conclusion, sign-off, glossary."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import nbformat
import pytest
from checks_world import DENIED, World
from gcevidence.catalog import load_catalog
from gcevidence.findings import ExceptionItem
from gcevidence.report import context, paper_html, sections
from gcevidence.report.glossary import GLOSSARY, SEVERITY_SCALE
from gcevidence.report.html import ident
from gcevidence.report.paper import conclude, paper_controls
from test_render import build_fake_run

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
SHOW_CHECK = re.compile(r'report\.show_check\(ctx, "([a-z0-9_.]+)"\)')


def _calls(notebook: str, pattern: re.Pattern) -> list[str]:
    nb = nbformat.read(NOTEBOOKS / f"{notebook}.ipynb", as_version=4)
    return [m for c in nb.cells if c.cell_type == "code" for m in pattern.findall(c.source)]


@pytest.fixture(scope="module")
def findings(tmp_path_factory):
    """Realistic findings: MFA off (fail), trunks unreadable (not evaluable), the rest passes."""
    world = World(tmp_path_factory.mktemp("world"))
    world.data["auth_settings"]["multifactorAuthenticationRequired"] = False
    world.data["trunks"] = DENIED
    return world.run_all()


# --- the notebooks are the catalog's papers ---------------------------------------------------


def test_every_check_appears_in_exactly_one_paper_in_ref_order():
    cat = load_catalog()
    shown: list[str] = []
    for paper in cat.family_papers():
        calls = _calls(paper.notebook, SHOW_CHECK)
        assert calls == [spec.id for spec in cat.checks_of(paper.notebook)], paper.notebook
        shown += calls
    assert sorted(shown) == sorted(cat.checks)  # each once, none left out
    assert not _calls(cat.summary_paper.notebook, SHOW_CHECK)


@pytest.mark.parametrize("paper", [p.notebook for p in load_catalog().papers])
def test_each_paper_has_its_header_conclusion_and_sign_off(paper):
    nb = nbformat.read(NOTEBOOKS / f"{paper}.ipynb", as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "report.show_signoff(ctx)" in code
    if paper != "summary":
        assert f'report.show_header(ctx, "{paper}")' in code
        assert f'report.show_conclusion(ctx, "{paper}")' in code
        assert f'paper="{paper}"' in code  # its population derives from its checks
    else:
        assert "report.show_glossary(ctx)" in code and "report.show_requirements(ctx)" in code
    # no control id is typed into the markdown: the header computes them
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert not re.search(r"\b(A\.\d+\.\d+|CC\d\.\d|8\.2\.5|10\.\d\.\d)\b", text), paper
    for cell in nb.cells:
        assert len(cell.source.strip().splitlines()) <= 2 or cell.cell_type == "markdown"


def test_every_control_a_paper_claims_is_mapped_by_one_of_its_checks():
    cat = load_catalog()
    for paper in cat.family_papers():
        claimed = paper_controls(paper.notebook)
        assert set(claimed) <= {fw.id for fw in cat.reported_frameworks()}
        mapped = {
            (m.framework, m.control)
            for spec in cat.checks_of(paper.notebook)
            for m in spec.mappings
            if cat.frameworks[m.framework].report
        }
        assert {(fw, c) for fw, ids in claimed.items() for c in ids} == mapped, paper.notebook
        html = paper_html.header_html(paper.notebook)
        for fw, ids in claimed.items():
            label = sections.esc(cat.frameworks[fw].label)
            assert f"<td>{label}</td><td>{', '.join(ids)}</td>" in html
    # the hand-typed tables claimed these; no check of those papers tests them
    assert "CC6.7" not in paper_controls("A10_cryptography")["soc2"]
    assert "10.4.1" not in paper_controls("A12_logging_monitoring")["pci-dss-4.0.1"]
    assert "8.2.1" in paper_controls("A09_access_control")["pci-dss-4.0.1"]


# --- a check's section -------------------------------------------------------------------------


def test_a_failing_check_shows_its_remediation_and_only_then(findings):
    cat = load_catalog()
    by_check = {f.check: f for f in findings}
    thresholds = {"mfa_required": {"value": True, "source": "PCI DSS 4.0.1 8.4.2"}}
    for check, f in by_check.items():
        spec = cat.checks[check]
        html = paper_html.check_html(spec, f, thresholds)
        shown = "Remediation." in html and sections.esc(spec.remediation) in html
        assert shown == (f.status == "fail"), (check, f.status)
        assert f'<h3 id="{spec.ref}">{spec.ref} · {sections.esc(spec.title)}</h3>' in html
        assert sections.esc(spec.objective) in html and sections.esc(spec.procedure) in html
    mfa = paper_html.check_html(cat.checks["auth.mfa_required"], by_check["auth.mfa_required"], {})
    assert "FAIL" in mfa and "not recorded in this run" in mfa  # the threshold it reads
    mfa = paper_html.check_html(
        cat.checks["auth.mfa_required"], by_check["auth.mfa_required"], thresholds
    )
    assert "<code>mfa_required</code> = <strong>True</strong> — PCI DSS 4.0.1 8.4.2" in mfa
    # every reported mapping, with its rationale and condition
    for m in cat.checks["auth.mfa_required"].mappings:
        if cat.frameworks[m.framework].report:
            assert sections.esc(m.rationale) in mfa and sections.esc(m.condition) in mfa


def test_a_check_without_result_says_so_and_shows_no_remediation():
    spec = load_catalog().checks["network.trunk_tls"]
    html = paper_html.check_html(spec, None, {})
    assert "NOT EVALUABLE" in html and "no result in this run" in html
    assert "Remediation." not in html


def test_every_exception_is_listed_accepted_ones_marked(findings):
    f = next(f for f in findings if f.check == "auth.mfa_required")
    items = [ExceptionItem("user", f"u-{i}", f"<b>User {i}</b>", "detail") for i in range(30)]
    items[3] = dataclasses.replace(items[3], accepted={"approved_by": "CISO", "reason": "r"})
    html = paper_html.check_html(
        load_catalog().checks[f.check], dataclasses.replace(f, exceptions=tuple(items)), {}
    )
    assert "All 30 exceptions (1 accepted)" in html and "<b>User" not in html
    assert all(f"<td>{ident(f'u-{i}')}</td>" in html for i in range(30))
    assert "approved_by: CISO" in html


# --- the conclusion ----------------------------------------------------------------------------


def test_the_conclusion_is_computed_from_the_findings(findings):
    conclusions = {
        (c.framework, c.control): c
        for cs in conclude(findings, "A09_access_control").values()
        for c in cs
    }
    assert set(conclusions) == {
        (fw, c) for fw, ids in paper_controls("A09_access_control").items() for c in ids
    }
    secure = conclusions[("iso27001-2022", "8.5")]
    assert secure.status == "fail"
    assert secure.text.startswith(
        "8.5 Secure authentication — not effective on the evidence of the automated tests "
        "mapped to this requirement: 1 exception in A09-11 (auth.mfa_required)"
    )
    identity = conclusions[("iso27001-2022", "5.16")]
    assert identity.status == "pass"
    assert identity.text == (
        "5.16 Identity management — no exception found by the automated tests mapped to this "
        "requirement: A09-1 (access.terminated_active), A09-3 (access.orphan_accounts)."
    )
    # change a finding, the conclusion changes
    leaver = ExceptionItem("user", "u-9", "Pat Leaver", "terminated 2026-11-01, still active")
    changed = [
        dataclasses.replace(f, status="fail", exceptions=(leaver, leaver))
        if f.check == "access.terminated_active"
        else f
        for f in findings
    ]
    after = {
        (c.framework, c.control): c
        for cs in conclude(changed, "A09_access_control").values()
        for c in cs
    }
    assert after[("iso27001-2022", "5.16")].text == (
        "5.16 Identity management — not effective on the evidence of the automated tests mapped "
        "to this requirement: 2 exceptions in A09-1 (access.terminated_active); passed: A09-3 "
        "(access.orphan_accounts)."
    )
    # a test that cannot run: no conclusion, with why
    drift = after[("iso27001-2022", "8.9")]
    assert drift.status == "not_evaluable"
    assert drift.text.startswith("8.9 Configuration management — no conclusion: not every one")
    role_drift = next(f for f in findings if f.check == "access.role_drift")
    why = role_drift.reason.split(";")[0].split(". ")[0]
    assert f"A09-9 (access.role_drift) not evaluable: {why}" in drift.text


def test_the_conclusion_never_says_a_requirement_fails_and_cites_other_papers(findings):
    html = paper_html.conclusion_html(findings, "A13_communications", "the period")
    assert "requirement fails" not in html and "FAIL<" not in html
    assert "automated tests mapped to this requirement" in html
    assert "NOT EVALUABLE" in html  # the trunks could not be read
    # 8.24 is also tested by the cryptography paper
    assert "Also tested in other papers: A10-1, A10-2" in html
    assert "Condition for A13-1: Only if calls carried by these trunks" in html


def test_accepted_exceptions_are_counted_apart(findings):
    accepted = ExceptionItem("user", "u-1", "x", "d", accepted={"approved_by": "CISO"})
    changed = [
        dataclasses.replace(f, exceptions=(accepted,)) if f.check == "access.orphan_accounts" else f
        for f in findings
    ]
    c = next(
        c for c in conclude(changed, "A09_access_control")["pci-dss-4.0.1"] if c.control == "8.2.2"
    )
    assert c.status == "pass"
    assert c.text.endswith("A09-3 (access.orphan_accounts) with 1 accepted exception.")


# --- sign-off, glossary, the run context ---------------------------------------------------


def test_sign_off_names_the_run_and_leaves_the_reviewer_blank(tmp_path):
    run_dir, params = build_fake_run(tmp_path)
    ctx = context.open_run(run_dir, params)
    html = sections.show_signoff(ctx).data
    assert "gcevidence 0.1.0, run 060000Z-abc, OAuth client client-1, 2026-11-30T06:00:00Z" in html
    for label in ("Reviewed by", "Date of review", "Signature"):
        assert f'<th>{label}</th><td><span class="gce-blank"></span></td>' in html
    assert "gcevidence review sign PACK_DIR --reviewer NAME --key REVIEWER_KEY.pem" in html
    assert "operated by" not in html
    ctx.run["operator"] = "<Jo Analyst>"
    assert "operated by &lt;Jo Analyst&gt;" in sections.show_signoff(ctx).data


def test_scope_shows_the_evidence_digest_of_the_run_folder(tmp_path):
    from gcevidence.pack.manifest import evidence_digest

    run_dir, params = build_fake_run(tmp_path)
    ctx = context.open_run(run_dir, params)
    digest = evidence_digest(run_dir)
    assert digest in sections.show_scope(ctx).data
    (run_dir / "review.txt").write_text("not evidence")  # outside what the papers rest on
    assert evidence_digest(run_dir) == digest
    (run_dir / "evidence" / "users.csv").write_text("changed", encoding="utf-8")
    assert evidence_digest(run_dir) != digest


def test_glossary_and_severity_scale_cover_the_words_of_the_pack(tmp_path):
    from gcevidence.findings import SEVERITIES

    assert set(SEVERITY_SCALE) == set(SEVERITIES)
    terms = " ".join(term for term, _ in GLOSSARY)
    for word in ("population", "exception", "not evaluable", "baseline", "roll-up", "ref"):
        assert word in terms
    run_dir, params = build_fake_run(tmp_path)
    html = sections.show_glossary(context.open_run(run_dir, params)).data
    assert "critical" in html and "evidence digest" in html


def test_summary_requirements_give_every_rationale_and_condition(findings):
    html = paper_html.requirements_html(findings)
    cat = load_catalog()
    for fw in cat.reported_frameworks():
        for req in fw.requirements.values():
            for m in req.checks:
                assert sections.esc(m.rationale) in html, (fw.id, req.id, m.check)
    assert "requirement fails" not in html and "EXCEPTIONS" in html


def test_a_not_evaluable_test_is_cited_with_the_first_clause_of_its_reason():
    from gcevidence.report.paper import WHY_LIMIT, TestResult

    def why(reason: str) -> str:
        return TestResult("A09-11", "auth.mfa_required", "not_evaluable", 0, 0, reason, "", "").why

    assert why("Genesys login is disabled: all sign in through Okta. Its MFA...; obtain") == (
        "Genesys login is disabled: all sign in through Okta"
    )
    long = why("x" * 400)
    assert len(long) == WHY_LIMIT and long.endswith("…")
    assert why("") == "no reason recorded"
