"""Escaped HTML building blocks: every value from the API is text, never markup.

User names, role names and audit messages can contain anything (`<script>`, `<img onerror>`);
everything passes through `esc` on its way into a table, so it renders as the characters it is.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from typing import Any

STATUS_LABELS = {"pass": "PASS", "fail": "FAIL", "not_evaluable": "NOT EVALUABLE"}
# A requirement is never said to pass or fail: these say what the tests mapped to it found.
FOUND_LABELS = {"pass": "NO EXCEPTION", "fail": "EXCEPTIONS", "not_evaluable": "NOT EVALUABLE"}

# One stylesheet, shipped inline with the first section so notebooks look the same in Jupyter,
# in the rendered HTML and on paper (status is always spelled out, never colour alone).
STYLE = """
<style>
.gce-table { border-collapse: collapse; margin: 0.4em 0 1em 0; font-size: 0.92em;
  table-layout: auto !important; }
.gce-table th, .gce-table td { border: 1px solid #999; padding: 3px 7px;
  text-align: left !important; vertical-align: top; max-width: 32em; overflow-wrap: break-word; }
.gce-table th { background: #eee; }
.gce-ref { white-space: nowrap; }
.gce-status { font-weight: bold; padding: 1px 6px; border: 1px solid #333; border-radius: 3px;
  white-space: nowrap; display: inline-block; line-height: 1.25; }
.gce-test { margin: 0 0 0.35em 0; }
.gce-pass { background: #d7f0d7; } .gce-fail { background: #f6d2d2; }
.gce-not_evaluable { background: #f3e6bf; }
.gce-finding { border-left: 4px solid #888; padding: 0.2em 0 0.2em 0.8em; margin: 0.8em 0; }
.gce-finding.gce-fail { border-left-color: #b00; background: none; }
.gce-finding.gce-pass { border-left-color: #070; background: none; }
.gce-finding.gce-not_evaluable { border-left-color: #a80; background: none; }
.gce-note { color: #444; font-size: 0.9em; }
.gce-facts { width: 100%; max-width: 64em; } .gce-facts td { max-width: none; }
.gce-facts th { width: 8.5em; }
.gce-check h3 { margin: 0.2em 0 0.4em 0; }
.gce-list { margin: 0; padding-left: 1.2em; }
.gce-remediation { border: 1px solid #b00; background: #fff4f4; padding: 0.4em 0.7em;
  margin: 0.4em 0 0.8em 0; max-width: 60em; }
.gce-conclusion { padding-left: 1.2em; } .gce-conclusion li { margin: 0.35em 0; }
.gce-signoff .gce-facts td { min-width: 24em; height: 1.8em; }
.gce-blank { display: inline-block; min-width: 20em; }
.gce-signoff tr:last-child td { height: 3.5em; }
code.gce-command { white-space: nowrap; }
.gce-glossary th { width: 13em; }
figure.gce-chart { margin: 0.5em 0 1.2em 0; } figure.gce-chart img { max-width: 100%; }
figure.gce-chart figcaption { font-size: 0.9em; color: #333; }
/* Paper cannot scroll: tables take the page width and long values (URLs, ids) wrap anywhere. */
/* A printed table stops at PRINTED_ROWS rows (a note says so); the HTML shows every row. */
.gce-print-only { display: none; }
@media print { .gce-unprinted { display: none; } p.gce-print-only { display: block; } }
@media print { .gce-table { page-break-inside: auto; width: 100%; }
  .gce-table tr { page-break-inside: avoid; }
  .gce-table th, .gce-table td { max-width: none; overflow-wrap: anywhere; font-size: 7.5pt; }
  .gce-table th, .gce-table .gce-id { overflow-wrap: normal; }
  .gce-check h3, .gce-remediation, .gce-signoff { break-inside: avoid; } }
</style>
"""


def esc(value: Any) -> str:
    """Text of any value, HTML-escaped (quotes too, so it is safe inside attributes)."""
    return html.escape("" if value is None else str(value), quote=True)


def status_badge(status: str) -> str:
    label = STATUS_LABELS.get(status, status)
    return f'<span class="gce-status gce-{esc(status)}">{esc(label)}</span>'


def found_badge(status: str) -> str:
    """The badge of a requirement: what the tests mapped to it found, never pass or fail."""
    label = FOUND_LABELS.get(status, status)
    return f'<span class="gce-status gce-{esc(status)}">{esc(label)}</span>'


# Rows of one table a printed page holds. Chromium's memory grows with the pages it prints
# (about 160 KiB a table row, 10 MiB and more a page), so a large org's thousands of exceptions
# would take gigabytes to print; the PDF is a copy of the sealed HTML, which keeps every row.
PRINTED_ROWS = 100


def table(
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    raw_columns: Iterable[int] = (),
    caption: str = "",
    elsewhere: str = "",
    printed: int = PRINTED_ROWS,
) -> str:
    """An HTML table; every cell escaped except the columns listed in raw_columns.

    raw_columns is for cells this module built itself (status badges, links). On paper only the
    first `printed` rows are printed, and a note under the table says how many are not and
    where they are: the HTML copy of the page, and `elsewhere` when given (a clause such as
    "findings.csv lists them too").
    """
    raw = set(raw_columns)
    head = "".join(f"<th>{esc(c)}</th>" for c in columns)
    body = []
    for n, row in enumerate(rows):
        cells = "".join(f"<td>{cell if i in raw else esc(cell)}</td>" for i, cell in enumerate(row))
        body.append(
            f'<tr class="gce-unprinted">{cells}</tr>' if n >= printed else f"<tr>{cells}</tr>"
        )
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    if not body:
        body.append(f'<tr><td colspan="{len(columns)}"><em>none</em></td></tr>')
    note = ""
    if len(body) > printed:
        where = f"; {elsewhere}" if elsewhere else ""
        note = (
            f'<p class="gce-note gce-print-only">Printed: the first {printed} of these '
            f"{len(body)} rows. The HTML copy of this page shows all {len(body)}{esc(where)}.</p>"
        )
    return (
        f'<table class="gce-table">{cap}<thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>{note}"
    )


def definition_list(items: Iterable[tuple[str, Any]]) -> str:
    """Two-column key/value table, both sides escaped."""
    return table(("", ""), items).replace("<thead><tr><th></th><th></th></tr></thead>", "")


_BREAK_AFTER = re.compile(r"(?<=[._/,&?=-])")


def ident(value: Any) -> str:
    """An identifier (check id, dataset, path, UUID) that wraps only after . _ / - and the like."""
    pieces = _BREAK_AFTER.split("" if value is None else str(value))
    return f'<span class="gce-id">{"<wbr>".join(esc(p) for p in pieces)}</span>'


def css_string(value: Any) -> str:
    """A quoted CSS string of any text: quotes and backslashes escaped, no way out of <style>."""
    text = "" if value is None else str(value)
    out = []
    for ch in text:
        if ch in '"\\' or ch in "<>&" or ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\{ord(ch):x} ")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def link(href: str, text: str) -> str:
    return f'<a href="{esc(href)}">{esc(text)}</a>'


def ident_link(href: str, text: str) -> str:
    """A link whose text is an identifier or a path, wrapping only after . _ / and the like."""
    return f'<a href="{esc(href)}">{ident(text)}</a>'
