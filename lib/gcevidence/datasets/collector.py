"""The OAuth client that collects the evidence: its own role grants, and so what it can see."""

from __future__ import annotations

from gcevidence.datasets.api_access import SECRET_REMOVED, secret_of, without_secret
from gcevidence.datasets.model import document
from gcevidence.endpoints import ENDPOINTS

# Read by its own id (the credentials' client id), so it has a small special collector. Its
# roleDivisions say which divisions the client holds roles in: a client that does not see every
# division misses whatever lives there, while every listing still reconciles with its total.
COLLECTOR_CLIENT = document(
    "collector_client",
    (ENDPOINTS["oauth_client"],),
    scrub=without_secret,
    removes=SECRET_REMOVED,
    withheld=secret_of,
    collector="collector_client",
    about="the collecting OAuth client: name, grant type, roleDivisions",
)
