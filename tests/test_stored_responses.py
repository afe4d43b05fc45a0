"""The stored API answers: every request line's digest ties to stored bytes, and every dataset
re-derives from the answers alone with the declared normalisers (issue 12 §1)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from conftest import SIM_NOW
from gcevidence.datasets import SPECS
from gcevidence.evidence_files import FramedWriter, read_bytes
from gcevidence.genesys.responses import RESPONSES_DIR
from gcevidence.rederive import (
    NOT_FROM_ANSWERS,
    REDERIVED,
    check_digests,
    differences,
    rederive,
    stored_responses,
)
from gcevidence.rederive import (
    main as rederive_main,
)
from gcevidence.simulator import SimConfig, Simulator
from gcevidence.snapshot import Snapshot
from test_collect_sim import run, run_text
from test_datasets import as_csv

TRUNK_PASSWORD = "planted-sip-password-5c1e"  # noqa: S105 - planted to be redacted
KEY_MANAGER_KEY = "planted-hawk-api-key-77d0"


@pytest.fixture(scope="module")
def collected(tmp_path_factory):
    """One collection from a simulator whose answers carry a trunk password and an apiKey."""
    tmp = tmp_path_factory.mktemp("stored")
    with Simulator(SimConfig(now=SIM_NOW, users=60, audit_events_per_day=40)) as sim:
        sim.org.key_configs[1]["apiKey"] = KEY_MANAGER_KEY
        wire = sim.api.trunk_wire

        def with_password(trunk):
            body = wire(trunk)
            if "properties" in body:
                body["properties"]["trunk_sip_password"] = {"value": {"instance": TRUNK_PASSWORD}}
            return body

        sim.api.trunk_wire = with_password
        snap, _, run_dir = run(sim, tmp)
    return snap, run_dir


def request_lines(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "requests.jsonl").open(encoding="utf-8")]


def test_every_request_digest_ties_to_stored_bytes(collected):
    _, run_dir = collected
    lines = request_lines(run_dir)
    assert [line["seq"] for line in lines] == list(range(1, len(lines) + 1))
    stored = {}
    for file in (run_dir / RESPONSES_DIR).glob("*.jsonl.zst"):
        for resp in stored_responses(run_dir, file.name.removesuffix(".jsonl.zst")):
            stored[resp.seq] = resp
    with_digest = [line for line in lines if line["sha256"]]
    assert with_digest and len(stored) == len(with_digest)
    for line in with_digest:
        body = stored[line["seq"]].body
        assert hashlib.sha256(body).hexdigest() == line["sha256"], line["path"]
        assert line.get("stored_bytes", line["bytes"]) == len(body), line["path"]
    # The token answer carries the token: it has no digest and nothing of it is stored.
    token_lines = [line for line in lines if line["path"] == "/oauth/token"]
    assert token_lines and all(line["sha256"] is None for line in token_lines)
    assert not {line["seq"] for line in token_lines} & set(stored)
    assert check_digests(run_dir) == []


def test_a_tampered_stored_answer_is_reported(collected, tmp_path):
    _, run_dir = collected
    copy = tmp_path / "copy"
    (copy / RESPONSES_DIR).mkdir(parents=True)
    (copy / "requests.jsonl").write_bytes((run_dir / "requests.jsonl").read_bytes())
    for file in (run_dir / RESPONSES_DIR).glob("*.jsonl.zst"):
        (copy / RESPONSES_DIR / file.name).write_bytes(file.read_bytes())
    target = copy / RESPONSES_DIR / "divisions.jsonl.zst"
    lines = read_bytes(target).decode().splitlines()
    record = json.loads(lines[0])
    record["body"] = record["body"].replace("Sales", "Sa1es")
    with FramedWriter(target) as out:
        out.write("\n".join([json.dumps(record), *lines[1:]]) + "\n")
    problems = check_digests(copy)
    assert len(problems) == 1 and f"request {record['seq']} " in problems[0]


def test_every_dataset_re_derives_from_the_stored_answers_alone(collected):
    """Each CSV row for row, each JSON document as a whole, from the answers and normalisers."""
    snap, run_dir = collected
    assert set(REDERIVED) | set(NOT_FROM_ANSWERS) == set(SPECS)
    for name in REDERIVED:
        spec = SPECS[name]
        derived = rederive(run_dir, name)
        if spec.kind == "object":
            assert derived == snap.object(name), name
            continue
        written = snap.table(name).to_dict("records")
        assert written or name in ("unused_roles",), f"{name}: nothing to compare"
        if name == "audit_queries":
            written = sorted(written, key=lambda r: r["transaction_id"])
        assert as_csv(derived) == written, name
    assert differences(run_dir) == []


def test_a_changed_csv_row_is_a_difference(collected, tmp_path):
    """The comparison can fail: one changed cell in a copy of the pack is reported."""
    _, run_dir = collected
    copy = tmp_path / "copy"
    for path in run_dir.rglob("*"):
        if path.is_file():
            target = copy / path.relative_to(run_dir)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    roles = copy / "evidence" / "roles.csv"
    lines = roles.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[2] = lines[2].replace("false", "true", 1)
    roles.write_text("".join(lines), encoding="utf-8")
    assert differences(copy) == [
        f"evidence/roles.csv: {len(lines) - 1} rows, {len(lines) - 1} re-derived from the stored "
        "answers; first difference at row 2"
    ]


def test_secrets_are_redacted_before_storing_and_named_in_the_log(collected):
    snap, run_dir = collected
    for path in run_dir.rglob("*"):
        if path.is_file():
            data = run_text(path)
            assert TRUNK_PASSWORD not in data and KEY_MANAGER_KEY not in data, path
    redacted = {
        line["path"].split("?")[0]: line["redacted"]
        for line in request_lines(run_dir)
        if "trunkbasesettings" in line["path"] or "keyconfigurations" in line["path"]
        if line.get("redacted")
    }
    assert redacted["/api/v2/recording/keyconfigurations"] == ["entities[].apiKey"]
    assert redacted["/api/v2/telephony/providers/edges/trunkbasesettings"] == [
        "entities[].properties.trunk_sip_password"
    ]
    # What the checks read is intact: the trunks' TLS and SRTP columns are still there.
    trunks = snap.table("trunks")
    assert set(trunks["transport"]) >= {"tls"}


def test_audit_events_are_stored_by_day_and_one_day_reads_alone(collected):
    snap, run_dir = collected
    status = snap.status("audit_events")
    assert status.raw_path == "" and status.extra["raw_in_responses"] == "audit_query_results"
    events = snap.table("audit_events")
    order = list(zip(events["event_date"], events["id"], strict=True))
    assert order == sorted(order)
    days = sorted({d[:10] for d in events["event_date"]})
    assert sorted(status.segments) == days
    assert sum(s[2] for s in status.segments.values()) == len(events)
    day = days[len(days) // 2]
    one = Snapshot(run_dir).segment_table("audit_events", [day])
    expected = events[events["event_date"].str.startswith(day)].reset_index(drop=True)
    assert one.equals(expected) and len(one) == status.segments[day][2]
    assert Snapshot(run_dir).segment_table("audit_events", ["1999-01-01"]).empty
    assert next(snap.raw("audit_events"))["id"] == events["id"].iloc[0]


def test_the_auditors_command_says_what_agreed_or_what_differs(collected, tmp_path, capsys):
    _, run_dir = collected
    assert rederive_main([str(run_dir)]) == 0
    out = capsys.readouterr().out
    assert "stored answers tie to their request digests" in out and "re-derive" in out
    copy = tmp_path / "copy"
    for path in run_dir.rglob("*"):
        if path.is_file():
            target = copy / path.relative_to(run_dir)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    (copy / RESPONSES_DIR / "roles.jsonl.zst").unlink()
    assert rederive_main([str(copy)]) == 1
    out = capsys.readouterr().out
    assert "no stored answer" in out and "evidence/roles.csv" in out
    assert rederive_main([str(tmp_path / "nowhere")]) == 2
