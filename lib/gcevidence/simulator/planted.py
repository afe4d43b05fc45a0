"""Ground truth: the exceptions each check must report under params/demo.yaml's policy.

Computed from the simulator's own model by the rules of PLANTED.md, independently of the
checks package, so the two can be compared.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import ipaddress
import zoneinfo

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from gcevidence.catalog.permissions import admin_patterns
from gcevidence.simulator.audit import AuditQuery
from gcevidence.simulator.org import EVENTBRIDGE, Org

# Mirrors params/demo.yaml (a test keeps them in step).
DEMO_POLICY = {
    "privileged_roles": {
        "Master Admin": {
            "allowed_groups": ["GC-Platform-Admins"],
            "max_holders": 3,
            "allowed_granters": ["GC-Platform-Admins"],
        },
        "Quality Evaluator": {
            "allowed_groups": ["QA Department"],
            "allowed_granters": ["GC-Platform-Admins", "QA Leads"],
        },
    },
    "sod_conflicts": [["Quality Evaluator", "Quality Administrator"]],
    "period_days": 90,
    "hr_timezone": "Europe/Paris",
    "sensitive_permissions": {
        "recording:recording:view": {"allowed_groups": ["QA Department", "GC-Platform-Admins"]},
        "audits:audit:view": {"allowed_groups": ["GC-Platform-Admins"]},
    },
    "thresholds": {"recording_retention_max_days": 730},
}
DORMANT_DAYS = 90
OAUTH_CLIENT_UNUSED_DAYS = 90
TRUSTEE_MAX_DAYS = 90
DEPROVISION_HOURS = 24
CRYPTOPERIOD_DAYS = 365
PASSWORD_MIN_LENGTH = 12
USABLE_KEY_TYPES = ("KmsSymmetric", "LocalKeyManager")
IDLE_TIMEOUT_MINUTES = 15
IDP_CERTIFICATE_WARNING_DAYS = 30

CHECK_IDS = (
    "access.terminated_active",
    "access.deprovision_latency",
    "access.orphan_accounts",
    "access.dormant_accounts",
    "access.privileged_outside_group",
    "access.privileged_count",
    "access.undeclared_privileged_roles",
    "access.unused_roles",
    "access.sod_conflicts",
    "auth.password_policy",
    "auth.mfa_required",
    "crypto.recording_keys",
    "crypto.key_rotation",
    "network.trunk_tls",
    "network.trunk_srtp",
    "logging.audit_completeness",
    "logging.privileged_grants",
    "logging.retention",
    "logging.activity_gaps",
    "auth.idle_timeout",
    "auth.sso_providers",
    "network.ip_allowlist",
    "logging.siem_export",
    # issue 9, access checks (cov-access); access.role_definition_drift needs a previous pack
    "access.oauth_clients",
    "access.trustees",
    "data.recording_retention",
    "access.sensitive_permissions",
)


def compute_planted(org: Org, policy: dict = DEMO_POLICY) -> dict[str, list[str]]:
    """check id -> sorted subject ids a correct check lists under `policy`, for the period
    that ends on the day before `org.now`."""
    # The period ends on the last complete day before `now`; it holds exactly period_days
    # days, and "as of" measurements are taken at its end (the midnight starting today).
    period_end = org.now.date() - dt.timedelta(days=1)
    period_start = period_end - dt.timedelta(days=policy["period_days"] - 1)
    as_of = dt.datetime.combine(org.now.date(), dt.time.min, tzinfo=dt.UTC)
    period = (dt.datetime.combine(period_start, dt.time.min, tzinfo=dt.UTC), as_of)
    active = [u for u in org.users.values() if u.state == "active"]
    roster = org.roster
    groups_of = {
        u.id: set(roster[u.email.lower()].groups) if u.email.lower() in roster else set()
        for u in org.users.values()
    }
    role_id = {r.name: r.id for r in org.roles}
    # A person holds a role granted to them or to a group they belong to.
    held: dict[str, set[str]] = {
        u.id: {g.role_id for g in org.grants.get(u.id, ())} for u in active
    }
    for group in org.groups:
        for uid in group.member_ids:
            if uid in held:
                held[uid] |= {g.role_id for g in org.grants.get(group.id, ())}
    out: dict[str, set[str]] = {c: set() for c in CHECK_IDS}

    for u in active:
        row = roster.get(u.email.lower())
        if row is None:
            out["access.orphan_accounts"].add(u.id)
        elif row.status == "terminated":
            out["access.terminated_active"].add(u.id)
        # Last sign-in by any method: a password login or a token (SSO never sets the login).
        last = u.last_activity() or u.date_welcome_sent
        if last is not None and (as_of - last).days > DORMANT_DAYS:
            out["access.dormant_accounts"].add(u.id)
        if org.unused.get(u.id):
            out["access.unused_roles"].add(u.id)
        for a, b in policy["sod_conflicts"]:
            if role_id[a] in held[u.id] and role_id[b] in held[u.id]:
                out["access.sod_conflicts"].add(u.id)

    for name, pol in policy["privileged_roles"].items():
        holders = [u for u in active if role_id[name] in held[u.id]]
        for u in holders:
            if not groups_of[u.id] & set(pol.get("allowed_groups", ())):
                out["access.privileged_outside_group"].add(u.id)
        # OAuth clients and trustees are never people in the allowed groups.
        others = [
            sid
            for sid, subject in org.subjects.items()
            if any(g.role_id == role_id[name] for g in org.grants.get(sid, ()))
        ]
        if pol.get("allowed_groups"):
            out["access.privileged_outside_group"].update(others)
        if pol.get("max_holders") is not None and len(holders) + len(others) > pol["max_holders"]:
            out["access.privileged_count"].add(name)

    # Roles with an administrative permission (the catalog's patterns) that the policy leaves
    # out, held by an active person (directly or through a group), a client or a trustee.
    globs = [p.pattern for p in admin_patterns()]
    for r in org.roles:
        if r.name in policy["privileged_roles"]:
            continue
        if not any(fnmatch.fnmatchcase(perm, g) for perm in r.permissions for g in globs):
            continue
        people = any(r.id in held[u.id] for u in active)
        others = any(
            any(g.role_id == r.id for g in org.grants.get(sid, ())) for sid in org.subjects
        )
        if people or others:
            out["access.undeclared_privileged_roles"].add(r.name)

    # De-provisioning latency and privileged grants come from the audit trail of the period.
    q_dir = AuditQuery(period[0], period[1], "Directory", (("EntityType", "User"),), False)
    removed: dict[str, dt.datetime] = {}
    for e in org.audit.all_matches(q_dir):
        is_off = e.action in ("Delete", "Deactivate") or any(
            p == "state" and "inactive" in new for p, _old, new in e.property_changes
        )
        if is_off:
            removed.setdefault(e.entity_id, e.ts)
    by_email_user = {u.email.lower(): u for u in org.users.values()}
    for email, row in roster.items():
        user = by_email_user.get(email)
        if row.status != "terminated" or user is None or user.id not in removed:
            continue
        # The termination date is a day in the roster's timezone; the delay runs from its start.
        zone = zoneinfo.ZoneInfo(policy.get("hr_timezone", "UTC"))
        start = dt.datetime.combine(row.termination_date, dt.time.min, tzinfo=zone)
        if removed[user.id] - start > dt.timedelta(hours=DEPROVISION_HOURS):
            out["access.deprovision_latency"].add(user.id)

    q_roles = AuditQuery(
        period[0],
        period[1],
        "PeoplePermissions",
        (("EntityType", "Role"), ("Action", "MemberAdd")),
        False,
    )
    for e in org.audit.all_matches(q_roles):
        # The role as the org planted it, whichever shape the event was sent in.
        _action, granted_role, _grantee = org.member_events.get(e.id, ("", e.entity_id, ""))
        for name, pol in policy["privileged_roles"].items():
            if granted_role == role_id[name] and not (
                groups_of.get(e.user_id or "", set()) & set(pol.get("allowed_granters", ()))
            ):
                out["logging.privileged_grants"].add(e.id)

    day = period_start
    while day <= period_end:
        if org.audit.count(day) == 0:
            out["logging.activity_gaps"].add(day.isoformat())
        day += dt.timedelta(days=1)

    # With Genesys login off (SSO only), Genesys' password and MFA settings are not used:
    # those checks are not_evaluable (compute_statuses) and list nothing.
    pw = org.auth_settings["passwordRequirements"]
    weak = {
        "minimumLength": pw["minimumLength"] < PASSWORD_MIN_LENGTH,
        "minimumDigits": pw["minimumDigits"] < 1,
        "minimumLetters": pw["minimumLetters"] < 1,
        "expirationDays": not pw["expirationDays"] or pw["expirationDays"] > 90,
    }
    if native_login(org):
        out["auth.password_policy"].update(
            f"passwordRequirements.{k}" for k, v in weak.items() if v
        )
        if not org.auth_settings["multifactorAuthenticationRequired"]:
            out["auth.mfa_required"].add("multifactorAuthenticationRequired")

    usable = [c for c in org.key_configs if c["keyConfigurationType"] in USABLE_KEY_TYPES]
    out["crypto.recording_keys"].update(c["id"] for c in org.key_configs if c.get("lastError"))
    if not usable:
        out["crypto.recording_keys"].add("keyconfigurations")
    if org.rotation["period"] == "DISABLED":  # YEARLY (365 d) fits the 365-day cryptoperiod
        out["crypto.key_rotation"].add("rotationschedule.period")
    if org.recording_keys:
        newest = max(org.recording_keys, key=lambda k: k["createDate"])
        if (period_end - newest["createDate"].date()).days > CRYPTOPERIOD_DAYS:
            out["crypto.key_rotation"].add(newest["id"])

    for t in org.trunks:
        if t.state != "active" or t.trunk_type != "EXTERNAL" or t.managed:
            continue  # a managed trunk is operated by Genesys: never an exception
        if t.transport != "tls":
            out["network.trunk_tls"].add(t.id)
        if not t.srtp:
            out["network.trunk_srtp"].add(t.id)
    out["access.oauth_clients"].update(_oauth_client_cases(org, policy))
    out["access.trustees"].update(_trustee_cases(org))
    out["data.recording_retention"].update(_retention_cases(org, policy))
    out["access.sensitive_permissions"].update(_sensitive_cases(org, policy, held, groups_of))
    _plant_sessions_and_exports(org, out)
    return {k: sorted(v) for k, v in out.items()}


def _plant_sessions_and_exports(org: Org, out: dict[str, set[str]]) -> None:
    """The idle timeouts, identity-provider certificates, IP allowlist and audit export."""
    today = org.now.date()
    limit = IDLE_TIMEOUT_MINUTES * 60
    timeout = org.token_timeout
    if timeout.get("enableIdleTokenTimeout") is not True:
        out["auth.idle_timeout"].add("enableIdleTokenTimeout")
    elif timeout.get("idleTokenTimeoutSeconds", limit + 1) > limit:
        out["auth.idle_timeout"].add("idleTokenTimeoutSeconds")
    if timeout.get("inactivityTimeoutGroupsEnabled"):
        for bundle in timeout.get("inactivityTimeoutGroupBundles", ()):
            if bundle["timeoutSeconds"] > limit:
                out["auth.idle_timeout"].update(bundle["groups"])

    # The period ends yesterday; a certificate expiring by then or within the window after it.
    window_end = dt.datetime.combine(
        today + dt.timedelta(days=IDP_CERTIFICATE_WARNING_DAYS), dt.time.min, tzinfo=dt.UTC
    )
    for provider in org.identity_providers:
        if provider["disabled"]:
            continue
        for pem in provider.get("certificates") or [provider["certificate"]]:
            cert = x509.load_pem_x509_certificate(pem.encode("ascii"))
            if cert.not_valid_after_utc <= window_end:
                out["auth.sso_providers"].add(cert.fingerprint(hashes.SHA256()).hex())

    for entry in org.auth_settings.get("ipAddressAllowlist", ()):
        if ipaddress.ip_network(entry, strict=False).prefixlen == 0:
            out["network.ip_allowlist"].add(entry)

    for integration in org.integrations:
        code = integration["reportedState"]["code"]
        if integration["integrationType"]["id"] != EVENTBRIDGE:
            continue
        if (integration["intendedState"] == "ENABLED" and code != "ACTIVE") or code == "ERROR":
            out["logging.siem_export"].add(integration["id"])


def siem_export_active(org: Org) -> bool:
    """Whether an Amazon EventBridge integration is enabled and reports ACTIVE."""
    return any(
        i["integrationType"]["id"] == EVENTBRIDGE
        and i["intendedState"] == "ENABLED"
        and i["reportedState"]["code"] == "ACTIVE"
        for i in org.integrations
    )


def compute_populations(org: Org, policy: dict = DEMO_POLICY) -> dict[str, list[str]]:
    """population -> sorted ids a correct build lists (PLANTED.md: populations): joiners,
    role_changes and privileged_grants by audit event id, leavers by HR employee id."""
    period_end = org.now.date() - dt.timedelta(days=1)
    start_day = period_end - dt.timedelta(days=policy["period_days"] - 1)
    start = dt.datetime.combine(start_day, dt.time.min, tzinfo=dt.UTC)
    as_of = dt.datetime.combine(org.now.date(), dt.time.min, tzinfo=dt.UTC)
    created = AuditQuery(
        start, as_of, "Directory", (("EntityType", "User"), ("Action", "Create")), False
    )
    members = AuditQuery(start, as_of, "PeoplePermissions", (("EntityType", "Role"),), False)
    globs = [p.pattern for p in admin_patterns()]
    privileged = {
        r.id
        for r in org.roles
        if r.name in policy["privileged_roles"]
        or any(fnmatch.fnmatchcase(perm, g) for perm in r.permissions for g in globs)
    }
    changes = [
        e for e in org.audit.all_matches(members) if e.action in ("MemberAdd", "MemberRemove")
    ]
    zone = zoneinfo.ZoneInfo(policy.get("hr_timezone", "UTC"))
    leavers = [
        row.employee_id
        for row in org.roster.values()
        if row.status == "terminated"
        and start <= dt.datetime.combine(row.termination_date, dt.time.min, tzinfo=zone) < as_of
    ]
    return {
        "joiners": sorted(e.id for e in org.audit.all_matches(created)),
        "role_changes": sorted(e.id for e in changes),
        "privileged_grants": sorted(
            e.id
            for e in changes
            if e.action == "MemberAdd"
            and org.member_events.get(e.id, ("", e.entity_id, ""))[1] in privileged
        ),
        "leavers": sorted(leavers),
    }


def _oauth_client_cases(org: Org, policy: dict) -> set[str]:
    """Active clients: client-credentials with a privileged role, implicit or password grant,
    or no request in the last 90 days though created before them."""
    today = org.now.date()
    privileged = {org.role(name).id for name in policy["privileged_roles"]}
    found = set()
    for c in org.oauth_clients:
        if c.state != "active":
            continue
        roles = {g.role_id for g in org.grants.get(c.id, ())}
        requests = sum(
            c.requests_on(today - dt.timedelta(days=d), today)
            for d in range(OAUTH_CLIENT_UNUSED_DAYS + 1)
        )
        old = (today - c.created.date()).days > OAUTH_CLIENT_UNUSED_DAYS
        if (
            (c.grant_type == "CLIENT-CREDENTIALS" and roles & privileged)
            or c.grant_type in ("TOKEN", "PASSWORD")
            or (requests == 0 and old)
        ):
            found.add(c.id)
    return found


def _trustee_cases(org: Org) -> set[str]:
    """Enabled, unexpired trusts with no expiry, one over 90 days ahead, or full access."""
    found = set()
    for t in org.trustees:
        expires = t.get("dateExpired")
        end = dt.datetime.fromisoformat(expires.replace("Z", "+00:00")) if expires else None
        if not t["enabled"] or (end is not None and end < org.now):
            continue
        too_long = end is None or (end.date() - org.now.date()).days > TRUSTEE_MAX_DAYS
        if too_long or t["hasFullAccess"]:
            found.add(t["id"])
    return found


def _retention_cases(org: Org, policy: dict) -> set[str]:
    """Enabled policies keeping recordings forever or too long, in error, or exporting them."""
    limit = policy["thresholds"].get("recording_retention_max_days")
    found = set()
    for p in org.retention_policies:
        if not p["enabled"]:
            continue
        if p.get("policyErrors"):
            found.add(p["id"])
        for media in p["mediaPolicies"].values():
            actions = media["actions"]
            delete = (actions.get("retentionDuration") or {}).get("deleteRetention")
            if actions.get("retainRecording") and (
                delete is None or (limit is not None and delete["days"] > limit)
            ):
                found.add(p["id"])
            if actions.get("integrationExport"):
                found.add(p["id"])
    return found


def _grants(role_permission: str, wanted: str) -> bool:
    """Whether a role's permission grants `wanted`, `*` matching any part."""
    have, want = role_permission.split(":"), wanted.split(":")
    if len(have) != 3 or len(want) != 3:
        return False
    return all(h == "*" or h == w for h, w in zip(have, want, strict=True))


