"""A tiny hand-built org for check unit tests: every check passes on it unchanged."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path

from gcevidence.catalog import effective_thresholds
from gcevidence.checks import CheckContext, run_checks, run_one
from gcevidence.checks.registry import REGISTRY
from gcevidence.config import load_params
from gcevidence.datasets import SPECS
from gcevidence.snapshot import Snapshot, SnapshotWriter

TODAY = dt.date(2026, 11, 30)
PARAMS = """\
period: {end: 2026-11-30, days: 10}
baseline: pci-dss-4.0.1
privileged_roles:
  Master Admin: {allowed_groups: [GC-Platform-Admins], max_holders: 2,
                 allowed_granters: [GC-Platform-Admins]}
  Quality Evaluator: {allowed_groups: [QA Department],
                      allowed_granters: [GC-Platform-Admins, QA Leads]}
sod_conflicts:
  - [Quality Evaluator, Quality Administrator]
sensitive_permissions:
  recording:recording:view: {allowed_groups: [QA Department, GC-Platform-Admins]}
"""


def user(
    uid,
    name,
    email,
    state="active",
    last_login="2026-11-22T09:00:00Z",  # inside the period (2026-11-21..30)
    welcome="2026-01-05T09:00:00Z",
    last_token="",
):
    return {
        "id": uid,
        "name": name,
        "email": email,
        "username": email,
        "state": state,
        "date_last_login": last_login,
        "date_welcome_sent": welcome,
        "last_token_issued": last_token,
        "division_id": "d-home",
        "division_name": "Home",
    }


def grant(role_id, role_name, subject_id, subject_name, subject_type="PC_USER", division="Home"):
    return {
        "role_id": role_id,
        "role_name": role_name,
        "subject_id": subject_id,
        "subject_name": subject_name,
        "subject_type": subject_type,
        "division_id": f"d-{division.lower()}",
        "division_name": division,
    }


def event(
    eid,
    when,
    service="Directory",
    entity_type="User",
    action="Update",
    entity_id="",
    entity_name="",
    user_id="u-alice",
    property_changes="[]",
    status="SUCCESS",
):
    return {
        "id": eid,
        "event_date": when,
        "service_name": service,
        "level": "USER",
        "action": action,
        "entity_type": entity_type,
        "entity_id": entity_id,
        "entity_name": entity_name,
        "user_id": user_id,
        "user_name": "",
        "client_id": "",
        "status": status,
        "remote_ip": "",
        "property_changes": property_changes,
        "context": "{}",
    }


def state_change(eid, when, user_id, new="inactive"):
    changes = [{"property": "state", "oldValues": ["active"], "newValues": [new]}]
    return event(eid, when, entity_id=user_id, property_changes=json.dumps(changes))


def member_add(eid, when, grantee, role_id, granter, org="org-1"):
    return event(
        eid,
        when,
        service="PeoplePermissions",
        entity_type="Role",
        action="MemberAdd",
        entity_id=role_id,
        entity_name=f"{grantee}--{role_id}--{org}",
        user_id=granter,
    )


def base_data() -> dict:
    days = [dt.date(2026, 11, 20) + dt.timedelta(days=i) for i in range(11)]
    return {
        "organization": {"id": "org-1", "name": "Test Org"},
        "users": [
            user("u-alice", "Alice Admin", "Alice@Example.com"),
            user("u-bob", "Bob Agent", "bob@example.com"),
            user("u-carol", "Carol Leaver", "carol@example.com", state="inactive"),
            user(
                "u-dave",
                "Dave Deleted",
                "dave@example.com",
                state="deleted",
                last_login="2020-01-01T00:00:00Z",
            ),
        ],
        "hr_roster": [
            {
                "employee_id": "E1",
                "email": "alice@example.com",
                "status": "active",
                "termination_date": "",
                "department": "IT",
                "groups": "GC-Platform-Admins;Staff",
            },
            {
                "employee_id": "E2",
                "email": "bob@example.com",
                "status": "active",
                "termination_date": "",
                "department": "Sales",
                "groups": "Sales",
            },
            {
                "employee_id": "E3",
                "email": "carol@example.com",
                "status": "terminated",
                "termination_date": "2026-11-25",
                "department": "Sales",
                "groups": "Sales",
            },
        ],
        "roles": [
            {"id": "r-ma", "name": "Master Admin"},
            {"id": "r-emp", "name": "employee"},
            {"id": "r-qe", "name": "Quality Evaluator"},
            {"id": "r-qa", "name": "Quality Administrator"},
        ],
        "divisions": [{"id": "d-home", "name": "Home", "home_division": "true"}],
        "role_grants": [
            grant("r-ma", "Master Admin", "u-alice", "Alice Admin"),
            grant("r-emp", "employee", "u-alice", "Alice Admin"),
            grant("r-emp", "employee", "u-bob", "Bob Agent"),
            grant("r-ma", "Master Admin", "g-1", "Admins group", subject_type="PC_GROUP"),
        ],
        "group_members": [],
        "unused_roles": [],
        "genesys_login": {"id": "pc-1", "name": "PureCloud", "disabled": False},
        "identity_providers": [],
        "auth_settings": {
            "multifactorAuthenticationRequired": True,
            "passwordRequirements": {
                "minimumLength": 12,
                "minimumDigits": 1,
                "minimumLetters": 1,
                "expirationDays": 90,
            },
        },
        "token_timeout": {"idleTokenTimeoutSeconds": 900, "enableIdleTokenTimeout": True},
        "groups": [],
        "integrations": [
            {
                "id": "int-siem",
                "name": "Audit events to the SIEM",
                "integration_type": "amazon-eventbridge-source",
                "integration_type_name": "Amazon EventBridge Source",
                "intended_state": "ENABLED",
                "reported_state": "ACTIVE",
                "reported_detail": "",
                "reported_at": "2026-11-01T08:00:00.000Z",
            }
        ],
        "recording_key_configs": [
            {
                "id": "kc-1",
                "key_configuration_type": "KmsSymmetric",
                "url": "arn:aws:kms:x",
                "last_error_code": "",
                "last_error_message": "",
            }
        ],
        "recording_keys": [
            {
                "id": "k-1",
                "name": "key one",
                "create_date": "2026-06-01T00:00:00Z",
                "key_configuration_type": "KmsSymmetric",
            }
        ],
        "key_rotation_schedule": {"id": "krs", "period": "MONTHLY"},
        "recording_settings": {},
        "trunks": [
            {
                "id": "t-1",
                "name": "Carrier A",
                "state": "active",
                "trunk_type": "EXTERNAL",
                "transport": "tls",
                "srtp_cipher_suites": "AES_CM_128_HMAC_SHA1_80",
            },
            {
                "id": "t-2",
                "name": "Old carrier",
                "state": "inactive",
                "trunk_type": "EXTERNAL",
                "transport": "udp",
                "srtp_cipher_suites": "",
            },
            {
                "id": "t-3",
                "name": "Phones",
                "state": "active",
                "trunk_type": "PHONE",
                "transport": "udp",
                "srtp_cipher_suites": "",
            },
        ],
        "audit_events": [event(f"e-{d}", f"{d}T12:00:00Z", action="View") for d in days]
        + [
            state_change("e-carol-off", "2026-11-25T10:00:00Z", "u-carol"),
            member_add("e-grant-ok", "2026-11-21T08:00:00Z", "u-alice", "r-ma", "u-alice"),
        ],
        "audit_queries": [
            {
                "transaction_id": "q-1",
                "service_name": "Directory",
                "interval_start": "2026-11-20T00:00:00Z",
                "interval_end": "2026-12-01T00:00:00Z",
                "state": "Succeeded",
                "result_count": "12",
                "pages": "1",
            }
        ],
        "audit_retention_probe": {
            "events_found": 4,
            "probe_start": "2025-11-30T00:00:00Z",
            "probe_end": "2025-12-07T00:00:00Z",
            "required_days": 365,
        },
        # issue 9, access checks (cov-access)
        "role_permissions": [
            role_permission("r-ma", "Master Admin", "*:*:*"),
            role_permission("r-emp", "employee", "directory:user:view"),
            role_permission("r-qe", "Quality Evaluator", "quality:evaluation:add"),
            role_permission("r-qe", "Quality Evaluator", "recording:recording:view"),
            role_permission("r-qa", "Quality Administrator", "quality:evaluationForm:add"),
        ],
        "sensitive_roles": [
            {
                "permission": "recording:recording:view",
                "role_id": "r-qe",
                "role_name": "Quality Evaluator",
            }
        ],
        "oauth_clients": [
            oauth_client("c-etl", "Nightly ETL", role_ids="r-emp"),
            oauth_client("c-old", "Old bot", state="disabled", grant_type="PASSWORD"),
        ],
        "oauth_client_usage": [client_usage("c-etl", "Nightly ETL", 1200)],
        "trustees": [trustee("t-audit", "Audit Firm", expires="2026-12-30T00:00:00Z")],
        "recording_retention": [retention("p-std", "Standard", delete_after_days="395")],
    }


def role_permission(role_id, role_name, permission, condition=""):
    return {
        "role_id": role_id,
        "role_name": role_name,
        "permission": permission,
        "condition": condition,
    }


def oauth_client(
    cid,
    name,
    state="active",
    grant_type="CLIENT-CREDENTIALS",
    role_ids="",
    created="2026-01-10T09:00:00Z",
):
    return {
        "id": cid,
        "name": name,
        "state": state,
        "grant_type": grant_type,
        "token_validity_seconds": "86400",
        "date_created": created,
        "date_modified": created,
        "created_by_id": "u-alice",
        "date_to_delete": "",
        "role_ids": role_ids,
        "role_divisions": ";".join(f"{r}@d-home" for r in role_ids.split(";") if r),
        "description": "",
    }


def client_usage(cid, name, requests, last="2026-11-29T00:00:00.000Z"):
    return {
        "client_id": cid,
        "client_name": name,
        "days": "90",
        "requests": str(requests),
        "last_request_date": last if requests else "",
        "query_status": "Complete",
        "execution_id": f"x-{cid}",
    }


def trustee(tid, name, enabled="true", full="false", expires=""):
    return {
        "id": tid,
        "organization_id": tid,
        "organization_name": name,
        "enabled": enabled,
        "has_full_access": full,
        "uses_default_role": "true",
        "is_trusted_user": "false",
        "date_created": "2026-10-01T10:00:00Z",
        "date_expired": expires,
        "created_by_id": "u-alice",
        "created_by_name": "Alice Admin",
    }


def retention(pid, name, media="call", enabled="true", retain="true", **actions):
    row = {
        "policy_id": pid,
        "policy_name": name,
        "enabled": enabled,
        "order": "1",
        "media_type": media,
        "retain_recording": retain,
        "delete_recording": "false",
        "always_delete": "false",
        "delete_after_days": "",
        "archive_after_days": "",
        "archive_storage": "",
        "export_integration_id": "",
        "export_integration_name": "",
        "policy_errors": "",
        "modified_date": "2026-10-01T10:00:00Z",
    }
    row.update(actions)
    return row


DENIED = "denied"  # value of a dataset in `data` that the OAuth client may not read
MISSING = "missing"  # value of a dataset that was not given (hr_roster without params)


def build_snapshot(root: Path, data: dict) -> Snapshot:
    w = SnapshotWriter(root)
    for name, value in data.items():
        if value == DENIED:
            w.mark_unavailable(
                name,
                "403 missing.any.permissions",
                missing_permission=SPECS[name].permission or "some:permission",
            )
        elif value == MISSING:
            w.mark_unavailable(name, "no HR roster configured (params hr.roster)")
        elif SPECS[name].kind == "table":
            w.write_table(name, value, expected_rows=len(value))
        else:
            w.write_object(name, value)
    w.finish(org={"id": "org-1", "name": "Test Org"})
    return Snapshot(root)


class World:
    """Data + params for one test; `ctx()` writes the snapshot and builds the CheckContext."""

    def __init__(self, tmp_path: Path):
        self.tmp_path = tmp_path
        self.data = copy.deepcopy(base_data())
        self.params_text = PARAMS
        self.today = TODAY
        self._n = 0

    def ctx(self, previous=None) -> CheckContext:
        self._n += 1
        root = self.tmp_path / f"run{self._n}"
        snap = build_snapshot(root, self.data)
        ppath = self.tmp_path / f"params{self._n}.yaml"
        ppath.write_text(self.params_text)
        params = load_params(ppath)
        return CheckContext(
            snap, params, effective_thresholds(params), today=self.today, previous=previous
        )

    def run(self, check_id: str):
        return run_one(self.ctx(), REGISTRY[check_id])

    def run_all(self):
        return run_checks(self.ctx())
