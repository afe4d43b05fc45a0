"""The fleet DAG's parts: its shape, the params folder, credentials, exit statuses, the summary."""

# ruff: noqa: S106 - made-up passwords of made-up connections

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import gcevidence_fleet as fleet
import pytest
from airflow.sdk import Connection

DAGS = Path(fleet.__file__).parent

SETTINGS = fleet.FleetSettings(
    fleet_dir="/srv/fleet",
    out_dir="/srv/out",
    run_dir="/srv/out/fleet/run",
    command=("gcevidence",),
)


def outcome(org: str = "acme", **kw) -> fleet.OrgOutcome:
    return fleet.OrgOutcome(org, f"/srv/fleet/{org}.yaml", f"gcevidence_{org}", **kw)


# --- the DAG --------------------------------------------------------------------------------


def test_the_dag_folder_parses_to_the_fleet_dag_alone():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS))
    assert bag.import_errors == {}
    assert sorted(bag.dag_ids) == ["gcevidence_fleet"]
    # tests/ is in .airflowignore: the DAG processor never imports the test files.
    assert [Path(f).name for f in bag.file_last_changed] == ["gcevidence_fleet.py"]


def test_tasks_retry_only_where_waiting_can_help():
    dag = fleet.fleet_dag
    assert sorted(dag.task_ids) == [
        "list_orgs",
        "org_pack.publish",
        "org_pack.run",
        "org_pack.verify",
        "summarize",
    ]
    run, verify, publish = (dag.get_task(f"org_pack.{t}") for t in ("run", "verify", "publish"))
    # conftest sets GCEVIDENCE_FLEET_RETRIES=2 and a one-second delay.
    assert (run.retries, run.retry_delay) == (2, dt.timedelta(seconds=1))
    assert (publish.retries, verify.retries) == (2, 0)
    assert dag.get_task("summarize").trigger_rule == "all_done"
    assert dag.get_task("summarize").upstream_task_ids == {
        "list_orgs",
        "org_pack.publish",
    }
    assert dag.max_active_runs == 1
    assert set(dag.params) == {"fleet_dir", "out_dir", "period_end", "pdf", "s3_uri", "retain_days"}


def test_knobs_are_whole_numbers_named_when_wrong(monkeypatch):
    monkeypatch.setenv("GCEVIDENCE_FLEET_RETRIES", "three")
    with pytest.raises(fleet.FleetConfigError, match="GCEVIDENCE_FLEET_RETRIES='three'"):
        fleet._env_int("GCEVIDENCE_FLEET_RETRIES", 3, 0)
    monkeypatch.setenv("GCEVIDENCE_FLEET_RETRIES", "-1")
    with pytest.raises(fleet.FleetConfigError, match="at least 0"):
        fleet._env_int("GCEVIDENCE_FLEET_RETRIES", 3, 0)
    monkeypatch.delenv("GCEVIDENCE_FLEET_RETRIES")
    assert fleet._env_int("GCEVIDENCE_FLEET_RETRIES", 3, 0) == 3


def test_dag_params_win_and_empty_ones_fall_back_to_variables(monkeypatch):
    monkeypatch.setenv("AIRFLOW_VAR_GCEVIDENCE_FLEET_DIR", "/srv/fleet")
    monkeypatch.setenv("AIRFLOW_VAR_GCEVIDENCE_OUT_DIR", "/srv/from-variable")
    monkeypatch.setenv("AIRFLOW_VAR_GCEVIDENCE_COMMAND", "/opt/gc env/bin/gcevidence")
    got = fleet.resolve_settings(
        {"fleet_dir": "", "out_dir": "/srv/out", "pdf": False, "period_end": "2026-11-30"},
        "scheduled__2026-12-01T03:00:00+00:00",
    )
    assert (got.fleet_dir, got.out_dir, got.pdf, got.period_end) == (
        "/srv/fleet",
        "/srv/out",
        False,
        "2026-11-30",
    )
    assert got.command == ("/opt/gc", "env/bin/gcevidence")  # shell words, as written
    assert got.run_dir == "/srv/out/fleet/scheduled__2026-12-01T03_00_00_00_00"
    assert fleet.FleetSettings.from_dict(json.loads(json.dumps(got.__dict__))) == got


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"out_dir": "/srv/out"},
            "fleet_dir is not set; give the DAG param fleet_dir or set "
            "the Variable gcevidence_fleet_dir",
        ),
        ({"fleet_dir": "/srv/fleet", "out_dir": "out"}, "out_dir='out': must be an absolute"),
    ],
)
def test_settings_the_fleet_cannot_use_are_named(params, message):
    with pytest.raises(fleet.FleetConfigError, match=re.escape(message)):
        fleet.resolve_settings(params, "manual__1")


