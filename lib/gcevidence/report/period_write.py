"""Writing a period report folder: index.html, period-report.json, PDF, and a manifest.

The report goes to OUT/period-reports/<org-id>/<from>_<to>/ (or DIR/<org-id>/<from>_<to>/ with
--out), never into a pack. It is built in a hidden folder beside its target and renamed into
place when complete; a report of the same org and range written earlier is replaced, because
the report is derived from the packs and later packs may have been sealed since. manifest.json
has the pack manifest's format, so `gcevidence verify` checks a report as it checks a pack.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from gcevidence import __version__
from gcevidence.errors import UsageError
from gcevidence.pack import manifest as mf
from gcevidence.report.period import REPORTS_DIR, PeriodReport, report_document
from gcevidence.report.period_html import period_html

log = logging.getLogger(__name__)

KIND = "gcevidence.period-report"
HTML = "index.html"
JSON = "period-report.json"
PDF = "period-report.pdf"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


@dataclass(frozen=True)
class WrittenReport:
    """Where a report was written and what it holds."""

    path: Path
    files: tuple[str, ...]
    content_digest: str
    pdf_skipped: str = ""  # why there is no PDF, when there is none


def default_target(out_root: Path, report: PeriodReport, reports_root: Path | None = None) -> Path:
    """<reports_root or OUT/period-reports>/<org-id>/<from>_<to>/."""
    root = Path(reports_root) if reports_root else Path(out_root) / REPORTS_DIR
    org = _UNSAFE.sub("_", report.org_id) or "unknown-org"
    return root / org / f"{report.date_from.isoformat()}_{report.date_to.isoformat()}"


def refuse_pack_location(out_root: Path, reports_root: Path) -> None:
    """A report inside OUT/<YYYY-MM-DD>/ would sit where packs are looked for: refuse it."""
    try:
        inside = Path(reports_root).resolve().relative_to(Path(out_root).resolve())
    except ValueError:
        return
    if inside.parts and re.fullmatch(r"\d{4}-\d{2}-\d{2}", inside.parts[0]):
        raise UsageError(
            f"--out {reports_root} lies inside a period-end folder of {out_root}, where packs "
            "are looked for; choose a folder outside OUT/<period-end>/"
        )


def pack_links(report: PeriodReport, target: Path) -> dict[str, str]:
    """Relative link from the report folder to each pack's index.html (else its manifest)."""
    links = {}
    for pack in (*report.packs, *report.excluded):
        page = pack.path / HTML
        page = page if page.is_file() else pack.path / mf.MANIFEST
        links[pack.ref] = Path(os.path.relpath(page.absolute(), target.absolute())).as_posix()
    return links


def write_period_report(report: PeriodReport, target: Path, pdf: bool = True) -> WrittenReport:
    """Write the report folder at `target` (replacing an earlier report there)."""
    target = Path(target).absolute()
    _check_replaceable(target)
    links = pack_links(report, target)
    build = target.parent / f".building-{target.name}-{secrets.token_hex(3)}"
    try:
        build.mkdir(parents=True)
        (build / HTML).write_text(period_html(report, links), encoding="utf-8")
        (build / JSON).write_bytes(mf.canonical_json(report_document(report, links)))
        skipped = _print_pdf(build) if pdf else "--no-pdf was given"
        entries = mf.list_entries(build)
        metadata = {
            "kind": KIND,
            "org": {"id": report.org_id, "name": report.org_name},
            "from": report.date_from,
            "to": report.date_to,
            "generated_at": report.generated_at,
            "tool_version": __version__,
            "packs": [{"pack": p.ref, "content_digest": p.content_digest} for p in report.packs],
            "excluded": [{"pack": e.ref, "problem": e.problem} for e in report.excluded],
        }
        manifest = mf.build_manifest(entries, metadata)
        (build / mf.MANIFEST).write_bytes(mf.canonical_json(manifest))
        _move_into_place(build, target)
    except OSError as exc:
        raise UsageError(
            f"cannot write the period report to {target} ({exc.strerror or exc}); "
            "choose a writable folder with --out"
        ) from exc
    finally:
        if build.exists():
            shutil.rmtree(build, ignore_errors=True)
    files = tuple(sorted(e.path for e in entries) + [mf.MANIFEST])
    return WrittenReport(target, files, manifest["content_digest"], skipped)


def _check_replaceable(target: Path) -> None:
    """Only an earlier period report may be replaced; anything else at `target` is kept."""
    if not target.exists():
        return
    try:
        doc = mf.parse_manifest((target / mf.MANIFEST).read_bytes())
        ours = (doc.get("metadata") or {}).get("kind") == KIND
    except (OSError, ValueError, UnicodeDecodeError):
        ours = False
    if not ours:
        raise UsageError(
            f"{target} exists and is not a period report; move it away or choose another --out"
        )


def _move_into_place(build: Path, target: Path) -> None:
    old = None
    if target.exists():
        old = target.with_name(f".replaced-{target.name}-{secrets.token_hex(3)}")
        os.rename(target, old)
    try:
        os.rename(build, target)
    except OSError:
        if old is not None:
            os.rename(old, target)  # put the earlier report back rather than leave none
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _print_pdf(build: Path) -> str:
    """Print index.html to PDF with Chromium; returns why not ("" when printed)."""
    from gcevidence.report.render import find_chromium, print_pdf

    chromium = find_chromium()
    if chromium is None:
        log.warning("no Chromium found: period report PDF skipped")
        return "no Chromium found"
    try:
        print_pdf(chromium, build / HTML, build / PDF)
    except (
        RuntimeError,
        OSError,
        subprocess.SubprocessError,
    ) as exc:  # the HTML and JSON are the record; PDF is a copy
        (build / PDF).unlink(missing_ok=True)
        log.warning("period report PDF skipped: %s", exc)
        return str(exc)
    return ""
