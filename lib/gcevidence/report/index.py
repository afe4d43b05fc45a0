"""index.html: the auditor's landing page of a pack (self-contained, every value escaped)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gcevidence.catalog import reported_frameworks
from gcevidence.catalog.records import ref_sort_key
from gcevidence.coverage import CSV_FILE as COVERAGE_CSV
from gcevidence.coverage import JSON_FILE as COVERAGE_JSON
from gcevidence.findings import Finding
from gcevidence.pack.manifest import evidence_digest as compute_evidence_digest
from gcevidence.report.glossary import glossary_html, severity_html
from gcevidence.report.html import (
    STYLE,
    definition_list,
    esc,
    ident,
    ident_link,
    link,
    status_badge,
    table,
)
from gcevidence.report.provenance import inputs_html, provenance_html, thresholds_html
from gcevidence.report.sections import status_matrix_html

COVERAGE_FILES = (COVERAGE_JSON, COVERAGE_CSV)


@dataclass(frozen=True)
class NotebookOutput:
    name: str
    title: str
    files: tuple[str, ...]  # pack-relative: .html, .pdf, .ipynb


def _coverage_links(files: list[str]) -> str:
    """The coverage matrix's files, when the pack has them (packs sealed before it do not)."""
    present = [p for p in COVERAGE_FILES if p in files]
    if not present:
        return ""
    links = " · ".join(link(p, p) for p in present)
    return (
        f"<p>How every requirement in scope is covered (by checks and their results here, by a "
        f"manual procedure, by Genesys' attestation, or outside the tenant): {links}</p>"
    )


def _ref_cell(notebook: str, ref: str, linked: bool) -> str:
    target = link(f"{notebook}.html#{ref}", ref) if linked else esc(ref)
    return f'<span class="gce-ref">{target}</span>'


def _finding_rows(findings: list[Finding], rendered: set[str]) -> list[tuple]:
    rows = []
    for f in sorted(findings, key=lambda f: ref_sort_key(f.ref or f.check)):
        here = f.notebook in rendered
        ref = f.ref or "-"
        evidence = ", ".join(ident_link(p, p) for p in f.evidence) or "-"
        rows.append(
            (
                _ref_cell(f.notebook, ref, here and bool(f.ref)),
                ident_link(f"{f.notebook}.html#{f.check}", f.check) if here else ident(f.check),
                esc(f.title),
                status_badge(f.status),
                esc(f.severity),
                esc(len(f.exceptions)),
                esc(f.reason),
                evidence,
            )
        )
    return rows


