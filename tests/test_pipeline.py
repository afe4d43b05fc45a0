"""`gcevidence demo` end to end against a small simulated org, over real loopback HTTP."""

import csv
import json
import os
import re
from pathlib import Path

import pytest
import yaml
from gcevidence import cli, demo, execute, pipeline, run_commands
from gcevidence.report import render
from gcevidence.simulator import SimConfig, Simulator
from gcevidence.snapshot import Snapshot

SECRET = "Sup3r-Secret-pipeline-7f3a"
NOTEBOOKS = (
    "A09_access_control",
    "A10_cryptography",
    "A12_logging_monitoring",
    "A13_communications",
    "summary",
)
SMALL_ORG = {
    "seed": 11,
    "users": 150,
    "audit_events_per_day": 50,
    "audit_history_days": 400,
    "client_secret": SECRET,
}
_CACHE: dict = {}


def small_config(**overrides) -> SimConfig:
    return SimConfig(**{**SMALL_ORG, **overrides})


@pytest.fixture(scope="session")
def demo_pack(tmp_path_factory):
    """One demo run shared by this module and test_browser (the expensive part, ~1 min)."""
    if "pack" not in _CACHE:
        out = tmp_path_factory.mktemp("packs")
        env = {k: v for k, v in os.environ.items() if not k.startswith("GENESYSCLOUD_")}
        cfg = small_config()
        with demo.demo_params(out, cfg, env) as (params, sim):
            result = pipeline.run_pipeline(params, out, fail_on_findings=True, env=env)
            _CACHE["pack"] = (result, out, dict(sim.planted), list(sim.tokens_issued), params)
    return _CACHE["pack"]


def test_pack_layout(demo_pack):
    result, out, _, _, params = demo_pack
    pack = result.pack_dir
    assert pack.parent == out / params.period.end.isoformat()
    assert re.fullmatch(r"\d{6}Z-\w+", pack.name)
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no build folder left
    for name in (
        "index.html",
        "findings.json",
        "findings.csv",
        "snapshot.json",
        "requests.jsonl",
        "manifest.json",
        "evidence/users.csv",
    ):
        assert (pack / name).is_file(), name
    for nb in NOTEBOOKS:
        assert (pack / f"{nb}.ipynb").is_file() and (pack / f"{nb}.html").is_file()
        if render.find_chromium():
            assert (pack / f"{nb}.pdf").read_bytes()[:5] == b"%PDF-"
    assert set(result.timings) >= {"collection", "execution", "rendering", "pdf"}


def test_exit_status_and_verify(demo_pack):
    result = demo_pack[0]
    assert any(f.status == "fail" for f in result.findings)
    assert result.exit_status == 1  # --fail-on-findings with a failing check: sealed, exit 1
    from gcevidence.pack.verify import verify_pack

    assert verify_pack(result.pack_dir).ok


def test_findings_json_schema(demo_pack):
    result, _, planted, _, params = demo_pack
    doc = json.loads((result.pack_dir / "findings.json").read_text(encoding="utf-8"))
    assert set(doc) == {"schema", "run", "datasets", "findings"}
    assert doc["schema"] == "gcevidence.findings/1"
    run = doc["run"]
    assert set(run) == {
        "id",
        "generated_at",
        "period",
        "org",
        "region",
        "api_base_url",
        "client_id",
        "baseline",
        "tool_version",
        "inputs",
        "operator",
        "division_scope",
    }
    assert run["operator"] == params.operator and run["division_scope"]["state"] == "all"
    assert run["id"] == result.pack_dir.name and run["client_id"] == "gcevidence-sim"
    assert set(run["org"]) == {"id", "name"} and set(run["period"]) == {"start", "end"}
    assert run["period"]["end"] == f"{params.period.end.isoformat()}T23:59:59Z"
    for ds in doc["datasets"]:
        assert set(ds) == {"name", "path", "rows", "expected_rows", "complete", "requests"}
    checks = {f["check"]: f for f in doc["findings"]}
    assert set(planted) <= set(checks)
    for f in doc["findings"]:
        assert f["status"] in ("pass", "fail", "not_evaluable")
        assert {
            "check",
            "ref",
            "title",
            "status",
            "severity",
            "controls",
            "population",
            "exceptions",
            "evidence",
            "notebook",
            "reason",
        } <= set(f)
    for check, subjects in planted.items():
        listed = {e["subject_id"] for e in checks[check]["exceptions"]}
        assert set(subjects) <= listed, check


