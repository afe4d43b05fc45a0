"""The official Genesys SDK (PureCloudPlatformClientV2) is the judge of the simulator's wire format.

Every simulated endpoint is called through the SDK with a client-credentials login; the parsed
models must carry their key fields and no enum may have become 'outdated_sdk_version'.
"""

from __future__ import annotations

import datetime as dt

import pytest
from gcevidence.simulator import FaultConfig, SimConfig, Simulator
from gcevidence.simulator.clients import COLLECTOR_ROLE

sdk = pytest.importorskip("PureCloudPlatformClientV2")

OUTDATED = "outdated_sdk_version"
SIM_NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)


def walk(obj, path="$"):
    """Yield (path, value) for every attribute of a parsed SDK model, recursively."""
    if isinstance(obj, list):
        for i, item in enumerate(obj):
            yield from walk(item, f"{path}[{i}]")
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from walk(v, f"{path}.{k}")
    elif hasattr(obj, "swagger_types"):
        for attr in obj.swagger_types:
            yield from walk(getattr(obj, attr), f"{path}.{attr}")
    else:
        yield path, obj


def assert_current(model) -> None:
    stale = [p for p, v in walk(model) if v == OUTDATED]
    assert not stale, f"enum values unknown to the SDK at {stale}"


@pytest.fixture(scope="module")
def sdk_sim():
    sim = Simulator(
        SimConfig(users=60, audit_events_per_day=40, now=SIM_NOW, faults=FaultConfig(audit_polls=1))
    ).start()
    client = sdk.api_client.ApiClient(host=sim.base_url).get_client_credentials_token(
        sim.client_id, sim.client_secret
    )
    yield sim, client
    sim.stop()


def test_users(sdk_sim):
    sim, client = sdk_sim
    users = sdk.UsersApi(client)
    listing = users.get_users(
        page_size=100,
        state="any",
        expand=["authorization", "authorization.unusedRoles", "dateLastLogin", "dateWelcomeSent"],
    )
    assert_current(listing)
    assert listing.total == 60 and listing.page_count == 1 and listing.entities
    assert listing.first_uri.startswith("/api/v2/users?pageSize=100&pageNumber=1")
    assert {u.state for u in listing.entities} == {"active", "inactive", "deleted"}
    u = next(u for u in listing.entities if u.state == "active" and u.date_last_login)
    assert isinstance(u.date_last_login, dt.datetime) and u.date_last_login.tzinfo
    sim.faults.token_drop_rate = 0
    tokens = users.get_users(page_size=100, expand=["lasttokenissued"]).entities
    issued = [t.last_token_issued.date_issued for t in tokens if t.last_token_issued]
    assert len(issued) > len(tokens) / 2 and all(d.tzinfo for d in issued)
    assert users.get_user(u.id, expand=["lasttokenissued"]).last_token_issued.date_issued
    assert u.authorization.roles and u.authorization.roles[0].name
    assert u.division.id and u.email and u.self_uri == f"/api/v2/users/{u.id}"
    one = users.get_user(u.id, expand=["dateLastLogin"])
    assert_current(one)
    assert one.id == u.id and one.date_last_login == u.date_last_login
    roles = users.get_user_roles(u.id)
    assert_current(roles)
    assert "employee" in {r.name for r in roles.roles} and roles.permissions


def test_authorization(sdk_sim):
    sim, client = sdk_sim
    auth = sdk.AuthorizationApi(client)
    roles = auth.get_authorization_roles(page_size=100)
    assert_current(roles)
    master = next(r for r in roles.entities if r.name == "Master Admin")
    assert master.default_role_id == "masterAdmin" and master.user_count == 5
    assert master.permissions
    uncounted = auth.get_authorization_roles(page_size=100, user_count=False)
    assert all(r.user_count is None for r in uncounted.entities)
    one = auth.get_authorization_role(master.id)
    assert_current(one)
    assert one.name == "Master Admin" and one.user_count == 5
    refs = auth.get_authorization_role_users(master.id)
    assert_current(refs)
    assert refs.total == 5 and refs.entities[0].id
    grants = auth.get_authorization_role_subjectgrants(master.id, page_size=100)
    assert_current(grants)
    kinds = {g.type for g in grants.entities}
    assert kinds == {"PC_USER", "PC_GROUP", "PC_OAUTH_CLIENT", "PC_TRUSTEE_USER"}
    person = next(g for g in grants.entities if g.type == "PC_USER")
    assert person.divisions[0].id
    subject = auth.get_authorization_subject(person.id, include_duplicates=True)
    assert_current(subject)
    g = subject.grants[0]
    assert g.role.name and g.division.id and isinstance(g.grant_made_at, dt.datetime)
    divisions = auth.get_authorization_divisions()
    assert_current(divisions)
    assert divisions.total == 5 and any(d.home_division for d in divisions.entities)
    assert auth.get_authorization_divisions_home().name == "Home"


