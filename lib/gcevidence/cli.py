"""Command line: argument parsing only. Each command lives with the module that owns it.

Every owner module exposes `register(subparsers)`, which adds its sub-command and sets
`func` to a callable taking the parsed arguments and returning an exit status.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from gcevidence import __version__
from gcevidence.errors import GcEvidenceError

# Owner modules, in the order their commands are listed in --help.
COMMAND_MODULES = (
    "gcevidence.run_commands",  # run, demo
    "gcevidence.simulator.cli",  # simulate
    "gcevidence.pack.cli",  # verify, publish, keygen
    "gcevidence.review",  # review import
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gcevidence", description="Compliance evidence packs from a Genesys Cloud org."
    )
    parser.add_argument("--version", action="version", version=f"gcevidence {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
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
