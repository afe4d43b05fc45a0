"""Rendering steps: executed notebook -> self-contained HTML (nbconvert) -> PDF (Chromium).

Each step is named and explicit (style.md): hide code, drop the parameter cells, embed images,
use a template that fetches nothing from the network, then print the HTML with headless Chromium.
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter
from nbconvert.preprocessors import TagRemovePreprocessor
from traitlets.config import Config

from gcevidence.errors import PackError

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).parent / "templates"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
PARAMETER_TAGS = ("parameters", "injected-parameters")
# Anything that would make a browser fetch from the network when the page opens.
NETWORK_FETCH = re.compile(
    r"""<(?:script|link|img|iframe|source|video|audio|embed)\b[^>]*?\b(?:src|href)\s*=\s*["']?"""
    r"""\s*(?:https?:)?//""",
    re.IGNORECASE,
)
CSS_FETCH = re.compile(r"""(?:@import|url\()\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)


def html_exporter() -> HTMLExporter:
    """nbconvert HTML exporter: code hidden, parameters dropped, images embedded, offline."""
    config = Config()
    config.TagRemovePreprocessor.remove_cell_tags = set(PARAMETER_TAGS)
    config.TagRemovePreprocessor.enabled = True
    exporter = HTMLExporter(
        config=config,
        extra_template_basedirs=[str(TEMPLATES)],
        template_name="offline",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )
    exporter.register_preprocessor(TagRemovePreprocessor(config=config), enabled=True)
    return exporter


def network_fetches(markup: str) -> list[str]:
    """Every tag or CSS rule in a page that would fetch from the network (should be none)."""
    return [m.group(0) for m in NETWORK_FETCH.finditer(markup)] + [
        m.group(0) for m in CSS_FETCH.finditer(markup)
    ]


def render_html(notebook_path: Path, html_path: Path) -> Path:
    """Render one executed notebook to a self-contained HTML file."""
    nb = nbformat.read(notebook_path, as_version=4)
    body, _ = html_exporter().from_notebook_node(
        nb, resources={"metadata": {"name": nb.metadata.get("title") or notebook_path.stem}}
    )
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


def print_pdf(chromium: str, html_path: Path, pdf_path: Path, timeout: int = 180) -> Path:
    """Print an HTML file to PDF with headless Chromium, isolated from the network and profile."""
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
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if not pdf_path.is_file() or pdf_path.stat().st_size == 0:
        tail = (done.stderr or "").strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"Chromium did not print {html_path.name}: {tail[0]}")
    return pdf_path


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
