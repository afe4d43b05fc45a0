"""Failure semantics (issue 4 §5), tried as a new user would: `gcevidence run` on the command line.

Every case runs `python -m gcevidence run` against its own embedded simulator over loopback and
checks the contract of docs/evidence-pack.md §1: the exit status, one last stderr line naming the
cause and the fix, no traceback, and no pack (nor `.building-*` leftover) under the output
folder. All cases start at once in a module fixture: most of them spend their time in
interpreter start-up or in the client's backoff, so together they take about as long as the
slowest one (the API outage, ~45 s of retries) instead of the sum.

The wrong region is emulated without leaving the machine: the params point the login and API
hosts at a simulator that does not know the client, exactly what a login host of another region
answers. Disk full is a 64 KiB tmpfs mounted over the output folder in a private mount namespace
(`unshare -m`, root only); the unwritable folder uses root without its permission-override
capabilities (`setpriv`, as tests/test_pack_demo.py does).
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml
from conftest import NO_SETPRIV, SIM_NOW, without_root_override
from gcevidence.simulator import FaultConfig, SimConfig, Simulator

LIB = str(Path(__file__).resolve().parents[1] / "lib")
PERIOD_END = SIM_NOW.date().isoformat()
ENV_ID, ENV_SECRET, ENV_REGION = (
    "GENESYSCLOUD_OAUTHCLIENT_ID",
    "GENESYSCLOUD_OAUTHCLIENT_SECRET",
    "GENESYSCLOUD_REGION",
)
ORG = {"users": 60, "audit_events_per_day": 20, "now": SIM_NOW}
# Every permission the simulated endpoints ask for, but the recording-key one.
ALL_BUT_KEYS = frozenset(
    {
        "authorization:role:view",
        "directory:organization:admin",
        "sso:provider:view",
        "telephony:plugin:all",
        "audits:audit:view",
    }
)
MISSING = "recording:encryptionKey:view"
# Agents named like this are left out of the roster so the orphan check lists them by name.
UNICODE_NAMES = (
    "Zo\u00eb \U0001f469\u200d\U0001f4bb Ng",
    "\u202eevil\u202c Reversed",
    "\u05e9\u200f\u05dc\u05d5\u05dd Cohen",
    "Za\u0335lgo\u0338 Te\u0336xt",
)
FORMULA_NAMES = ("@SUM(1)", "-2+3 Minus")
MARKUP_NAME = "<img src=x onerror=alert(1)>"


@dataclass(frozen=True)
class Case:
    """One row of the failure table: how to provoke it and what the user must see."""

    status: int
    needles: tuple[str, ...]  # all in the last stderr line (cause and fix)
    sim: dict[str, Any] = field(default_factory=dict)
    faults: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)  # merged into the base params
    params_text: bytes | None = None  # the whole params file instead
    env: dict[str, str | None] = field(default_factory=dict)  # None removes the variable
    roster: str = ""  # how to spoil the roster (see spoil_roster)
    wrap: str = ""  # "unwritable" | "disk_full"


CASES: dict[str, Case] = {
    "missing credentials": Case(
        2, (ENV_ID, ENV_SECRET, "not set", "export"), env={ENV_ID: None, ENV_SECRET: None}
    ),
    "missing secret": Case(2, (f"{ENV_SECRET} is not set", "export"), env={ENV_SECRET: None}),
    "wrong client id": Case(
        2, ("client not found", "wrong client id", ENV_ID), env={ENV_ID: "no-such-client"}
    ),
    "wrong secret": Case(
        2, ("authentication failed", "wrong secret", ENV_SECRET), env={ENV_SECRET: "not-the-secret"}
    ),
    "wrong region": Case(
        2,
        ("client not found", "region where it was created", ENV_REGION, "eu-west-1"),
        sim={"client_id": "another-regions-client"},
        params={"org": {"region": "eu-west-1", "login_base_url": "{url}"}},
    ),
    "API outage mid-run": Case(
        3,
        ("HTTP 503", "gave up after 8 attempts", "re-run later"),
        faults={"fail_after_requests": 20},
    ),
    "audit query Failed": Case(
        3, ("audit query", "ended Failed", "re-run later"), faults={"audit_fail": True}
    ),
    "audit query never finishing": Case(
        3,
        ("audit query", "unfinished after 2 s", "raise audit.query_timeout_seconds"),
        faults={"audit_never_finish": True},
        params={"audit": {"query_timeout_seconds": 2}},
    ),
    "incomplete pagination": Case(
        3,
        ("evidence incomplete", "the API reports total", "missing", "re-run the collection"),
        faults={"short_page_rate": 1.0},
    ),
    "malformed params YAML": Case(
        2,
        ("params.yaml", "not valid", "YAML", "line 3"),
        params_text=b"org:\n  api_base_url: {url}\nperiod: [days: 90\n",
    ),
    "unknown params key": Case(
        2,
        ("params.yaml", "output.fromats", "unknown key", "allowed: dir, formats"),
        params={"output": {"fromats": ["pdf"]}},
    ),
    "bad params date": Case(
        2,
        ("params.yaml", "period.end='2026-02-30'", "must be a date YYYY-MM-DD"),
        params={"period": {"end": "2026-02-30"}},
    ),
    "roster missing columns": Case(
        2,
        ("roster.csv", "missing column(s) status", "the header must be"),
        roster="missing_columns",
    ),
    "roster bad date": Case(
        2,
        ("roster.csv", "column termination_date", "31/10/2026", "not a date", "YYYY-MM-DD"),
        roster="bad_date",
    ),
    "roster duplicate email": Case(
        2,
        ("roster.csv", "column email", "duplicates row 2", "list each person once"),
        roster="duplicate_email",
    ),
    "roster not UTF-8": Case(
        2, ("roster.csv", "not UTF-8", "byte 0xeb", "save the roster as UTF-8"), roster="latin1"
    ),
    "output folder not writable": Case(
        2, ("not writable", "Permission denied", "choose another output folder"), wrap="unwritable"
    ),
    "disk full": Case(
        2, ("no space left", "free disk space", "choose another output folder"), wrap="disk_full"
    ),
}


@dataclass(frozen=True)
class Outcome:
    returncode: int
    stderr: str
    stdout: str
    out: Path
    left: list[str]  # every path under the output folder after the run
    seconds: float


def merge(base: dict, extra: dict) -> dict:
    out = dict(base)
    for key, value in extra.items():
        out[key] = (
            merge(out[key], value)
            if isinstance(value, dict) and isinstance(out.get(key), dict)
            else value
        )
    return out


def base_params(url: str) -> dict[str, Any]:
    return {
        "org": {"api_base_url": url},
        "period": {"end": PERIOD_END, "days": 30},
        "baseline": "pci-dss-4.0.1",
        "hr": {"roster": "roster.csv"},
        "privileged_roles": {
            "Master Admin": {"allowed_groups": ["GC-Platform-Admins"], "max_holders": 3}
        },
        "sod_conflicts": [["Quality Evaluator", "Quality Administrator"]],
        "output": {"dir": "out", "formats": ["html"]},
    }


def spoil_roster(path: Path, how: str, leave_out: set[str] = frozenset()) -> None:
    """Rewrite the simulator's roster: one defect a user could make, or people left out."""
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], [r for r in rows[1:] if r[1].lower() not in leave_out]
    col = {name: i for i, name in enumerate(header)}
    if how == "missing_columns":
        header, body = (
            [c for c in header if c != "status"],
            [[v for i, v in enumerate(r) if i != col["status"]] for r in body],
        )
    elif how == "bad_date":
        gone = next(r for r in body if r[col["status"]] == "terminated")
        gone[col["termination_date"]] = "31/10/2026"
    elif how == "duplicate_email":
        body.append(list(body[0]))
        body[-1][col["email"]] = body[0][col["email"]].upper()
        body[-1][col["employee_id"]] = "E-DUP"
    elif how == "latin1":
        body[0][col["department"]] = "Zo\u00eb's team"
    with path.open("w", encoding="latin-1" if how == "latin1" else "utf-8", newline="") as fh:
        csv.writer(fh).writerows([header, *body])


