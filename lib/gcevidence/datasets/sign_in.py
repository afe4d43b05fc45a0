"""How people sign in: the password policy, token lifetime, Genesys' own login and SSO providers."""

from __future__ import annotations

import datetime as dt
import logging

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from gcevidence.datasets.model import Entity, compact, document, flag, table
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
    certificates = signing_certificates(provider)
    ends = [c["not_after"] for c in certificates if c.get("not_after")]
    return {
        "id": provider.get("id", ""),
        "name": provider.get("name", ""),
        "provider_name": provider.get("providerName", ""),
        "disabled": flag(provider.get("disabled")),
        "issuer_uri": provider.get("issuerURI", ""),
        "sso_target_uri": provider.get("ssoTargetURI", ""),
        "display_on_login": flag(provider.get("displayOnLogin")),
        "certificate_not_after": min(ends) if ends else "",
        "certificates": compact(certificates) or "[]",
    }


def signing_certificates(provider: Entity) -> list[Entity]:
    """Each PEM signing certificate of a provider, parsed: fingerprint, subject, validity.

    `certificates[]` is the list; the older single `certificate` is read when the list is
    empty. A certificate that cannot be parsed is kept as `{"index", "error"}`.
    """
    pems = list(provider.get("certificates") or []) or (
        [provider["certificate"]] if provider.get("certificate") else []
    )
    out: list[Entity] = []
    for index, pem in enumerate(pems):
        try:
            cert = x509.load_pem_x509_certificate(str(pem).encode("ascii"))
        except (ValueError, UnicodeEncodeError):
            log.info("identity provider %s: a certificate is not PEM", provider.get("name", ""))
            out.append({"index": index, "error": "not a PEM X.509 certificate"})
            continue
        out.append(
            {
                "index": index,
                "sha256": cert.fingerprint(hashes.SHA256()).hex(),
                "subject": cert.subject.rfc4514_string(),
                "issuer": cert.issuer.rfc4514_string(),
                "not_before": _iso(cert.not_valid_before_utc),
                "not_after": _iso(cert.not_valid_after_utc),
            }
        )
    return out


def _iso(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _enabled(providers: list[Entity]) -> dict:
    return {
        "enabled": sorted(str(p.get("name", "")) for p in providers if p.get("disabled") is False)
    }


IDENTITY_PROVIDERS = table(
    "identity_providers",
    "id name provider_name disabled issuer_uri sso_target_uri display_on_login "
    "certificate_not_after certificates",
    (ENDPOINTS["identity_providers"],),
    row=provider_row,
    summary=_enabled,
    about="the SAML identity providers people may sign in through",
)
