"""HTML of a working paper's parts: header, check sections, conclusion, sign-off, requirements.

Every part is built from the catalog and the findings; every value is escaped (report/html.py).
A part with nothing to show says so in one line.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from gcevidence.catalog import ROLLUP_LABEL, load_catalog, roll_up
from gcevidence.catalog.records import CheckSpec
from gcevidence.findings import Finding
from gcevidence.report.html import esc, found_badge, ident, status_badge, table
from gcevidence.report.paper import NO_RESULT, Conclusion, conclude, paper_controls

SIGN_COMMAND = "gcevidence review sign PACK_DIR --reviewer NAME --key REVIEWER_KEY.pem"


def _note(text: str) -> str:
    return f'<p class="gce-note">{esc(text)}</p>'


def _facts(rows: Iterable[tuple[str, str]]) -> str:
    """A two-column table whose values are already markup (built here, escaped)."""
    body = "".join(f"<tr><th>{esc(k)}</th><td>{v}</td></tr>" for k, v in rows)
    return f'<table class="gce-table gce-facts"><tbody>{body}</tbody></table>'


# --- the header ------------------------------------------------------------------------------


def header_html(notebook: str) -> str:
    """The paper's ref and title, and per reported framework the requirements its checks test."""
    catalog = load_catalog()
    paper = catalog.paper(notebook)
    claimed = paper_controls(notebook, catalog)
    rows = [(catalog.frameworks[fw].label, ", ".join(ids)) for fw, ids in claimed.items()]
    refs = [spec.ref for spec in catalog.checks_of(notebook)]
    span = " and ".join(refs) if len(refs) <= 2 else f"{refs[0]} to {refs[-1]}"
    lead = (
        f"Working paper {paper.ref}: {len(refs)} automated "
        f"test{'s' if len(refs) > 1 else ''} ({span}). "
        "The requirements below are those the tests of this paper are mapped to; each test's "
        "section says why, and the conclusion says what the tests found."
        if paper and refs
        else "This paper holds no automated test."
    )
    controls = (
        table(("framework", "requirements tested in this paper"), rows)
        if rows
        else _note("No requirement of a reported framework is mapped to the tests of this paper.")
    )
    return f'<div class="gce-header">{_note(lead)}{controls}</div>'


# --- one check's section ---------------------------------------------------------------------


def _thresholds_html(spec: CheckSpec, thresholds: Mapping[str, Any]) -> str:
    items = []
    for name in spec.thresholds:
        entry = thresholds.get(name)
        if not isinstance(entry, dict):
            items.append(f"<li><code>{esc(name)}</code>: not recorded in this run</li>")
            continue
        source = esc(entry.get("source", ""))
        overridden = " (overridden in the params)" if entry.get("overridden") else ""
        items.append(
            f"<li><code>{esc(name)}</code> = <strong>{esc(entry.get('value'))}</strong>"
            f" — {source}{esc(overridden)}</li>"
        )
    return f'<ul class="gce-list">{"".join(items)}</ul>'


def _mappings_html(spec: CheckSpec) -> str:
    catalog = load_catalog()
    rows = [
        (
            esc(catalog.frameworks[m.framework].short),
            esc(f"{m.control} {catalog.control_title(m.framework, m.control)}".strip()),
            esc(m.rationale) + (f" <em>Condition: {esc(m.condition)}</em>" if m.condition else ""),
        )
        for m in spec.mappings
        if catalog.frameworks[m.framework].report
    ]
    if not rows:
        return _note("This test is mapped to no requirement of a reported framework.")
    return table(
        ("framework", "requirement", "why this test is evidence for it"),
        rows,
        raw_columns=range(3),
        caption="Requirements this test gives evidence for",
    )


def _exceptions_html(f: Finding) -> str:
    if not f.exceptions:
        return _note("No exceptions.")
    has_accepted = any(e.accepted for e in f.exceptions)
    columns = ["#", "type", "subject id", "subject name", "detail"]
    if has_accepted:
        columns.append("accepted risk")
    rows = []
    for i, e in enumerate(f.exceptions, 1):
        row = [esc(i), ident(e.subject_type), ident(e.subject_id), esc(e.subject_name)]
        row.append(esc(e.detail))
        if has_accepted:
            accepted_by = "; ".join(f"{k}: {v}" for k, v in sorted((e.accepted or {}).items()))
            row.append(esc(accepted_by))
        rows.append(row)
    accepted = sum(1 for e in f.exceptions if e.accepted)
    caption = (f"All {len(rows)} exceptions" if len(rows) > 1 else "1 exception") + (
        f" ({accepted} accepted)" if accepted else ""
    )
    return table(columns, rows, raw_columns=range(len(columns)), caption=caption)


