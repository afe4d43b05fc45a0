"""How people sign in: Genesys' own login and the SAML identity providers (sso:provider:view).

GET /api/v2/identityproviders/purecloud is Genesys Cloud's own login: `disabled: true` means
"Disable Genesys Cloud Login" is on and everyone signs in through an identity provider, so
Genesys' password policy and MFA setting are not used. GET /api/v2/identityproviders lists the
SAML providers (SAMLProvider: name, providerName, disabled, certificates).
"""

from __future__ import annotations

import logging
from typing import Any

from cryptography import x509

from gcevidence.genesys.paging import reconcile_ids
from gcevidence.snapshot import SnapshotWriter

log = logging.getLogger(__name__)

PROVIDERS_PATH = "/api/v2/identityproviders"
GENESYS_LOGIN_PATH = "/api/v2/identityproviders/purecloud"


def collect_sign_in(client: Any, writer: SnapshotWriter) -> None:
    """Write `identity_providers` and `genesys_login` (a 403 makes both unavailable)."""
    login = client.get(GENESYS_LOGIN_PATH) or {}
    doc = client.get(PROVIDERS_PATH) or {}
    providers = doc.get("entities") or []
    total = doc.get("total") if isinstance(doc.get("total"), int) else len(providers)
    # The endpoint takes no paging parameters: one answer holds every provider.
    reconcile_ids(PROVIDERS_PATH, providers, total)
    writer.write_object("genesys_login", login, requests=1)
    writer.write_table(
        "identity_providers",
        (_provider_row(p) for p in providers),
        providers,
        expected_rows=total,
        requests=1,
        enabled=sorted(str(p.get("name", "")) for p in providers if p.get("disabled") is False),
    )


def _provider_row(p: dict) -> dict:
    return {
        "id": p.get("id", ""),
        "name": p.get("name", ""),
        "provider_name": p.get("providerName", ""),
        "disabled": "" if p.get("disabled") is None else str(bool(p.get("disabled"))).lower(),
        "issuer_uri": p.get("issuerURI", ""),
        "sso_target_uri": p.get("ssoTargetURI", ""),
        "display_on_login": ""
        if p.get("displayOnLogin") is None
        else str(bool(p.get("displayOnLogin"))).lower(),
        "certificate_not_after": _earliest_expiry(p),
    }


def _earliest_expiry(p: dict) -> str:
    """When the first of the provider's signing certificates expires (ISO-8601 UTC)."""
    pems = list(p.get("certificates") or []) or ([p["certificate"]] if p.get("certificate") else [])
    ends = []
    for pem in pems:
        try:
            cert = x509.load_pem_x509_certificate(str(pem).encode("ascii"))
        except (ValueError, UnicodeEncodeError):
            log.info("identity provider %s: a certificate is not PEM", p.get("name", ""))
            continue
        ends.append(cert.not_valid_after_utc)
    return min(ends).strftime("%Y-%m-%dT%H:%M:%SZ") if ends else ""
