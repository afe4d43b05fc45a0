"""The period report as one self-contained HTML page (offline, every value escaped)."""

from __future__ import annotations

from gcevidence import __version__
from gcevidence.catalog import load_catalog
from gcevidence.catalog.rollup import ROLLUP_LABEL
from gcevidence.report.html import STYLE, definition_list, esc, link, status_badge, table
from gcevidence.report.period import Cell, GridRow, PeriodReport

_PAGE_STYLE = """<style>
body { font-family: sans-serif; max-width: 1400px; margin: 1.5em auto; padding: 0 1em;
  line-height: 1.4; }
h1 { font-size: 1.5em; } code { font-size: 0.9em; }
.gce-grid td { white-space: nowrap; } .gce-grid td:first-child { white-space: normal; }
.gce-run { font-size: 0.8em; color: #444; }
.gce-gap { color: #900; font-style: italic; }
@page { size: A4 landscape; margin: 12mm; }
</style>"""


def _cells_html(cells: tuple[Cell, ...]) -> str:
    several = len(cells) > 1
    parts = []
    for c in cells:
        count = "" if c.exceptions is None or c.status == "not_evaluable" else f" {c.exceptions}"
        newest = " · newest" if several and c.newest else ""
        parts.append(
            f"{status_badge(c.status)}{esc(count)} "
            f'<span class="gce-run">{esc(c.run_id)}{esc(newest)}</span>'
        )
    return "<br>".join(parts)


def _grid(rows: tuple[GridRow, ...], months: tuple[str, ...], gaps: set[str], first: str) -> str:
    body = []
    for row in rows:
        cells = [f"{esc(row.key)}<br><small>{esc(row.title)}</small>"]
        for month in months:
            if month in row.months:
                cells.append(_cells_html(row.months[month]))
            elif month in gaps:
                cells.append('<span class="gce-gap">no pack</span>')
            else:
                cells.append("<em>not in this pack</em>")
        body.append(cells)
    return table((first, *months), body, raw_columns=range(len(months) + 1)).replace(
        'class="gce-table"', 'class="gce-table gce-grid"', 1
    )


def _evidence_by_month(report: PeriodReport, links: dict[str, str]) -> str:
    rows = []
    for month in report.months:
        packs = [p for p in report.packs if p.month == month]
        excluded = [e for e in report.excluded if e.period_end.strftime("%Y-%m") == month]
        listed = "<br>".join(
            link(links[p.ref], p.ref) if p.ref in links else esc(p.ref) for p in packs
        )
        note = "" if packs else '<span class="gce-gap">no verified pack: a gap in evidence</span>'
        if excluded:
            note += (" " if note else "") + esc(
                f"{len(excluded)} pack(s) excluded (failed verification or unreadable)"
            )
        rows.append((esc(month), listed or "-", note or "-"))
    return table(("month", "verified packs", "note"), rows, raw_columns=(0, 1, 2))


def _span_rows(report: PeriodReport, still_open: bool) -> list[tuple]:
    rows = []
    for s in report.spans:
        if s.still_open != still_open:
            continue
        opened = f"{s.opened_on} ({s.opened_ref})"
        if s.open_at_start:  # it may predate the period
            opened += ", listed by the first pack"
        row = [s.check, s.subject_type, s.subject_id, s.subject_name, opened]
        if not still_open:
            row.append(f"{s.closed_on} ({s.closed_ref})")
        row.append(s.days)
        row.append("yes" if s.accepted else "")
        rows.append(tuple(row))
    return rows


def _longest(report: PeriodReport) -> str:
    longest = report.longest()
    if not longest:
        return "No exception was listed by any pack in the period."
    days, still = longest[0].days, sum(1 for s in longest if s.still_open)
    if len(longest) <= 5:
        which = "; ".join(f"{s.check} {s.subject_id} ({s.subject_name})" for s in longest)
    else:  # a long tie is better read in the tables below than in one sentence
        which = f"{len(longest)} exceptions (the rows with {days} days open below)"
    if still == len(longest):
        tail = (
            " Still open at the end of the period."
            if still == 1
            else (" All still open at the end of the period.")
        )
    elif still:
        tail = f" {still} of them still open at the end of the period."
    else:
        tail = ""
    return f"Longest time an exception stayed open: {days} days, {which}.{tail}"


def _signoffs(pack) -> str:
    if not pack.signoffs:
        return "-"
    return "; ".join(
        f"{s.reviewer or '?'} ({s.role}) {s.date}: {s.status}"
        + (f" ({s.problem})" if s.problem else "")
        for s in pack.signoffs
    )


