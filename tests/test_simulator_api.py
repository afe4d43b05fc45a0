"""The simulator speaks the Genesys Cloud wire format (genesys-api.md §9), over real HTTP."""

from __future__ import annotations

import datetime as dt
import time

import pytest
import requests


def session_for(sim) -> requests.Session:
    r = requests.post(
        f"{sim.base_url}/oauth/token",
        auth=(sim.client_id, sim.client_secret),
        data={"grant_type": "client_credentials"},
        timeout=10,
    )
    assert r.status_code == 200
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
    s.base = sim.base_url
    return s


def get(s, path, **params):
    return s.get(s.base + path, params=params, timeout=10)


@pytest.fixture
def api(simulator):
    return session_for(simulator)


# -- OAuth ---------------------------------------------------------------------------------------
def test_token_response_shape(simulator):
    r = requests.post(
        f"{simulator.base_url}/oauth/token",
        auth=(simulator.client_id, simulator.client_secret),
        data={"grant_type": "client_credentials"},
        timeout=10,
    )
    body = r.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 86400
    assert body["access_token"] in simulator.tokens_issued


@pytest.mark.parametrize(
    "client_id, secret, description",
    [("nobody", "x", "client not found"), ("gcevidence-sim", "wrong", "authentication failed")],
)
def test_token_errors_are_oauth_style(simulator, client_id, secret, description):
    r = requests.post(
        f"{simulator.base_url}/oauth/token",
        auth=(client_id, secret),
        data={"grant_type": "client_credentials"},
        timeout=10,
    )
    assert r.status_code == 401
    assert r.json() == {
        "error": "invalid_client",
        "description": description,
        "error_description": description,
    }


def test_missing_unknown_and_expired_tokens_answer_401_errorbody(make_simulator):
    sim = make_simulator(token_lifetime_seconds=1)
    assert (
        requests.get(sim.base_url + "/api/v2/users", timeout=10).json()["code"]
        == "authentication.required"
    )
    r = requests.get(
        sim.base_url + "/api/v2/users", headers={"Authorization": "Bearer nope"}, timeout=10
    )
    assert r.status_code == 401 and r.json()["code"] == "bad.credentials"
    s = session_for(sim)
    assert get(s, "/api/v2/users").status_code == 200
    time.sleep(1.1)
    r = get(s, "/api/v2/users")
    assert r.status_code == 401 and r.json()["status"] == 401
    assert "inin-ratelimit-allowed" in r.headers


# -- paging ----------------------------------------------------------------------------------------
def test_page_uris_at_exact_multiple_of_page_size(api, simulator):
    total = get(api, "/api/v2/authorization/roles").json()["total"]
    assert total == 16  # the 15 roles of org.py and the collector's (clients.py)
    size = 4
    first = get(api, "/api/v2/authorization/roles", pageSize=size).json()
    assert first["pageCount"] == 4 and first["pageNumber"] == 1
    assert "previousUri" not in first
    assert (
        first["firstUri"]
        == first["selfUri"]
        == "/api/v2/authorization/roles?pageSize=4&pageNumber=1"
    )
    assert first["nextUri"] == "/api/v2/authorization/roles?pageSize=4&pageNumber=2"
    assert first["lastUri"] == "/api/v2/authorization/roles?pageSize=4&pageNumber=4"
    last = get(api, "/api/v2/authorization/roles", pageSize=size, pageNumber=4).json()
    assert "nextUri" not in last and len(last["entities"]) == 4
    assert last["previousUri"] == "/api/v2/authorization/roles?pageSize=4&pageNumber=3"
    beyond = get(api, "/api/v2/authorization/roles", pageSize=size, pageNumber=5).json()
    assert beyond["entities"] == [] and "nextUri" not in beyond


def test_following_next_uri_reads_every_user_once(api):
    seen, url = [], "/api/v2/users?pageSize=7&pageNumber=1&state=any"
    while url:
        body = api.get(api.base + url, timeout=10).json()
        seen += [u["id"] for u in body["entities"]]
        url = body.get("nextUri")
    assert len(seen) == len(set(seen)) == body["total"] == 60


