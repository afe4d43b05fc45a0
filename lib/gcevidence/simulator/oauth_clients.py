"""The org's OAuth clients, each with its secret, and the API usage Genesys counts for them.

A client's roles appear twice in the API, as in a real org: in its `roleDivisions` and as
PC_OAUTH_CLIENT subject grants of each role; the two are built from the same grants here.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from gcevidence.simulator.model import Grant, Subject, iso, new_id

GRANT_TYPES = ("CODE", "TOKEN", "SAML2-BEARER", "PASSWORD", "CLIENT-CREDENTIALS")
STATES = ("active", "disabled", "inactive")


@dataclass(frozen=True, slots=True)
class SimClient:
    """One OAuth client. `last_used_days` None: never used; requests per day while in use."""

    id: str
    name: str
    grant_type: str
    state: str
    secret: str  # "" for the implicit grant, which has none
    created: dt.datetime
    created_by: str  # a user id
    description: str = ""
    token_validity_seconds: int = 86400
    first_used_days: int = 0
    last_used_days: int | None = None
    daily_requests: int = 0
    # roleDivisions as the API answers them when they differ from the grants: the collector's
    # role held with division `*` (every division) is granted in each division (clients.py).
    role_divisions: tuple[tuple[str, str], ...] | None = None

    def requests_on(self, day: dt.date, today: dt.date) -> int:
        """How many API requests the client made on `day` (UTC)."""
        if self.last_used_days is None:
            return 0
        age = (today - day).days
        return self.daily_requests if self.last_used_days <= age <= self.first_used_days else 0


# (story key, name, grant type, state, created days ago, first/last use in days ago or None,
#  requests a day, roles): the planted cases of access.oauth_clients (PLANTED.md).
CLIENT_SPECS = (
    ("oauth_unused", "Nightly Recording Export", "CLIENT-CREDENTIALS", "active", 400,
     (390, 120), 40, ("Reporting Admin",)),
    ("oauth_implicit", "Agent Desktop Widget", "TOKEN", "active", 300, (290, 0), 900, ()),
    ("oauth_password", "Legacy Wallboard Script", "PASSWORD", "active", 700, (690, 1), 120, ()),
    ("oauth_code_ok", "CRM Connector", "CODE", "active", 500, (480, 0), 2500, ()),
    ("oauth_cc_ok", "Queue Stats Exporter", "CLIENT-CREDENTIALS", "active", 200, (190, 0), 300,
     ("Wallboard User",)),
    ("oauth_disabled", "Retired WFM Sync", "CLIENT-CREDENTIALS", "disabled", 900, None, 0,
     ("Telephony Admin",)),
)  # fmt: skip


def build_clients(org, rng: random.Random) -> list[SimClient]:
    """Every OAuth client of the org, the CI pipeline holding Master Admin first.

    Each client's roles become PC_OAUTH_CLIENT grants (org.grants, org.subjects), so that the
    subject grants and the clients' roleDivisions say the same.
    """
    admin = org.named["platform_admin_1"]
    ci_id = org.named["master_admin_client"]
    clients = [
        SimClient(
            ci_id,
            org.subjects[ci_id].name,
            "CLIENT-CREDENTIALS",
            "active",
            _secret(rng),
            org.at(250, 10),
            admin,
            "Deploys Architect flows",
            first_used_days=240,
            last_used_days=2,
            daily_requests=60,
        )
    ]
    for key, name, grant, state, created, use, per_day, roles in CLIENT_SPECS:
        client = SimClient(
            new_id(rng),
            name,
            grant,
            state,
            "" if grant == "TOKEN" else _secret(rng),
            org.at(created, 11),
            admin,
            first_used_days=use[0] if use else 0,
            last_used_days=use[1] if use else None,
            daily_requests=per_day,
        )
        clients.append(client)
        org.named[key] = client.id
        if roles:
            org.subjects[client.id] = Subject(
                client.id, name, "PC_OAUTH_CLIENT", f"/api/v2/oauth/clients/{client.id}"
            )
            org.grants[client.id] = [
                Grant(org.role(r).id, org.home.id, org.at(created, 11)) for r in roles
            ]
    return clients


def _secret(rng: random.Random) -> str:
    """A client secret: 43 URL-safe characters, like the ones Genesys generates."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return "".join(alphabet[rng.randrange(64)] for _ in range(43))


def client_wire(org, client: SimClient) -> dict:
    """OAuthClient as GET /api/v2/oauth/clients sends it (secret included, as the model has)."""
    grants = org.grants.get(client.id, [])
    pairs = (
        client.role_divisions
        if client.role_divisions is not None
        else tuple((g.role_id, g.division_id) for g in grants)
    )
    body = {
        "id": client.id,
        "name": client.name,
        "accessTokenValiditySeconds": client.token_validity_seconds,
        "description": client.description or None,
        "registeredRedirectUri": (
            [f"https://{client.name.split()[0].lower()}.acme-cc.example/callback"]
            if client.grant_type in ("CODE", "TOKEN")
            else None
        ),
        "secret": client.secret or None,
        "roleIds": sorted({g.role_id for g in grants}) or None,
        "dateCreated": iso(client.created),
        "dateModified": iso(client.created),
        "createdBy": {"id": client.created_by, "selfUri": f"/api/v2/users/{client.created_by}"},
        "authorizedGrantType": client.grant_type,
        # Scopes apply to clients not using the client-credentials grant (SDK model).
        "scope": ["users:readonly"] if client.grant_type != "CLIENT-CREDENTIALS" else None,
        "roleDivisions": [{"roleId": r, "divisionId": d} for r, d in pairs] or None,
        "state": client.state,
        "selfUri": f"/api/v2/oauth/clients/{client.id}",
    }
    return {k: v for k, v in body.items() if v is not None}


def usage_rows(client: SimClient, days: int, today: dt.date) -> list[dict]:
    """ApiUsageRow per day with requests, over the `days` days up to today."""
    rows = []
    for back in range(days, -1, -1):
        day = today - dt.timedelta(days=back)
        requests = client.requests_on(day, today)
        if requests:
            ok = requests - requests // 50
            rows.append(
                {
                    "clientId": client.id,
                    "clientName": client.name,
                    "status200": ok,
                    "status400": requests - ok,
                    "requests": requests,
                    "date": iso(dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)),
                }
            )
    return rows