def index_html(
    *,
    run: dict[str, Any],
    params_digest: str,
    content_digest: str,
    findings: list[Finding],
    thresholds: dict[str, dict[str, Any]] | None = None,
    datasets: list[dict[str, Any]],
    notebooks: list[NotebookOutput],
    extra_files: list[str],
    evidence_digest: str = "",
    signed_by: str = "",
) -> str:
    """The landing page: scope, provenance, status matrix, and links to every file.

    `signed_by` is the fingerprint of the key that signs manifest.json ("" when unsigned).
    """
    org = run.get("org") or {}
    period = run.get("period") or {}
    counts = Counter(f.status for f in findings)
    provenance = definition_list(
        [
            ("Organisation", f"{org.get('name', '')} ({org.get('id', '')})"),
            ("Audit period (UTC)", f"{period.get('start', '')} to {period.get('end', '')}"),
            ("Baseline", run.get("baseline", "")),
            ("Run id", run.get("id", "")),
            ("Generated at (UTC)", run.get("generated_at", "")),
            ("Params digest", params_digest),
            ("Content digest (manifest.json)", content_digest),
            ("Evidence digest (printed on every page of the PDFs)", evidence_digest or "-"),
        ]
    )
    rendered = {nb.name for nb in notebooks if f"{nb.name}.html" in nb.files}
    nb_rows = [
        (esc(nb.title), " · ".join(link(p, p.rsplit(".", 1)[-1].upper()) for p in nb.files))
        for nb in notebooks
    ]
    ds_rows = [
        (
            esc(d["name"]),
            ident_link(d["path"], d["path"]) if d.get("path") else "-",
            esc(d.get("rows")),
            esc("" if d.get("expected_rows") is None else d["expected_rows"]),
            esc(
                "complete"
                if d.get("complete")
                else "not available"
                + (
                    f": missing permission {d['missing_permission']}"
                    if d.get("missing_permission")
                    else f": {d.get('reason', '')}"
                    if d.get("reason")
                    else ""
                )
            ),
            esc(d.get("requests", 0)),
        )
        for d in datasets
    ]
    title = f"Evidence pack — {org.get('name', '')} — {period.get('end', '')[:10]}"
    shorts = [fw.short for fw in reported_frameworks()]
    frameworks = " and ".join([", ".join(shorts[:-1]), shorts[-1]] if len(shorts) > 1 else shorts)
    summary = (
        f"{len(findings)} checks: {counts.get('fail', 0)} fail, "
        f"{counts.get('not_evaluable', 0)} not evaluable, {counts.get('pass', 0)} pass."
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)}</title>{STYLE}
<style>body {{ font-family: sans-serif; max-width: 1150px; margin: 1.5em auto; padding: 0 1em;
  line-height: 1.4; }} h1 {{ font-size: 1.5em; }} code {{ font-size: 0.9em; }}</style>
</head><body>
<h1>{esc(title)}</h1>
<p>Compliance evidence from Genesys Cloud for {esc(frameworks)}. {esc(summary)}
Every file of this folder is listed with its SHA-256 in <code>manifest.json</code>; check it
with <code>gcevidence verify</code> on this folder.</p>
{provenance_html(run, signed_by)}
<h2>Scope and digests</h2>
{provenance}
<h2>Inputs not from the API</h2>
{inputs_html(run.get("inputs"))}
<h2>Thresholds</h2>
{thresholds_html(thresholds)}
<h2>Status matrix</h2>
{status_matrix_html(findings)}
<h2>Working papers</h2>
{table(("notebook", "files"), nb_rows, raw_columns=(0, 1))}
<h2>Findings</h2>
{
        table(
            (
                "ref",
                "check",
                "control statement",
                "result",
                "severity",
                "exceptions",
                "reason",
                "evidence",
            ),
            _finding_rows(findings, rendered),
            raw_columns=range(8),
        )
    }
<p>All findings with every exception: {link("findings.json", "findings.json")} ·
{link("findings.csv", "findings.csv")}</p>
{_coverage_links(extra_files)}
<h2>Datasets</h2>
{
        table(
            ("dataset", "file", "rows", "rows expected", "completeness", "API requests"),
            ds_rows,
            raw_columns=range(6),
        )
    }
<h2>Other files</h2>
<ul>{"".join(f"<li>{link(p, p)}</li>" for p in extra_files if p not in COVERAGE_FILES)}</ul>
<h2>How to read this pack</h2>
<p>The evidence digest is the SHA-256 of the lines <code>&lt;sha256&gt; &lt;size&gt;
&lt;path&gt;</code> of <code>manifest.json</code> for findings.json, snapshot.json,
thresholds.json, params.yaml and every file under <code>evidence/</code>,
<code>populations/</code> and <code>samples/</code>, sorted by path.</p>
<h3>Severity</h3>
{severity_html()}
<h3>Glossary</h3>
{glossary_html()}
</body></html>
"""


def write_index(path: Path, **kwargs: Any) -> Path:
    """Write index.html into a pack folder; the evidence digest is that folder's, unless given."""
    kwargs.setdefault("evidence_digest", compute_evidence_digest(path.parent))
    path.write_text(index_html(**kwargs), encoding="utf-8")
    return path
