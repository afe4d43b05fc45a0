"""Shared fixtures: the embedded Genesys Cloud simulator on a free loopback port."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest
from gcevidence.catalog.load import HERE
from gcevidence.simulator import SimConfig, Simulator

# A fixed clock keeps the synthetic org (and its planted cases) identical run to run.
SIM_NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
NO_SETPRIV = "running as root without setpriv: permissions cannot be enforced"


def without_root_override(cmd: list[str]) -> list[str]:
    """The command run without root's power to ignore file permissions (skips if impossible)."""
    if os.geteuid() != 0:
        return cmd
    setpriv = shutil.which("setpriv")
    if not setpriv:
        pytest.skip(NO_SETPRIV)
    return [
        setpriv,
        "--inh-caps=-dac_override,-dac_read_search",
        "--bounding-set=-dac_override,-dac_read_search",
        *cmd,
    ]


@pytest.fixture
def make_simulator():
    """Factory: make_simulator(**SimConfig kwargs) -> a running Simulator; all stop at teardown."""
    running: list[Simulator] = []

    def make(**kwargs) -> Simulator:
        kwargs.setdefault("now", SIM_NOW)
        kwargs.setdefault("users", 60)
        kwargs.setdefault("audit_events_per_day", 40)
        sim = Simulator(SimConfig(**kwargs)).start()
        running.append(sim)
        return sim

    yield make
    for sim in running:
        sim.stop()


@pytest.fixture
def simulator(make_simulator):
    """A small simulated org (60 users), all permissions, no faults."""
    return make_simulator()


@pytest.fixture
def catalog_copy(tmp_path):
    """A writable copy of the shipped catalog, and a function that edits one of its files."""
    root = tmp_path / "catalog"
    shutil.copytree(HERE, root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))

    def edit(name: str, old: str, new: str) -> Path:
        path = root / name
        text = path.read_text(encoding="utf-8")
        assert old in text, (name, old)
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
        return path

    return root, edit
