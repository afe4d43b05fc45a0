"""The official Genesys SDK (PureCloudPlatformClientV2) is the judge of the simulator's wire format.

Every simulated endpoint is called through the SDK with a client-credentials login; the parsed
models must carry their key fields and no enum may have become 'outdated_sdk_version'.
"""

from __future__ import annotations

import datetime as dt

import pytest
from gcevidence.simulator import FaultConfig, SimConfig, Simulator

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
    timeout = sdk.TokensApi(client).get_tokens_timeout()
    assert_current(timeout)
    assert timeout.idle_token_timeout_seconds == 1800


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
