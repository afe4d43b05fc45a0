"""The `run` and `demo` commands: their arguments, and the summary they print."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from gcevidence.config import load_params

if TYPE_CHECKING:
    from gcevidence.pipeline import RunResult

# The run's modules (pandas, nbformat, nbconvert, matplotlib, the simulator) take most of a
# second to import; the commands import them only once the params file has been read, so that
# a bad params file or a typo on the command line is reported at once.


def _period_end(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from exc


def report(result: RunResult) -> int:
    """A one-line summary on stderr; the path of index.html alone on stdout (for scripts)."""
    if result.pack_dir is not None:
        counts = {
            s: sum(f.status == s for f in result.findings)
            for s in ("fail", "not_evaluable", "pass")
        }
        phases = ", ".join(f"{k} {v:.1f}s" for k, v in result.timings.items())
        print(
            f"{len(result.findings)} checks: {counts['fail']} fail, "
            f"{counts['not_evaluable']} not evaluable, {counts['pass']} pass; pack sealed "
            f"({phases})",
            file=sys.stderr,
        )
        print(result.pack_dir / "index.html")
    return result.exit_status


def cmd_run(args: argparse.Namespace) -> int:
    params = load_params(args.params, period_end=args.period_end, operator=args.operator)
    from gcevidence.pipeline import run_pipeline  # after the params: see the comment above

    out = Path(args.out) if args.out else params.output_dir
    result = run_pipeline(
        params,
        out,
        args.fail_on_findings,
        os.environ,
        pdf=not args.no_pdf,
        progress=sys.stderr.isatty(),
        full=args.full,
    )
    return report(result)


def cmd_demo(args: argparse.Namespace) -> int:
    from gcevidence.demo import run_demo  # see the comment above

    result = run_demo(
        Path(args.out) if args.out else None,
        args.fail_on_findings,
        pdf=not args.no_pdf,
        progress=sys.stderr.isatty(),
        operator=args.operator,
    )
    return report(result)


def register(subparsers: argparse._SubParsersAction) -> None:
    run = subparsers.add_parser("run", help="collect, check, render and seal one evidence pack")
    run.add_argument("--params", required=True, help="params YAML file")
    run.add_argument("--out", help="output folder (default: output.dir of the params)")
    run.add_argument(
        "--period-end",
        type=_period_end,
        help="last day of the period, YYYY-MM-DD, before today (default: the last whole UTC day)",
    )
    run.add_argument(
        "--fail-on-findings",
        action="store_true",
        help="exit 1 when a check fails (the pack is still sealed)",
    )
    run.add_argument("--no-pdf", action="store_true", help="skip PDF rendering")
    run.add_argument(
        "--full",
        action="store_true",
        help="query every day of the audit trail, even those the previous pack holds",
    )
    run.add_argument(
        "--operator",
        metavar="NAME",
        help="who runs the collection, recorded in the pack (overrides operator in the params)",
    )
    run.set_defaults(func=cmd_run)
    demo = subparsers.add_parser("demo", help="run everything against the embedded simulator")
    demo.add_argument("--out", help="output folder (default: output)")
    demo.add_argument("--fail-on-findings", action="store_true", help=argparse.SUPPRESS)
    demo.add_argument("--no-pdf", action="store_true", help="skip PDF rendering")
    demo.add_argument("--operator", metavar="NAME", help="who runs it (default: the demo params')")
    demo.set_defaults(func=cmd_demo)
