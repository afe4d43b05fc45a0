"""Command line: argument parsing only. Each command lives with the module that owns it.

Every owner module exposes `register(subparsers)`, which adds its sub-command and sets
`func` to a callable taking the parsed arguments and returning an exit status.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import logging
import sys
from collections.abc import Sequence

from gcevidence import __version__
from gcevidence.errors import GcEvidenceError, InputError

# Owner modules, in the order their commands are listed in --help.
COMMAND_MODULES = (
    "gcevidence.run_commands",  # run, demo
    "gcevidence.preflight",  # preflight
    "gcevidence.simulator.cli",  # simulate
    "gcevidence.pack.cli",  # verify, publish, keygen
    "gcevidence.review",  # review import, review sign
    "gcevidence.period_cli",  # report period
)


def parse_date(option: str, text: str | None) -> dt.date | None:
    """A YYYY-MM-DD option value (None when not given); one-line InputError (exit 2) if bad."""
    if text is None:
        return None
    try:
        day: dt.date | None = dt.date.fromisoformat(text)
    except ValueError:
        day = None
    if day is None or day.isoformat() != text:  # fromisoformat also takes 20261130
        raise InputError(
            "command line", option, text, "is not a date YYYY-MM-DD", "give a real date"
        )
    return day


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser; given the command line, only the owner modules up to its command's.

    An owner module may import pandas, openpyxl or the simulator at the top; stopping at the
    command being run keeps a typo or a bad params file reported at once (no need to import
    `review` to run `run`). Without a known command every module registers, for --help.
    """
    parser = argparse.ArgumentParser(
        prog="gcevidence", description="Compliance evidence packs from a Genesys Cloud org."
    )
    parser.add_argument("--version", action="version", version=f"gcevidence {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    wanted = next((a for a in argv or () if not a.startswith("-")), None)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(sub)
        if wanted in sub.choices:
            break
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args) or 0)
    except GcEvidenceError as exc:
        print(f"gcevidence: error: {exc}", file=sys.stderr)
        return exc.exit_status
    except KeyboardInterrupt:
        print("gcevidence: interrupted; no pack was sealed", file=sys.stderr)
        return 130
