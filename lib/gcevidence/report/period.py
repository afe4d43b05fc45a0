"""Period report: how each check and control fared in every sealed pack of an org over a period.

What a SOC 2 Type II or ISO surveillance auditor asks for: operating effectiveness over the
period, not one day. Every pack under OUT/<period-end>/<run-id>/ is verified first; a pack that
fails is listed with the reason and never counted. An exception is a (check, subject id) pair:
it opens in the first pack that lists it and closes in the first later pack whose check was
evaluated (pass or fail) and no longer lists it; a not_evaluable result, or a pack without that
check, closes nothing, because it shows nothing. Days open are counted between pack period ends.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gcevidence import __version__
from gcevidence.errors import UsageError
from gcevidence.history import identify_pack, pack_folders, verify_for_use
from gcevidence.pack import manifest as mf
from gcevidence.pack.signoff import SignoffCheck, check_signoffs

SCHEMA = "gcevidence.period-report/1"
FINDINGS_SCHEMA = "gcevidence.findings/1"
REPORTS_DIR = "period-reports"
UNKNOWN_ORG = ""


@dataclass(frozen=True)
class PeriodPack:
    """A sealed pack that verified, with what the report needs from it."""

    path: Path
    run_id: str
    period_end: dt.date
    generated_at: str
    org_id: str
    org_name: str
    content_digest: str
    signature: str  # valid | absent (an invalid one fails verification)
    key_id: str
    findings: tuple[dict[str, Any], ...]
    signoffs: tuple[SignoffCheck, ...] = ()

    @property
    def ref(self) -> str:
        """Unique within OUT: <period-end>/<run-id>."""
        return f"{self.path.parent.name}/{self.run_id}"

    @property
    def month(self) -> str:
        return self.period_end.strftime("%Y-%m")


@dataclass(frozen=True)
class ExcludedPack:
    """A folder in a pack's place that is not counted: tampered, unreadable or inconsistent."""

    path: Path
    run_id: str
    period_end: dt.date
    org_id: str  # "" when the pack does not say (or cannot be read)
    problem: str

    @property
    def ref(self) -> str:
        return f"{self.path.parent.name}/{self.run_id}"


@dataclass(frozen=True)
class Cell:
    """One pack's result for one check or control."""

    ref: str
    run_id: str
    status: str
    exceptions: int | None  # for a control: None
    newest: bool  # the newest pack of its month


@dataclass(frozen=True)
class GridRow:
    """A check or control across the months of the period."""

    key: str
    title: str
    months: dict[str, tuple[Cell, ...]]


@dataclass(frozen=True)
class ExceptionSpan:
    """One stretch during which an exception (check, subject) was listed."""

    check: str
    subject_type: str
    subject_id: str
    subject_name: str
    opened_ref: str
    opened_on: dt.date
    closed_ref: str  # "" while still open at the end
    closed_on: dt.date | None
    days: int  # to the close, or to the last pack's period end while still open
    open_at_start: bool  # listed by the first pack: it may be older than the period
    accepted: bool  # the last listing carried a risk acceptance

    @property
    def still_open(self) -> bool:
        return self.closed_on is None


@dataclass(frozen=True)
class PeriodReport:
    """Everything the period report shows, for one org and one date range."""

    org_id: str
    org_name: str
    date_from: dt.date
    date_to: dt.date
    months: tuple[str, ...]
    packs: tuple[PeriodPack, ...]
    excluded: tuple[ExcludedPack, ...]
    checks: tuple[GridRow, ...]
    controls: dict[str, tuple[GridRow, ...]]
    spans: tuple[ExceptionSpan, ...]
    generated_at: str
    gaps: tuple[str, ...] = field(default=())

    def longest(self) -> tuple[ExceptionSpan, ...]:
        """The span(s) that stayed open longest; () when there were no exceptions."""
        if not self.spans:
            return ()
        most = max(s.days for s in self.spans)
        return tuple(s for s in self.spans if s.days == most)


# ----------------------------------------------------------------------------- the roll-up


