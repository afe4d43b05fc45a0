"""Pure unit tests of the client: regions, URL derivation, backoff, credentials, pacing."""

import random
import threading
import time

import pytest
from gcevidence.errors import UsageError
from gcevidence.genesys import REGION_HOSTS, Credentials, GenesysClient
from gcevidence.genesys.audits import plan_queries, windows
from gcevidence.genesys.auth import explain_token_error
from gcevidence.genesys.backoff import backoff_delay, retry_after_seconds
from gcevidence.genesys.http import permission_from_error
from gcevidence.genesys.pacing import Pacer
from gcevidence.genesys.regions import api_base_for_region, login_base_for, resolve_bases

CREDS = Credentials("id", "s3cret")


def test_all_eighteen_regions_of_the_sdk():
    assert len(REGION_HOSTS) == 18
    assert api_base_for_region("eu-west-1") == "https://api.mypurecloud.ie"
    assert api_base_for_region("eusc-de-east-1") == "https://api.edee1.eusc-pure.cloud"
    assert api_base_for_region("us-east-2") == "https://api.use2.us-gov-pure.cloud"


def test_unknown_region_lists_the_valid_ones():
    with pytest.raises(UsageError) as err:
        api_base_for_region("eu-west-9")
    assert "eu-west-9" in str(err.value) and "ap-northeast-3" in str(err.value)


@pytest.mark.parametrize(
    ("api", "login"),
    [
        ("https://api.mypurecloud.com", "https://login.mypurecloud.com"),
        ("https://api.mypurecloud.com.au/", "https://login.mypurecloud.com.au"),
        ("http://127.0.0.1:8999", "http://127.0.0.1:8999"),
        ("https://proxy.example.test/genesys", "https://proxy.example.test/genesys"),
    ],
)
def test_login_host_derived_like_the_sdk(api, login):
    assert login_base_for(api) == login


def test_explicit_urls_win_over_region():
    assert resolve_bases("http://127.0.0.1:1", None, "eu-west-1")[:2] == (
        "http://127.0.0.1:1",
        "http://127.0.0.1:1",
    )
    assert resolve_bases("https://api.x.test", "https://sso.x.test/", None)[:2] == (
        "https://api.x.test",
        "https://sso.x.test",
    )
    assert resolve_bases(None, None, None) == (
        "https://api.mypurecloud.com",
        "https://login.mypurecloud.com",
        "us-east-1",
    )


def test_client_takes_region_from_credentials_and_token_url_from_it():
    client = GenesysClient(Credentials("id", "x", "ap-southeast-2"))
    assert client.api_base_url == "https://api.mypurecloud.com.au"
    assert client.token_url == "https://login.mypurecloud.com.au/oauth/token"
    with pytest.raises(UsageError):
        GenesysClient(Credentials("id", "x", "moon-1"))


def test_credentials_from_env_names_the_missing_variable():
    with pytest.raises(UsageError) as err:
        Credentials.from_env({"GENESYSCLOUD_OAUTHCLIENT_ID": "abc"})
    assert "GENESYSCLOUD_OAUTHCLIENT_SECRET" in str(err.value)
    assert "GENESYSCLOUD_OAUTHCLIENT_ID is" not in str(err.value)
    with pytest.raises(UsageError, match="GENESYSCLOUD_OAUTHCLIENT_ID and"):
        Credentials.from_env({})
    creds = Credentials.from_env(
        {
            "GENESYSCLOUD_OAUTHCLIENT_ID": "abc",
            "GENESYSCLOUD_OAUTHCLIENT_SECRET": "topsecret",
            "GENESYSCLOUD_REGION": "eu-central-1",
        }
    )
    assert creds.region == "eu-central-1"
    assert "topsecret" not in repr(creds)


def test_backoff_is_exponential_capped_and_jittered():
    rng = random.Random(1)
    for attempt in range(1, 12):
        ceiling = min(8.0, 0.5 * 2 ** (attempt - 1))
        values = [backoff_delay(attempt, 0.5, 8.0, rng) for _ in range(50)]
        assert all(ceiling / 2 <= v <= ceiling for v in values)
        assert len(set(values)) > 1  # jitter


