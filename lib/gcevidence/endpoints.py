"""Every Platform API endpoint the toolkit calls, declared once: method, path, permission, paging.

The collector, the page sizes, preflight's permission probes and the request breakdown read
these declarations; the simulator's route table is tested against them (tests/test_endpoints.py).
Permissions are as the official SDK's API docs state them for the endpoint ("Requires ANY/ALL
permissions"; "" where they say "Requires no permissions"). Paths keep the SDK's
`{placeholder}` names. Every answer is stored (genesys/responses.py) minus the fields an
endpoint declares as `secrets` (always removed) and `personal` (removed when privacy.minimize
is on), named as redact.py explains.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from gcevidence.privacy import contact_change_values, user_fields


class Paging(StrEnum):
    """How an endpoint's answer is read in full."""

    PAGES = "page-number"  # pageSize/pageNumber query parameters, `total` and `pageCount`
    CURSOR = "cursor"  # follow `cursor` until an answer carries none
    NONE = "none"  # one answer holds everything (an object, or every entity with `total`)
    ASYNC = "async audit"  # a POST starts a query that is polled, then read by cursor


_PLACEHOLDER = re.compile(r"\{([A-Za-z]+)\}")


@dataclass(frozen=True)
class Endpoint:
    """One Platform API endpoint as the toolkit calls it."""

    name: str
    method: str
    path: str  # with the SDK's {placeholders}
    permission: str  # "" when the SDK docs say "Requires no permissions"
    paging: Paging
    page_size: int | None = None  # what the toolkit asks for (PAGES and CURSOR)
    defaults: MappingProxyType = field(default_factory=lambda: MappingProxyType({}), hash=False)
    secrets: tuple[str, ...] = ()  # fields of an answer never stored (credentials)
    personal: tuple[str, ...] = ()  # fields not stored when minimising (privacy.py)

    def url(self, **ids: str) -> str:
        """The path with its placeholders filled in (every one must be given)."""
        names = _PLACEHOLDER.findall(self.path)
        if set(names) != set(ids):
            raise ValueError(f"{self.path} needs {names}, got {sorted(ids)}")
        return _PLACEHOLDER.sub(lambda m: str(ids[m.group(1)]), self.path)

    def query(self, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """The endpoint's default query parameters, overridden by `params`."""
        return {**self.defaults, **(params or {})}

    def matches(self, method: str, path: str) -> bool:
        """Whether a concrete request (path without its query) is a call of this endpoint."""
        return method == self.method and _pattern(self.path).fullmatch(path) is not None

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


@functools.cache
def _pattern(path: str) -> re.Pattern:
    parts = _PLACEHOLDER.split(path)  # literal, name, literal, name, ..., literal
    return re.compile("[^/]+".join(re.escape(literal) for literal in parts[::2]))


def _endpoint(
    name: str,
    method: str,
    path: str,
    permission: str,
    paging: Paging,
    page_size: int | None = None,
    *,
    secrets: tuple[str, ...] = (),
    personal: tuple[str, ...] = (),
    **defaults: Any,
) -> Endpoint:
    return Endpoint(
        name,
        method,
        path,
        permission,
        paging,
        page_size,
        MappingProxyType(defaults),
        secrets,
        personal,
    )


_ALL = (
    _endpoint("organization", "GET", "/api/v2/organizations/me", "", Paging.NONE),
    # Page size 500: the official Terraform provider reads users 500 at a time (no documented
    # maximum). state=inactive alone stops at 10,000 results, which is why the users dataset
    # asks for state=any.
    _endpoint(
        "users", "GET", "/api/v2/users", "", Paging.PAGES, 500, personal=user_fields("entities[]")
    ),
    _endpoint("user", "GET", "/api/v2/users/{userId}", "", Paging.NONE, personal=user_fields()),
    # Page size 100 for the authorization and telephony listings: what Genesys' own tools
    # (Terraform provider, CLI) use; no larger maximum is documented for them.
    # userCount=false: counting members "can lead to slower load times or timeouts for role
    # queries with large member counts" (SDK docs); each role's grants are counted instead.
    _endpoint(
        "roles",
        "GET",
        "/api/v2/authorization/roles",
        "authorization:role:view",
        Paging.PAGES,
        100,
        userCount=False,
    ),
    _endpoint(
        "role",
        "GET",
        "/api/v2/authorization/roles/{roleId}",
        "authorization:role:view",
        Paging.NONE,
    ),
    _endpoint(
        "role_users", "GET", "/api/v2/authorization/roles/{roleId}/users", "", Paging.PAGES, 100
    ),
    _endpoint(
        "role_subject_grants",
        "GET",
        "/api/v2/authorization/roles/{roleId}/subjectgrants",
        "authorization:role:view",
        Paging.PAGES,
        100,
    ),
    _endpoint("divisions", "GET", "/api/v2/authorization/divisions", "", Paging.PAGES, 100),
    # Page size 100: the largest known to work (Genesys' own tools use 100).
    _endpoint(
        "group_members",
        "GET",
        "/api/v2/groups/{groupId}/members",
        "",
        Paging.PAGES,
        100,
        personal=user_fields("entities[]"),
    ),
    # Every group with its name: the idle-timeout group bundles name groups by id only. No
    # documented maximum page size; 100, as for the members.
    _endpoint("groups", "GET", "/api/v2/groups", "", Paging.PAGES, 100),
    # Genesys Cloud's own login: `disabled: true` is "Disable Genesys Cloud Login" (SSO only).
    _endpoint(
        "genesys_login",
        "GET",
        "/api/v2/identityproviders/purecloud",
        "sso:provider:view",
        Paging.NONE,
    ),
    # Takes no paging parameters: one answer lists every SAML identity provider with `total`.
    _endpoint(
        "identity_providers", "GET", "/api/v2/identityproviders", "sso:provider:view", Paging.NONE
    ),
    _endpoint(
        "auth_settings",
        "GET",
        "/api/v2/organizations/authentication/settings",
        "directory:organization:admin",
        Paging.NONE,
    ),
    _endpoint("token_timeout", "GET", "/api/v2/tokens/timeout", "", Paging.NONE),
    # Installed integrations, among them the Amazon EventBridge source that exports audit
    # events to the customer's SIEM. No documented maximum page size; 100, as the other
    # listings.
    _endpoint(
        "integrations",
        "GET",
        "/api/v2/integrations",
        "integrations:integration:view",
        Paging.PAGES,
        100,
    ),
    # The collecting OAuth client itself: its roleDivisions say which divisions it sees. The
    # answer is an OAuthClient, whose model carries the client's `secret`: never stored.
    _endpoint(
        "oauth_client",
        "GET",
        "/api/v2/oauth/clients/{clientId}",
        "oauth:client:view",
        Paging.NONE,
        secrets=("secret",),
    ),
    # Not paged: `entities` and `total` in one answer.
    # apiKey is the Hawk credential of the customer's key manager.
    _endpoint(
        "key_configurations",
        "GET",
        "/api/v2/recording/keyconfigurations",
        "recording:encryptionKey:view",
        Paging.NONE,
        secrets=("entities[].apiKey",),
    ),
    _endpoint(
        "recording_keys",
        "GET",
        "/api/v2/recording/recordingkeys",
        "recording:encryptionKey:view",
        Paging.PAGES,
        100,
        secrets=("entities[].localEncryptionConfiguration.apiKey",),
    ),
    _endpoint(
        "rotation_schedule",
        "GET",
        "/api/v2/recording/recordingkeys/rotationschedule",
        "recording:encryptionKey:view",
        Paging.NONE,
    ),
    _endpoint("recording_settings", "GET", "/api/v2/recording/settings", "", Paging.NONE),
    # SIP credentials sit in trunk properties whose names contain "password".
    _endpoint(
        "trunk_base_settings",
        "GET",
        "/api/v2/telephony/providers/edges/trunkbasesettings",
        "telephony:plugin:all",
        Paging.PAGES,
        100,
        secrets=("entities[].properties.*password*",),
    ),
    _endpoint(
        "trunk_base_setting",
        "GET",
        "/api/v2/telephony/providers/edges/trunkbasesettings/{trunkBaseSettingsId}",
        "telephony:plugin:all",
        Paging.NONE,
        secrets=("properties.*password*",),
    ),
    # The asynchronous audit query: POST answers 202 with a transaction id, the status is polled
    # until Succeeded, the results are read by cursor at the documented maximum of 500 a page.
    _endpoint("audit_query", "POST", "/api/v2/audits/query", "audits:audit:view", Paging.ASYNC),
    _endpoint(
        "audit_query_status",
        "GET",
        "/api/v2/audits/query/{transactionId}",
        "audits:audit:view",
        Paging.NONE,
    ),
    _endpoint(
        "audit_query_results",
        "GET",
        "/api/v2/audits/query/{transactionId}/results",
        "audits:audit:view",
        Paging.CURSOR,
        500,
        personal=contact_change_values("entities[]"),
        expand="user",
    ),
    # Synchronous, the last 14 days only, and the only audit endpoint that reports a `total`:
    # read for that count alone (one event a page; paging is in the body).
    _endpoint(
        "audit_realtime",
        "POST",
        "/api/v2/audits/query/realtime",
        "audits:audit:view",
        Paging.NONE,
        personal=contact_change_values("entities[]"),
    ),
    # OAuth clients, partners' access and recording retention. The clients listing takes no
    # paging parameters (one answer with every client and `total`); an OAuth client carries its
    # `secret`, which the oauth_clients dataset drops. The usage endpoints accept ANY of
    # oauth:client:view and usage:client:view (SDK docs): the first is the one the listing
    # needs already. A usage summary starts a query (`executionId`) whose result is polled
    # until its `queryStatus` is Complete.
    _endpoint(
        "oauth_clients",
        "GET",
        "/api/v2/oauth/clients",
        "oauth:client:view",
        Paging.NONE,
        secrets=("entities[].secret",),
    ),
    _endpoint(
        "oauth_client_usage_summary",
        "GET",
        "/api/v2/oauth/clients/{clientId}/usage/summary",
        "oauth:client:view",
        Paging.NONE,
    ),
    _endpoint(
        "oauth_client_usage_result",
        "GET",
        "/api/v2/oauth/clients/{clientId}/usage/query/results/{executionId}",
        "oauth:client:view",
        Paging.NONE,
    ),
    # Page size 100 for both: the SDK documents only the default (25); Genesys' own tools page
    # their listings by 100.
    _endpoint(
        "trustees",
        "GET",
        "/api/v2/orgauthorization/trustees",
        "authorization:orgTrustee:view",
        Paging.PAGES,
        100,
    ),
    _endpoint(
        "media_retention_policies",
        "GET",
        "/api/v2/recording/mediaretentionpolicies",
        "recording:retentionPolicy:view",
        Paging.PAGES,
        100,
    ),
)
ENDPOINTS: MappingProxyType = MappingProxyType({e.name: e for e in _ALL})
if len(ENDPOINTS) != len(_ALL) or len({(e.method, e.path) for e in _ALL}) != len(_ALL):
    raise RuntimeError("an endpoint is declared twice")


def endpoint_for(method: str, path: str) -> Endpoint | None:
    """The declared endpoint a concrete request calls (query string ignored), else None."""
    bare = path.split("?", 1)[0]
    found = [e for e in _ALL if e.matches(method, bare)]
    # A literal segment beats a placeholder (rotationschedule is not a recording key id).
    return min(found, key=lambda e: e.path.count("{"), default=None)


def requests_by_endpoint(calls: Iterable[tuple[str, str]]) -> dict[str, int]:
    """How many of the (method, path) calls went to each declared endpoint, most first.

    The token request counts as "token"; a call of no declared endpoint as "undeclared".
    """
    counts: Counter[str] = Counter()
    for method, path in calls:
        if path.split("?", 1)[0] == "/oauth/token":
            counts["token"] += 1
            continue
        endpoint = endpoint_for(method, path)
        counts[endpoint.name if endpoint else "undeclared"] += 1
    return dict(counts.most_common())


__all__ = ["ENDPOINTS", "Endpoint", "Paging", "endpoint_for", "requests_by_endpoint"]
