"""One function per working-paper section: header, scope, population, a check, the conclusion,
the sign-off, the matrix, the glossary.

Each displays escaped HTML through IPython and returns the HTML string (for tests and index.html).
A notebook cell calls one of them in one line; what it shows comes from the catalog and the
findings (report/paper.py computes, report/paper_html.py builds the markup).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from IPython.display import HTML

from gcevidence.catalog import (
    ROLLUP_LABEL,
    load_catalog,
    reported_frameworks,
    roll_up,
    threshold_basis,
)
from gcevidence.catalog.records import ref_sort_key
from gcevidence.collection_scope import division_scope_html
from gcevidence.datasets import SPECS
from gcevidence.findings import Finding
from gcevidence.report import paper_html
from gcevidence.report.context import RunContext
from gcevidence.report.coverage_html import coverage_html
from gcevidence.report.glossary import glossary_html, severity_html
from gcevidence.report.html import STYLE, definition_list, esc, ident, link, status_badge, table

STATUS_ORDER = {"fail": 0, "not_evaluable": 1, "pass": 2}


def _display(markup: str) -> HTML:
    """Wrap markup for display: the notebook cell shows it; tests read `.data`."""
    return HTML(markup)


def _period_text(period: dict) -> str:
    start, end = (period or {}).get("start", ""), (period or {}).get("end", "")
    return f"{start} to {end} (UTC)" if start or end else "unknown"


def show_scope(ctx: RunContext) -> HTML:
    """Who, what and when: org, period, baseline and provenance of the run."""
    run, meta = ctx.run, ctx.snapshot.meta
    org = run.get("org") or meta.get("org") or {}
    rows = [
        ("Organisation", f"{org.get('name', '')} ({org.get('id', '')})"),
        (
            "Region / API",
            f"{run.get('region') or meta.get('region') or ''} "
            f"{run.get('api_base_url') or meta.get('api_base_url') or ''}".strip(),
        ),
        ("Audit period", _period_text(run.get("period") or meta.get("period"))),
        ("Baseline", run.get("baseline") or ctx.params.baseline),
        ("Run", run.get("id", ctx.run_dir.name)),
        ("Data collected at", meta.get("collected_at", "")),
        ("Collected by (OAuth client id)", run.get("client_id") or meta.get("client_id", "")),
        ("Tool version", run.get("tool_version") or meta.get("tool_version", "")),
        ("Operator", run.get("operator") or ctx.params.operator or "not stated"),
        ("Params digest", ctx.params.digest),
        ("Evidence digest (findings.json, evidence/ and the inputs)", ctx.evidence_digest),
    ]
    if ctx.operator:
        rows.insert(7, ("Operator", ctx.operator))
    return _display(STYLE + definition_list(rows))


def population_rows(ctx: RunContext, names: Iterable[str]) -> list[tuple]:
    rows = []
    for name in names:
        st = ctx.snapshot.status(name)
        spec = SPECS.get(name)
        if not st.available:
            state = "NOT AVAILABLE: " + (
                f"missing permission {st.missing_permission}"
                if st.missing_permission
                else st.reason or "not collected"
            )
        else:
            state = "complete" if st.complete else "INCOMPLETE"
        expected = "" if st.expected_rows is None else st.expected_rows
        rows.append((name, spec.source if spec else "", st.rows, expected, state, st.path))
    return rows


def paper_datasets(notebook: str) -> tuple[str, ...]:
    """The datasets the checks of a paper read, each once, in the order of the checks."""
    specs = load_catalog().checks_of(notebook)
    return tuple(dict.fromkeys(d for spec in specs for d in spec.datasets))


def show_population(ctx: RunContext, *names: str, paper: str | None = None) -> HTML:
    """The datasets a section rests on, with rows read against rows the API announced, and the
    divisions the collecting client sees (collection_scope.division_scope_html).

    With `paper`, the datasets of that paper's checks come first, then `names`.
    """
    chosen = tuple(dict.fromkeys((*(paper_datasets(paper) if paper else ()), *names)))
    rows = [
        (ident(name), ident(source), esc(read), esc(expected), esc(state), ident(path))
        for name, source, read, expected, state, path in population_rows(ctx, chosen)
    ]
    return _display(
        table(
            ("dataset", "source", "rows read", "rows expected", "completeness", "evidence file"),
            rows,
            raw_columns=range(6),
        )
        + division_scope_html(ctx.snapshot)
    )


def show_thresholds(ctx: RunContext, *names: str) -> HTML:
    """The effective thresholds a section tests against, and where each number comes from."""
    rows = []
    for name in names:
        entry = ctx.thresholds.get(name)
        if entry is None:
            rows.append((name, "unknown", "", ""))
            continue
        rows.append((name, entry.get("value"), entry.get("source", ""), threshold_basis(entry)))
    return _display(table(("threshold", "value", "source", "set by"), rows))


def finding_html(f: Finding) -> str:
    """Status, reason, population, controls and EVERY exception of one finding."""
    controls = "; ".join(
        f"{fw.short}: {', '.join(f.controls.get(fw.id, [])) or '-'}" for fw in reported_frameworks()
    )
    facts = [
        ("Result", status_badge(f.status)),
        ("Check", esc(f.check)),
        ("Severity", esc(f.severity)),
        ("Reason", esc(f.reason)),
        ("Population tested", esc("n/a" if f.population is None else f.population)),
        ("Exceptions", esc(len(f.exceptions))),
        ("Controls", esc(controls)),
        ("Evidence", esc(", ".join(f.evidence) or "-")),
    ]
    fact_rows = "".join(f"<tr><th>{esc(k)}</th><td>{v}</td></tr>" for k, v in facts)
    has_accepted = any(e.accepted for e in f.exceptions)
    has_events = any(e.event_ids for e in f.exceptions)
    columns = ["#", "type", "subject id", "subject name", "detail"]
    if has_events:
        columns.append("audit event ids")
    if has_accepted:
        columns.append("accepted risk")
    rows = []
    for i, e in enumerate(f.exceptions, 1):
        row = [i, e.subject_type, e.subject_id, e.subject_name, e.detail]
        if has_events:
            row.append("; ".join(e.event_ids))
        if has_accepted:
            row.append("; ".join(f"{k}: {v}" for k, v in sorted((e.accepted or {}).items())))
        rows.append(row)
    exceptions = (
        table(
            columns,
            rows,
            caption=f"All {len(rows)} exceptions",
            elsewhere=f"findings.csv lists them too (check {f.check})",
        )
        if rows
        else '<p class="gce-note">No exceptions.</p>'
    )
    return (
        f'<div class="gce-finding gce-{esc(f.status)}" id="{esc(f.check)}">'
        f"<h4>{esc(f.title or f.check)}</h4>"
        f'<table class="gce-table">{fact_rows}</table>{exceptions}</div>'
    )


def show_finding(ctx: RunContext, check: str) -> HTML:
    """One check's result as a working-paper block; says so when the check did not run."""
    f = ctx.finding(check)
    if f is None:
        return _display(
            f'<div class="gce-finding gce-not_evaluable"><h4>{esc(check)}</h4>'
            f"{status_badge('not_evaluable')} this check produced no result in this "
            "run</div>"
        )
    return _display(finding_html(f))


