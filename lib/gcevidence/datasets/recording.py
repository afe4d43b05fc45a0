"""Recordings: key configurations, keys, the rotation schedule, settings and retention policies."""

from __future__ import annotations

from gcevidence.datasets.model import Entity, compact, document, flag, table
from gcevidence.endpoints import ENDPOINTS

# apiKey is a Hawk credential of the customer's key manager: it never reaches the pack.
API_KEY_REMOVED = "apiKey (the key manager's credential)"


def key_config_row(config: Entity) -> Entity:
    """One recording_key_configs row."""
    error = config.get("lastError") or {}
    return {
        "id": config.get("id", ""),
        "key_configuration_type": config.get("keyConfigurationType", ""),
        "url": config.get("url", ""),
        "last_error_code": error.get("code", ""),
        "last_error_message": error.get("message", ""),
    }


def without_api_key(config: Entity) -> Entity:
    """The key configuration without its apiKey."""
    return {k: v for k, v in config.items() if k != "apiKey"}


def api_key_of(config: Entity) -> list[str]:
    """The apiKey without_api_key removes."""
    return [config["apiKey"]] if isinstance(config.get("apiKey"), str) else []


RECORDING_KEY_CONFIGS = table(
    "recording_key_configs",
    "id key_configuration_type url last_error_code last_error_message",
    (ENDPOINTS["key_configurations"],),
    row=key_config_row,
    scrub=without_api_key,
    removes=API_KEY_REMOVED,
    withheld=api_key_of,
)


def key_row(key: Entity) -> Entity:
    """One recording_keys row."""
    return {
        "id": key.get("id", ""),
        "name": key.get("name", ""),
        "create_date": key.get("createDate", ""),
        "key_configuration_type": key.get("keyConfigurationType", ""),
    }


def without_local_api_key(key: Entity) -> Entity:
    """The recording key without the apiKey of its local encryption configuration."""
    local = key.get("localEncryptionConfiguration")
    if isinstance(local, dict) and "apiKey" in local:
        return {**key, "localEncryptionConfiguration": without_api_key(local)}
    return key


RECORDING_KEYS = table(
    "recording_keys",
    "id name create_date key_configuration_type",
    (ENDPOINTS["recording_keys"],),
    row=key_row,
    scrub=without_local_api_key,
    removes=f"localEncryptionConfiguration.{API_KEY_REMOVED}",
    withheld=lambda key: api_key_of(key.get("localEncryptionConfiguration") or {}),
)
KEY_ROTATION_SCHEDULE = document("key_rotation_schedule", (ENDPOINTS["rotation_schedule"],))
RECORDING_SETTINGS = document("recording_settings", (ENDPOINTS["recording_settings"],))

# The media types a retention policy sets actions for (MediaPolicies); a policy without any
# carries its actions at the top level (older policies), reported as media type "all".
MEDIA_POLICIES = {
    "callPolicy": "call",
    "chatPolicy": "chat",
    "emailPolicy": "email",
    "messagePolicy": "message",
}


def retention_rows(policy: Entity) -> list[Entity]:
    """One recording_retention row per media type a retention policy acts on."""
    media = policy.get("mediaPolicies") or {}
    acting = [(MEDIA_POLICIES[k], (media.get(k) or {}).get("actions")) for k in MEDIA_POLICIES]
    acting = [(kind, actions) for kind, actions in acting if actions]
    if not acting:
        acting = [("all", policy.get("actions") or {})]
    errors = (policy.get("policyErrors") or {}).get("policyErrorMessages") or []
    about = {
        "policy_id": policy.get("id", ""),
        "policy_name": policy.get("name", ""),
        "enabled": flag(policy.get("enabled")),
        "order": policy.get("order", ""),
    }
    state = {
        "policy_errors": compact(
            [
                {k: e.get(k) for k in ("errorCode", "statusCode", "userMessage") if e.get(k)}
                for e in errors
                if isinstance(e, dict)
            ]
        ),
        "modified_date": policy.get("modifiedDate", ""),
    }
    return [
        {**about, "media_type": kind, **_retention(actions), **state} for kind, actions in acting
    ]


def _retention(actions: Entity) -> Entity:
    duration = actions.get("retentionDuration") or {}
    archive = duration.get("archiveRetention") or {}
    export = actions.get("integrationExport") or {}
    integration = export.get("integration") or {}
    return {
        "retain_recording": flag(actions.get("retainRecording")),
        "delete_recording": flag(actions.get("deleteRecording")),
        "always_delete": flag(actions.get("alwaysDelete")),
        "delete_after_days": (duration.get("deleteRetention") or {}).get("days", ""),
        "archive_after_days": archive.get("days", ""),
        "archive_storage": archive.get("storageMedium", ""),
        "export_integration_id": integration.get("id", "") if export else "",
        "export_integration_name": integration.get("name", "") if export else "",
    }


RECORDING_RETENTION = table(
    "recording_retention",
    "policy_id policy_name enabled order media_type retain_recording delete_recording "
    "always_delete delete_after_days archive_after_days archive_storage export_integration_id "
    "export_integration_name policy_errors modified_date",
    (ENDPOINTS["media_retention_policies"],),
    rows=retention_rows,
    about="one row per (media retention policy, media type it acts on)",
)
