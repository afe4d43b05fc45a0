"""`gcevidence simulate`: serve the simulated org until Ctrl-C."""

from __future__ import annotations

import argparse
import dataclasses
import threading
import types
import typing
from pathlib import Path

from gcevidence.simulator.config import SIEM_EXPORT_MODES, FaultConfig, SimConfig
from gcevidence.simulator.sim import Simulator


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "simulate",
        help="serve a simulated Genesys Cloud org on loopback until stopped",
        description="Serve a synthetic Genesys Cloud org over HTTP (every permission; no faults "
        "unless --fault).",
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8999, help="0 picks a free port (default 8999)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--users", type=int, default=300)
    p.add_argument(
        "--sign-in",
        choices=("sso", "password"),
        default="sso",
        help="sso (default): Genesys login off, users sign in through a SAML provider; "
        "password: Genesys login only",
    )
    p.add_argument(
        "--siem-export",
        choices=SIEM_EXPORT_MODES,
        default="active",
        help="the Amazon EventBridge audit export: active (default), error (reports ERROR) or "
        "none (not set up)",
    )
    p.add_argument("--client-id", default="gcevidence-sim")
    p.add_argument("--client-secret", default="sim-secret")
    p.add_argument("--roster", type=Path, help="also write the org's HR roster CSV here")
    p.add_argument(
        "--fault",
        action="append",
        default=[],
        type=parse_fault,
        metavar="NAME=VALUE",
        help="inject a fault from the start, e.g. audit_fail=true or rate_429=0.1 (repeatable; "
        f"names: {', '.join(f.name for f in dataclasses.fields(FaultConfig))})",
    )
    p.set_defaults(func=run_simulate)


_TRUE, _FALSE = ("true", "yes", "on", "1"), ("false", "no", "off", "0")


def parse_fault(text: str) -> tuple[str, bool | int | float | None]:
    """`NAME=VALUE` for a FaultConfig field, VALUE converted to the field's type."""
    name, sep, raw = text.partition("=")
    kinds = typing.get_type_hints(FaultConfig)
    if not sep or name not in kinds:
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected NAME=VALUE with NAME one of {', '.join(kinds)}"
        )
    kind = kinds[name]
    # `int | None` fields (e.g. fail_after_requests) also accept "none".
    choices = typing.get_args(kind) if isinstance(kind, types.UnionType) else (kind,)
    value = raw.strip().lower()
    if type(None) in choices and value in ("none", "null", ""):
        return name, None
    base = next(c for c in choices if c is not type(None))
    if base is bool:
        if value not in _TRUE + _FALSE:
            raise argparse.ArgumentTypeError(f"{text!r}: {name} takes true or false")
        return name, value in _TRUE
    try:
        return name, base(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: {name} takes a {base.__name__}") from None


def run_simulate(args: argparse.Namespace, stop: threading.Event | None = None) -> int:
    cfg = SimConfig(
        seed=args.seed,
        users=args.users,
        sign_in=args.sign_in,
        siem_export=args.siem_export,
        client_id=args.client_id,
        client_secret=args.client_secret,
        host=args.host,
        port=args.port,
        faults=FaultConfig(**dict(args.fault)),
    )
    with Simulator(cfg) as sim:
        if args.roster:
            print(f"HR roster written to {sim.write_roster(args.roster)}")
        print(f"Simulated Genesys Cloud org serving at {sim.base_url}  (Ctrl-C to stop)")
        print(f"export GENESYSCLOUD_OAUTHCLIENT_ID={sim.client_id}")
        print(f"export GENESYSCLOUD_OAUTHCLIENT_SECRET={sim.client_secret}")
        print(
            f"export GENESYSCLOUD_API_BASE_URL={sim.base_url}   "
            f"# or set org.api_base_url: {sim.base_url} in your params file",
            flush=True,
        )
        try:
            (stop or threading.Event()).wait()
        except KeyboardInterrupt:
            print("simulator stopped")
    return 0
