"""The summary paper's coverage section: counts per framework, then the manual to-do list."""

from __future__ import annotations

from collections.abc import Iterable

from gcevidence.catalog import ROLLUP_LABEL, load_catalog
from gcevidence.coverage import (
    CSV_FILE,
    JSON_FILE,
    TALLIES,
    TALLY_LABELS,
    CoverageRow,
    coverage_matrix,
    tally_counts,
)
from gcevidence.findings import Finding
from gcevidence.report.html import esc, table


def count_rows(matrix: dict[str, list[CoverageRow]]) -> list[tuple]:
    """Per reported framework: its scope, the requirements in it, and where each stands."""
    rows = []
    for fw in load_catalog().reported_frameworks():
        counts = tally_counts(matrix.get(fw.id, ()))
        rows.append(
            (
                fw.short,
                fw.scope_description or "the requirements of its file",
                sum(counts.values()),
                *(counts[k] for k in TALLIES),
            )
        )
    return rows


def todo_rows(matrix: dict[str, list[CoverageRow]]) -> list[tuple]:
    """Every in-scope requirement left to a manual procedure, framework by framework."""
    return [
        ("☐", fw.short, r.requirement, r.title, r.text)
        for fw in load_catalog().reported_frameworks()
        for r in matrix.get(fw.id, ())
        if r.in_scope and r.coverage == "manual"
    ]


def accounted_rows(matrix: dict[str, list[CoverageRow]]) -> list[tuple]:
    """Per reported framework, the ids that are Genesys' and those evidenced outside the tenant."""
    rows = []
    for fw in load_catalog().reported_frameworks():
        in_scope = [r for r in matrix.get(fw.id, ()) if r.in_scope]
        rows.append(
            (
                fw.short,
                ", ".join(r.requirement for r in in_scope if r.coverage == "genesys") or "-",
                ", ".join(r.requirement for r in in_scope if r.coverage == "organisation") or "-",
            )
        )
    return rows


def coverage_html(findings: Iterable[Finding]) -> str:
    """Counts per framework, the manual procedures as a to-do list, and what is not the tenant's."""
    matrix = coverage_matrix(findings)
    intro = (
        "Every requirement in scope of each framework is accounted for exactly once: by the "
        f"checks mapped to it (counted by the worst result of the {ROLLUP_LABEL}), by a manual "
        "procedure the auditor performs, by Genesys' attestation (its own responsibility), or as "
        "organisational, evidenced outside the tenant. A passing check proves what its rationale "
        f"says, not the whole requirement. Every row is in {JSON_FILE} and {CSV_FILE}."
    )
    counts = table(
        ("framework", "scope", "requirements", *(TALLY_LABELS[k] for k in TALLIES)),
        count_rows(matrix),
    )
    todo = table(("done", "framework", "requirement", "title", "procedure"), todo_rows(matrix))
    others = table(
        ("framework", "Genesys' responsibility (see each row's attestation)", "organisational"),
        accounted_rows(matrix),
    )
    return (
        f'<p class="gce-note">{esc(intro)}</p>{counts}'
        "<h3>Manual procedures: the auditor's to-do list</h3>"
        f"{todo}"
        "<h3>Genesys' responsibility and organisational requirements</h3>"
        f"{others}"
    )
