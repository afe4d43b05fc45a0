"""Recording encryption: key configurations, keys, the rotation schedule and recording settings."""

from __future__ import annotations

from gcevidence.datasets.model import Entity, document, table
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


RECORDING_KEY_CONFIGS = table(
    "recording_key_configs",
    "id key_configuration_type url last_error_code last_error_message",
    (ENDPOINTS["key_configurations"],),
    row=key_config_row,
    scrub=without_api_key,
    removes=API_KEY_REMOVED,
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
)
KEY_ROTATION_SCHEDULE = document("key_rotation_schedule", (ENDPOINTS["rotation_schedule"],))
RECORDING_SETTINGS = document("recording_settings", (ENDPOINTS["recording_settings"],))