def test_the_exact_period_is_stated_alike_in_every_file(demo_pack):
    result, _, _, _, params = demo_pack
    pack = result.pack_dir
    period = json.loads((pack / "findings.json").read_text(encoding="utf-8"))["run"]["period"]
    start, end = params.period.start.isoformat(), params.period.end.isoformat()
    assert period == {"start": f"{start}T00:00:00Z", "end": f"{end}T23:59:59Z"}
    # The demo's period ends the day before the simulator's today and holds exactly 90 days.
    assert (params.period.end - params.period.start).days + 1 == params.period.days == 90
    snapshot = json.loads((pack / "snapshot.json").read_text(encoding="utf-8"))
    assert snapshot["period"] == {**period, "days": 90}
    assert params.period.end.isoformat() < snapshot["collected_at"][:10]
    manifest = json.loads((pack / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["metadata"]["period"] == period
    index = (pack / "index.html").read_text(encoding="utf-8")
    assert f"{period['start']} to {period['end']}" in index
    oscal = (pack / "findings.oscal.json").read_text(encoding="utf-8")
    assert period["start"] in oscal and f"{end}T23:59:59" in oscal
    for paper in ("A09_access_control", "summary"):
        assert f"{period['start']} to {period['end']}" in (pack / f"{paper}.html").read_text()


def test_the_pack_records_where_its_inputs_not_from_the_api_come_from(demo_pack):
    result, _, _, _, params = demo_pack
    pack = result.pack_dir
    inputs = json.loads((pack / "findings.json").read_text(encoding="utf-8"))["run"]["inputs"]
    roster = inputs["hr_roster"]
    assert roster["source"]["system"] == "gcevidence simulator"
    assert roster["source"]["extracted_by"] == "gcevidence demo"
    assert roster["timezone"] == "Europe/Paris" and roster["groups_source"]
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", roster["sha256"])
    snapshot = json.loads((pack / "snapshot.json").read_text(encoding="utf-8"))
    [status] = [d for d in snapshot["datasets"] if d["name"] == "hr_roster"]
    assert status["extra"]["sha256"] == roster["sha256"] and roster["rows"] == status["rows"]
    assert inputs["exceptions_register"] is None and inputs["review_decisions"] is None
    manifest = json.loads((pack / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["metadata"]["inputs"] == inputs
    index = (pack / "index.html").read_text(encoding="utf-8")
    assert "Inputs not from the API" in index
    assert "gcevidence simulator report &#x27;HR roster of the simulated org&#x27;" in index
    assert "termination dates read as days in Europe/Paris" in index
    # PCI leaves the cryptoperiod to the entity: the toolkit's year is flagged for confirmation.
    assert "tool default — confirm against your policy" in index
    thresholds = json.loads((pack / "thresholds.json").read_text(encoding="utf-8"))
    assert thresholds["key_cryptoperiod_days"]["origin"] == "tool_default"
    assert thresholds["password_min_length"]["origin"] == "baseline"


def test_the_pack_carries_populations_and_reproducible_samples(demo_pack):
    from gcevidence.samples import draw, sample_seed

    result = demo_pack[0]
    pack = result.pack_dir
    side = json.loads((pack / "samples" / "samples.json").read_text(encoding="utf-8"))
    assert side["run_id"] == pack.name
    assert set(side["populations"]) == {"joiners", "role_changes", "privileged_grants", "leavers"}
    manifest = json.loads((pack / "manifest.json").read_text(encoding="utf-8"))
    listed = {f["path"] for f in manifest["files"]}
    for name, entry in side["populations"].items():
        assert entry["available"] and entry["population_size"] > 0, name
        assert entry["seed"] == sample_seed(pack.name, name)
        with (pack / entry["population_file"]).open(encoding="utf-8", newline="") as fh:
            ids = [row[entry["key"]] for row in csv.DictReader(fh)]
        assert draw(ids, pack.name, name) == entry["selected"]
        assert {entry["population_file"], entry["sample_file"]} <= listed
    assert {"samples/README.txt", "samples/samples.json"} <= listed
    index = (pack / "index.html").read_text(encoding="utf-8")
    assert "samples/joiners.csv" in index and "populations/leavers.csv" in index


def test_findings_csv_guarded(demo_pack):
    result = demo_pack[0]
    with (result.pack_dir / "findings.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][:4] == ["ref", "check", "title", "status"]
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    doc = json.loads((result.pack_dir / "findings.json").read_text(encoding="utf-8"))
    expected = sum(max(1, len(f["exceptions"])) for f in doc["findings"])
    assert len(rows) - 1 == expected


def test_exceptions_resting_on_an_audit_event_cite_it_in_json_and_csv(demo_pack):
    pack = demo_pack[0].pack_dir
    doc = json.loads((pack / "findings.json").read_text(encoding="utf-8"))
    checks = {f["check"]: f for f in doc["findings"]}
    event_ids = set(Snapshot(pack).table("audit_events")["id"])
    for check in ("access.deprovision_latency", "logging.privileged_grants"):
        exceptions = checks[check]["exceptions"]
        assert exceptions, check
        for e in exceptions:
            assert e["event_ids"] and set(e["event_ids"]) <= event_ids, (check, e)
    assert all(e["event_ids"] == [] for e in checks["access.orphan_accounts"]["exceptions"])
    with (pack / "findings.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    cited = {
        (r["check"], r["subject_id"]): r["event_ids"]
        for r in rows
        if r["check"] == "access.deprovision_latency"
    }
    for e in checks["access.deprovision_latency"]["exceptions"]:
        assert cited[("access.deprovision_latency", e["subject_id"])] == "; ".join(e["event_ids"])


def test_html_fetches_nothing_and_escapes(demo_pack):
    pack = demo_pack[0].pack_dir
    for page in pack.glob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert render.network_fetches(text) == [], page.name
        assert "<script>alert(1)</script>" not in text, page.name
        assert "<img src=x onerror" not in text, page.name
    index = (pack / "index.html").read_text(encoding="utf-8")
    manifest = json.loads((pack / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["content_digest"] in index
    for nb in NOTEBOOKS:
        assert f'href="{nb}.html"' in index


def test_no_secret_or_token_in_pack(demo_pack):
    result, _, _, tokens, _ = demo_pack
    needles = [SECRET.encode(), *(t.encode() for t in tokens if t)]
    for path in result.pack_dir.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert not any(n in data for n in needles), path.name


def test_executed_notebooks_hold_relative_parameters(demo_pack):
    pack = demo_pack[0].pack_dir
    for nb in NOTEBOOKS:
        text = (pack / f"{nb}.ipynb").read_text(encoding="utf-8")
        assert ".building-" not in text and str(pack.parent.parent) not in text
        assert '"run_dir": "."' in text


def _params_file(tmp_path, base_url, roster) -> Path:
    doc = yaml.safe_load(demo.DEMO_PARAMS.read_text(encoding="utf-8"))
    doc["org"] = {"api_base_url": base_url}
    doc.setdefault("hr", {})["roster"] = str(roster)
    doc.setdefault("output", {})["formats"] = ["html"]
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


def test_bad_params_exit_2_nothing_written(tmp_path, monkeypatch, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("org: {regoin: eu-west-1}\n")
    out = tmp_path / "out"
    assert cli.main(["run", "--params", str(bad), "--out", str(out)]) == 2
    assert "org.regoin" in capsys.readouterr().err
    assert not out.exists()


def test_bad_params_reported_before_the_heavy_imports(tmp_path):
    """The CLI answers a bad params file without loading the run, pandas or the simulator."""
    import subprocess
    import sys

    bad = tmp_path / "bad.yaml"
    bad.write_text("org: {region: [\n", encoding="utf-8")
    probe = (
        "import sys\n"
        "from gcevidence.cli import main\n"
        f"status = main(['run', '--params', {str(bad)!r}])\n"
        "heavy = [m for m in ('pandas', 'nbformat', 'matplotlib', 'gcevidence.pipeline',"
        " 'gcevidence.simulator.sim', 'openpyxl') if m in sys.modules]\n"
        "print(status, heavy)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.stdout.strip() == "2 []", done.stdout + done.stderr
    assert "bad.yaml" in done.stderr and "not valid YAML" in done.stderr


def test_missing_credentials_exit_2(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("GENESYSCLOUD_OAUTHCLIENT_ID", raising=False)
    monkeypatch.delenv("GENESYSCLOUD_OAUTHCLIENT_SECRET", raising=False)
    params = _params_file(tmp_path, "http://127.0.0.1:9", tmp_path / "r.csv")
    out = tmp_path / "out"
    assert cli.main(["run", "--params", str(params), "--out", str(out)]) == 2
    assert "GENESYSCLOUD_OAUTHCLIENT_ID" in capsys.readouterr().err
    assert not out.exists() or not any(out.rglob("*"))


def test_failed_audit_query_exit_3_no_pack(tmp_path, monkeypatch, capsys):
    cfg = small_config(users=60, audit_events_per_day=10)
    with Simulator(cfg) as sim:
        sim.faults.audit_fail = True
        monkeypatch.setenv("GENESYSCLOUD_OAUTHCLIENT_ID", sim.client_id)
        monkeypatch.setenv("GENESYSCLOUD_OAUTHCLIENT_SECRET", sim.client_secret)
        params = _params_file(tmp_path, sim.base_url, sim.write_roster(tmp_path / "r.csv"))
        out = tmp_path / "out"
        assert cli.main(["run", "--params", str(params), "--out", str(out)]) == 3
    assert "audit" in capsys.readouterr().err.lower()
    assert not [p for p in out.rglob("*") if p.is_file()]


def test_notebook_standalone_collects_its_own_run(tmp_path):
    """run_dir empty: the notebook collects into a fresh folder with credentials from env."""
    import subprocess
    import sys

    cfg = small_config(users=60, audit_events_per_day=10)
    with Simulator(cfg) as sim:
        params = _params_file(tmp_path, sim.base_url, sim.write_roster(tmp_path / "r.csv"))
        doc = yaml.safe_load(params.read_text(encoding="utf-8"))
        doc["output"]["dir"] = str(tmp_path / "out")
        params.write_text(yaml.safe_dump(doc), encoding="utf-8")
        env = execute.kernel_env({**os.environ, "GENESYSCLOUD_OAUTHCLIENT_ID": sim.client_id})
        env["GENESYSCLOUD_OAUTHCLIENT_SECRET"] = sim.client_secret  # standalone needs it
        out = tmp_path / "A13.ipynb"
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "papermill",
                str(execute.NOTEBOOKS_DIR / "A13_communications.ipynb"),
                str(out),
                "-k",
                "python3",
                "--cwd",
                str(execute.NOTEBOOKS_DIR),
                "-p",
                "run_dir",
                "",
                "-p",
                "params_path",
                str(params),
            ],
            env=env,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr[-2000:]
    runs = list((tmp_path / "out" / "standalone").iterdir())
    assert len(runs) == 1 and (runs[0] / "snapshot.json").is_file()
    assert "network.trunk_tls" in out.read_text(encoding="utf-8")
    assert sim.client_secret not in out.read_text(encoding="utf-8")


def test_cli_report_prints_index_path_on_stdout(demo_pack, capsys):
    result = demo_pack[0]
    assert run_commands.report(result) == 1
    out, err = capsys.readouterr()
    assert out.strip() == str(result.pack_dir / "index.html")
    assert "checks:" in err and "pack sealed" in err and "execution" in err
    relaxed = pipeline.RunResult(result.pack_dir, result.findings, 0, result.timings)
    assert run_commands.report(relaxed) == 0


def test_bad_roster_exit_2_nothing_written(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GENESYSCLOUD_OAUTHCLIENT_ID", "id")
    monkeypatch.setenv("GENESYSCLOUD_OAUTHCLIENT_SECRET", "secret")
    roster = tmp_path / "r.csv"
    roster.write_text("employee_id,email\n1,a@example.com\n", encoding="utf-8")
    params = _params_file(tmp_path, "http://127.0.0.1:9", roster)
    out = tmp_path / "out"
    assert cli.main(["run", "--params", str(params), "--out", str(out)]) == 2
    assert "r.csv" in capsys.readouterr().err
    assert not out.exists()