def test_empty_listing(api, simulator):
    unused = next(r for r in simulator.org.roles if r.name == "Outbound Admin")
    body = get(api, f"/api/v2/authorization/roles/{unused.id}/subjectgrants").json()
    assert body["entities"] == [] and body["total"] == 0 and body["pageCount"] == 0
    assert "nextUri" not in body and "previousUri" not in body
    users = get(api, f"/api/v2/authorization/roles/{unused.id}/users").json()
    assert users == {"entities": [], "pageSize": 25, "pageNumber": 1, "total": 0, "pageCount": 0}


def test_role_users_have_no_uris_and_match_user_count(api, simulator):
    role = next(
        r
        for r in get(api, "/api/v2/authorization/roles", pageSize=100).json()["entities"]
        if r["name"] == "Master Admin"
    )
    body = get(api, f"/api/v2/authorization/roles/{role['id']}/users").json()
    assert set(body) == {"entities", "pageSize", "pageNumber", "total", "pageCount"}
    assert body["total"] == role["userCount"] == 5
    assert set(body["entities"][0]) == {"id", "selfUri"}


def test_page_size_above_max_is_rejected(api):
    r = get(api, "/api/v2/users", pageSize=501)
    assert r.status_code == 400 and r.json()["status"] == 400


# -- users -----------------------------------------------------------------------------------------
def test_users_default_to_active(api, simulator):
    states = {u.state for u in simulator.org.users.values()}
    assert states == {"active", "inactive", "deleted"}
    default = get(api, "/api/v2/users", pageSize=500).json()
    assert {u["state"] for u in default["entities"]} == {"active"}
    every = get(api, "/api/v2/users", pageSize=500, state="any").json()
    assert every["total"] == 60 > default["total"]
    for state in ("inactive", "deleted"):
        body = get(api, "/api/v2/users", pageSize=500, state=state).json()
        assert body["total"] > 0 and {u["state"] for u in body["entities"]} == {state}


def test_inactive_paging_depth_limit(api):
    assert (
        get(api, "/api/v2/users", state="inactive", pageSize=500, pageNumber=20).status_code == 200
    )
    r = get(api, "/api/v2/users", state="inactive", pageSize=500, pageNumber=21)
    assert r.status_code == 400 and r.json()["code"] == "bad.request"


@pytest.mark.parametrize("encoding", ["comma", "repeated"])
def test_expand_accepts_both_list_encodings(api, simulator, encoding):
    simulator.faults.token_drop_rate = 0
    wanted = ["authorization", "authorization.unusedRoles", "lasttokenissued", "dateWelcomeSent"]
    params = {"expand": ",".join(wanted)} if encoding == "comma" else {"expand": wanted}
    users = get(api, "/api/v2/users", pageSize=100, **params).json()["entities"]
    assert all("roles" in u["authorization"] and "unusedRoles" in u["authorization"] for u in users)
    assert all("dateWelcomeSent" in u for u in users)
    assert sum("lastTokenIssued" in u for u in users) >= len(users) - 3
    plain = get(api, "/api/v2/users", pageSize=100).json()["entities"]
    assert not any("authorization" in u or "dateLastLogin" in u for u in plain)


def test_dropped_expansion_is_silent(make_simulator):
    sim = make_simulator()
    sim.faults.drop_expand_rate = 1.0
    s = session_for(sim)
    body = get(s, "/api/v2/users", pageSize=100, expand="authorization").json()
    assert body["entities"] and not any("authorization" in u for u in body["entities"])


def test_deleted_user_needs_state_deleted(api, simulator):
    gone = next(u for u in simulator.org.users.values() if u.state == "deleted")
    assert get(api, f"/api/v2/users/{gone.id}").status_code == 404
    assert get(api, f"/api/v2/users/{gone.id}", state="deleted").json()["state"] == "deleted"


def test_subject_grants_with_group_duplicates(api, simulator):
    org = simulator.org
    group = next(g for g in org.groups if g.member_ids)
    uid = group.member_ids[0]
    direct = get(api, f"/api/v2/authorization/subjects/{uid}").json()
    assert {g["subjectId"] for g in direct["grants"]} == {uid}
    full = get(api, f"/api/v2/authorization/subjects/{uid}", includeDuplicates="true").json()
    assert group.id in {g["subjectId"] for g in full["grants"]}
    assert all(g["grantMadeAt"].endswith("Z") for g in full["grants"])
    kinds = set()
    for role in org.roles:
        for e in get(
            api, f"/api/v2/authorization/roles/{role.id}/subjectgrants", pageSize=500
        ).json()["entities"]:
            kinds.add(e["type"])
    assert kinds == {"PC_USER", "PC_GROUP", "PC_OAUTH_CLIENT", "PC_TRUSTEE_USER"}