def cli_env(sim: Simulator, changes: dict[str, str | None]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GENESYSCLOUD_")}
    env.update(
        PYTHONPATH=LIB,
        PYTHONIOENCODING="utf-8",
        **{ENV_ID: "gcevidence-sim", ENV_SECRET: "sim-secret"},
    )
    if sim.client_id != "gcevidence-sim":  # the "other region": credentials it does not know
        env[ENV_REGION] = "eu-west-1"
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def can_mount_tmpfs() -> bool:
    if os.geteuid() != 0 or not shutil.which("unshare"):
        return False
    probe = subprocess.run(
        ["unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=64k none /mnt"],
        capture_output=True,
        timeout=10,
    )
    return probe.returncode == 0


def wrapped(cmd: list[str], wrap: str, out: Path, listing: Path) -> list[str]:
    """The command as a user without write access, or with a full disk under `out`."""
    if wrap == "unwritable":
        return without_root_override(cmd)
    if wrap == "disk_full":
        # The tmpfs lives only in the run's mount namespace: list what the run left in it
        # before the namespace (and the tmpfs) goes away.
        script = (
            'mount -t tmpfs -o size=64k gcevidence-full "$1" || exit 97; shift; '
            '"$@"; rc=$?; find "$OUT_DIR" -mindepth 1 > "$LISTING"; exit $rc'
        )
        return ["unshare", "-m", "sh", "-c", script, "sh", str(out), *cmd]
    return cmd


def launch(
    name: str, case: Case, root: Path, stack: contextlib.ExitStack, pool: ThreadPoolExecutor
) -> Future[Outcome] | str:
    """Start one case; its Outcome arrives in the future (or a reason it cannot run here)."""
    if case.wrap == "unwritable" and os.geteuid() == 0 and not shutil.which("setpriv"):
        return NO_SETPRIV
    if case.wrap == "disk_full" and not can_mount_tmpfs():
        return "needs root and unshare -m to mount a small tmpfs"
    home = root / name.replace(" ", "_")
    home.mkdir()
    faults = FaultConfig(**case.faults)
    sim = stack.enter_context(Simulator(SimConfig(**{**ORG, **case.sim}, faults=faults)))
    roster = sim.write_roster(home / "roster.csv")
    if case.roster:
        spoil_roster(roster, case.roster)
    params = home / "params.yaml"
    if case.params_text is not None:
        params.write_bytes(case.params_text.replace(b"{url}", sim.base_url.encode()))
    else:
        doc = json.loads(
            json.dumps(merge(base_params(sim.base_url), case.params)).replace("{url}", sim.base_url)
        )
        params.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    out = home / "out"
    if case.wrap:
        out.mkdir()
    if case.wrap == "unwritable":
        out.chmod(0o555)
    listing = home / "listing.txt"
    cmd = wrapped(
        [sys.executable, "-m", "gcevidence", "run", "--params", str(params), "--out", str(out)],
        case.wrap,
        out,
        listing,
    )
    env = {**cli_env(sim, case.env), "OUT_DIR": str(out), "LISTING": str(listing)}
    return pool.submit(execute, cmd, env, out, listing, case.wrap)


def execute(cmd: list[str], env: dict[str, str], out: Path, listing: Path, wrap: str) -> Outcome:
    started = time.monotonic()
    try:
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)
    finally:
        if wrap == "unwritable":
            out.chmod(0o755)
    if wrap == "disk_full":
        assert done.returncode != 97, "could not mount the tmpfs"
        left = listing.read_text().split() if listing.is_file() else ["(no listing)"]
    else:
        left = sorted(str(p.relative_to(out)) for p in out.rglob("*")) if out.exists() else []
    return Outcome(
        done.returncode, done.stderr, done.stdout, out, left, round(time.monotonic() - started, 1)
    )


