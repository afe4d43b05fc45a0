"""OAuth client credentials: where they come from and the bearer token they buy."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from gcevidence.errors import AuthenticationError, UsageError

log = logging.getLogger(__name__)

ENV_ID = "GENESYSCLOUD_OAUTHCLIENT_ID"
ENV_SECRET = "GENESYSCLOUD_OAUTHCLIENT_SECRET"  # noqa: S105 - a variable name, not a secret
ENV_REGION = "GENESYSCLOUD_REGION"


@dataclass(frozen=True)
class Credentials:
    """An OAuth client (client-credentials grant); the secret is kept out of repr()."""

    client_id: str
    client_secret: str = field(repr=False)
    region: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Credentials:
        """Read the variables Genesys' own CLI and Terraform provider use."""
        env = os.environ if env is None else env
        missing = [name for name in (ENV_ID, ENV_SECRET) if not env.get(name, "").strip()]
        if missing:
            raise UsageError(
                f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set; "
                f"export {ENV_ID} and {ENV_SECRET} for an OAuth client (client credentials "
                f"grant) and optionally {ENV_REGION}, e.g. eu-west-1"
            )
        region = env.get(ENV_REGION, "").strip() or None
        return cls(env[ENV_ID].strip(), env[ENV_SECRET].strip(), region)


@dataclass(frozen=True)
class Token:
    value: str = field(repr=False)
    expires_at: float  # time.monotonic() deadline


def explain_token_error(status: int, body: object, region_hint: str) -> str:
    """One line saying what is wrong with the OAuth client and how to fix it."""
    error = desc = ""
    if isinstance(body, dict):
        error = str(body.get("error", ""))
        desc = str(
            body.get("error_description") or body.get("description") or body.get("message") or ""
        )
    # The error code is already in the ApiError's text; say the description once.
    text = desc or error or f"HTTP {status}"
    low = f"{error} {desc}".lower()
    if "not found" in low or "unknown client" in low:
        return (
            f"{text} - wrong client id? Check {ENV_ID}; an OAuth client only works in the "
            f"region where it was created: wrong region? Set {ENV_REGION} (or org.region) to "
            f"that region (now {region_hint})"
        )
    if "authentication failed" in low or "bad credentials" in low or "secret" in low:
        return f"{text} - wrong secret? Check {ENV_SECRET} for this client id"
    if error == "invalid_client" or status in (400, 401):
        return (
            f"{text} - wrong client id or secret, or wrong region? ({region_hint}); "
            f"check {ENV_ID}/{ENV_SECRET} and {ENV_REGION}"
        )
    if error == "unauthorized_client":
        return f"{text} - the OAuth client must use the Client Credentials grant type"
    return text


class TokenSource:
    """Holds the current bearer token; one thread at a time fetches a new one."""

    def __init__(self, fetch: Callable[[], tuple[str, float]], refresh_margin: float = 60.0):
        self._fetch = fetch
        self._margin = refresh_margin
        self._lock = threading.Lock()
        self._token: Token | None = None
        self.issued = 0
        self.lifetime: float | None = None  # seconds the last token was issued for

    def get(self) -> str:
        with self._lock:
            tok = self._token
            if tok is None or time.monotonic() >= tok.expires_at:
                value, lifetime = self._fetch()
                # Renew a little before expiry; short-lived tokens keep at least half their life.
                margin = min(self._margin, lifetime / 2)
                self._token = tok = Token(value, time.monotonic() + lifetime - margin)
                self.issued += 1
                self.lifetime = lifetime
                log.debug("obtained an access token valid for %.0f s", lifetime)
            return tok.value

    def invalidate(self, value: str) -> None:
        """Forget the token the API rejected (unless another thread already replaced it)."""
        with self._lock:
            if self._token is not None and self._token.value == value:
                self._token = None


__all__ = ["AuthenticationError", "Credentials", "TokenSource", "explain_token_error"]
