"""The fleet DAG end to end with dag.test(), against two simulated orgs on loopback.

acme is a healthy org; globex's audit queries end Failed, so its run exits 3 every time;
initech points at acme's simulator with a wrong secret, so its run exits 2. acme's pack is
published to an S3 server on loopback (moto) with Object Lock. One DAG run serves every test of
this module.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import gcevidence_fleet
import pytest

HERE = Path(__file__).resolve().parent
ORGS = ("acme", "globex", "initech")

PARAMS = """\
org:
  api_base_url: {base_url}
period:
  days: 30
baseline: pci-dss-4.0.1
hr:
  roster: {roster}
privileged_roles:
  Master Admin:
    allowed_groups: [GC-Platform-Admins]
    max_holders: 3
    allowed_granters: [GC-Platform-Admins]
sod_conflicts:
  - [Quality Evaluator, Quality Administrator]
output:
  formats: [html]
"""


@dataclass(frozen=True)
class FleetRun:
    result: dict
    log: str
    out: Path
    fleet: Path
    home: Path
    secrets: tuple[str, ...]

    def ti(self, task_id: str, org: str) -> dict:
        """The task instance of one org (a task that never ran has no rendered label)."""
        index = ORGS.index(org)  # the params files are mapped in name order
        return next(
            t for t in self.result["tis"] if t["task_id"] == task_id and t["map_index"] == index
        )

    @property
    def summary(self) -> dict:
        return json.loads(next((self.out / "fleet").glob("*/summary.json")).read_text())

    def row(self, org: str) -> dict:
        return next(o for o in self.summary["orgs"] if o["org"] == org)


def _simulator(tmp: Path, name: str, client_id: str, secret: str, *faults: str):
    """`gcevidence simulate` on a free port; (process, base URL, roster path)."""
    roster = tmp / f"{name}-roster.csv"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gcevidence",
            "simulate",
            "--port",
            "0",
            "--users",
            "100",
            "--client-id",
            client_id,
            "--client-secret",
            secret,
            "--roster",
            str(roster),
            *faults,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        line = proc.stdout.readline()
        if "serving at " in line:
            return proc, line.split("serving at ")[1].split()[0], roster
        if not line and proc.poll() is not None:
            break
    proc.kill()
    raise AssertionError(f"simulator {name} did not start: {proc.stderr.read()}")


def s3_client(url: str):
    """A boto3 client of the loopback S3 server (moto takes any key)."""
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="fleet-test",
        aws_secret_access_key="moto-accepts-any",  # noqa: S106 - moto's, not a real key
    )


@pytest.fixture(scope="module")
def s3():
    """A moto S3 server on a free loopback port and a bucket with Object Lock: (URL, bucket)."""
    moto_server = pytest.importorskip("moto.server")
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    s3_client(url).create_bucket(Bucket="evidence", ObjectLockEnabledForBucket=True)
    try:
        yield url, "evidence"
    finally:
        server.stop()


@pytest.fixture(scope="module")
def fleet(airflow_home, tmp_path_factory, s3) -> FleetRun:
    tmp = tmp_path_factory.mktemp("fleet-run")
    fleet_dir, out = tmp / "fleet", tmp / "out"
    fleet_dir.mkdir()
    acme_secret, globex_secret = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    wrong_secret, aws_secret = secrets.token_urlsafe(24), secrets.token_urlsafe(30)
    acme, acme_url, acme_roster = _simulator(tmp, "acme", "acme-client", acme_secret)
    globex, globex_url, globex_roster = _simulator(
        tmp, "globex", "globex-client", globex_secret, "--fault", "audit_fail=true"
    )
    try:
        for org, url, roster in (
            ("acme", acme_url, acme_roster),
            ("globex", globex_url, globex_roster),
            ("initech", acme_url, acme_roster),
        ):
            (fleet_dir / f"{org}.yaml").write_text(PARAMS.format(base_url=url, roster=roster))
        (fleet_dir / "README.txt").write_text("not a params file")
        connections = tmp / "connections.json"
        connections.write_text(
            json.dumps(
                {
                    "gcevidence_acme": {
                        "conn_type": "generic",
                        "login": "acme-client",
                        "password": acme_secret,
                        "extra": {"region": "eu-west-1"},
                    },
                    "gcevidence_globex": {
                        "conn_type": "generic",
                        "login": "globex-client",
                        "password": globex_secret,
                    },
                    "gcevidence_initech": {
                        "conn_type": "generic",
                        "login": "acme-client",
                        "password": wrong_secret,
                    },
                    "gcevidence_s3": {
                        "conn_type": "aws",
                        "login": "fleet-test",
                        "password": aws_secret,
                        "extra": {"region_name": "us-east-1", "endpoint_url": s3[0]},
                    },
                }
            )
        )
        variables = tmp / "variables.json"
        variables.write_text(
            json.dumps(
                {
                    "gcevidence_fleet_dir": str(fleet_dir),
                    "gcevidence_command": f"{sys.executable} -m gcevidence",
                }
            )
        )
        conf = {
            "out_dir": str(out),
            "pdf": False,
            "s3_uri": f"s3://{s3[1]}/fleet",
            "retain_days": 30,
        }
        started = time.monotonic()
        proc = subprocess.run(
            [
                sys.executable,
                str(HERE / "dag_test_run.py"),
                json.dumps(conf),
                str(connections),
                str(variables),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=900,
            cwd=tmp,
        )
        print(f"dag.test() took {time.monotonic() - started:.1f}s")
    finally:
        for sim in (acme, globex):
            sim.send_signal(signal.SIGINT)
            sim.communicate(timeout=30)
    (tmp / "dag-test.log").write_text(proc.stdout)
    marker = [line for line in proc.stdout.splitlines() if line.startswith("DAG-TEST-RESULT ")]
    assert proc.returncode == 0 and marker, proc.stdout[-5000:]
    return FleetRun(
        json.loads(marker[-1].removeprefix("DAG-TEST-RESULT ")),
        proc.stdout,
        out,
        fleet_dir,
        airflow_home,
        (acme_secret, globex_secret, wrong_secret, aws_secret),
    )


def test_one_mapped_task_group_per_params_file(fleet):
    runs = [t for t in fleet.result["tis"] if t["task_id"] == "org_pack.run"]
    # The UI labels each mapped instance with its org, not a bare index.
    assert [t["rendered_map_index"] for t in sorted(runs, key=lambda t: t["map_index"])] == list(
        ORGS
    )
    assert sorted(o["org"] for o in fleet.summary["orgs"]) == list(ORGS)


def test_the_good_org_is_sealed_verified_and_counted(fleet):
    row = fleet.row("acme")
    pack = Path(row["pack_dir"])
    assert pack.parent.parent == fleet.out / "orgs" / "acme"
    assert (pack / "manifest.json").is_file()
    # Planted problems fail checks, so `run --fail-on-findings` exits 1 with a sealed pack.
    assert (row["status"], row["exit_status"], row["verified"], row["tries"]) == (
        "sealed-with-findings",
        1,
        True,
        1,
    )
    findings = json.loads((pack / "findings.json").read_text())["findings"]
    statuses = [f["status"] for f in findings]
    assert row["checks_fail"] == statuses.count("fail") > 0
    assert row["checks_pass"] == statuses.count("pass")
    assert row["checks_not_evaluable"] == statuses.count("not_evaluable")
    assert row["org_name"]
    assert fleet.ti("org_pack.run", "acme")["state"] == "success"
    assert fleet.ti("org_pack.verify", "acme")["state"] == "success"
    assert fleet.ti("org_pack.publish", "acme")["state"] == "success"
    again = subprocess.run(
        [sys.executable, "-m", "gcevidence", "verify", str(pack)], capture_output=True, text=True
    )
    assert again.returncode == 0, again.stdout


def test_the_verified_pack_is_published_under_its_org_with_object_lock(fleet, s3):
    row = fleet.row("acme")
    assert row["published"] == "s3://evidence/fleet/acme"
    client = s3_client(s3[0])
    keys = [o["Key"] for o in client.list_objects_v2(Bucket="evidence")["Contents"]]
    pack = Path(row["pack_dir"])
    manifest = next(k for k in keys if k.endswith("/manifest.json"))
    assert manifest.startswith("fleet/acme/")
    assert len(keys) == sum(1 for p in pack.rglob("*") if p.is_file())
    got = client.get_object(Bucket="evidence", Key=manifest)
    assert got["ObjectLockMode"] == "COMPLIANCE"
    # retain_days=30 from the run conf reached `publish --retain-days`.
    until = got["ObjectLockRetainUntilDate"] - dt.datetime.now(dt.UTC)
    assert dt.timedelta(days=29) < until <= dt.timedelta(days=30)
    # Only the org with a verified pack gets as far as publishing.
    assert fleet.ti("org_pack.publish", "globex")["state"] == "upstream_failed"


def test_the_failing_audit_query_is_retried_then_reported_incomplete(fleet):
    row = fleet.row("globex")
    assert (row["status"], row["exit_status"], row["tries"]) == ("incomplete", 3, 3)
    assert "audit query" in row["error"] and "ended Failed" in row["error"]
    assert row["pack_dir"] == "" and row["verified"] is None
    run = fleet.ti("org_pack.run", "globex")
    assert (run["state"], run["try_number"]) == ("failed", 3)  # 1 try + 2 retries
    assert fleet.ti("org_pack.verify", "globex")["state"] == "upstream_failed"
    # Nothing sealed and nothing half-built left behind.
    assert not [p for p in (fleet.out / "orgs" / "globex").rglob("*") if p.is_file()]


def test_rejected_credentials_fail_at_once_without_retry(fleet):
    row = fleet.row("initech")
    assert (row["status"], row["exit_status"], row["tries"]) == ("bad-input", 2, 1)
    assert "wrong secret" in row["error"]
    run = fleet.ti("org_pack.run", "initech")
    assert (run["state"], run["try_number"]) == ("failed", 1)
    assert not (fleet.out / "orgs" / "initech").exists()


def test_the_summary_is_written_as_json_csv_and_html(fleet):
    summary = fleet.summary
    assert summary["totals"] == {"bad-input": 1, "incomplete": 1, "sealed-with-findings": 1}
    assert summary["fleet_dir"] == str(fleet.fleet)
    run_dir = next((fleet.out / "fleet").glob("*/summary.json")).parent
    with (run_dir / "summary.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["org"], r["status"]) for r in rows] == [
        (o["org"], o["status"]) for o in summary["orgs"]
    ]
    assert rows[0]["checks_fail"] == str(fleet.row("acme")["checks_fail"])
    page = (run_dir / "summary.html").read_text()
    for org in summary["orgs"]:
        assert f"<td>{org['org']}</td><td>{org['status']}</td>" in page


def test_the_dag_run_fails_naming_the_orgs_without_a_pack(fleet):
    assert fleet.result["state"] == "failed"
    summarize = next(t for t in fleet.result["tis"] if t["task_id"] == "summarize")
    assert summarize["state"] == "failed"
    assert "2 of 3 orgs have no verified pack: globex (incomplete), initech (bad-input)" in (
        fleet.log
    )


def test_no_secret_in_task_logs_metadata_db_summary_or_packs(fleet):
    assert "gcevidence run exit status 1" in fleet.log  # the task logs were captured
    files = [p for root in (fleet.home, fleet.out) for p in root.rglob("*") if p.is_file()]
    assert any(p.name == "airflow.db" for p in files)
    assert any(p.name == "summary.json" for p in files)
    for secret in fleet.secrets:
        assert secret not in fleet.log
        for path in files:
            assert secret.encode() not in path.read_bytes(), path
    # The subprocess got the credentials only through its environment, never its arguments.
    assert not any(s in line for s in fleet.secrets for line in fleet.log.splitlines())
    assert os.environ.get("GENESYSCLOUD_OAUTHCLIENT_SECRET") is None


def test_a_tampered_pack_fails_verification_naming_every_file(fleet, tmp_path):
    pack = Path(fleet.row("acme")["pack_dir"])
    copy = tmp_path / pack.name
    shutil.copytree(pack, copy)
    (copy / "findings.csv").write_text("tampered")
    (copy / "index.html").unlink()
    result = gcevidence_fleet.run_command(
        [sys.executable, "-m", "gcevidence", "verify", str(copy)], dict(os.environ), 120
    )
    sealed = gcevidence_fleet.OrgOutcome.from_dict({**fleet.row("acme"), "pack_dir": str(copy)})
    got = gcevidence_fleet.outcome_of_verify(sealed, result)
    assert (got.status, got.verified) == ("verify-failed", False)
    assert "missing: index.html" in got.error and "changed: findings.csv" in got.error


def test_a_publish_refused_as_bad_input_is_recorded(fleet):
    verified = gcevidence_fleet.OrgOutcome.from_dict({**fleet.row("acme"), "published": ""})
    settings = gcevidence_fleet.FleetSettings(
        fleet_dir=str(fleet.fleet),
        out_dir=str(fleet.out),
        run_dir=str(fleet.out),
        command=(sys.executable, "-m", "gcevidence"),
        s3_uri="https://evidence.example/packs",
    )
    argv, uri = gcevidence_fleet.publish_argv(settings, verified)
    result = gcevidence_fleet.run_command(argv, dict(os.environ), 120)
    assert result.returncode == 2
    got = gcevidence_fleet.outcome_of_publish(verified, result, uri)
    assert got.status == "publish-failed" and "--s3-uri" in got.error and not got.published