def full_run(
    root: Path, stack: contextlib.ExitStack, pool: ThreadPoolExecutor
) -> tuple[Future[Outcome], Simulator]:
    """A run that must succeed: the client lacks one permission, the data is hostile."""
    home = root / "missing_permission"
    home.mkdir()
    sim = stack.enter_context(Simulator(SimConfig(**ORG, permissions=ALL_BUT_KEYS)))
    named = {
        u.email.lower()
        for u in sim.org.users.values()
        if u.name in (*UNICODE_NAMES, *FORMULA_NAMES, MARKUP_NAME)
    }
    spoil_roster(sim.write_roster(home / "roster.csv"), "", leave_out=named)
    params = home / "params.yaml"
    params.write_text(yaml.safe_dump(base_params(sim.base_url)), encoding="utf-8")
    out = home / "out"
    cmd = [sys.executable, "-m", "gcevidence", "run", "--params", str(params), "--out", str(out)]
    return pool.submit(execute, cmd, cli_env(sim, {}), out, home / "listing.txt", ""), sim


@pytest.fixture(scope="module")
def runs(request, tmp_path_factory):
    """Every selected case started at once; name -> Future[Outcome] or why it is skipped."""
    root = tmp_path_factory.mktemp("failures")
    mine = [item for item in request.session.items if item.module is request.module]
    cases = {item.callspec.params["name"] for item in mine if hasattr(item, "callspec")}
    with contextlib.ExitStack() as stack, ThreadPoolExecutor(max_workers=len(CASES) + 1) as pool:
        started: dict[str, Any] = {}
        if len(mine) > len(cases):  # a test of the successful run is selected
            started["missing permission"] = full_run(root, stack, pool)
        for name, case in CASES.items():
            if name in cases:
                started[name] = launch(name, case, root, stack, pool)
        yield started
        for value in started.values():  # the simulators must outlive every run
            future = value[0] if isinstance(value, tuple) else value
            if isinstance(future, Future):
                with contextlib.suppress(Exception):
                    future.result()


