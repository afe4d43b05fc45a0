"""`gcevidence simulate`: serve the simulated org until Ctrl-C."""

from __future__ import annotations

import argparse
import threading
from pathlib import Path

from gcevidence.simulator.config import SimConfig
from gcevidence.simulator.sim import Simulator


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "simulate",
        help="serve a simulated Genesys Cloud org on loopback until stopped",
        description="Serve a synthetic Genesys Cloud org (all permissions, no faults) over HTTP.",
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
    p.add_argument("--client-id", default="gcevidence-sim")
    p.add_argument("--client-secret", default="sim-secret")
    p.add_argument("--roster", type=Path, help="also write the org's HR roster CSV here")
    p.set_defaults(func=run_simulate)


def run_simulate(args: argparse.Namespace, stop: threading.Event | None = None) -> int:
    cfg = SimConfig(
        seed=args.seed,
        users=args.users,
        sign_in=args.sign_in,
        client_id=args.client_id,
        client_secret=args.client_secret,
        host=args.host,
        port=args.port,
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
