"""No more personal data than the evidence needs (issue 12 §7).

The simulated users carry work phone numbers (E.164 and as shown), chat ids and profile images,
as real Genesys users do. None of them may reach the normalised evidence; with
`privacy.minimize` (the default) none may reach the stored answers either, and the request log
names what was removed, so that every digest still ties to the stored bytes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import SIM_NOW
from gcevidence.config import load_params
from gcevidence.datasets import SPECS
from gcevidence.errors import InputError
from gcevidence.privacy import USER_CONTACT_FIELDS
from gcevidence.rederive import check_digests, differences, stored_responses
from gcevidence.simulator import SimConfig, Simulator
from test_collect_sim import run, run_text


def personal_needles(sim) -> list[str]:
    """Every phone number (both forms), chat id and image URL of the simulated users."""
    needles = [OLD_PHONE, NEW_PHONE]
    for user in sim.org.users.values():
        wire = sim.api.user_wire(user, set())
        for contact in wire.get("addresses") or []:
            needles += [contact["address"], contact["display"]]
        needles.append(wire["chat"]["jabberId"])
        needles += [image["imageUri"] for image in wire.get("images") or []]
    assert len(needles) >= 4 * len(sim.org.users)
    return needles


def found_in(folder: Path, needles: list[str]) -> dict[str, int]:
    """File (relative) -> how many needles its (decompressed) text holds."""
    hits = {}
    for path in folder.rglob("*"):
        if path.is_file():
            text = run_text(path)
            count = sum(1 for n in needles if n in text)
            if count:
                hits[path.relative_to(folder).as_posix()] = count
    return hits


OLD_PHONE, NEW_PHONE = "+1 317 555 0100", "+1 317 555 0199"


@pytest.fixture(scope="module")
def sim():
    """The simulated org, with an audit event recording a change of a user's phone number."""
    with Simulator(SimConfig(now=SIM_NOW, users=60, audit_events_per_day=40)) as running:
        user = next(iter(running.org.users.values()))
        admin = running.org.named["platform_admin_1"]
        change = (("addresses", (OLD_PHONE,), (NEW_PHONE,)), ("title", ("Agent",), ("Lead",)))
        running.org.event(
            running.org.at(3, 11), "Directory", "User", "Update", user.id, user.name, admin, change
        )
        yield running


def test_no_phone_chat_or_image_in_the_evidence_or_stored_answers(sim, tmp_path):
    needles = personal_needles(sim)
    snap, _, run_dir = run(sim, tmp_path)
    assert found_in(run_dir, needles) == {}
    # What the checks and the auditor use is kept.
    users = snap.table("users")
    assert users["email"].str.contains("@").all() and users["division_id"].all()
    raw = list(snap.raw("users"))
    assert raw and not any(field in user for user in raw for field in USER_CONTACT_FIELDS)
    assert all("email" in user and "authorization" in user for user in raw)
    # The log names what was removed from each stored answer, and the digests still tie.
    lines = [json.loads(line) for line in (run_dir / "requests.jsonl").open()]
    listing = [line for line in lines if line["path"].startswith("/api/v2/users?")]
    assert listing and all("entities[].addresses" in line["redacted"] for line in listing)
    assert all(line["stored_bytes"] < line["bytes"] for line in listing)
    # The audit trail keeps that the phone number changed, not what it was or became; and the
    # source IPs of every event (evidence of who acted from where), in the CSV and the answers.
    events = snap.table("audit_events")
    assert (events["remote_ip"] != "").all()
    stored = next(stored_responses(run_dir, "audit_query_results")).json()["entities"]
    assert stored and all(event["remoteIp"] for event in stored)
    (changed,) = events[events["property_changes"].str.contains("addresses")]["property_changes"]
    assert json.loads(changed) == [
        {"property": "addresses"},
        {"newValues": ["Lead"], "oldValues": ["Agent"], "property": "title"},
    ]
    assert any(
        "entities[].propertyChanges[property=addresses].newValues" in line.get("redacted", [])
        for line in lines
        if "/audits/query/" in line["path"]
    )
    assert differences(run_dir) == []


def test_without_minimize_only_the_stored_answers_keep_personal_data(sim, tmp_path):
    needles = personal_needles(sim)
    snap, _, run_dir = run(sim, tmp_path, client_kwargs={"minimize": False})
    hits = found_in(run_dir, needles)
    assert hits and all(path.startswith("evidence/responses/") for path in hits), hits
    assert "evidence/responses/users.jsonl.zst" in hits
    lines = [json.loads(line) for line in (run_dir / "requests.jsonl").open()]
    assert not any(line.get("redacted") for line in lines if "/users" in line["path"])
    assert check_digests(run_dir) == [] and differences(run_dir) == []


def test_the_users_dataset_declares_what_it_drops():
    assert SPECS["users"].drops == USER_CONTACT_FIELDS
    assert {"addresses", "primaryContactInfo", "chat", "images"} <= set(USER_CONTACT_FIELDS)
    assert "email" not in USER_CONTACT_FIELDS  # the HR roster is matched by e-mail


def test_privacy_minimize_is_on_by_default_and_must_be_a_boolean(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("period: {end: 2026-11-30}\n", encoding="utf-8")
    assert load_params(path).privacy.minimize is True
    path.write_text("privacy: {minimize: false}\n", encoding="utf-8")
    assert load_params(path).privacy.minimize is False
    path.write_text("privacy: {minimize: 'no'}\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_params(path)
    assert str(err.value).startswith(f"{path}: privacy.minimize='no': must be true or false")
    path.write_text("privacy: {minimise: true}\n", encoding="utf-8")
    with pytest.raises(InputError, match="privacy.minimise"):
        load_params(path)