# --- the params folder ----------------------------------------------------------------------


def test_one_org_per_params_file_in_name_order(tmp_path):
    for name in ("globex.yml", "acme.yaml", ".hidden.yaml", "notes.txt"):
        (tmp_path / name).write_text("org: {}\n")
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "initech.yaml").write_text("org: {}\n")
    orgs = fleet.list_params_files(tmp_path)
    assert orgs == [
        {
            "org": "acme",
            "params_file": str(tmp_path / "acme.yaml"),
            "connection_id": "gcevidence_acme",
        },
        {
            "org": "globex",
            "params_file": str(tmp_path / "globex.yml"),
            "connection_id": "gcevidence_globex",
        },
    ]


def test_connection_ids_are_lower_case_with_underscores():
    assert fleet.connection_id("Acme-EU.west") == "gcevidence_acme_eu_west"


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ((), "holds no params file"),
        (("acme-eu.yaml", "acme_eu.yaml"), "would share the connection gcevidence_acme_eu"),
        (("-acme.yaml",), "cannot name an org"),
    ],
)
def test_a_folder_the_fleet_cannot_run_is_refused(tmp_path, files, message):
    for name in files:
        (tmp_path / name).write_text("org: {}\n")
    with pytest.raises(fleet.FleetConfigError, match=message):
        fleet.list_params_files(tmp_path)


def test_a_missing_fleet_folder_is_named(tmp_path):
    with pytest.raises(fleet.FleetConfigError, match=f"{tmp_path / 'nope'} does not exist"):
        fleet.list_params_files(tmp_path / "nope")


# --- credentials ----------------------------------------------------------------------------


def conn(**kw) -> Connection:
    return Connection(conn_id="gcevidence_acme", conn_type="generic", **kw)


def test_the_connection_gives_the_three_genesys_variables():
    env = fleet.credentials_env(
        conn(login="cid", password="s3cret", extra=json.dumps({"region": "eu-west-1"})),
        "gcevidence_acme",
    )
    assert env == {
        "GENESYSCLOUD_OAUTHCLIENT_ID": "cid",
        "GENESYSCLOUD_OAUTHCLIENT_SECRET": "s3cret",
        "GENESYSCLOUD_REGION": "eu-west-1",
    }
    assert "GENESYSCLOUD_REGION" not in fleet.credentials_env(
        conn(login="cid", password="s3cret"), "gcevidence_acme"
    )


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"login": "cid"}, "password empty"),
        ({"password": "pw-7f3a9"}, "login empty"),
        ({"login": "cid", "password": "pw-7f3a9", "extra": '{"regoin": "eu"}'}, "extra regoin"),
    ],
)
def test_an_unusable_connection_is_named_without_its_secret(kw, message):
    with pytest.raises(fleet.FleetConfigError, match=message) as err:
        fleet.credentials_env(conn(**kw), "gcevidence_acme")
    assert "gcevidence_acme" in str(err.value)
    assert kw.get("password", "\0") not in str(err.value)


