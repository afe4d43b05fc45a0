"""Where the inputs that are not from the API come from, and how each threshold was set.

For the working papers (`report.show_inputs(ctx)`) and index.html: the HR roster's declared
source, digest, timezone and groups' source; the exceptions register's and the review
decisions' digests and who recorded them, when; and the threshold table's "set by" column.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from IPython.display import HTML

from gcevidence.catalog import threshold_basis
from gcevidence.report.context import RunContext
from gcevidence.report.html import definition_list, table

NOT_DECLARED = "not declared"


def _between(span: list[str]) -> str:
    if not span:
        return ""
    return span[0] if span[0] == span[-1] else f"{span[0]} to {span[-1]}"


def roster_sentence(info: dict[str, Any] | None) -> str:
    """ "Workday report 'Leavers' extracted 2026-11-30 by J. Doe, sha256 …, groups from Okta
    groups, dates in Europe/Paris" (or what is missing, named by its params key)."""
    if not info:
        return "none (params hr.roster): the checks that need it are not evaluable"
    source = info.get("source")
    if source:
        origin = (
            f"{source['system']} report '{source['report']}' extracted "
            f"{source['extracted_at']} by {source['extracted_by']}"
        )
    else:
        origin = f"source {NOT_DECLARED} (params hr.source)"
    groups = info.get("groups_source") or f"{NOT_DECLARED} (params hr.groups_source)"
    rows = "" if info.get("rows") is None else f", {info['rows']} people"
    return (
        f"{origin}; file {info.get('file', '')}{rows}, {info.get('sha256', '')}; "
        f"groups from {groups}; termination dates read as days in {info.get('timezone', 'UTC')}"
    )


def register_sentence(info: dict[str, Any] | None) -> str:
    """The exceptions register: its file and digest, and who approved its entries, when."""
    if not info:
        return "none (params exceptions.register): no exception is accepted"
    approved = ", ".join(info.get("approved_by") or ()) or "nobody"
    when = _between(info.get("approved_on") or [])
    until = _between(info.get("expires") or [])
    return (
        f"{info.get('file', '')}, {info.get('sha256', '')}; {info.get('entries', 0)} "
        f"acceptance(s) approved by {approved}"
        + (f" on {when}" if when else "")
        + (f", expiring {until}" if until else "")
    )


def decisions_sentence(info: dict[str, Any] | None) -> str:
    """The access-review decisions the pack carries: digest, reviewers, dates, workbooks."""
    if not info:
        return "none recorded yet (gcevidence review import)"
    reviewers = ", ".join(info.get("reviewers") or ()) or "no reviewer named"
    dates = _between(info.get("review_dates") or [])
    books = "; ".join(
        f"{b['file']} ({b['sha256'][:12]}…, imported {b['imported_at']})"
        for b in info.get("workbooks") or ()
    )
    return (
        f"{info.get('file', '')}, {info.get('sha256', '')}; {info.get('decisions', 0)} "
        f"decision(s) by {reviewers}"
        + (f", reviewed {dates}" if dates else "")
        + (f"; from {books}" if books else "")
    )


def input_rows(inputs: dict[str, Any]) -> list[tuple[str, str]]:
    """(input, provenance) rows for the papers and index.html."""
    return [
        ("HR roster", roster_sentence(inputs.get("hr_roster"))),
        ("Exceptions register", register_sentence(inputs.get("exceptions_register"))),
        ("Access review decisions", decisions_sentence(inputs.get("review_decisions"))),
    ]


def inputs_html(inputs: dict[str, Any] | None) -> str:
    """The inputs not from the API as a two-column table (every value escaped)."""
    return definition_list(input_rows(inputs or {}))


def threshold_rows(
    thresholds: dict[str, dict[str, Any]], names: Iterable[str] | None = None
) -> list[tuple]:
    """(threshold, value, source, set by) — "tool default — confirm against your policy" where
    the number is the toolkit's own."""
    rows = []
    for name in names if names is not None else sorted(thresholds):
        entry = thresholds.get(name)
        if entry is None:
            rows.append((name, "unknown", "", ""))
            continue
        rows.append((name, entry.get("value"), entry.get("source", ""), threshold_basis(entry)))
    return rows


def thresholds_html(thresholds: dict[str, dict[str, Any]] | None) -> str:
    return table(("threshold", "value", "source", "set by"), threshold_rows(thresholds or {}))


def run_inputs(ctx: RunContext) -> dict[str, Any]:
    """The run's recorded inputs; a notebook run on its own describes its params instead."""
    recorded = (ctx.run or {}).get("inputs")
    if isinstance(recorded, dict):
        return recorded
    from gcevidence.inputs import input_provenance

    return input_provenance(ctx.params)


def show_inputs(ctx: RunContext) -> HTML:
    """Where the HR roster, the exceptions register and the review decisions come from."""
    return HTML(inputs_html(run_inputs(ctx)))