def test_organization_and_tokens(sdk_sim):
    sim, client = sdk_sim
    org = sdk.OrganizationApi(client)
    me = org.get_organizations_me()
    assert_current(me)
    assert me.id == sim.org.id and me.state == "active" and me.product_platform
    settings = org.get_organizations_authentication_settings()
    assert_current(settings)
    assert settings.multifactor_authentication_required is False
    assert settings.password_requirements.minimum_length == 8
    assert settings.ip_address_allowlist == ["203.0.113.0/24", "198.51.100.16/28", "0.0.0.0/0"]
    assert settings.inactivity_timeout_exclusions
    timeout = sdk.TokensApi(client).get_tokens_timeout()
    assert_current(timeout)
    assert timeout.idle_token_timeout_seconds == 600 and timeout.enable_idle_token_timeout
    assert timeout.inactivity_timeout_unit == "Minutes"
    assert timeout.inactivity_timeout_groups_enabled is True
    bundles = timeout.inactivity_timeout_group_bundles
    assert [(b.priority, b.timeout_seconds, b.inactivity_timeout_unit) for b in bundles] == [
        (1, 14400, "Hours"),
        (2, 600, "Minutes"),
    ]
    assert bundles[0].groups == [sim.org.named["long_idle_group"]]


def test_recording(sdk_sim):
    sim, client = sdk_sim
    rec = sdk.RecordingApi(client)
    configs = rec.get_recording_keyconfigurations()
    assert_current(configs)
    assert configs.total == 2
    broken = next(c for c in configs.entities if c.last_error)
    assert broken.key_configuration_type == "LocalKeyManager"
    assert broken.last_error.code and broken.last_error.status == 504
    assert rec.get_recording_keyconfiguration(broken.id).id == broken.id
    keys = rec.get_recording_recordingkeys()
    assert_current(keys)
    assert keys.total == 3 and isinstance(keys.entities[0].create_date, dt.datetime)
    schedule = rec.get_recording_recordingkeys_rotationschedule()
    assert_current(schedule)
    assert schedule.period == "DISABLED"
    settings = rec.get_recording_settings()
    assert_current(settings)
    assert settings.max_simultaneous_streams == 10


def test_trunks(sdk_sim):
    sim, client = sdk_sim
    trunks = sdk.TelephonyProvidersEdgeApi(client).get_telephony_providers_edges_trunkbasesettings(
        page_size=100, expand=["properties"]
    )
    assert_current(trunks)
    assert trunks.total == 7
    variants = {
        t.properties["trunk_transport_protocolVariant"]["value"]["instance"]
        for t in trunks.entities
        if not t.managed
    }
    assert variants == {"tls", "udp", "tcp"}
    managed = [t for t in trunks.entities if t.managed is True]
    assert [t.name for t in managed] == ["PureCloud Voice - AWS"]
    assert managed[0].properties is None
    assert managed[0].trunk_metabase.id == "external_sip_pcv_aws.json"
    assert all(t.managed is False for t in trunks.entities if t not in managed)
    assert {t.trunk_type for t in trunks.entities} == {"EXTERNAL", "PHONE"}
    assert {t.state for t in trunks.entities} == {"active", "inactive"}
    one = sdk.TelephonyProvidersEdgeApi(client).get_telephony_providers_edges_trunkbasesetting(
        trunks.entities[0].id
    )
    assert_current(one)
    assert one.id == trunks.entities[0].id and one.trunk_metabase.id


def test_audits(sdk_sim):
    sim, client = sdk_sim
    audit = sdk.AuditApi(client)
    end = sim.now.replace(hour=0, minute=0, second=0, microsecond=0)
    start = end - dt.timedelta(days=7)
    interval = f"{start:%Y-%m-%dT%H:%M:%S.000Z}/{end:%Y-%m-%dT%H:%M:%S.000Z}"
    body = sdk.AuditQueryRequest()
    body.interval = interval
    body.service_name = "PeoplePermissions"
    order = sdk.AuditQuerySort()
    order.name, order.sort_order = "Timestamp", "descending"
    body.sort = [order]
    status = audit.post_audits_query(body)
    assert_current(status)
    assert status.state == "Queued" and status.id
    for _ in range(5):
        status = audit.get_audits_query_transaction_id(status.id)
        assert_current(status)
        if status.state == "Succeeded":
            break
    assert status.state == "Succeeded"
    page = audit.get_audits_query_transaction_id_results(status.id, page_size=100, expand=["user"])
    assert_current(page)
    assert page.entities and page.cursor
    e = page.entities[0]
    assert e.service_name == "PeoplePermissions" and e.level in ("USER", "SYSTEM")
    assert isinstance(e.event_date, dt.datetime) and e.status == "SUCCESS"
    dates = [x.event_date for x in page.entities]
    assert dates == sorted(dates, reverse=True)
    assert any(x.user and x.user.name for x in page.entities)
    rt = sdk.AuditRealtimeQueryRequest()
    rt.interval, rt.service_name, rt.page_size = interval, "Directory", 50
    realtime = audit.post_audits_query_realtime(rt, expand=["user"])
    assert_current(realtime)
    assert realtime.total is not None and realtime.page_count is not None
    mapping = audit.get_audits_query_servicemapping()
    assert_current(mapping)
    assert any(s.name == "PeoplePermissions" for s in mapping.services)