def _sensitive_cases(org: Org, policy: dict, held: dict, groups_of: dict) -> set[str]:
    """Holders of a role granting a sensitive permission (wildcards too) outside its groups:
    active people directly or through a group, and every client or trustee."""
    found = set()
    for permission, pol in policy["sensitive_permissions"].items():
        roles = {r.id for r in org.roles if any(_grants(p, permission) for p in r.permissions)}
        allowed = set(pol["allowed_groups"])
        for uid, role_ids in held.items():
            if role_ids & roles and not groups_of[uid] & allowed:
                found.add(uid)
        for sid in org.subjects:
            if {g.role_id for g in org.grants.get(sid, ())} & roles:
                found.add(sid)
    return found


def native_login(org: Org) -> bool:
    """Whether people can sign in with a Genesys password (Genesys login not disabled)."""
    return not org.genesys_login["disabled"]


def enabled_providers(org: Org) -> list[str]:
    """Names of the enabled identity providers."""
    return sorted(p["name"] for p in org.identity_providers if not p["disabled"])


def compute_statuses(org: Org, planted: dict[str, list[str]]) -> dict[str, str]:
    """check id -> the status a correct check reports: fail with exceptions, else pass, except
    the password policy and MFA, which cannot be judged when sign-in goes through an identity
    provider and Genesys login is off (not_evaluable naming the provider), and the audit export,
    which without an active export asks for the manual procedure (not_evaluable)."""
    out = {c: "fail" if planted[c] else "pass" for c in CHECK_IDS}
    if not native_login(org) and enabled_providers(org):
        out["auth.password_policy"] = out["auth.mfa_required"] = "not_evaluable"
    if not planted["logging.siem_export"] and not siem_export_active(org):
        out["logging.siem_export"] = "not_evaluable"
    return out