def period_html(report: PeriodReport, links: dict[str, str]) -> str:
    """The whole page; `links` maps a pack ref to a relative link to its index.html."""
    gaps = set(report.gaps)
    closed = sum(1 for s in report.spans if not s.still_open)
    still_open = len(report.spans) - closed
    title = (
        f"Period report — {report.org_name or report.org_id} — "
        f"{report.date_from} to {report.date_to}"
    )
    summary = (
        f"{len(report.packs)} verified pack(s) over {len(report.months)} month(s); "
        f"{len(report.gaps)} month(s) without a pack; {len(report.excluded)} pack(s) excluded. "
        f"Exceptions: {len(report.spans)} opened, {closed} closed, {still_open} still open."
    )
    provenance = definition_list(
        [
            ("Organisation", f"{report.org_name} ({report.org_id})"),
            ("Period (pack period ends, inclusive)", f"{report.date_from} to {report.date_to}"),
            ("Months", ", ".join(report.months)),
            ("Months without a verified pack", ", ".join(report.gaps) or "none"),
            ("Generated at (UTC)", report.generated_at),
            ("Tool version", f"gcevidence {__version__}"),
        ]
    )
    labels = {fw.id: fw.label for fw in load_catalog().frameworks.values()}
    controls = "".join(
        f"<h3>{esc(labels.get(fw, fw))}: {esc(ROLLUP_LABEL)}</h3>"
        + _grid(rows, report.months, gaps, "control")
        for fw, rows in report.controls.items()
    )
    pack_rows = [
        (
            link(links[p.ref], p.ref) if p.ref in links else esc(p.ref),
            esc(p.period_end),
            esc(p.generated_at),
            esc(
                "verified, signed by " + p.key_id
                if p.signature == "valid"
                else "verified (not signed)"
            ),
            f"<code>{esc(p.content_digest)}</code>",
            esc(_signoffs(p)),
        )
        for p in report.packs
    ]
    excluded_rows = [
        (
            link(links[e.ref], e.ref) if e.ref in links else esc(e.ref),
            esc(e.period_end),
            esc(e.org_id or "unknown"),
            esc(e.problem),
        )
        for e in report.excluded
    ]
    span_columns = ("check", "subject type", "subject id", "subject", "opened (pack)")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)}</title>{STYLE}{_PAGE_STYLE}
</head><body>
<h1>{esc(title)}</h1>
<p>Operating effectiveness across the sealed evidence packs of the period. {esc(summary)}
Every pack was verified against its <code>manifest.json</code> (and signature, when signed)
before it was counted; a pack that failed is listed under <em>Excluded packs</em> and counted
nowhere. Every file of this report is listed with its SHA-256 in <code>manifest.json</code>;
check it with <code>gcevidence verify</code> on this folder.</p>
<h2>Scope and provenance</h2>
{provenance}
<h2>Operating evidence by month</h2>
{_evidence_by_month(report, links)}
<h2>Results per check</h2>
<p class="gce-note">Each cell: the result of every pack of that month with its number of
exceptions (the newest marked when a month has several).</p>
{_grid(report.checks, report.months, gaps, "check")}
<h2>Results per control</h2>
<p class="gce-note">A control takes the worst result of the checks mapped to it in that
pack.</p>
{controls or "<p><em>No control mapped.</em></p>"}
<h2>Exceptions across the period</h2>
<p class="gce-note">An exception (check and subject) opens in the first pack that lists it and
closes in the first later pack whose check was evaluated and no longer lists it (a
not-evaluable result, or a pack without that check, closes nothing). Days are counted between
pack period ends; an exception listed by the first pack may be older than the period.</p>
<p>{esc(_longest(report))}</p>
<h3>Closed during the period</h3>
{table((*span_columns, "closed (pack)", "days open", "accepted"), _span_rows(report, False))}
<h3>Still open at the end of the period</h3>
{table((*span_columns, "days open so far", "accepted"), _span_rows(report, True))}
<h2>Excluded packs</h2>
{table(("pack", "period end", "org", "why"), excluded_rows, raw_columns=range(4))}
<h2>Packs</h2>
{
        table(
            ("pack", "period end", "generated at (UTC)", "state", "content digest", "sign-offs"),
            pack_rows,
            raw_columns=range(6),
        )
    }
<p>The data of this page: {link("period-report.json", "period-report.json")}</p>
</body></html>
"""
