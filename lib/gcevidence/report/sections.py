"""One function per working-paper section: scope, population, thresholds, a finding, the matrix.

Each displays escaped HTML through IPython and returns the HTML string (for tests and index.html).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from IPython.display import HTML

from gcevidence.catalog import ROLLUP_LABEL, reported_frameworks, roll_up
from gcevidence.collection_scope import division_scope_html
from gcevidence.datasets import SPECS
from gcevidence.findings import Finding
from gcevidence.report.context import RunContext
from gcevidence.report.html import STYLE, definition_list, esc, status_badge, table

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
    ]
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


def show_population(ctx: RunContext, *names: str) -> HTML:
    """The datasets a section rests on, with rows read against rows the API announced, and the
    divisions the collecting client sees (collection_scope.division_scope_html)."""
    return _display(
        table(
            ("dataset", "source", "rows read", "rows expected", "completeness", "evidence file"),
            population_rows(ctx, names),
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
        rows.append(
            (
                name,
                entry.get("value"),
                entry.get("source", ""),
                "yes (params)" if entry.get("overridden") else "no",
            )
        )
    return _display(table(("threshold", "value", "source", "overridden"), rows))


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
    columns = ["#", "type", "subject id", "subject name", "detail"]
    if has_accepted:
        columns.append("accepted risk")
    rows = []
    for i, e in enumerate(f.exceptions, 1):
        row = [i, e.subject_type, e.subject_id, e.subject_name, e.detail]
        if has_accepted:
            row.append("; ".join(f"{k}: {v}" for k, v in sorted((e.accepted or {}).items())))
        rows.append(row)
    exceptions = (
        table(columns, rows, caption=f"All {len(rows)} exceptions")
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


def summary_rows(findings: Iterable[Finding]) -> list[tuple]:
    ordered = sorted(findings, key=lambda f: (STATUS_ORDER.get(f.status, 9), f.check))
    return [
        (
            status_badge(f.status),
            esc(f.check),
            esc(f.title),
            esc(f.severity),
            esc(len(f.exceptions)),
            esc(f.notebook),
        )
        for f in ordered
    ]


def show_findings_summary(ctx: RunContext, notebook: str | None = None) -> HTML:
    """Every check of a notebook (or of the run), failures first."""
    chosen = [f for f in ctx.findings if notebook is None or f.notebook == notebook]
    return _display(
        table(
            ("result", "check", "title", "severity", "exceptions", "notebook"),
            summary_rows(chosen),
            raw_columns=range(6),
        )
    )


def matrix_rows(findings: Iterable[Finding]) -> list[tuple]:
    frameworks = reported_frameworks()
    return [
        (
            esc(f.check),
            status_badge(f.status),
            esc(len(f.exceptions)),
            *(esc(", ".join(f.controls.get(fw.id, [])) or "-") for fw in frameworks),
        )
        for f in sorted(findings, key=lambda f: f.check)
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
        ("check", "result", "exceptions", *(fw.short for fw in frameworks)),
        matrix_rows(findings),
        raw_columns=range(3 + len(frameworks)),
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