def test_retry_after_then_ratelimit_reset():
    assert retry_after_seconds({"Retry-After": "3"}) == 3.0
    assert retry_after_seconds({"inin-ratelimit-reset": "7"}) == 7.0
    assert retry_after_seconds({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}) is None
    assert retry_after_seconds({}) is None


def test_permission_parsed_from_error_body():
    assert (
        permission_from_error(
            {
                "message": "You must have at least one of the following "
                "permissions assigned: [audits:audit:view]"
            }
        )
        == "audits:audit:view"
    )
    assert (
        permission_from_error(
            {"messageParams": {"perms": "[telephony:plugin:all]"}, "message": "x"}
        )
        == "telephony:plugin:all"
    )
    assert permission_from_error(None) == "unknown"


def test_token_error_hints():
    assert "wrong client id" in explain_token_error(
        400, {"error": "invalid_client", "description": "client not found"}, "region x"
    )
    assert "wrong secret" in explain_token_error(
        401, {"error": "invalid_client", "description": "authentication failed"}, "region x"
    )
    assert "wrong region" in explain_token_error(400, {"error": "invalid_client"}, "region x")


def test_audit_windows_cover_the_period_without_gaps():
    import datetime as dt

    start = dt.datetime(2026, 9, 1, tzinfo=dt.UTC)
    end = start + dt.timedelta(days=91)
    parts = list(windows(start, end, 30))
    assert [p[0] for p in parts[1:]] == [p[1] for p in parts[:-1]]
    assert parts[0][0] == start and parts[-1][1] == end and len(parts) == 4
    assert all(b - a <= dt.timedelta(days=30) for a, b in parts)
    specs = plan_queries(("A", "B"), start, end, 30)
    assert len(specs) == 8 and specs[0].interval == "2026-09-01T00:00:00Z/2026-10-01T00:00:00Z"


def test_pacer_waits_for_the_window_when_the_budget_is_spent():
    pacer = Pacer(allowed=10)
    pacer.acquire()
    pacer.release(
        {"inin-ratelimit-allowed": "10", "inin-ratelimit-count": "8", "inin-ratelimit-reset": "0.3"}
    )
    assert pacer.remaining == 2
    pacer.acquire()  # one left above the reserve
    pacer.release(None)
    started = time.monotonic()
    pacer.acquire()  # must wait for the reset
    assert time.monotonic() - started >= 0.25
    pacer.release(None)


def test_pacer_shares_the_budget_between_threads():
    pacer = Pacer(allowed=20)
    pacer.acquire()
    pacer.release(
        {"inin-ratelimit-allowed": "20", "inin-ratelimit-count": "1", "inin-ratelimit-reset": "0.4"}
    )
    sent = []

    def worker():
        for _ in range(10):
            pacer.acquire()
            sent.append(time.monotonic())
            pacer.release(None)

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    early = [t for t in sent if t - started < 0.35]
    assert len(early) <= 19  # never more than the window allows before it resets
    assert len(sent) == 30


def test_reconcile_names_endpoint_and_counts():
    from gcevidence.errors import IncompletePagination
    from gcevidence.genesys.paging import reconcile_ids

    reconcile_ids("/api/v2/x", [{"id": "a"}, {"id": "b"}], 2)
    with pytest.raises(IncompletePagination) as err:
        reconcile_ids("/api/v2/users", [{"id": "a"}, {"id": "a"}, {"id": "b"}], 4)
    text = str(err.value)
    assert "/api/v2/users" in text and "total 4" in text and "1 duplicates" in text
    assert "2 missing" in text
    assert err.value.exit_status == 3


def test_client_from_params_prefers_the_params_host(tmp_path):
    from gcevidence.config import load_params

    path = tmp_path / "p.yaml"
    path.write_text("org: {region: eu-central-1}\n")
    env = {
        "GENESYSCLOUD_OAUTHCLIENT_ID": "a",
        "GENESYSCLOUD_OAUTHCLIENT_SECRET": "b",
        "GENESYSCLOUD_REGION": "us-west-2",
    }
    client = GenesysClient.from_params(load_params(path), env)
    assert client.api_base_url == "https://api.mypurecloud.de"
    path.write_text("org: {}\n")
    assert GenesysClient.from_params(load_params(path), env).region == "us-west-2"