def test_identity_providers(sdk_sim):
    sim, client = sdk_sim
    idp = sdk.IdentityProviderApi(client)
    listing = idp.get_identityproviders()
    assert_current(listing)
    assert listing.total == len(listing.entities) == 2
    okta = next(p for p in listing.entities if p.name == "Okta")
    assert okta.disabled is False and okta.provider_name == "Okta"
    assert okta.certificates[0].startswith("-----BEGIN CERTIFICATE-----")
    assert okta.issuer_uri and okta.sso_target_uri
    assert any(p.disabled for p in listing.entities)
    login = idp.get_identityproviders_purecloud()
    assert_current(login)
    assert login.disabled is True and login.name == "PureCloud"


def test_groups(sdk_sim):
    sim, client = sdk_sim
    groups = sdk.GroupsApi(client)
    gid = sim.org.named["master_admin_group"]
    group = groups.get_group(gid)
    assert_current(group)
    assert group.name == "Platform On-Call" and group.member_count == 2
    members = groups.get_group_members(gid, page_size=25, expand=["authorization"])
    assert_current(members)
    assert members.total == 2 and {m.id for m in members.entities} == set(
        sim.org.groups[0].member_ids
    )
    assert all(m.authorization.roles for m in members.entities)


def test_group_listing(sdk_sim):
    sim, client = sdk_sim
    listing = sdk.GroupsApi(client).get_groups(page_size=100)
    assert_current(listing)
    assert listing.total == len(sim.org.groups) == len(listing.entities)
    wallboards = next(g for g in listing.entities if g.id == sim.org.named["long_idle_group"])
    assert wallboards.name == "Wallboard Displays" and wallboards.member_count == 2
    assert wallboards.state == "active" and wallboards.type == "official"


def test_integrations(sdk_sim):
    sim, client = sdk_sim
    api = sdk.IntegrationsApi(client)
    listing = api.get_integrations(page_size=100)
    assert_current(listing)
    assert listing.total == 4 and listing.page_count == 1
    export = next(i for i in listing.entities if i.id == sim.org.named["siem_export"])
    assert export.integration_type.id == "amazon-eventbridge-source"
    assert export.intended_state == "ENABLED" and export.reported_state.code == "ACTIVE"
    assert isinstance(export.reported_state.last_updated, dt.datetime)
    only = api.get_integrations(integration_type="amazon-eventbridge-source", page_size=100)
    assert {i.intended_state for i in only.entities} == {"ENABLED", "DISABLED"}
    inactive = api.get_integrations(reported_state="INACTIVE", page_size=100)
    assert [i.id for i in inactive.entities] == [sim.org.named["siem_export_disabled"]]


def test_an_integration_in_error_carries_its_detail(make_simulator):
    sim = make_simulator(siem_export="error")
    client = sdk.api_client.ApiClient(host=sim.base_url).get_client_credentials_token(
        sim.client_id, sim.client_secret
    )
    listing = sdk.IntegrationsApi(client).get_integrations(page_size=100)
    assert_current(listing)
    export = next(i for i in listing.entities if i.id == sim.org.named["siem_export"])
    assert export.reported_state.code == "ERROR" and export.reported_state.detail.message


# --- issue 9: OAuth clients, trustees, retention policies, roles by permission ---------------


