"""`gcevidence demo`: the whole run against the embedded simulator, with the shipped demo params."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import tempfile
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from pathlib import Path

from gcevidence.config import Params, RosterSource, load_params
from gcevidence.pipeline import RunResult, run_pipeline
from gcevidence.resources import DEMO_PARAMS
from gcevidence.simulator import SimConfig, Simulator

DEFAULT_OUT = Path("output")  # in the current folder, as `gcevidence demo --help` says


def demo_roster_source(now: dt.datetime) -> RosterSource:
    """The demo's roster is the simulator's HR export, written at start-up: say so."""
    return RosterSource(
        system="gcevidence simulator",
        report="HR roster of the simulated org",
        extracted_at=now.replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        extracted_by="gcevidence demo",
    )


@contextmanager
def demo_params(
    out_root: Path | None = None,
    sim_config: SimConfig | None = None,
    env: MutableMapping[str, str] | None = None,
    operator: str | None = None,
) -> Iterator[tuple[Params, Simulator]]:
    """A running simulator and the demo params pointed at it (roster in a temp folder).

    Packs go to `out_root`, by default ./output. The simulator's credentials go into `env`
    (default: this process's environment only). `operator` overrides the demo params' one.
    """
    env = os.environ if env is None else env
    cfg = sim_config or SimConfig()
    with Simulator(cfg) as sim, tempfile.TemporaryDirectory(prefix="gcevidence-demo-") as tmp:
        roster = sim.write_roster(Path(tmp) / "hr_roster.csv")
        env["GENESYSCLOUD_OAUTHCLIENT_ID"] = sim.client_id
        env["GENESYSCLOUD_OAUTHCLIENT_SECRET"] = sim.client_secret
        # The simulator's `now` is today: the period ends on the day before it.
        base = load_params(DEMO_PARAMS, today=sim.now.date(), operator=operator)
        params = dataclasses.replace(
            base,
            org=dataclasses.replace(
                base.org, api_base_url=sim.base_url, region=None, login_base_url=None
            ),
            hr_roster=Path(roster),
            hr=dataclasses.replace(base.hr, source=demo_roster_source(sim.now)),
            # The shipped params' own output.dir points inside the installed package.
            output_dir=Path(out_root) if out_root else DEFAULT_OUT,
        )
        yield params, sim


def run_demo(
    out_root: Path | None = None,
    fail_on_findings: bool = False,
    pdf: bool = True,
    sim_config: SimConfig | None = None,
    env: MutableMapping[str, str] | None = None,
    progress: bool = False,
    operator: str | None = None,
) -> RunResult:
    """The whole pipeline against the embedded simulator."""
    env = os.environ if env is None else env
    with demo_params(out_root, sim_config, env, operator) as (params, _sim):
        return run_pipeline(
            params, params.output_dir, fail_on_findings, env, pdf=pdf, progress=progress
        )
