"""Rendering: executed notebook -> self-contained HTML (nbconvert) -> PDF (Chromium).

The HTML exporter's steps and settings (code hidden, parameter cells dropped, images embedded,
a template that fetches nothing) are declared in report/rewrites.py; this module applies them,
drops the style rules a page cannot use (report/css_prune.py), refuses a page that would fetch
from the network, and prints the pages with headless Chromium (then packs each PDF's objects).
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import nbformat
import pikepdf

from gcevidence.errors import PackError
from gcevidence.pack.manifest import evidence_digest
from gcevidence.report.css_prune import prune_page
from gcevidence.report.html import css_string
from gcevidence.report.rewrites import html_exporter

log = logging.getLogger(__name__)

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# Anything that would make a browser fetch from the network when the page opens.
NETWORK_FETCH = re.compile(
    r"""<(?:script|link|img|iframe|source|video|audio|embed)\b[^>]*?\b(?:src|href)\s*=\s*["']?"""
    r"""\s*(?:https?:)?//""",
    re.IGNORECASE,
)
CSS_FETCH = re.compile(r"""(?:@import|url\()\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)


def network_fetches(markup: str) -> list[str]:
    """Every tag or CSS rule in a page that would fetch from the network (should be none)."""
    return [m.group(0) for m in NETWORK_FETCH.finditer(markup)] + [
        m.group(0) for m in CSS_FETCH.finditer(markup)
    ]


def page_footer(run_dir: Path) -> str:
    """What every printed page names: the tool, the run and the evidence digest."""
    run_id = Path(run_dir).name
    findings = Path(run_dir) / "findings.json"
    if findings.is_file():
        run_id = json.loads(findings.read_text(encoding="utf-8")).get("run", {}).get("id", run_id)
    return f"gcevidence · run {run_id} · evidence digest {evidence_digest(run_dir)}"


def render_html(notebook_path: Path, html_path: Path, footer: str = "") -> Path:
    """Render one executed notebook to a self-contained HTML file (footer: of printed pages)."""
    nb = nbformat.read(notebook_path, as_version=4)
    resources = {"metadata": {"name": nb.metadata.get("title") or notebook_path.stem}}
    if footer:
        resources["gce_footer"] = css_string(footer)
    body, _ = html_exporter().from_notebook_node(nb, resources=resources)
    body = prune_page(body)  # the theme's rules for editors and widgets: none apply here
    fetches = network_fetches(body)
    if fetches:
        raise PackError(
            f"{notebook_path.name}: the rendered HTML would fetch {fetches[:3]} "
            "from the network; a notebook output must embed what it shows"
        )
    html_path.write_text(body, encoding="utf-8")
    return html_path


def find_chromium() -> str | None:
    """Path of a Chromium-family browser on PATH, or None."""
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


# The rows report.html.table keeps off paper. Cells are escaped text or markup this toolkit
# built, so a row never holds "</tr>" before its end.
UNPRINTED_ROW = re.compile(r'<tr class="gce-unprinted">.*?</tr>', re.S)


def print_pdf(chromium: str, html_path: Path, pdf_path: Path, timeout: int = 180) -> Path:
    """Print an HTML file to PDF with headless Chromium, isolated from the network and profile.

    A page with rows kept off paper is printed from a copy without them, beside it (so that its
    relative links stay the page's), removed afterwards: Chromium lays out hidden rows too, and
    a large org's thousands of them would cost it hundreds of MiB.
    """
    markup = html_path.read_text(encoding="utf-8")
    source = html_path
    if 'class="gce-unprinted"' in markup:
        source = html_path.with_name(f".{html_path.stem}.print.html")
        source.write_text(UNPRINTED_ROW.sub("", markup), encoding="utf-8")
    try:
        done = _chromium_print(chromium, source, pdf_path, timeout)
    finally:
        if source != html_path:
            source.unlink(missing_ok=True)
    if not pdf_path.is_file() or pdf_path.stat().st_size == 0:
        tail = (done.stderr or "").strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"Chromium did not print {html_path.name}: {tail[0]}")
    return compact_pdf(pdf_path)


def _chromium_print(
    chromium: str, html_path: Path, pdf_path: Path, timeout: int
) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="gcevidence-chromium-") as profile:
        cmd = [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--disable-sync",
            "--disable-extensions",
            f"--user-data-dir={profile}",
            "--no-pdf-header-footer",
            "--run-all-compositor-stages-before-draw",
            "--virtual-time-budget=5000",
            f"--print-to-pdf={pdf_path}",
            html_path.resolve().as_uri(),
        ]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)


def compact_pdf(pdf_path: Path) -> Path:
    """Rewrite a printed PDF with its objects packed into compressed object streams.

    Chromium writes a tagged PDF (its structure tree lets screen readers follow the tables),
    one uncompressed object per tag: more than half of each paper's bytes. qpdf (pikepdf) packs
    them losslessly: same pages, text, images and tags, about 55% smaller.
    """
    packed = pdf_path.with_name(pdf_path.name + ".packing")
    try:
        with pikepdf.open(pdf_path) as pdf:
            pdf.save(packed, object_stream_mode=pikepdf.ObjectStreamMode.generate)
        packed.replace(pdf_path)
    except pikepdf.PdfError as exc:  # Chromium's own file is still a good PDF
        log.warning("could not pack %s (%s); kept as printed", pdf_path.name, exc)
    finally:
        packed.unlink(missing_ok=True)
    return pdf_path


def render_all(executed: list[Path]) -> list[Path]:
    """The HTML copy of every executed notebook, beside it, with the run's page footer."""
    footers: dict[Path, str] = {}
    pages = []
    for p in executed:
        if p.parent not in footers:
            footers[p.parent] = page_footer(p.parent)  # once per run folder
        pages.append(render_html(p, p.with_suffix(".html"), footers[p.parent]))
    return pages


def print_all(pages: list[Path]) -> list[Path]:
    """PDF of every page through Chromium; none (one log line) when no Chromium is found."""
    chromium = find_chromium()
    if chromium is None:
        log.warning("no Chromium found: PDF skipped")
        return []

    def one(page: Path) -> Path | None:
        try:
            return print_pdf(chromium, page, page.with_suffix(".pdf"))
        except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
            # A PDF is a convenience copy of the sealed HTML; its failure must not lose the pack.
            log.warning("PDF of %s failed (%s); the HTML is sealed without it", page.name, exc)
            page.with_suffix(".pdf").unlink(missing_ok=True)
            return None

    # One page at a time: a Chromium printing one paper takes 350 MiB to 750 MiB (it grows with
    # the pages printed), and two at once saved under a second on the demo's six pages.
    done = {pdf for pdf in map(one, pages) if pdf is not None}
    return [page.with_suffix(".pdf") for page in pages if page.with_suffix(".pdf") in done]


def screenshot(
    chromium: str, html_path: Path, png_path: Path, width: int = 1200, height: int = 900
) -> Path:
    """A PNG screenshot of a page (for the README)."""
    with tempfile.TemporaryDirectory(prefix="gcevidence-chromium-") as profile:
        subprocess.run(
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--no-first-run",
                f"--user-data-dir={profile}",
                "--hide-scrollbars",
                f"--window-size={width},{height}",
                f"--screenshot={png_path}",
                html_path.resolve().as_uri(),
            ],
            capture_output=True,
            timeout=120,
            check=False,
        )
    return png_path