def test_trunk_properties_are_nested(api):
    trunks = get(
        api, "/api/v2/telephony/providers/edges/trunkbasesettings", expand="properties"
    ).json()["entities"]
    variants = {
        t["properties"]["trunk_transport_protocolVariant"]["value"]["instance"]
        for t in trunks
        if not t["managed"]
    }
    assert {"tls", "udp"} <= variants


def test_managed_trunk_hides_its_properties(api, simulator):
    base = "/api/v2/telephony/providers/edges/trunkbasesettings"
    managed = get(api, base, expand="properties", managed="true").json()["entities"]
    assert [t["id"] for t in managed] == [simulator.org.named["trunk_managed"]]
    trunk = managed[0]
    assert trunk["name"] == "PureCloud Voice - AWS" and trunk["trunkType"] == "EXTERNAL"
    assert trunk["trunkMetabase"]["id"] == "external_sip_pcv_aws.json"
    assert trunk["state"] == "active" and "properties" not in trunk
    # The single GET hides them too: without internal:trunk:edit nobody sees them.
    assert "properties" not in get(api, f"{base}/{trunk['id']}").json()
    customer = get(api, base, expand="properties", managed="false").json()["entities"]
    assert customer and all("properties" in t and not t["managed"] for t in customer)


def test_subject_grant_self_uris_match_their_type(api, simulator):
    org = simulator.org
    master = org.role("Master Admin")
    rows = get(api, f"/api/v2/authorization/roles/{master.id}/subjectgrants", pageSize=100)
    by_type = {}
    for e in rows.json()["entities"]:
        by_type.setdefault(e["type"], []).append(e)
    assert {e["selfUri"] for e in by_type["PC_USER"]} == {
        f"/api/v2/users/{e['id']}" for e in by_type["PC_USER"]
    }
    (group,) = by_type["PC_GROUP"]
    assert group["id"] == org.named["master_admin_group"]
    assert group["selfUri"] == f"/api/v2/groups/{group['id']}"
    (client,) = by_type["PC_OAUTH_CLIENT"]
    assert client["selfUri"] == f"/api/v2/oauth/clients/{client['id']}"
    (trustee,) = by_type["PC_TRUSTEE_USER"]
    assert trustee["selfUri"].startswith("/api/v2/orgauthorization/trustees/")
    assert trustee["selfUri"].endswith(f"/users/{trustee['id']}")
    # None of them is a user of the org.
    for subject in (group, client, trustee):
        assert get(api, f"/api/v2/users/{subject['id']}").status_code == 404


def test_group_and_its_members(api, simulator):
    org = simulator.org
    gid = org.named["master_admin_group"]
    group = get(api, f"/api/v2/groups/{gid}").json()
    assert group["name"] == "Platform On-Call" and group["memberCount"] == 2
    assert group["type"] == "official" and group["state"] == "active"
    members = get(api, f"/api/v2/groups/{gid}/members", pageSize=1, expand="authorization")
    body = members.json()
    assert body["total"] == 2 and body["pageCount"] == 2 and body["nextUri"]
    assert "previousUri" not in body and body["entities"][0]["authorization"]["roles"]
    second = get(api, f"/api/v2/groups/{gid}/members", pageSize=1, pageNumber=2).json()
    ids = {body["entities"][0]["id"], second["entities"][0]["id"]}
    assert ids == {org.named["group_admin_allowed"], org.named["group_admin_outside"]}
    assert get(api, "/api/v2/groups/no-such-group").status_code == 404
    assert get(api, "/api/v2/groups/no-such-group/members").status_code == 404


