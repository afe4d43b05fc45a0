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

from gcevidence.simulator.model import Grant, SimRole, Subject, iso, new_id

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


def add_oauth_clients(org, collector_id: str, divisions: tuple[str, ...] | None) -> None:
    """Give `org` its OAuth clients: the collector (with its role) and the planted ones."""
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
    org.oauth_clients = {
        collector_id: _client(
            collector_id,
            COLLECTOR_NAME,
            "Reads the org for compliance evidence (gcevidence)",
            [(role.id, division) for division in role_divisions],
            created,
            secret=None,  # the simulator's own client secret, added when answering
        )
    }
    for subject in org.subjects.values():
        if subject.kind == "PC_OAUTH_CLIENT" and subject.id != collector_id:
            grants = org.grants.get(subject.id, [])
            org.oauth_clients[subject.id] = _client(
                subject.id,
                subject.name,
                "",
                [(g.role_id, g.division_id) for g in grants],
                min((g.made_at for g in grants), default=created),
                secret=new_id(rng).replace("-", ""),
            )
    org._index()


def _client(ident, name, description, role_divisions, created, secret) -> dict:
    """An OAuthClient as the API answers it (empty fields omitted)."""
    body = {
        "id": ident,
        "name": name,
        "accessTokenValiditySeconds": 86400,
        "authorizedGrantType": "CLIENT-CREDENTIALS",
        "roleIds": sorted({role for role, _ in role_divisions}),
        "roleDivisions": [{"roleId": r, "divisionId": d} for r, d in role_divisions],
        "state": "active",
        "dateCreated": iso(created),
        "dateModified": iso(created),
    }
    if description:
        body["description"] = description
    if secret:
        body["secret"] = secret
    return body


__all__ = ["ALL_DIVISIONS", "COLLECTOR_NAME", "COLLECTOR_ROLE", "add_oauth_clients"]
