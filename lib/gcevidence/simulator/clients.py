"""The org's OAuth clients, among them the one that collects the evidence.

A client-credentials client holds roles in divisions like any other subject. The collector is
given one custom role, "Evidence Collector" (view permissions only), granted with division `*`
(all divisions, the default) or only in the divisions `SimConfig.collector_divisions` names: a
client limited like that silently sees less, which the pack must say. Its subject grants list
it in each division it holds the role in (how the API renders `*` there is UNCONFIRMED; every
division is listed). `GET /api/v2/oauth/clients/{clientId}` answers an OAuthClient with its
`roleDivisions` and, as the real API's model carries it, its `secret`.

Everything here draws from its own random stream, so adding the collector changes no other id
or name of the org.
"""

from __future__ import annotations

import random

from gcevidence.simulator.model import Grant, SimRole, Subject, new_id
from gcevidence.simulator.oauth_clients import SimClient

COLLECTOR_NAME = "gcevidence evidence collector"
COLLECTOR_ROLE = "Evidence Collector"
COLLECTOR_PERMISSIONS = (
    "audits:audit:view",
    "authorization:role:view",
    "directory:organization:admin",
    "oauth:client:view",
    "recording:encryptionKey:view",
    "sso:provider:view",
    "telephony:plugin:all",
)
ALL_DIVISIONS = "*"


def add_oauth_clients(
    org, collector_id: str, secret: str, divisions: tuple[str, ...] | None
) -> None:
    """Add the collector (with its role) to the org's OAuth clients (oauth_clients.py)."""
    rng = random.Random(f"{org.seed}:oauth-clients")
    role = SimRole(
        new_id(rng),
        COLLECTOR_ROLE,
        "Custom: read-only evidence collection",
        "",
        COLLECTOR_PERMISSIONS,
    )
    org.roles.append(role)
    org.role_by_name[role.name] = role
    org.role_by_id[role.id] = role
    if divisions is None:
        held, role_divisions = org.divisions, [ALL_DIVISIONS]
    else:
        by_name = {d.name: d for d in org.divisions}
        unknown = [name for name in divisions if name not in by_name]
        if unknown:
            raise ValueError(
                f"SimConfig.collector_divisions: no division named {', '.join(unknown)}; "
                f"the org has {', '.join(by_name)}"
            )
        held = [by_name[name] for name in divisions]
        role_divisions = [d.id for d in held]
    created = org.at(200, 9)
    org.subjects[collector_id] = Subject(
        collector_id, COLLECTOR_NAME, "PC_OAUTH_CLIENT", f"/api/v2/oauth/clients/{collector_id}"
    )
    org.grants[collector_id] = [Grant(role.id, d.id, created) for d in held]
    org.oauth_clients.insert(
        0,
        SimClient(
            collector_id,
            COLLECTOR_NAME,
            "CLIENT-CREDENTIALS",
            "active",
            secret,
            created,
            org.named["platform_admin_1"],
            "Reads the org for compliance evidence (gcevidence)",
            first_used_days=190,
            last_used_days=0,
            daily_requests=250,
            role_divisions=tuple((role.id, division) for division in role_divisions),
        ),
    )
    org._index()


__all__ = ["ALL_DIVISIONS", "COLLECTOR_NAME", "COLLECTOR_ROLE", "add_oauth_clients"]
