"""`gcevidence simulate --fault NAME=VALUE`: a simulator started with a fault already on."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from gcevidence.simulator.cli import parse_fault

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("audit_fail=true", ("audit_fail", True)),
        ("audit_never_finish=no", ("audit_never_finish", False)),
        ("rate_429=0.25", ("rate_429", 0.25)),
        ("audit_polls=5", ("audit_polls", 5)),
        ("fail_after_requests=40", ("fail_after_requests", 40)),
        ("fail_after_requests=none", ("fail_after_requests", None)),
    ],
)
def test_fault_values_take_the_type_of_their_field(text, expected):
    assert parse_fault(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("audit_fails=true", "NAME one of latency_ms"),
        ("audit_fail", "expected NAME=VALUE"),
        ("audit_fail=maybe", "audit_fail takes true or false"),
        ("rate_429=often", "rate_429 takes a float"),
        ("latency_ms=soon", "latency_ms takes a int"),
        ("audit_polls=many", "audit_polls takes a int"),  # an int or none (int | None)
    ],
)
def test_bad_faults_are_refused_naming_the_problem(text, message):
    with pytest.raises(argparse.ArgumentTypeError, match=message):
        parse_fault(text)


def test_an_unknown_fault_is_a_usage_error_with_exit_2():
    proc = subprocess.run(
        [sys.executable, "-m", "gcevidence", "simulate", "--fault", "nope=1"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT / "lib")},
    )
    assert proc.returncode == 2
    assert "argument --fault: 'nope=1'" in proc.stderr


def _serve(*extra: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "gcevidence", "simulate", "--port", "0", "--users", "50", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "lib")},
    )
    deadline = time.time() + 30
    while time.time() < deadline:
        line = proc.stdout.readline()
        if "serving at " in line:
            return proc, line.split("serving at ")[1].split()[0]
        if not line and proc.poll() is not None:
            break
    proc.kill()
    raise AssertionError(f"simulator did not start: {proc.stderr.read()}")


def _audit_state(base: str) -> str:
    token = requests.post(
        f"{base}/oauth/token",
        auth=("gcevidence-sim", "sim-secret"),
        data={"grant_type": "client_credentials"},
        timeout=10,
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    day = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=2)
    body = {
        "interval": f"{day}T00:00:00Z/{day + dt.timedelta(days=1)}T00:00:00Z",
        "serviceName": "PeoplePermissions",
    }
    submitted = requests.post(
        f"{base}/api/v2/audits/query", json=body, headers=headers, timeout=10
    ).json()
    # A simulated query runs audit_seconds (1 s) on the server: poll for longer than that.
    deadline = time.monotonic() + 10
    while True:
        status = requests.get(
            f"{base}/api/v2/audits/query/{submitted['id']}", headers=headers, timeout=10
        ).json()
        if status["state"] in ("Succeeded", "Failed") or time.monotonic() > deadline:
            return status["state"]
        time.sleep(0.2)


@pytest.mark.parametrize(
    ("extra", "state"), [((), "Succeeded"), (("--fault", "audit_fail=on"), "Failed")]
)
def test_the_fault_is_on_from_the_first_request(extra, state):
    proc, base = _serve(*extra)
    try:
        assert _audit_state(base) == state
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=20)
    assert proc.returncode == 0