def test_group_listing_pages_and_names_every_group(api, simulator):
    org = simulator.org
    body = get(api, "/api/v2/groups", pageSize=2).json()
    assert body["total"] == len(org.groups) == 4 and body["pageCount"] == 2 and body["nextUri"]
    second = get(api, "/api/v2/groups", pageSize=2, pageNumber=2).json()
    names = [g["name"] for g in body["entities"] + second["entities"]]
    assert names == sorted(names, key=str.casefold) and "Wallboard Displays" in names
    one = get(api, "/api/v2/groups", id=org.named["long_idle_group"]).json()["entities"]
    assert [(g["name"], g["memberCount"]) for g in one] == [("Wallboard Displays", 2)]


def test_idle_token_timeout_carries_its_group_bundles(api, simulator):
    body = get(api, "/api/v2/tokens/timeout").json()
    assert body["enableIdleTokenTimeout"] is True and body["idleTokenTimeoutSeconds"] == 600
    assert body["inactivityTimeoutUnit"] == "Minutes" and body["inactivityTimeoutGroupsEnabled"]
    long_bundle = body["inactivityTimeoutGroupBundles"][0]
    assert long_bundle == {
        "priority": 1,
        "timeoutSeconds": 14400,
        "inactivityTimeoutUnit": "Hours",
        "groups": [simulator.org.named["long_idle_group"]],
    }
    settings = get(api, "/api/v2/organizations/authentication/settings").json()
    assert "0.0.0.0/0" in settings["ipAddressAllowlist"]
    assert settings["inactivityTimeoutExclusions"]


@pytest.mark.parametrize("mode", ["active", "error", "none"])
def test_integrations_of_each_audit_export_mode(make_simulator, mode):
    sim = make_simulator(siem_export=mode)
    s = session_for(sim)
    body = get(s, "/api/v2/integrations", pageSize=100).json()
    states = {
        i["name"]: (i["intendedState"], i["reportedState"]["code"])
        for i in body["entities"]
        if i["integrationType"]["id"] == "amazon-eventbridge-source"
    }
    expected = {
        "active": {"Audit events to Splunk (EventBridge)": ("ENABLED", "ACTIVE")},
        "error": {"Audit events to Splunk (EventBridge)": ("ENABLED", "ERROR")},
        "none": {},
    }[mode]
    if mode != "none":
        expected["EventBridge sandbox (old)"] = ("DISABLED", "INACTIVE")
    assert states == expected and body["total"] == 2 + len(expected)
    exports = get(s, "/api/v2/integrations", integrationType="amazon-eventbridge-source").json()
    assert exports["total"] == len(expected)
    active = get(s, "/api/v2/integrations", reportedState="active").json()["entities"]
    assert all(i["reportedState"]["code"] == "ACTIVE" for i in active)
    assert get(s, "/api/v2/integrations", reportedState="BROKEN").status_code == 400


def test_a_bad_audit_export_mode_is_refused():
    from gcevidence.simulator import SimConfig

    with pytest.raises(ValueError, match="siem_export='broken'"):
        SimConfig(siem_export="broken")


@pytest.mark.parametrize("sign_in", ["sso", "password"])
def test_sign_in_shapes_of_each_org(make_simulator, sign_in):
    sim = make_simulator(sign_in=sign_in)
    sim.faults.token_drop_rate = 0
    s = session_for(sim)
    login = get(s, "/api/v2/identityproviders/purecloud").json()
    assert login["disabled"] is (sign_in == "sso") and login["name"] == "PureCloud"
    providers = get(s, "/api/v2/identityproviders").json()
    assert providers["total"] == len(providers["entities"])
    enabled = [p["name"] for p in providers["entities"] if not p["disabled"]]
    assert enabled == (["Okta"] if sign_in == "sso" else [])
    for p in providers["entities"]:
        assert p["certificates"][0].startswith("-----BEGIN CERTIFICATE-----")
        assert p["providerName"] and p["selfUri"] == f"/api/v2/identityproviders/{p['id']}"
    users = get(s, "/api/v2/users", pageSize=500, expand="dateLastLogin,lasttokenissued").json()[
        "entities"
    ]
    now = sim.now
    recent = dt.timedelta(days=60)

    def date(value):
        return dt.datetime.fromisoformat(value) if value else None

    logins = [date(u.get("dateLastLogin")) for u in users]
    tokens = [date((u.get("lastTokenIssued") or {}).get("dateIssued")) for u in users]
    assert sum(t is not None and now - t < recent for t in tokens) > len(users) * 0.8
    if sign_in == "sso":
        # Nobody has logged in with a Genesys password since SSO took over.
        assert not any(d and now - d < dt.timedelta(days=200) for d in logins)
    else:
        assert sum(d is not None and now - d < recent for d in logins) > len(users) * 0.8
        assert all(t is not None and t >= d for d, t in zip(logins, tokens, strict=True) if d)


