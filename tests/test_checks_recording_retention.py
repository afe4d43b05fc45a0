"""data.recording_retention on hand-built snapshots, and the normaliser of retention policies."""

from __future__ import annotations

import pytest
from checks_world import DENIED, World, retention
from gcevidence.datasets.recording import RECORDING_RETENTION


@pytest.fixture
def world(tmp_path):
    return World(tmp_path)


def ids(finding):
    return [e.subject_id for e in finding.exceptions]


def test_retention_passes_and_says_the_most_days_are_not_assessed(world):
    f = world.run("data.recording_retention")
    assert f.status == "pass", f.reason
    assert f.population == 1
    assert "not assessed" in f.reason and "recording_retention_max_days" in f.reason
    assert f.extra["thresholds"]["recording_retention_max_days"]["value"] is None


def test_retention_lists_forever_errors_exports_but_never_disabled_policies(world):
    world.data["recording_retention"] += [
        retention("p-forever", "Keep calls"),
        retention("p-err", "Chats", media="chat", delete_after_days="540",
                  policy_errors='[{"errorCode":"EVALUATION_FORM_NOT_FOUND"}]'),
        retention("p-s3", "Export", delete_after_days="365", export_integration_id="i-1",
                  export_integration_name="AWS S3 Recording Bulk Actions"),
        retention("p-off", "Old trial", enabled="false"),
        # two media types of one policy: one exception naming both problems
        retention("p-two", "Mixed", media="email"),
        retention("p-two", "Mixed", media="message", delete_after_days="4000"),
        # a policy that does not retain recordings keeps none
        retention("p-del", "Delete", retain="false", delete_recording="true"),
    ]  # fmt: skip
    f = world.run("data.recording_retention")
    assert f.status == "fail"
    assert sorted(ids(f)) == ["p-err", "p-forever", "p-s3", "p-two"]
    detail = {e.subject_id: e.detail for e in f.exceptions}
    assert detail["p-forever"] == "call recordings are retained with no deletion: kept forever"
    assert "EVALUATION_FORM_NOT_FOUND" in detail["p-err"]
    assert "AWS S3 Recording Bulk Actions" in detail["p-s3"] and "out of Genesys" in detail["p-s3"]
    assert "email recordings" in detail["p-two"] and "4000" not in detail["p-two"]
    assert f.extra["disabled_policies"] == [{"id": "p-off", "name": "Old trial"}]
    assert f.population == 6


def test_retention_longer_than_the_params_limit_is_an_exception(world):
    world.params_text += "thresholds: {recording_retention_max_days: 730}\n"
    world.data["recording_retention"] += [
        retention("p-long", "Five years", media="email", delete_after_days="1825"),
        retention("p-edge", "Two years", delete_after_days="730"),
    ]
    f = world.run("data.recording_retention")
    assert ids(f) == ["p-long"]
    assert "deleted after 1825 days (limit 730)" in f.exceptions[0].detail
    assert "longer than 730 days" in f.reason


def test_retention_not_evaluable_without_permission(world):
    world.data["recording_retention"] = DENIED
    f = world.run("data.recording_retention")
    assert f.status == "not_evaluable" and "recording:retentionPolicy:view" in f.reason


def test_a_policy_becomes_one_row_per_media_type_and_legacy_actions_one_row():
    policy = {
        "id": "p1",
        "name": "P",
        "enabled": True,
        "order": 2,
        "mediaPolicies": {
            "callPolicy": {
                "actions": {
                    "retainRecording": True,
                    "retentionDuration": {
                        "archiveRetention": {"days": 90, "storageMedium": "CLOUDARCHIVE"},
                        "deleteRetention": {"days": 395},
                    },
                }
            },
            "chatPolicy": {"actions": {"retainRecording": True}},
            "emailPolicy": {"conditions": {}},
        },
        "policyErrors": {"policyErrorMessages": [{"errorCode": "E1", "statusCode": 400}]},
    }
    rows = RECORDING_RETENTION.normalise(policy)
    assert [r["media_type"] for r in rows] == ["call", "chat"]
    assert list(rows[0]) == list(RECORDING_RETENTION.columns)
    assert rows[0]["delete_after_days"] == 395 and rows[0]["archive_storage"] == "CLOUDARCHIVE"
    assert rows[1]["delete_after_days"] == "" and rows[1]["retain_recording"] == "true"
    assert rows[0]["policy_errors"] == '[{"errorCode":"E1","statusCode":400}]'
    legacy = RECORDING_RETENTION.normalise({"id": "p2", "actions": {"retainRecording": False}})
    assert [(r["media_type"], r["retain_recording"]) for r in legacy] == [("all", "false")]
