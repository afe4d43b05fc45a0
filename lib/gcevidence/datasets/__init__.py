"""The named datasets a run collects: the contract between collection and checks.

A *table* is written as normalised CSV (`evidence/<name>.csv`, one row per record, the
declared columns in this order) and the raw API entities, minus secrets, as JSON lines
(`evidence/raw/<name>.jsonl`). An *object* is one JSON document (`evidence/<name>.json`).
Dates are ISO-8601 UTC strings ending in `Z`; empty string means absent.

Each dataset is declared once, next to its normaliser, in the module of its area; SPECS lists
them in the order the collector reads them (docs/datasets.md).
"""

from __future__ import annotations

from types import MappingProxyType

from gcevidence.datasets import (
    api_access,
    audit,
    collector,
    directory,
    hr,
    integrations,
    recording,
    sign_in,
    telephony,
)
from gcevidence.datasets.model import DatasetSpec

_ORDER = (
    directory.ORGANIZATION,
    directory.USERS,
    directory.UNUSED_ROLES,
    directory.ROLES,
    directory.ROLE_GRANTS,
    directory.ROLE_PERMISSIONS,
    directory.GROUP_MEMBERS,
    directory.SENSITIVE_ROLES,
    sign_in.GENESYS_LOGIN,
    sign_in.IDENTITY_PROVIDERS,
    directory.DIVISIONS,
    collector.COLLECTOR_CLIENT,
    sign_in.AUTH_SETTINGS,
    sign_in.TOKEN_TIMEOUT,
    directory.GROUPS,
    recording.RECORDING_KEY_CONFIGS,
    recording.RECORDING_KEYS,
    recording.KEY_ROTATION_SCHEDULE,
    recording.RECORDING_SETTINGS,
    recording.RECORDING_RETENTION,
    api_access.OAUTH_CLIENTS,
    api_access.OAUTH_CLIENT_USAGE,
    api_access.TRUSTEES,
    telephony.TRUNKS,
    integrations.INTEGRATIONS,
    audit.AUDIT_EVENTS,
    audit.AUDIT_QUERIES,
    audit.AUDIT_RETENTION_PROBE,
    audit.AUDIT_DAYS,
    hr.HR_ROSTER,
)
SPECS: MappingProxyType = MappingProxyType({spec.name: spec for spec in _ORDER})


def _validate() -> None:
    problems = [f"dataset {s.name}: {p}" for s in _ORDER for p in s.problems()]
    if len(SPECS) != len(_ORDER):
        problems.append("a dataset name is declared twice")
    if problems:
        raise RuntimeError("; ".join(problems))


_validate()

__all__ = ["SPECS", "DatasetSpec"]