def test_both_orgs_of_a_seed_hold_the_same_people(make_simulator):
    sso, password = make_simulator(sign_in="sso"), make_simulator(sign_in="password")
    assert sso.org.users.keys() == password.org.users.keys()
    assert sso.org.roster.keys() == password.org.roster.keys()


def test_last_token_is_dropped_on_a_seeded_share_of_listing_pages(make_simulator):
    drops = []
    for _ in range(2):
        sim = make_simulator(users=200)
        sim.faults.token_drop_rate = 0.5
        s = session_for(sim)
        seen = []
        for number in range(1, 9):
            page = get(s, "/api/v2/users", pageSize=25, pageNumber=number, expand="lasttokenissued")
            seen.append(any("lastTokenIssued" in u for u in page.json()["entities"]))
        drops.append(seen)
        # A single GET always honours the expansion.
        uid = next(u.id for u in sim.org.users.values() if u.last_token_issued)
        for _ in range(5):
            assert (
                "lastTokenIssued" in get(s, f"/api/v2/users/{uid}", expand="lasttokenissued").json()
            )
    assert drops[0] == drops[1] and True in drops[0] and False in drops[0]


# -- errors, limits and faults -----------------------------------------------------------------
@pytest.mark.parametrize(
    "path",
    [
        "/api/v2/recording/localkeys/settings",
        "/api/v2/authorization/policies/passwords/default",
        "/api/v2/quality/properties/encryption",
        "/api/v2/no/such/thing",
    ],
)
def test_nonexistent_endpoints_404(api, path):
    r = get(api, path)
    assert r.status_code == 404
    assert r.json()["code"] == "not.found" and r.json()["status"] == 404


def test_403_names_the_missing_permission(make_simulator):
    sim = make_simulator(permissions={"authorization:role:view", "audits:audit:view"})
    s = session_for(sim)
    assert get(s, "/api/v2/authorization/roles").status_code == 200
    r = get(s, "/api/v2/organizations/authentication/settings")
    assert r.status_code == 403
    body = r.json()
    assert body["code"] == "missing.any.permissions"
    assert "[directory:organization:admin]" in body["message"]
    assert get(s, "/api/v2/users").status_code == 200  # needs no permission
    assert get(s, "/api/v2/groups").status_code == 200  # neither does the group listing
    denied = get(s, "/api/v2/integrations")
    assert (
        denied.status_code == 403 and "[integrations:integration:view]" in denied.json()["message"]
    )


def test_rate_limit_429_with_retry_after_and_headers(make_simulator):
    sim = make_simulator(rate_limit_per_minute=5)
    s = session_for(sim)
    counts = []
    for _ in range(5):
        r = get(s, "/api/v2/organizations/me")
        assert r.status_code == 200
        counts.append(int(r.headers["inin-ratelimit-count"]))
        assert r.headers["inin-ratelimit-allowed"] == "5"
        assert 0 < int(r.headers["inin-ratelimit-reset"]) <= 60
        assert r.headers["ININ-Correlation-Id"]
    assert counts == [1, 2, 3, 4, 5]
    r = get(s, "/api/v2/organizations/me")
    assert r.status_code == 429
    assert r.json()["code"] == "too.many.requests.retry.after"
    assert 0 < int(r.headers["Retry-After"]) <= 60


def test_injected_faults_are_seeded(make_simulator):
    outcomes = []
    for _ in range(2):
        sim = make_simulator()
        sim.faults.rate_5xx = 0.3
        sim.faults.rate_429 = 0.2
        s = session_for(sim)
        outcomes.append([get(s, "/api/v2/organizations/me").status_code for _ in range(30)])
    assert outcomes[0] == outcomes[1]
    assert {200, 429} <= set(outcomes[0]) and any(c >= 500 for c in outcomes[0])