def test_the_child_gets_neither_airflow_settings_nor_other_credentials():
    base = {
        "PATH": "/usr/bin",
        "HOME": "/root",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": "postgresql://u:dbpass@db/airflow",
        "AIRFLOW_CONN_GCEVIDENCE_GLOBEX": "generic://other:othersecret@",
        "_AIRFLOW_PARSING_CONTEXT_DAG_ID": "x",
        "GENESYSCLOUD_OAUTHCLIENT_SECRET": "leftover",
        "GENESYSCLOUD_REGION": "us-east-1",
        "AWS_PROFILE": "audit",
    }
    env = fleet.child_env(base, {"GENESYSCLOUD_OAUTHCLIENT_ID": "cid"})
    assert env == {
        "PATH": "/usr/bin",
        "HOME": "/root",
        "AWS_PROFILE": "audit",
        "GENESYSCLOUD_OAUTHCLIENT_ID": "cid",
    }


def test_the_s3_connection_gives_aws_variables_and_the_endpoint():
    env, options = fleet.s3_env(
        Connection(
            conn_id="gcevidence_s3",
            conn_type="aws",
            login="AKIA",
            password="aws-secret",
            extra=json.dumps({"region_name": "eu-west-1", "endpoint_url": "http://127.0.0.1:9"}),
        )
    )
    assert env == {
        "AWS_ACCESS_KEY_ID": "AKIA",
        "AWS_SECRET_ACCESS_KEY": "aws-secret",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }
    assert options == ["--endpoint-url", "http://127.0.0.1:9"]
    assert fleet.s3_env(None) == ({}, [])


# --- commands and exit statuses -------------------------------------------------------------


def test_run_argv_passes_the_run_options_and_no_credentials():
    settings = fleet.FleetSettings(
        **{**SETTINGS.__dict__, "period_end": "2026-11-30", "pdf": False}
    )
    argv = fleet.run_argv(settings, {"org": "acme", "params_file": "/srv/fleet/acme.yaml"})
    assert argv == [
        "gcevidence",
        "run",
        "--params",
        "/srv/fleet/acme.yaml",
        "--out",
        "/srv/out/orgs/acme",
        "--fail-on-findings",
        "--period-end",
        "2026-11-30",
        "--no-pdf",
    ]


def sealed_pack(tmp_path: Path, statuses: list[str]) -> Path:
    pack = tmp_path / "orgs" / "acme" / "2026-11-30" / "030000Z-abcd"
    pack.mkdir(parents=True)
    doc = {
        "run": {"org": {"id": "o-1", "name": "=Acme"}},
        "findings": [{"check": f"c{i}", "status": s} for i, s in enumerate(statuses)],
    }
    (pack / "findings.json").write_text(json.dumps(doc))
    return pack


@pytest.mark.parametrize(("rc", "status"), [(0, fleet.SEALED), (1, fleet.SEALED_WITH_FINDINGS)])
def test_a_sealed_run_carries_its_pack_and_counts(tmp_path, rc, status):
    pack = sealed_pack(tmp_path, ["fail", "fail", "pass", "not_evaluable"])
    result = fleet.Completed(rc, f"{pack / 'index.html'}\n", "19 checks: …; pack sealed\n")
    got = fleet.outcome_of_run(outcome(), result)
    assert (got.status, got.exit_status, got.pack_dir) == (status, rc, str(pack))
    assert (got.checks_fail, got.checks_pass, got.checks_not_evaluable) == (2, 1, 1)
    assert got.org_name == "=Acme"


@pytest.mark.parametrize(
    ("rc", "stdout", "status"),
    [
        (2, "", fleet.BAD_INPUT),
        (3, "", fleet.INCOMPLETE),
        (1, "", fleet.FAILED),  # a traceback, not findings: no pack was named
        (143, "", fleet.FAILED),
    ],
)
def test_an_unsealed_run_carries_the_last_line_of_stderr(rc, stdout, status):
    result = fleet.Completed(rc, stdout, "WARNING x\ngcevidence: error: cause; fix\n")
    got = fleet.outcome_of_run(outcome(), result)
    assert (got.status, got.exit_status, got.pack_dir) == (status, rc, "")
    assert got.error == "gcevidence: error: cause; fix"


