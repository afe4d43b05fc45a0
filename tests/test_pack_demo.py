"""The pack of a whole demo run: signed through params, verifiable, and free of secrets.

The demo runs once, with a recognisable client secret and a signing key passed through an
environment variable. Every byte of the sealed pack and everything logged or printed is then
searched for the secret, the signing key and every token the simulator issued (plain, base64 at
any offset, URL/JSON/HTML-escaped, hex, UTF-16, inside zip members and compressed PDF streams).
"""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import without_root_override
from gcevidence import pipeline, simulator
from gcevidence.cli import main
from gcevidence.config import SigningConfig
from gcevidence.demo import demo_params
from gcevidence.pack.secrets import scan_for_secrets
from gcevidence.pack.sign import keygen, load_public_key
from gcevidence.pack.verify import verify_pack
from gcevidence.rederive import differences

CANARY_SECRET = "CANARY-s3cret/+=-do-not-leak-7f41c2"
KEY_ENV = "GCEVIDENCE_TEST_SIGNING_KEY"


@contextmanager
def captured_output():
    """Everything written to this process's stdout/stderr (file descriptors) and its logs."""
    logs = io.StringIO()
    handler = logging.StreamHandler(logs)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)  # debug logging must not leak either
    saved = os.dup(1), os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        result = SimpleNamespace(text="")
        try:
            yield result
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
            root.removeHandler(handler)
            root.setLevel(old_level)
            sink.seek(0)
            result.text = sink.read().decode("utf-8", "replace") + "\n" + logs.getvalue()


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    private, public, key_id = keygen(root / "signing.pem")
    private_pem = private.read_text()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GENESYSCLOUD_")}
    env[KEY_ENV] = private_pem
    config = simulator.SimConfig(
        seed=11,
        users=80,
        client_secret=CANARY_SECRET,
        audit_events_per_day=20,
        audit_history_days=120,
    )
    with (
        captured_output() as said,
        demo_params(root / "out", config, env) as (params, sim),
    ):
        params = dataclasses.replace(params, signing=SigningConfig(key_env=KEY_ENV))
        result = pipeline.run_pipeline(params, root / "out", env=env, pdf=False)
        tokens = list(sim.tokens_issued)
        client_id = sim.client_id
        # The org's OAuth clients carry secrets in the API's listing: none may reach the pack.
        client_secrets = [c.secret for c in sim.org.oauth_clients if c.secret]
        users = list(sim.org.users.values())
    # The key's base64 body (the lines between the PEM armour) is what would leak.
    key_body = "".join(line for line in private_pem.splitlines() if "-----" not in line)
    return SimpleNamespace(
        pack=result.pack_dir,
        out=root / "out",
        tokens=tokens,
        client_id=client_id,
        users=users,
        said=said.text,
        public=public,
        key_id=key_id,
        client_secrets=client_secrets,
        secrets=[CANARY_SECRET, key_body, *tokens, *client_secrets],
    )


def test_no_secret_token_or_key_in_the_pack(demo):
    assert demo.tokens, "the run must have used a token, or this test proves nothing"
    assert len(demo.client_secrets) >= 5, "the org's OAuth clients must carry secrets"
    # ... and the pack does hold those clients, without their secrets.
    clients = (demo.pack / "evidence" / "oauth_clients.csv").read_text(encoding="utf-8")
    assert "CI Deploy Pipeline" in clients
    assert scan_for_secrets(demo.pack, demo.secrets) == []
    # Nothing else under the output folder (a stray build folder, say) holds them either.
    assert scan_for_secrets(demo.out, demo.secrets) == []
    # The scan does reach the files: the (non-secret) client id is recorded in the pack.
    assert scan_for_secrets(demo.pack, [demo.client_id])


def test_no_secret_token_or_key_in_logs_or_console(demo):
    assert demo.said.strip(), "nothing was captured, so nothing was checked"
    for secret in demo.secrets:
        assert secret not in demo.said


def test_demo_pack_is_signed_by_the_configured_key(demo, capsys):
    report = verify_pack(demo.pack, load_public_key(demo.public))
    assert report.ok and report.signature == "valid" and report.key_id == demo.key_id
    manifest = json.loads((demo.pack / "manifest.json").read_text())
    assert manifest["signing"]["key_id"] == demo.key_id
    meta = manifest["metadata"]
    for key in (
        "generated_at",
        "org",
        "region",
        "client_id",
        "params_digest",
        "baseline",
        "thresholds",
        "tool_version",
        "dependencies",
    ):
        assert key in meta, key
    assert main(["verify", str(demo.pack), "--public-key", str(demo.public)]) == 0
    assert f"signed by key {demo.key_id}" in capsys.readouterr().out