def test_connection_reset_and_outage(make_simulator):
    sim = make_simulator()
    s = session_for(sim)
    sim.faults.reset_rate = 1.0
    with pytest.raises(requests.ConnectionError):
        get(s, "/api/v2/organizations/me")
    sim.faults.reset_rate = 0.0
    sim.faults.fail_after_requests = sim.requests_served
    r = get(s, "/api/v2/organizations/me")
    assert r.status_code == 503 and r.json()["code"] == "service.unavailable"


# -- audits ----------------------------------------------------------------------------------------
def submit(s, sim, days=10, **extra):
    end = sim.now.replace(hour=0, minute=0, second=0, microsecond=0)
    start = end - dt.timedelta(days=days)
    body = {"interval": f"{start:%Y-%m-%dT%H:%M:%SZ}/{end:%Y-%m-%dT%H:%M:%SZ}", **extra}
    return s.post(s.base + "/api/v2/audits/query", json=body, timeout=10)


def test_audit_query_states_and_cursor_paging(make_simulator):
    sim = make_simulator()
    sim.faults.audit_polls = 2
    s = session_for(sim)
    r = submit(s, sim, serviceName="PeoplePermissions")
    assert r.status_code == 202 and r.json()["state"] == "Queued"
    tx = r.json()["id"]
    assert get(s, f"/api/v2/audits/query/{tx}/results").status_code == 400
    polls = [get(s, f"/api/v2/audits/query/{tx}") for _ in range(3)]
    assert [p.status_code for p in polls] == [202, 202, 200]
    assert [p.json()["state"] for p in polls] == ["Running", "Running", "Succeeded"]
    ids, cursor, pages = [], None, 0
    while True:
        params = {"pageSize": 50, "expand": "user"}
        if cursor:
            params["cursor"] = cursor
        body = get(s, f"/api/v2/audits/query/{tx}/results", **params).json()
        pages += 1
        ids += [e["id"] for e in body["entities"]]
        assert all(
            e["serviceName"] == "PeoplePermissions" and "name" in e["user"]
            for e in body["entities"]
            if "user" in e
        )
        cursor = body.get("cursor")
        if not cursor:
            assert set(body) == {"id", "pageSize", "entities"}
            break
    assert pages > 1 and len(ids) == len(set(ids))
    plain = get(s, f"/api/v2/audits/query/{tx}/results").json()
    assert len(plain["entities"]) == 25 and "name" not in plain["entities"][0]["user"]
    assert get(s, f"/api/v2/audits/query/{tx}/results", pageSize=501).status_code == 400


def test_audit_query_runs_for_its_server_time_however_often_it_is_polled(make_simulator):
    sim = make_simulator()
    sim.faults.audit_seconds = 1.5
    s = session_for(sim)
    started = time.monotonic()
    tx = submit(s, sim, serviceName="Directory").json()["id"]
    early = [get(s, f"/api/v2/audits/query/{tx}") for _ in range(5)]
    assert time.monotonic() - started < 1.5  # five quick polls, all before the server is done
    assert [p.json()["state"] for p in early] == ["Running"] * 5
    assert {p.status_code for p in early} == {202}
    time.sleep(1.5 - (time.monotonic() - started) + 0.05)
    done = get(s, f"/api/v2/audits/query/{tx}")
    assert done.status_code == 200 and done.json()["state"] == "Succeeded"
    # A second query submitted now still needs its own server time.
    other = submit(s, sim, serviceName="Directory").json()["id"]
    assert get(s, f"/api/v2/audits/query/{other}").json()["state"] == "Running"


def test_audit_last_page_at_exact_multiple_has_no_cursor(make_simulator):
    sim = make_simulator()
    sim.faults.audit_polls = 0
    s = session_for(sim)
    tx = submit(s, sim, days=3).json()["id"]
    assert get(s, f"/api/v2/audits/query/{tx}").json()["state"] == "Succeeded"
    total = 0
    cursor = None
    while True:
        body = get(
            s,
            f"/api/v2/audits/query/{tx}/results",
            pageSize=500,
            **({"cursor": cursor} if cursor else {}),
        ).json()
        total += len(body["entities"])
        cursor = body.get("cursor")
        if not cursor:
            break
    body = get(s, f"/api/v2/audits/query/{tx}/results", pageSize=total).json()
    assert len(body["entities"]) == total and "cursor" not in body