def control_results(findings: Iterable[dict[str, Any]]) -> dict[str, dict[str, tuple[str, str]]]:
    """framework -> control id -> (title, status) of one pack: the project's control roll-up.

    The one place the period report reaches the roll-up (a control takes the worst result of
    the checks mapped to it), so the roll-up can move without touching the report.
    """
    from gcevidence.catalog.rollup import roll_up

    return {
        framework: {control: (cell.title, cell.status) for control, cell in cells.items()}
        for framework, cells in roll_up(list(findings)).items()
    }


# ----------------------------------------------------------------------------- discovery


def discover_packs(out_root: Path) -> tuple[list[PeriodPack], list[ExcludedPack]]:
    """Every folder in a pack's place under out_root: verified packs, and the others with why."""
    packs: list[PeriodPack] = []
    excluded: list[ExcludedPack] = []
    for folder in pack_folders(out_root):
        period_end = dt.date.fromisoformat(folder.parent.name)
        report, problem = verify_for_use(folder)
        if report is not None and not problem:
            pack, problem = _read_pack(folder, period_end, report)
            if pack is not None:
                packs.append(pack)
                continue
        ident = identify_pack(folder)
        org_id = ident[0] if ident else UNKNOWN_ORG
        excluded.append(ExcludedPack(folder, folder.name, period_end, org_id, problem))
    packs.sort(key=lambda p: (p.period_end, p.generated_at, p.run_id))
    excluded.sort(key=lambda e: (e.period_end, e.run_id))
    return packs, excluded


