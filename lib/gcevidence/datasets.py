"""The named datasets a run collects: the contract between collection and checks.

A *table* is written as normalised CSV (`evidence/<name>.csv`, one row per record, the
columns below in this order) and the raw API entities as JSON lines
(`evidence/raw/<name>.jsonl`). An *object* is one JSON document (`evidence/<name>.json`).
Dates are ISO-8601 UTC strings ending in `Z`; empty string means absent.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    kind: str  # "table" | "object"
    columns: tuple[str, ...] = ()
    source: str = ""  # the API call(s) it comes from, for the report
    permission: str = ""  # the permission the API requires, "" when none


def _t(name: str, columns: str, source: str, permission: str = "") -> DatasetSpec:
    return DatasetSpec(name, "table", tuple(columns.split()), source, permission)


def _o(name: str, source: str, permission: str = "") -> DatasetSpec:
    return DatasetSpec(name, "object", (), source, permission)


SPECS: dict[str, DatasetSpec] = {
    s.name: s
    for s in (
        _o("organization", "GET /api/v2/organizations/me"),
        # date_last_login is the last username/password login only; last_token_issued is
        # the last sign-in by any method (SSO included).
        _t(
            "users",
            "id name email username state department title division_id division_name manager_id "
            "date_last_login date_welcome_sent last_token_issued",
            "GET /api/v2/users?state=any&expand=authorization,authorization.unusedRoles,"
            "dateLastLogin,dateWelcomeSent,lasttokenissued",
        ),
        # permissions: the role's `permissions` and each domain:entityName:action of its
        # permissionPolicies, `;`-separated (what access.undeclared_privileged_roles reads).
        _t(
            "roles",
            "id name description default_role_id base default user_count permission_count "
            "permissions",
            "GET /api/v2/authorization/roles?userCount=false",
            "authorization:role:view",
        ),
        _t("divisions", "id name home_division", "GET /api/v2/authorization/divisions"),
        # One row per (subject, role, division): who holds which role where.
        _t(
            "role_grants",
            "role_id role_name subject_id subject_name subject_type division_id division_name",
            "GET /api/v2/authorization/roles/{roleId}/subjectgrants",
            "authorization:role:view",
        ),
        # One row per (group, member) for every group that holds a role (PC_GROUP grants).
        _t(
            "group_members",
            "group_id group_name user_id user_name user_state",
            "GET /api/v2/groups/{groupId}/members",
        ),
        # One row per (user, role) that Genesys reports as unused by that user.
        _t(
            "unused_roles",
            "user_id role_id role_name",
            "GET /api/v2/users?expand=authorization.unusedRoles",
        ),
        _o(
            "auth_settings",
            "GET /api/v2/organizations/authentication/settings",
            "directory:organization:admin",
        ),
        _o("token_timeout", "GET /api/v2/tokens/timeout"),
        # The SAML identity providers people may sign in through.
        _t(
            "identity_providers",
            "id name provider_name disabled issuer_uri sso_target_uri display_on_login "
            "certificate_not_after",
            "GET /api/v2/identityproviders",
            "sso:provider:view",
        ),
        # Genesys Cloud's own login; disabled = "Disable Genesys Cloud Login" (SSO only).
        _o("genesys_login", "GET /api/v2/identityproviders/purecloud", "sso:provider:view"),
        _t(
            "recording_key_configs",
            "id key_configuration_type url last_error_code last_error_message",
            "GET /api/v2/recording/keyconfigurations",
            "recording:encryptionKey:view",
        ),
        _t(
            "recording_keys",
            "id name create_date key_configuration_type",
            "GET /api/v2/recording/recordingkeys",
            "recording:encryptionKey:view",
        ),
        _o(
            "key_rotation_schedule",
            "GET /api/v2/recording/recordingkeys/rotationschedule",
            "recording:encryptionKey:view",
        ),
        _o("recording_settings", "GET /api/v2/recording/settings"),
        _t(
            "trunks",
            "id name state trunk_type metabase_id managed enabled transport srtp_cipher_suites "
            "absent_properties date_created date_modified",
            "GET /api/v2/telephony/providers/edges/trunkbasesettings?expand=properties",
            "telephony:plugin:all",
        ),
        _t(
            "audit_events",
            "id event_date service_name level action entity_type entity_id entity_name user_id "
            "user_name client_id status remote_ip property_changes context",
            "POST /api/v2/audits/query + GET /api/v2/audits/query/{id}/results",
            "audits:audit:view",
        ),
        # One row per asynchronous audit query the run submitted (provenance of audit_events).
        _t(
            "audit_queries",
            "transaction_id service_name interval_start interval_end state result_count pages",
            "POST /api/v2/audits/query",
            "audits:audit:view",
        ),
        # Did the audit trail reach back as far as the baseline's retention requires?
        _o(
            "audit_retention_probe",
            "POST /api/v2/audits/query (window at the retention boundary)",
            "audits:audit:view",
        ),
        _t(
            "hr_roster",
            "employee_id email status termination_date department groups",
            "HR roster CSV (params hr.roster)",
        ),
    )
}
