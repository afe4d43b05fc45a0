"""The OAuth client that collects the evidence: its own role grants, and so what it can see."""

from __future__ import annotations

from gcevidence.datasets.model import Entity, document
from gcevidence.endpoints import ENDPOINTS

CREDENTIAL_REMOVED = "secret (the OAuth client's secret)"


def without_secret(client: Entity) -> Entity:
    """The OAuth client without its secret."""
    return {k: v for k, v in client.items() if k != "secret"}


# Read by its own id (the credentials' client id), so it has a small special collector. Its
# roleDivisions say which divisions the client holds roles in: a client that does not see every
# division misses whatever lives there, while every listing still reconciles with its total.
COLLECTOR_CLIENT = document(
    "collector_client",
    (ENDPOINTS["oauth_client"],),
    scrub=without_secret,
    removes=CREDENTIAL_REMOVED,
    collector="collector_client",
    about="the collecting OAuth client: name, grant type, roleDivisions",
)