def test_audit_failed_and_never_finishing(make_simulator):
    sim = make_simulator()
    s = session_for(sim)
    sim.faults.audit_fail = True
    tx = submit(s, sim).json()["id"]
    r = get(s, f"/api/v2/audits/query/{tx}")
    assert r.status_code == 200 and r.json()["state"] == "Failed"
    sim.faults.audit_fail, sim.faults.audit_never_finish = False, True
    tx = submit(s, sim).json()["id"]
    assert all(get(s, f"/api/v2/audits/query/{tx}").status_code == 202 for _ in range(5))


def test_audit_bad_service_and_interval(api, simulator):
    assert submit(api, simulator, serviceName="NoSuchService").status_code == 400
    r = api.post(api.base + "/api/v2/audits/query", json={"interval": "yesterday"}, timeout=10)
    assert r.status_code == 400


def test_realtime_query_limit_and_shape(api, simulator):
    end = simulator.now
    start = end - dt.timedelta(days=5)
    body = {
        "interval": f"{start:%Y-%m-%dT%H:%M:%SZ}/{end:%Y-%m-%dT%H:%M:%SZ}",
        "serviceName": "Directory",
        "pageSize": 10,
    }
    r = api.post(api.base + "/api/v2/audits/query/realtime", json=body, timeout=10)
    assert r.status_code == 200
    assert set(r.json()) == {"entities", "pageSize", "pageNumber", "total", "pageCount"}
    old = end - dt.timedelta(days=30)
    body["interval"] = f"{old:%Y-%m-%dT%H:%M:%SZ}/{end:%Y-%m-%dT%H:%M:%SZ}"
    assert (
        api.post(api.base + "/api/v2/audits/query/realtime", json=body, timeout=10).status_code
        == 400
    )


def test_service_mapping(api):
    body = get(api, "/api/v2/audits/query/servicemapping").json()
    names = {s["name"] for s in body["services"]}
    assert {"PeoplePermissions", "Directory"} <= names
    pp = next(s for s in body["services"] if s["name"] == "PeoplePermissions")
    role = next(e for e in pp["entities"] if e["name"] == "Role")
    assert {"MemberAdd", "MemberRemove"} <= set(role["actions"])


def test_rate_limit_headers_on_every_kind_of_answer(simulator):
    token = requests.post(
        f"{simulator.base_url}/oauth/token",
        auth=(simulator.client_id, simulator.client_secret),
        data={"grant_type": "client_credentials"},
        timeout=10,
    )
    unauth = requests.get(f"{simulator.base_url}/api/v2/users", timeout=10)
    for r in (token, unauth):
        assert {
            "inin-ratelimit-count",
            "inin-ratelimit-allowed",
            "inin-ratelimit-reset",
            "ININ-Correlation-Id",
        } <= set(r.headers)


def test_injected_429_carries_retry_after_and_matching_reset(make_simulator):
    sim = make_simulator()
    sim.faults.rate_429, sim.faults.retry_after_seconds = 1.0, 2
    r = get(session_for(sim), "/api/v2/organizations/me")
    assert r.status_code == 429 and r.json()["code"] == "too.many.requests.retry.after"
    assert r.headers["Retry-After"] == r.headers["inin-ratelimit-reset"] == "2"
    assert r.json()["message"].endswith("Retry the request in [2] seconds")


def test_malformed_bodies_get_400_not_a_hangup(api, simulator):
    end = simulator.now
    start = end - dt.timedelta(days=1)
    body = {"interval": f"{start:%Y-%m-%dT%H:%M:%SZ}/{end:%Y-%m-%dT%H:%M:%SZ}", "pageSize": "lots"}
    r = api.post(api.base + "/api/v2/audits/query/realtime", json=body, timeout=10)
    assert r.status_code == 400 and r.json()["code"] == "bad.request"
    r = api.post(api.base + "/api/v2/audits/query", data=b"{not json", timeout=10)
    assert r.status_code == 400
    r = api.post(api.base + "/api/v2/audits/query", json=["a list"], timeout=10)
    assert r.status_code == 400
