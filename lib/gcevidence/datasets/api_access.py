"""Who reaches the org besides its people: OAuth clients (and their API use) and partners."""

from __future__ import annotations

from gcevidence.datasets.model import Entity, flag, table
from gcevidence.endpoints import ENDPOINTS

SECRET_REMOVED = "secret (the OAuth client's secret)"  # noqa: S105 - a description


def client_row(client: Entity) -> Entity:
    """One oauth_clients row (an OAuthClient, never its secret)."""
    pairs = client.get("roleDivisions") or []
    role_ids = set(client.get("roleIds") or []) | {p.get("roleId", "") for p in pairs}
    return {
        "id": client.get("id", ""),
        "name": client.get("name", ""),
        "state": client.get("state", ""),
        "grant_type": client.get("authorizedGrantType", ""),
        "token_validity_seconds": client.get("accessTokenValiditySeconds", ""),
        "date_created": client.get("dateCreated", ""),
        "date_modified": client.get("dateModified", ""),
        "created_by_id": (client.get("createdBy") or {}).get("id", ""),
        "date_to_delete": client.get("dateToDelete", ""),
        "role_ids": ";".join(sorted(r for r in role_ids if r)),
        # `*` as the division id means every division (Terraform's convention).
        "role_divisions": ";".join(
            sorted(f"{p.get('roleId', '')}@{p.get('divisionId', '')}" for p in pairs)
        ),
        "description": client.get("description", ""),
    }


def without_secret(client: Entity) -> Entity:
    """The OAuth client without its secret."""
    return {k: v for k, v in client.items() if k != "secret"}


def secret_of(client: Entity) -> list[str]:
    """The secret without_secret removes."""
    return [client["secret"]] if isinstance(client.get("secret"), str) else []


def _states(clients: list[Entity]) -> dict:
    states: dict[str, int] = {}
    for c in clients:
        states[str(c.get("state", ""))] = states.get(str(c.get("state", "")), 0) + 1
    return {"states": dict(sorted(states.items()))}


# The listing has no paging parameters; the usage of each active client is queried after it
# (collect_clients.py), so one special collector writes both tables.
OAUTH_CLIENTS = table(
    "oauth_clients",
    "id name state grant_type token_validity_seconds date_created date_modified created_by_id "
    "date_to_delete role_ids role_divisions description",
    (ENDPOINTS["oauth_clients"],),
    row=client_row,
    scrub=without_secret,
    removes=SECRET_REMOVED,
    withheld=secret_of,
    summary=_states,
    collector="oauth_clients",
    about="one row per OAuth client, in every state; the client's secret is never kept",
)


def usage_row(usage: Entity) -> Entity:
    """One oauth_client_usage row (raw: the client, the days asked for, the query result)."""
    client = usage.get("client") or {}
    used = [r for r in usage.get("results") or [] if (r.get("requests") or 0) > 0]
    return {
        "client_id": client.get("id", ""),
        "client_name": client.get("name", ""),
        "days": usage.get("days", ""),
        "requests": sum(int(r.get("requests") or 0) for r in used),
        "last_request_date": max((str(r.get("date", "")) for r in used), default=""),
        "query_status": usage.get("queryStatus", ""),
        "execution_id": usage.get("executionId", ""),
    }


OAUTH_CLIENT_USAGE = table(
    "oauth_client_usage",
    "client_id client_name days requests last_request_date query_status execution_id",
    (ENDPOINTS["oauth_client_usage_summary"], ENDPOINTS["oauth_client_usage_result"]),
    row=usage_row,
    collector="oauth_clients",
    about="one row per active OAuth client: its API requests over the last `days` days",
)


def trustee_row(trustee: Entity) -> Entity:
    """One trustees row (a Trustee: a partner organisation trusted with access)."""
    created_by = trustee.get("createdBy") or {}
    return {
        "id": trustee.get("id", ""),
        "organization_id": (trustee.get("organization") or {}).get("id", ""),
        "organization_name": (trustee.get("organization") or {}).get("name", ""),
        "enabled": flag(trustee.get("enabled")),
        "has_full_access": flag(trustee.get("hasFullAccess")),
        "uses_default_role": flag(trustee.get("usesDefaultRole")),
        "is_trusted_user": flag(trustee.get("isTrustedUser")),
        "date_created": trustee.get("dateCreated", ""),
        "date_expired": trustee.get("dateExpired", ""),
        "created_by_id": created_by.get("id", ""),
        "created_by_name": created_by.get("name", ""),
    }


TRUSTEES = table(
    "trustees",
    "id organization_id organization_name enabled has_full_access uses_default_role "
    "is_trusted_user date_created date_expired created_by_id created_by_name",
    (ENDPOINTS["trustees"],),
    row=trustee_row,
    about="one row per partner organisation trusted with access to this org",
)