def _ref_link(f: Finding, same_page: bool) -> str:
    ref = f.ref or f.check
    target = link(f"#{ref}" if same_page else f"{f.notebook}.html#{ref}", ref)
    return f'<span class="gce-ref">{target}</span>'


def summary_rows(findings: Iterable[Finding], same_page: bool = False) -> list[tuple]:
    """A paper's checks in ref order (same_page); the run's, failures first, then by ref."""

    def order(f: Finding) -> tuple:
        ref = ref_sort_key(f.ref or f.check)
        return ref if same_page else (STATUS_ORDER.get(f.status, 9), ref)

    ordered = sorted(findings, key=order)
    rows = []
    for f in ordered:
        row = [
            _ref_link(f, same_page),
            status_badge(f.status),
            esc(f.title),
            ident(f.check),
            esc(f.severity),
            esc(len(f.exceptions)),
        ]
        if not same_page:
            paper = load_catalog().paper(f.notebook)
            row.append(esc(paper.title if paper else f.notebook))
        rows.append(tuple(row))
    return rows


def show_findings_summary(ctx: RunContext, notebook: str | None = None) -> HTML:
    """Every check of a paper in ref order (or of the run, failures first), each by its ref."""
    chosen = [f for f in ctx.findings if notebook is None or f.notebook == notebook]
    columns = ["ref", "result", "control statement", "check", "severity", "exceptions"]
    if notebook is None:
        columns.append("paper")
    return _display(
        table(columns, summary_rows(chosen, notebook is not None), raw_columns=range(7))
    )