def outcome(runs: dict[str, Any], name: str) -> Outcome:
    started = runs[name]
    if isinstance(started, str):
        pytest.skip(started)
    return (started[0] if isinstance(started, tuple) else started).result()


@pytest.mark.parametrize("name", list(CASES))
def test_failure_is_one_line_with_cause_and_fix_and_no_pack(runs, name):
    case, got = CASES[name], outcome(runs, name)
    lines = [line for line in got.stderr.splitlines() if line.strip()]
    assert lines, got
    last = lines[-1]
    assert "Traceback" not in got.stderr, got.stderr
    assert last.startswith("gcevidence: error: "), got.stderr
    assert [line for line in lines if line.startswith("gcevidence: error")] == [last]
    for needle in case.needles:
        assert needle in last, (needle, last)
    assert got.returncode == case.status, got.stderr
    assert got.stdout == ""  # no index.html path: nothing was sealed
    if case.status == 2 and not case.wrap:
        assert not got.out.exists()  # bad input: found before anything is written
    assert got.left == [], got.left  # no pack, no .building-* folder, no stray file


def test_missing_permission_is_not_evaluable_and_the_pack_is_sealed(runs):
    got = outcome(runs, "missing permission")
    assert got.returncode == 0, got.stderr
    lines = [line for line in got.stderr.splitlines() if line.strip()]
    assert "pack sealed" in lines[-1] and "not evaluable" in lines[-1]
    # The user is told which permission is missing and how to grant it, before the summary.
    assert any(MISSING in line and "grant the OAuth client's role" in line for line in lines)
    pack = Path(got.stdout.strip()).parent
    assert pack.parent.parent == got.out and pack.parent.name == PERIOD_END
    assert not [p for p in got.out.iterdir() if p.name.startswith(".")]
    from gcevidence.pack.verify import verify_pack

    assert verify_pack(pack).ok
    findings = json.loads((pack / "findings.json").read_text(encoding="utf-8"))["findings"]
    crypto = [f for f in findings if f["check"].startswith("crypto.")]
    assert crypto
    for f in crypto:
        assert f["status"] == "not_evaluable" and MISSING in f["reason"], f
    # Only the checks that need the keys are affected.
    assert all(
        f["status"] != "not_evaluable" or MISSING not in f["reason"]
        for f in findings
        if not f["check"].startswith("crypto.")
    )


def test_hostile_names_survive_every_format(runs):
    """Issue 4 §4: Unicode intact in CSV, JSON and HTML; formulas neutralised in CSV only."""
    got = outcome(runs, "missing permission")
    pack = Path(got.stdout.strip()).parent
    doc = json.loads((pack / "findings.json").read_text(encoding="utf-8"))
    orphans = {
        e["subject_name"]
        for f in doc["findings"]
        if f["check"] == "access.orphan_accounts"
        for e in f["exceptions"]
    }
    assert {*UNICODE_NAMES, *FORMULA_NAMES, MARKUP_NAME} <= orphans  # JSON keeps the raw value
    users = (pack / "evidence" / "users.csv").read_text(encoding="utf-8")
    with (pack / "findings.csv").open(encoding="utf-8", newline="") as fh:
        cells = {cell for row in csv.reader(fh) for cell in row}
    html = (pack / "A09_access_control.html").read_text(encoding="utf-8")
    # JSON documents compared decoded, so that an escaped \\uXXXX form would count as intact.
    decoded = {
        name: json.dumps(json.loads((pack / name).read_text(encoding="utf-8")), ensure_ascii=False)
        for name in ("A09_access_control.ipynb", "findings.oscal.json")
    }
    review_csv = "".join(p.read_text(encoding="utf-8") for p in pack.glob("review/*.csv"))
    review_xlsx = {
        cell.value
        for book in pack.glob("review/*.xlsx")
        for row in openpyxl.load_workbook(book).active.iter_rows()
        for cell in row
    }
    for name in UNICODE_NAMES:
        assert name in users and name in cells and name in html, name
        assert all(name in text for text in decoded.values()), name
        assert name in review_csv and name in review_xlsx, name
    for name in FORMULA_NAMES:
        assert name not in cells and f"'{name}" in cells, name  # spreadsheet sees text
        assert f"'{name}" in users and f"'{name}" in review_csv, name
        assert name in review_xlsx, name  # xlsx: a text cell, never a formula
    assert MARKUP_NAME in cells  # no CSV trigger: unchanged
    for page in pack.glob("*.html"):
        assert "<img src=x" not in page.read_text(encoding="utf-8"), page.name
    assert "&lt;img src=x onerror=alert(1)&gt;" in html  # shown as text
