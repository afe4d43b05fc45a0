"""The README's check table, written from the catalog (a test keeps README.md equal to it)."""

from __future__ import annotations

from gcevidence.catalog.load import load_catalog
from gcevidence.catalog.records import Catalog


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def check_table(catalog: Catalog | None = None) -> str:
    """Markdown: one row per check (ref, id, control statement, severity, paper), by paper."""
    catalog = catalog or load_catalog()
    rows = ["| ref | check | control statement | severity | paper |", "|---|---|---|---|---|"]
    for paper in catalog.family_papers():
        for spec in catalog.checks_of(paper.notebook):
            rows.append(
                f"| {spec.ref} | `{spec.id}` | {_cell(spec.title)} | {spec.severity} | "
                f"{_cell(paper.title)} |"
            )
    return "\n".join(rows) + "\n"
