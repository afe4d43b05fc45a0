"""Media retention policies: how long the org keeps recordings, and where they are exported."""

from __future__ import annotations

import random

from gcevidence.simulator.model import iso, new_id


def _actions(delete_days: int | None, archive_days: int | None = None, export=None) -> dict:
    """PolicyActions that retain recordings, deleted (archived) after so many days."""
    duration: dict = {}
    if archive_days is not None:
        duration["archiveRetention"] = {"days": archive_days, "storageMedium": "CLOUDARCHIVE"}
    if delete_days is not None:
        duration["deleteRetention"] = {"days": delete_days}
    actions: dict = {"retainRecording": True, "deleteRecording": False, "alwaysDelete": False}
    if duration:
        actions["retentionDuration"] = duration
    if export is not None:
        actions["integrationExport"] = {
            "integration": export,
            "shouldExportScreenRecordings": False,
        }
    return actions


def build_policies(org, rng: random.Random) -> list[dict]:
    """The planted retention policies of data.recording_retention (PLANTED.md), in order."""
    s3_id = new_id(rng)
    s3 = {
        "id": s3_id,
        "name": "AWS S3 Recording Bulk Actions",
        "selfUri": f"/api/v2/integrations/{s3_id}",
    }
    error = {
        "statusCode": 400,
        "userMessage": {"message": "The evaluation form of this policy was deleted"},
        "errorCode": "EVALUATION_FORM_NOT_FOUND",
        "correlationId": new_id(rng),
        "insertDate": iso(org.at(12, 4)),
    }
    specs = (
        # (story key, name, enabled, media -> actions, errors)
        ("retention_forever", "Keep all calls", True, {"callPolicy": _actions(None)}, None),
        (
            "retention_errors",
            "Chats for eighteen months",
            True,
            {"chatPolicy": _actions(540)},
            [error],
        ),
        (
            "retention_export",
            "Calls exported to S3",
            True,
            {"callPolicy": _actions(365, export=s3)},
            None,
        ),
        ("retention_disabled", "Old trial policy", False, {"callPolicy": _actions(None)}, None),
        (
            "retention_ok",
            "Standard thirteen months",
            True,
            {
                "callPolicy": _actions(395, archive_days=90),
                "emailPolicy": _actions(395),
                "messagePolicy": _actions(395),
            },
            None,
        ),
        (
            "retention_too_long",
            "Emails for five years",
            True,
            {"emailPolicy": _actions(1825)},
            None,
        ),
    )
    policies = []
    for order, (key, name, enabled, media, errors) in enumerate(specs, start=1):
        pid = new_id(rng)
        org.named[key] = pid
        policy = {
            "id": pid,
            "name": name,
            "modifiedDate": iso(org.at(30 + order, 9)),
            "createdDate": iso(org.at(300 + order, 9)),
            "order": order,
            "description": f"{name} (simulated)",
            "enabled": enabled,
            "mediaPolicies": {
                kind: {"actions": actions, "conditions": {}} for kind, actions in media.items()
            },
            "selfUri": f"/api/v2/recording/mediaretentionpolicies/{pid}",
        }
        if errors:
            policy["policyErrors"] = {"policyErrorMessages": errors}
        policies.append(policy)
    return policies