def test_index_shows_the_manifest_digest(demo):
    manifest = json.loads((demo.pack / "manifest.json").read_text())
    assert manifest["content_digest"] in (demo.pack / "index.html").read_text("utf-8")


def test_index_shows_who_collected_what_from_where_and_the_seal(demo):
    """Issue 12 §1: operator, client and its divisions, API host and region, tool version, and
    the signing key's fingerprint as verify prints it, at the top of index.html and in the
    manifest and findings.json."""
    index = (demo.pack / "index.html").read_text("utf-8")
    box = index.split('id="provenance"', 1)[1].split("</table>", 1)[0]
    assert box.index("Provenance of this pack") < 200  # the first thing after the intro
    assert "gcevidence demo (simulated org)" in box and demo.client_id in box
    assert "All 5 divisions" in box and "127.0.0.1:" in box and "gcevidence 0.1.0" in box
    assert f"signed (Ed25519, manifest.sig) by key {demo.key_id}" in box
    assert "WARNING" not in box
    manifest = json.loads((demo.pack / "manifest.json").read_text())
    run = json.loads((demo.pack / "findings.json").read_text())["run"]
    for doc in (manifest["metadata"], run):
        assert doc["operator"] == "gcevidence demo (simulated org)"
        assert doc["division_scope"]["state"] == "all"
    assert manifest["signing"]["key_id"] == demo.key_id


def test_the_sealed_pack_re_derives_from_its_stored_answers(demo):
    assert differences(demo.pack) == []
    lines = (demo.pack / "requests.jsonl").read_text().splitlines()
    assert any('"redacted"' in line for line in lines)  # users' contact fields were removed


def test_no_phone_number_anywhere_in_the_pack(demo):
    phones = [u.phone for u in demo.users if u.phone]
    e164 = ["+" + "".join(ch for ch in p if ch.isdigit()) for p in phones]
    assert phones and scan_for_secrets(demo.pack, [*phones, *e164]) == []


def test_tampering_with_the_demo_pack_is_named(demo, tmp_path, capsys):
    copy = tmp_path / demo.pack.name
    shutil.copytree(demo.pack, copy)
    findings = copy / "findings.json"
    findings.write_text(findings.read_text().replace('"fail"', '"pass"'))
    (copy / "evidence" / "users.csv").unlink()
    (copy / "evidence" / "planted.csv").write_text("id\n1\n")
    assert main(["verify", str(copy)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert {
        "changed: findings.json",
        "missing: evidence/users.csv",
        "added: evidence/planted.csv",
    } <= set(lines)


def test_demo_into_an_unwritable_folder_is_one_line_and_exit_2(tmp_path):
    out = tmp_path / "readonly"
    out.mkdir()
    out.chmod(0o555)
    cmd = without_root_override(
        [sys.executable, "-m", "gcevidence", "demo", "--out", str(out), "--no-pdf"]
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("GENESYSCLOUD_")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1] / "lib")
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
    finally:
        out.chmod(0o755)
    assert done.returncode == 2, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("gcevidence: error")]
    assert len(errors) == 1 and "not writable" in errors[0] and str(out) in errors[0]
    assert "choose another output folder" in errors[0]
    assert list(out.iterdir()) == []


@pytest.mark.parametrize(
    "signum, status, phase",
    [
        (signal.SIGTERM, 143, "requests.jsonl"),  # during collection
        (signal.SIGINT, 130, "requests.jsonl"),
        (signal.SIGTERM, 143, "*.ipynb"),  # while papermill executes a notebook
    ],
)
def test_killed_demo_leaves_no_pack(tmp_path, signum, status, phase):
    out = tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GENESYSCLOUD_")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1] / "lib")
    proc = subprocess.Popen(
        [sys.executable, "-m", "gcevidence", "demo", "--out", str(out), "--no-pdf"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        # Wait until the run has reached the phase in its build folder, then interrupt.
        while not list(out.glob(f".building-*/{phase}")):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the demo never started writing"
            time.sleep(0.05)
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == status, err
    assert sorted(p.name for p in out.iterdir()) == [], err
    # No child (papermill, its kernel) goes on working for the dead run.
    deadline = time.monotonic() + 10
    while processes_mentioning(str(out)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_mentioning(str(out)) == []


def processes_mentioning(text: str) -> list[str]:
    """Command lines of live processes that contain `text` (Linux /proc)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        if text in args:
            found.append(args)
    return found