def show_header(ctx: RunContext, notebook: str) -> HTML:
    """The paper's header: its ref, and per reported framework the requirements its tests claim."""
    return _display(STYLE + paper_html.header_html(notebook))


def show_check(ctx: RunContext, check: str) -> HTML:
    """One check's whole section: ref, control statement, objective, procedure, thresholds,
    result, every exception, remediation when it fails, and the requirements it is mapped to."""
    spec = load_catalog().checks.get(check)
    if spec is None:
        return show_finding(ctx, check)
    return _display(paper_html.check_html(spec, ctx.finding(check), ctx.thresholds))


def show_conclusion(ctx: RunContext, notebook: str) -> HTML:
    """Per reported framework, what the paper's tests mapped to each requirement found."""
    period = _period_text(ctx.run.get("period") or ctx.snapshot.meta.get("period"))
    return _display(paper_html.conclusion_html(ctx.findings, notebook, period))


def show_signoff(ctx: RunContext) -> HTML:
    """Prepared by (the run), reviewed by / date / signature left empty for the reviewer."""
    return _display(paper_html.signoff_html(ctx.run, ctx.operator))


def show_glossary(ctx: RunContext) -> HTML:
    """The severity scale and the glossary."""
    return _display(f"<h4>Severity</h4>{severity_html()}<h4>Glossary</h4>{glossary_html()}")


def show_coverage(ctx: RunContext) -> HTML:
    """Per framework, how its requirements in scope are covered; the manual to-do list."""
    return _display(coverage_html(ctx.findings))


def show_requirements(ctx: RunContext) -> HTML:
    """Every requirement of the reported frameworks, its roll-up, and each test mapped to it."""
    return _display(paper_html.requirements_html(ctx.findings))


def matrix_rows(findings: Iterable[Finding]) -> list[tuple]:
    frameworks = reported_frameworks()
    return [
        (
            f'<span class="gce-ref">{esc(f.ref)}</span>',
            ident(f.check),
            status_badge(f.status),
            esc(len(f.exceptions)),
            *(esc(", ".join(f.controls.get(fw.id, [])) or "-") for fw in frameworks),
        )
        for f in findings
    ]


def rollup_rows(findings: Iterable[Finding]) -> list[tuple]:
    """Per reported framework: requirements with mapped tests, by the worst result of those."""
    rolled = roll_up(findings)
    rows = []
    for fw in reported_frameworks():
        results = rolled.get(fw.id, {})
        counts = Counter(r.status for r in results.values())
        failing = [r.control for r in results.values() if r.status == "fail"]
        rows.append(
            (
                fw.short,
                len(results),
                counts.get("pass", 0),
                counts.get("fail", 0),
                counts.get("not_evaluable", 0),
                ", ".join(failing) or "-",
            )
        )
    return rows


def status_matrix_html(findings: list[Finding]) -> str:
    """Checks down, reported frameworks across, then the roll-up per framework."""
    frameworks = reported_frameworks()
    by_check = table(
        ("ref", "check", "result", "exceptions", *(fw.short for fw in frameworks)),
        matrix_rows(sorted(findings, key=lambda f: ref_sort_key(f.ref or f.check))),
        raw_columns=range(4 + len(frameworks)),
    )
    rolled = table(
        (
            "framework",
            "requirements with mapped tests",
            "all tests pass",
            "a test fails",
            "a test not evaluable",
            "requirements with a failing test",
        ),
        rollup_rows(findings),
    )
    note = (
        f"Per requirement, the worst result of the {ROLLUP_LABEL} (fail, then not evaluable, then "
        "pass). It reports what the tests found, not whether the requirement as a whole is met."
    )
    return f'{by_check}<h4>By framework</h4><p class="gce-note">{esc(note)}</p>{rolled}'


def show_status_matrix(ctx: RunContext) -> HTML:
    """The status matrix across the frameworks the catalog reports."""
    return _display(STYLE + status_matrix_html(ctx.findings))


def show_datasets(ctx: RunContext) -> HTML:
    """Every dataset of the run with its completeness (the summary's provenance table)."""
    return show_population(ctx, *sorted(ctx.snapshot.statuses))


def show_history(ctx: RunContext) -> HTML:
    """Trends across this org's sealed packs: holders per role, weekly grants, joiners/leavers."""
    from gcevidence.report.history_charts import show_history as history_section

    return history_section(ctx)
