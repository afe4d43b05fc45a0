"""How people sign in: the password policy, token lifetime, Genesys' own login and SSO providers."""

from __future__ import annotations

import logging

from cryptography import x509

from gcevidence.datasets.model import Entity, document, flag, table
from gcevidence.endpoints import ENDPOINTS

log = logging.getLogger(__name__)

AUTH_SETTINGS = document("auth_settings", (ENDPOINTS["auth_settings"],))
TOKEN_TIMEOUT = document("token_timeout", (ENDPOINTS["token_timeout"],))

# Genesys Cloud's own login; `disabled: true` means "Disable Genesys Cloud Login" is on and
# everyone signs in through an identity provider, so Genesys' password policy and MFA setting
# are not used.
GENESYS_LOGIN = document("genesys_login", (ENDPOINTS["genesys_login"],))


def provider_row(provider: Entity) -> Entity:
    """One identity_providers row (a SAMLProvider)."""
    return {
        "id": provider.get("id", ""),
        "name": provider.get("name", ""),
        "provider_name": provider.get("providerName", ""),
        "disabled": flag(provider.get("disabled")),
        "issuer_uri": provider.get("issuerURI", ""),
        "sso_target_uri": provider.get("ssoTargetURI", ""),
        "display_on_login": flag(provider.get("displayOnLogin")),
        "certificate_not_after": _earliest_expiry(provider),
    }


def _earliest_expiry(provider: Entity) -> str:
    """When the first of the provider's signing certificates expires (ISO-8601 UTC)."""
    pems = list(provider.get("certificates") or []) or (
        [provider["certificate"]] if provider.get("certificate") else []
    )
    ends = []
    for pem in pems:
        try:
            cert = x509.load_pem_x509_certificate(str(pem).encode("ascii"))
        except (ValueError, UnicodeEncodeError):
            log.info("identity provider %s: a certificate is not PEM", provider.get("name", ""))
            continue
        ends.append(cert.not_valid_after_utc)
    return min(ends).strftime("%Y-%m-%dT%H:%M:%SZ") if ends else ""


def _enabled(providers: list[Entity]) -> dict:
    return {
        "enabled": sorted(str(p.get("name", "")) for p in providers if p.get("disabled") is False)
    }


IDENTITY_PROVIDERS = table(
    "identity_providers",
    "id name provider_name disabled issuer_uri sso_target_uri display_on_login "
    "certificate_not_after",
    (ENDPOINTS["identity_providers"],),
    row=provider_row,
    summary=_enabled,
    about="the SAML identity providers people may sign in through",
)