def test_oauth_clients_and_their_usage(sdk_sim):
    sim, client = sdk_sim
    oauth = sdk.OAuthApi(client)
    listing = oauth.get_oauth_clients()
    assert_current(listing)
    assert listing.total == len(listing.entities) == len(sim.org.oauth_clients)
    by_id = {c.id: c for c in listing.entities}
    ci = by_id[sim.org.named["master_admin_client"]]
    assert ci.authorized_grant_type == "CLIENT-CREDENTIALS" and ci.state == "active"
    assert ci.secret  # the model carries it: the collection must drop it
    assert isinstance(ci.date_created, dt.datetime) and ci.created_by.id
    master = sim.org.role("Master Admin").id
    assert [(r.role_id, r.division_id) for r in ci.role_divisions] == [(master, sim.org.home.id)]
    assert ci.role_ids == [master]
    assert {c.authorized_grant_type for c in listing.entities} >= {"TOKEN", "PASSWORD", "CODE"}
    assert {c.state for c in listing.entities} == {"active", "disabled"}
    assert by_id[sim.org.named["oauth_implicit"]].secret is None
    usage = sdk.UsageApi(client)
    started = usage.get_oauth_client_usage_summary(ci.id, days="90")
    assert_current(started)
    assert started.execution_id and started.results_uri.endswith(started.execution_id)
    result = usage.get_oauth_client_usage_query_result(started.execution_id, ci.id)
    assert_current(result)
    assert result.query_status == "Complete" and result.results
    row = result.results[-1]
    assert row.client_id == ci.id and row.requests > 0 and isinstance(row.date, dt.datetime)
    unused = sim.org.named["oauth_unused"]
    quiet = usage.get_oauth_client_usage_summary(unused, days="90")
    assert usage.get_oauth_client_usage_query_result(quiet.execution_id, unused).results == []


def test_trustees(sdk_sim):
    sim, client = sdk_sim
    org_auth = sdk.OrganizationAuthorizationApi(client)
    listing = org_auth.get_orgauthorization_trustees(page_size=100)
    assert_current(listing)
    assert listing.total == len(listing.entities) == 5
    partner = next(t for t in listing.entities if t.id == sim.org.partner_org_id)
    assert partner.enabled is True and partner.date_expired is None
    assert partner.organization.name == "Contoso Support Partners" and partner.created_by.id
    full = next(t for t in listing.entities if t.has_full_access)
    assert isinstance(full.date_expired, dt.datetime) and full.date_expired.tzinfo
    assert any(t.enabled is False for t in listing.entities)


def test_media_retention_policies(sdk_sim):
    sim, client = sdk_sim
    rec = sdk.RecordingApi(client)
    listing = rec.get_recording_mediaretentionpolicies(page_size=100)
    assert_current(listing)
    assert listing.total == len(listing.entities) == 6
    by_id = {p.id: p for p in listing.entities}
    forever = by_id[sim.org.named["retention_forever"]].media_policies.call_policy.actions
    assert forever.retain_recording is True and forever.retention_duration is None
    export = by_id[sim.org.named["retention_export"]].media_policies.call_policy.actions
    assert export.integration_export.integration.name == "AWS S3 Recording Bulk Actions"
    assert export.retention_duration.delete_retention.days == 365
    errors = by_id[sim.org.named["retention_errors"]].policy_errors.policy_error_messages
    assert errors[0].error_code and isinstance(errors[0].insert_date, dt.datetime)
    ok = by_id[sim.org.named["retention_ok"]].media_policies.call_policy.actions
    assert ok.retention_duration.archive_retention.storage_medium == "CLOUDARCHIVE"
    assert by_id[sim.org.named["retention_disabled"]].enabled is False


def test_roles_filtered_by_permission(sdk_sim):
    sim, client = sdk_sim
    auth = sdk.AuthorizationApi(client)
    found = auth.get_authorization_roles(page_size=100, permission=["audits:audit:view"])
    assert_current(found)
    # The collecting client's own role reads the audit trail too.
    assert {r.name for r in found.entities} == {"Reporting Admin", COLLECTOR_ROLE}
    both = auth.get_authorization_roles(
        page_size=100, permission=["recording:recording:view", "audits:audit:view"]
    )
    assert {r.name for r in both.entities} == {
        "Quality Evaluator",
        "Reporting Admin",
        COLLECTOR_ROLE,
    }


def test_oauth_client(sdk_sim):
    """The collecting client's own OAuthClient: its roleDivisions, and the secret the model has."""
    sim, client = sdk_sim
    found = sdk.OAuthApi(client).get_oauth_client(sim.client_id)
    assert_current(found)
    assert found.id == sim.client_id and found.authorized_grant_type == "CLIENT-CREDENTIALS"
    assert found.role_divisions and all(r.role_id and r.division_id for r in found.role_divisions)
    assert {r.division_id for r in found.role_divisions} == {"*"}
    assert found.secret == sim.client_secret  # why the toolkit never stores this answer whole
    assert isinstance(found.date_created, dt.datetime) and found.state == "active"
    with pytest.raises(sdk.rest.ApiException) as err:
        sdk.OAuthApi(client).get_oauth_client("no-such-client")
    assert err.value.status == 404
