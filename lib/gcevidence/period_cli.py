"""`gcevidence report period`: the period report across an org's sealed packs."""

from __future__ import annotations

import argparse
from pathlib import Path

from gcevidence.errors import UsageError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `report period OUT_DIR [--from D] [--to D] [--org ID] [--out DIR] [--no-pdf]`."""
    report = subparsers.add_parser("report", help="reports across several packs")
    sub = report.add_subparsers(dest="report_command", required=True, metavar="ACTION")
    p = sub.add_parser(
        "period",
        help="period report across an org's sealed packs (SOC 2 Type II, ISO surveillance)",
        description="Verifies every pack under OUT_DIR/<period-end>/<run-id>/, excludes (and "
        "lists) the ones that fail, and writes per org a report of each check's and "
        "control's result month by month, the exceptions opened and closed, and the months "
        "without a pack, to OUT_DIR/period-reports/<org-id>/<from>_<to>/. Exit 0 written; "
        "2 nothing to report or bad input.",
    )
    p.add_argument("out_dir", metavar="OUT_DIR", type=Path, help="the output folder of the runs")
    p.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD", help="first period end")
    p.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD", help="last period end")
    p.add_argument("--org", metavar="ORG_ID", help="only this org (default: one report per org)")
    p.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="write to DIR/<org-id>/<from>_<to>/ (default OUT_DIR/period-reports)",
    )
    p.add_argument("--no-pdf", action="store_true", help="HTML and JSON only")
    p.set_defaults(func=run_period_report)


def run_period_report(args: argparse.Namespace) -> int:
    """Write one report per org; exit 2 when no verified pack falls in the range."""
    from gcevidence.cli import parse_date
    from gcevidence.report.period import build_reports, discover_packs
    from gcevidence.report.period_write import (
        default_target,
        refuse_pack_location,
        write_period_report,
    )

    date_from = parse_date("--from", args.date_from)
    date_to = parse_date("--to", args.date_to)
    out_dir = Path(args.out_dir)
    if not out_dir.is_dir():
        raise UsageError(
            f"OUT_DIR {out_dir} is not a folder; pass the output folder of the runs "
            "(the one holding <period-end>/<run-id>/ packs)"
        )
    if args.out is not None:
        refuse_pack_location(out_dir, args.out)
    packs, excluded = discover_packs(out_dir)
    reports = build_reports(packs, excluded, date_from=date_from, date_to=date_to, org_id=args.org)
    if not reports:
        raise UsageError(_nothing_to_report(out_dir, args, packs, excluded))
    for report in reports:
        target = default_target(out_dir, report, args.out)
        written = write_period_report(report, target, pdf=not args.no_pdf)
        for e in report.excluded:
            print(f"excluded: {e.ref}: {e.problem}")
        closed = sum(1 for s in report.spans if not s.still_open)
        print(
            f"period report for org {report.org_id} ({report.org_name}), "
            f"{report.date_from} to {report.date_to}: {len(report.packs)} verified pack(s), "
            f"{len(report.gaps)} month(s) without a pack, {len(report.excluded)} excluded, "
            f"{len(report.spans)} exception(s) opened, {closed} closed"
            + (f"; PDF skipped ({written.pdf_skipped})" if written.pdf_skipped else "")
        )
        print(written.path / "index.html")
    return 0


def _nothing_to_report(out_dir: Path, args: argparse.Namespace, packs, excluded) -> str:
    where = f"under {out_dir}"
    if args.org:
        where += f" for org {args.org}"
    if args.date_from or args.date_to:
        where += f" with a period end in [{args.date_from or '…'}, {args.date_to or '…'}]"
    also = f" ({len(excluded)} pack(s) failed verification and were excluded)" if excluded else ""
    found = f"; {len(packs)} verified pack(s) exist outside that selection" if packs else ""
    return (
        f"no verified pack {where}{also}{found}; seal packs with gcevidence run, or widen "
        "--from/--to or correct --org"
    )