def _read_pack(folder: Path, period_end: dt.date, report: Any) -> tuple[PeriodPack | None, str]:
    """The verified pack's findings and run facts, or None and why it cannot be used."""
    try:
        manifest = mf.parse_manifest((folder / mf.MANIFEST).read_bytes())
        doc = json.loads((folder / "findings.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return None, f"verifies, but its findings.json cannot be read ({exc})"
    doc = doc if isinstance(doc, dict) else {}
    run, findings = doc.get("run"), doc.get("findings")
    if (
        doc.get("schema") != FINDINGS_SCHEMA
        or not isinstance(run, dict)
        or not isinstance(findings, list)
        or not all(isinstance(f, dict) and isinstance(f.get("check"), str) for f in findings)
    ):
        return None, f"verifies, but its findings.json is not a {FINDINGS_SCHEMA} document"
    sealed_end = str((manifest.get("metadata") or {}).get("period_end", period_end.isoformat()))
    if sealed_end != period_end.isoformat():
        return None, (
            f"verifies, but its manifest says period end {sealed_end} while it sits in the "
            f"folder {period_end.isoformat()}"
        )
    org = run.get("org") if isinstance(run.get("org"), dict) else {}
    pack = PeriodPack(
        path=folder,
        run_id=folder.name,
        period_end=period_end,
        generated_at=str(
            run.get("generated_at") or (manifest.get("metadata") or {}).get("sealed_at", "")
        ),
        org_id=str(org.get("id", "")),
        org_name=str(org.get("name", "")),
        content_digest=report.content_digest,
        signature=report.signature,
        key_id=report.key_id,
        findings=tuple(findings),
        signoffs=tuple(check_signoffs(folder)),
    )
    return pack, ""


# ----------------------------------------------------------------------------- the report


def build_reports(
    packs: Sequence[PeriodPack],
    excluded: Sequence[ExcludedPack],
    *,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    org_id: str | None = None,
    now: dt.datetime | None = None,
) -> list[PeriodReport]:
    """One report per org with a verified pack in [date_from, date_to] (both inclusive)."""
    if date_from and date_to and date_from > date_to:
        raise UsageError(
            f"--from {date_from} is after --to {date_to}; give the start of the period first"
        )
    generated_at = (now or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")

    def in_range(day: dt.date) -> bool:
        return (date_from is None or day >= date_from) and (date_to is None or day <= date_to)

    orgs = sorted({p.org_id for p in packs} if org_id is None else {org_id})
    reports = []
    for org in orgs:
        mine = [p for p in packs if p.org_id == org and in_range(p.period_end)]
        if not mine:
            continue
        others = [e for e in excluded if e.org_id in (org, UNKNOWN_ORG) and in_range(e.period_end)]
        days = [p.period_end for p in mine] + [e.period_end for e in others]
        start, end = date_from or min(days), date_to or max(days)
        months = _months(start, end)
        have = {p.month for p in mine}
        reports.append(
            PeriodReport(
                org_id=org,
                org_name=mine[-1].org_name,
                date_from=start,
                date_to=end,
                months=months,
                packs=tuple(mine),
                excluded=tuple(others),
                checks=check_grid(mine),
                controls=control_grid(mine),
                spans=exception_spans(mine),
                generated_at=generated_at,
                gaps=tuple(m for m in months if m not in have),
            )
        )
    return reports


def _months(start: dt.date, end: dt.date) -> tuple[str, ...]:
    months, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return tuple(months)


def _by_month(packs: Sequence[PeriodPack]) -> dict[str, list[PeriodPack]]:
    grouped: dict[str, list[PeriodPack]] = defaultdict(list)
    for p in packs:  # already oldest first, so the last of a month is its newest
        grouped[p.month].append(p)
    return grouped


def _row(key: str, title: str, results: dict[str, tuple[str, int | None]], packs) -> GridRow:
    """A grid row from {pack ref: (status, exceptions)}, months in pack order."""
    months: dict[str, tuple[Cell, ...]] = {}
    for month, group in _by_month(packs).items():
        cells = tuple(
            Cell(p.ref, p.run_id, *results[p.ref], newest=p is group[-1])
            for p in group
            if p.ref in results
        )
        if cells:
            months[month] = cells
    return GridRow(key, title, months)


def check_grid(packs: Sequence[PeriodPack]) -> tuple[GridRow, ...]:
    """One row per check seen in any pack: each pack's status and exception count."""
    results: dict[str, dict[str, tuple[str, int | None]]] = defaultdict(dict)
    titles: dict[str, str] = {}
    for p in packs:
        for f in p.findings:
            results[f["check"]][p.ref] = (
                str(f.get("status", "")),
                len(f.get("exceptions") or ()),
            )
            titles[f["check"]] = str(f.get("title", ""))
    return tuple(_row(c, titles[c], results[c], packs) for c in sorted(results))


def control_grid(packs: Sequence[PeriodPack]) -> dict[str, tuple[GridRow, ...]]:
    """framework -> one row per control: each pack's rolled-up status (worst of its checks)."""
    results: dict[tuple[str, str], dict[str, tuple[str, int | None]]] = defaultdict(dict)
    titles: dict[tuple[str, str], str] = {}
    frameworks: list[str] = []
    for p in packs:
        for framework, controls in control_results(p.findings).items():
            if controls and framework not in frameworks:
                frameworks.append(framework)
            for control, (title, status) in controls.items():
                results[framework, control][p.ref] = (status, None)
                titles[framework, control] = title
    return {
        fw: tuple(
            _row(control, titles[fw, control], results[fw, control], packs)
            for control in sorted({c for f, c in results if f == fw}, key=natural_key)
        )
        for fw in frameworks
    }


def natural_key(text: str) -> tuple:
    """Sort A.9.2.10 after A.9.2.2 and CC6.10 after CC6.2."""
    return tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part)
        for part in re.split(r"(\d+)", text)
        if part
    )


def exception_spans(packs: Sequence[PeriodPack]) -> tuple[ExceptionSpan, ...]:
    """Every stretch an exception stayed listed, oldest opening first (see module docstring)."""
    if not packs:
        return ()
    first, last = packs[0], packs[-1]
    open_now: dict[tuple[str, str], dict[str, Any]] = {}
    spans: list[ExceptionSpan] = []
    for p in packs:
        evaluated = set()
        listed: dict[tuple[str, str], dict[str, Any]] = {}
        for f in p.findings:
            if f.get("status") in ("pass", "fail"):
                evaluated.add(f["check"])
            for e in f.get("exceptions") or ():
                listed[f["check"], str(e.get("subject_id", ""))] = e
        for key in [k for k in open_now if k[0] in evaluated and k not in listed]:
            start = open_now.pop(key)
            spans.append(_span(key, start, p.ref, p.period_end, first))
        for key, item in listed.items():
            if key in open_now:
                open_now[key]["item"] = item  # keep the newest name and acceptance
            else:
                open_now[key] = {"pack": p, "item": item}
        # a check not evaluated in this pack keeps its open exceptions as they were
    for key, start in open_now.items():
        spans.append(_span(key, start, "", last.period_end, first))
    return tuple(
        sorted(
            spans, key=lambda s: (s.opened_on, s.check, s.subject_id, s.closed_on or dt.date.max)
        )
    )


def _span(key, start: dict[str, Any], closed_ref: str, until: dt.date, first) -> ExceptionSpan:
    opened: PeriodPack = start["pack"]
    item = start["item"]
    return ExceptionSpan(
        check=key[0],
        subject_type=str(item.get("subject_type", "")),
        subject_id=key[1],
        subject_name=str(item.get("subject_name", "")),
        opened_ref=opened.ref,
        opened_on=opened.period_end,
        closed_ref=closed_ref,
        closed_on=until if closed_ref else None,
        days=(until - opened.period_end).days,
        open_at_start=opened is first,
        accepted=bool(item.get("accepted")),
    )


# ----------------------------------------------------------------------------- JSON


def report_document(report: PeriodReport, links: dict[str, str]) -> dict[str, Any]:
    """period-report.json: the report as data; `links` maps a pack ref to its relative link."""

    def cells(row: GridRow) -> dict[str, list[dict[str, Any]]]:
        return {
            month: [
                {
                    "pack": c.ref,
                    "run_id": c.run_id,
                    "status": c.status,
                    **({} if c.exceptions is None else {"exceptions": c.exceptions}),
                    "newest_in_month": c.newest,
                }
                for c in group
            ]
            for month, group in row.months.items()
        }

    longest = report.longest()
    return {
        "schema": SCHEMA,
        "generated_at": report.generated_at,
        "tool_version": __version__,
        "org": {"id": report.org_id, "name": report.org_name},
        "range": {"from": report.date_from.isoformat(), "to": report.date_to.isoformat()},
        "months": list(report.months),
        "months_without_pack": list(report.gaps),
        "packs": [
            {
                "pack": p.ref,
                "run_id": p.run_id,
                "period_end": p.period_end.isoformat(),
                "month": p.month,
                "generated_at": p.generated_at,
                "verified": True,
                "content_digest": p.content_digest,
                "signature": p.signature,
                "key_id": p.key_id,
                "link": links.get(p.ref, ""),
                "signoffs": [
                    {
                        "file": s.file,
                        "status": s.status,
                        "reviewer": s.reviewer,
                        "role": s.role,
                        "date": s.date,
                        "key_id": s.key_id,
                        "problem": s.problem,
                    }
                    for s in p.signoffs
                ],
            }
            for p in report.packs
        ],
        "excluded": [
            {
                "pack": e.ref,
                "run_id": e.run_id,
                "period_end": e.period_end.isoformat(),
                "org_id": e.org_id,
                "verified": False,
                "problem": e.problem,
                "link": links.get(e.ref, ""),
            }
            for e in report.excluded
        ],
        "checks": [{"check": r.key, "title": r.title, "months": cells(r)} for r in report.checks],
        "controls": {
            fw: [{"control": r.key, "title": r.title, "months": cells(r)} for r in rows]
            for fw, rows in report.controls.items()
        },
        "exceptions": {
            "opened": len(report.spans),
            "closed": sum(1 for s in report.spans if not s.still_open),
            "still_open": sum(1 for s in report.spans if s.still_open),
            "longest": (
                {
                    "days": longest[0].days,
                    "still_open": any(s.still_open for s in longest),
                    "items": [{"check": s.check, "subject_id": s.subject_id} for s in longest],
                }
                if longest
                else None
            ),
            "items": [
                {
                    "check": s.check,
                    "subject_type": s.subject_type,
                    "subject_id": s.subject_id,
                    "subject_name": s.subject_name,
                    "opened_in": s.opened_ref,
                    "opened_on": s.opened_on.isoformat(),
                    "closed_in": s.closed_ref or None,
                    "closed_on": s.closed_on.isoformat() if s.closed_on else None,
                    "days_open": s.days,
                    "still_open": s.still_open,
                    "open_at_start": s.open_at_start,
                    "accepted": s.accepted,
                }
                for s in report.spans
            ],
        },
    }