def check_html(spec: CheckSpec, f: Finding | None, thresholds: Mapping[str, Any]) -> str:
    """A check's section: ref and control statement, objective, procedure, thresholds, result,
    every exception, the remediation when it fails (only then), and why it is mapped."""
    status = f.status if f else "not_evaluable"
    facts = [
        ("Result", f"{status_badge(status)} {esc(f.reason if f else NO_RESULT)}"),
        ("Objective", esc(spec.objective)),
        ("Procedure", esc(spec.procedure)),
    ]
    if spec.thresholds:
        facts.append(("Thresholds", _thresholds_html(spec, thresholds)))
    if f is not None and f.population is not None:
        facts.append(("Population tested", esc(f.population)))
    facts.append(("Severity", esc(spec.severity)))
    facts.append(("Check", ident(spec.id)))
    if f is not None and f.evidence:
        facts.append(("Evidence", ", ".join(ident(p) for p in f.evidence)))
    exceptions = _exceptions_html(f) if f is not None else ""
    remediation = ""
    if status == "fail":
        remediation = (
            '<div class="gce-remediation"><strong>Remediation.</strong> '
            f"{esc(spec.remediation)}</div>"
        )
    return (
        f'<section class="gce-check gce-finding gce-{esc(status)}" id="{esc(spec.id)}">'
        f'<h3 id="{esc(spec.ref)}">{esc(spec.ref)} · {esc(spec.title)}</h3>'
        f"{_facts(facts)}{exceptions}{remediation}{_mappings_html(spec)}</section>"
    )


# --- the conclusion --------------------------------------------------------------------------


def _conclusion_item(c: Conclusion) -> str:
    text = (
        f"<strong>{esc(c.control)} {esc(c.title)}</strong> — {esc(c.verdict)}: "
        f"{esc(c.findings_text)}."
    )
    notes = [f"Condition for {t.ref}: {t.condition}" for t in c.tests if t.condition]
    if c.elsewhere:
        notes.append(
            f"Also tested in other papers: {', '.join(c.elsewhere)} (the summary rolls up all "
            "tests mapped to it)."
        )
    extra = "".join(f'<br><span class="gce-note">{esc(n)}</span>' for n in notes)
    return f'<li class="gce-{esc(c.status)}-text">{found_badge(c.status)} {text}{extra}</li>'


def conclusion_html(findings: Iterable[Finding], notebook: str, period: str) -> str:
    """Per reported framework, what the paper's tests mapped to each requirement found."""
    catalog = load_catalog()
    conclusions = conclude(findings, notebook, catalog)
    if not conclusions:
        return _note("No requirement of a reported framework is tested in this paper.")
    parts = [
        _note(
            f"Each line says what the {ROLLUP_LABEL} found over the period {period}, citing "
            "the tests by their reference. It is not an opinion on the requirement as a whole: "
            "parts of a requirement may be reached by no test, and conditions are stated."
        )
    ]
    for fw, items in conclusions.items():
        parts.append(f"<h4>{esc(catalog.frameworks[fw].label)}</h4>")
        parts.append(
            '<ul class="gce-conclusion">' + "".join(_conclusion_item(c) for c in items) + "</ul>"
        )
    return "".join(parts)


# --- the sign-off ----------------------------------------------------------------------------


def signoff_html(run: Mapping[str, Any], operator: str = "") -> str:
    """Prepared by (the run), and empty lines for the reviewer; how to record a signed review."""
    prepared = (
        f"gcevidence {run.get('tool_version', '')}, run {run.get('id', '')}, OAuth client "
        f"{run.get('client_id', '')}, {run.get('generated_at', '')} (UTC)"
    )
    if operator:
        prepared += f"; operated by {operator}"
    blank = '<span class="gce-blank"></span>'
    rows = [
        ("Prepared by", esc(prepared)),
        ("Reviewed by", blank),
        ("Date of review", blank),
        ("Signature", blank),
    ]
    how = (
        "To record a signed review without altering the sealed pack: "
        f'<code class="gce-command">{esc(SIGN_COMMAND)}</code> (it writes PACK_DIR.signoff/ '
        "beside the pack; gcevidence verify PACK_DIR checks it)."
    )
    return f'<div class="gce-signoff">{_facts(rows)}<p class="gce-note">{how}</p></div>'


# --- the summary: every requirement and the tests mapped to it -------------------------------


def requirements_html(findings: list[Finding]) -> str:
    """Per reported framework, each requirement's roll-up with every test mapped to it and why."""
    catalog = load_catalog()
    rolled = roll_up(findings)
    by_check = {f.check: f for f in findings}
    parts = []
    for fw in catalog.reported_frameworks():
        results = rolled.get(fw.id, {})
        if not results:
            continue
        rows = []
        for control, result in results.items():
            req = fw.requirements.get(control)
            mappings = {m.check: m for m in (req.checks if req else ())}
            tests = []
            for check in result.checks:
                f, m = by_check.get(check), mappings.get(check)
                ref = f.ref if f and f.ref else check
                why = esc(m.rationale) if m else ""
                if m and m.condition:
                    why += f" <em>Condition: {esc(m.condition)}</em>"
                status = f.status if f else "not_evaluable"
                tests.append(
                    f'<div class="gce-test">{status_badge(status)} <strong>{esc(ref)}</strong> '
                    f"{why}</div>"
                )
            rows.append(
                (
                    f"<strong>{esc(control)}</strong> {esc(result.title)}",
                    found_badge(result.status),
                    "".join(tests),
                )
            )
        parts.append(f"<h4>{esc(fw.label)}</h4>")
        parts.append(
            table(
                ("requirement", "the tests found", "tests mapped to it, and why"),
                rows,
                raw_columns=range(3),
            )
        )
    return "".join(parts) or _note("No requirement of a reported framework has a mapped test.")