def test_a_failed_verify_lists_every_problem():
    result = fleet.Completed(
        1,
        "missing: a.csv\nchanged: b.csv\nsignature: absent (the pack is not signed)\n"
        "FAILED: /p does not match its manifest\n",
        "",
    )
    got = fleet.outcome_of_verify(outcome(status=fleet.SEALED), result)
    assert (got.status, got.verified) == (fleet.VERIFY_FAILED, False)
    assert got.error == (
        "gcevidence verify: missing: a.csv; changed: b.csv; FAILED: /p does not match its manifest"
    )
    ok = fleet.outcome_of_verify(outcome(status=fleet.SEALED), fleet.Completed(0, "OK", ""))
    assert (ok.status, ok.verified) == (fleet.SEALED, True)


def test_publish_goes_under_one_prefix_per_org():
    settings = fleet.FleetSettings(
        **{**SETTINGS.__dict__, "s3_uri": "s3://evidence/packs/", "retain_days": 400}
    )
    argv, uri = fleet.publish_argv(settings, outcome(pack_dir="/p"), ["--endpoint-url", "u"])
    assert uri == "s3://evidence/packs/acme"
    assert argv == [
        "gcevidence",
        "publish",
        "/p",
        "--s3-uri",
        uri,
        "--endpoint-url",
        "u",
        "--retain-days",
        "400",
    ]
    failed = fleet.outcome_of_publish(
        outcome(status=fleet.SEALED), fleet.Completed(1, "", "gcevidence: error: no lock\n"), uri
    )
    assert (failed.status, failed.error) == (fleet.PUBLISH_FAILED, "gcevidence: error: no lock")


def test_a_timed_out_command_is_stopped_with_sigterm_first(tmp_path):
    marker = tmp_path / "cleaned"
    script = textwrap.dedent(
        f"""
        import signal, sys, time
        def stop(*_):
            open({str(marker)!r}, "w").write("removed the build folder")
            sys.exit(143)
        signal.signal(signal.SIGTERM, stop)
        print("ready", flush=True)
        time.sleep(60)
        """
    )
    with pytest.raises(subprocess.TimeoutExpired):
        fleet.run_command([sys.executable, "-c", script], {}, timeout=2)
    assert marker.read_text() == "removed the build folder"


def test_redact_replaces_every_secret():
    assert fleet.redact("a s3cret b s3cret", ["s3cret", ""]) == "a *** b ***"


# --- records and the summary ----------------------------------------------------------------


def test_a_missing_record_reads_as_not_run(tmp_path):
    org = {"org": "acme", "params_file": "/f/acme.yaml", "connection_id": "gcevidence_acme"}
    got = fleet.load_outcome(tmp_path, org)
    assert (got.status, got.tries) == (fleet.NOT_RUN, 0)
    settings = fleet.FleetSettings(**{**SETTINGS.__dict__, "run_dir": str(tmp_path)})
    fleet.save(settings, outcome(status=fleet.INCOMPLETE, tries=3))
    assert fleet.load_outcome(tmp_path, org) == outcome(status=fleet.INCOMPLETE, tries=3)


def test_the_summary_csv_cannot_run_formulas_and_the_html_runs_no_script(tmp_path):
    outcomes = [
        outcome(status=fleet.SEALED, org_name='=HYPERLINK("http://x")', checks_fail=0),
        outcome("globex", status=fleet.INCOMPLETE, error="<script>alert(1)</script>", tries=4),
    ]
    paths = fleet.write_summary(tmp_path, outcomes, "manual__1", SETTINGS)
    doc = json.loads(paths["json"].read_text())
    assert doc["totals"] == {"incomplete": 1, "sealed": 1}
    assert [o["org"] for o in doc["orgs"]] == ["acme", "globex"]
    with paths["csv"].open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == list(fleet.SUMMARY_COLUMNS)
    assert rows[0]["org_name"] == '\'=HYPERLINK("http://x")'
    assert (rows[0]["checks_fail"], rows[0]["verified"]) == ("0", "")
    assert rows[1]["tries"] == "4"
    page = paths["html"].read_text()
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
