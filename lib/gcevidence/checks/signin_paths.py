"""The ways into the org: is Genesys login on, and which identity providers are enabled.

Read from genesys_login (Genesys Cloud's own login, `disabled`) and identity_providers.
Without those (permission sso:provider:view missing), Genesys login is still known to be on
when someone logged in with a Genesys password during the period (`dateLastLogin` is set by
password logins only).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gcevidence.checks.common import join_names, parse_time, records
from gcevidence.checks.registry import CheckContext, missing_reason
from gcevidence.endpoints import ENDPOINTS

GENESYS_LOGIN, PROVIDERS = ENDPOINTS["genesys_login"], ENDPOINTS["identity_providers"]


@dataclass(frozen=True)
class SignInPaths:
    native: bool | None  # Genesys login on (True), off (False), unknown (None)
    native_source: str  # what says so
    providers: list[str] | None  # enabled identity providers; None when unknown
    disabled_providers: list[str] = field(default_factory=list)
    unknown: str = ""  # why `native` is unknown, in words an auditor can act on
    evidence: tuple[str, ...] = ()
    inferred: bool = False  # native inferred from password logins (settings unreadable)

    def provider_text(self) -> str:
        if self.providers:
            return f"the identity provider {join_names(self.providers)}"
        if self.providers is None:
            return "the identity provider(s) (not readable in this run)"
        return f"the identity provider (none is enabled in {PROVIDERS})"

    def off_text(self) -> str:
        """Why Genesys' own settings do not apply, for a not_evaluable reason."""
        who = (
            f"everyone signs in through {join_names(self.providers)}"
            if self.providers
            else "no enabled identity provider is listed, so check how people sign in"
        )
        return f"Genesys login is disabled ({self.native_source}): {who}."

    def native_note(self) -> str:
        """The caveat when Genesys login is only inferred from password logins."""
        if not self.inferred:
            return ""
        return (
            f"; Genesys login is known to be on ({self.native_source}), although the sign-in "
            f"settings could not be read ({self.unknown}), so this verdict stands"
        )

    def extra(self) -> dict[str, Any]:
        return {
            "genesys_login": {True: "on", False: "off", None: "unknown"}[self.native],
            "genesys_login_source": self.native_source,
            "identity_providers_enabled": self.providers,
            "identity_providers_disabled": self.disabled_providers,
        }


def sign_in_paths(ctx: CheckContext) -> SignInPaths:
    """How people can sign in to the org, from the sign-in datasets or else from the users."""
    snap = ctx.snapshot
    evidence = tuple(
        snap.status(n).path
        for n in ("genesys_login", "identity_providers")
        if snap.has(n) and snap.status(n).path
    )
    providers: list[str] | None = None
    disabled: list[str] = []
    if snap.has("identity_providers") and snap.status("identity_providers").complete:
        rows = records(snap.table("identity_providers"))
        # A provider whose `disabled` is not given is taken as enabled: it may be used.
        providers = sorted(p["name"] or p["id"] for p in rows if p["disabled"] != "true")
        disabled = sorted(p["name"] or p["id"] for p in rows if p["disabled"] == "true")
    login = snap.object("genesys_login") if snap.has("genesys_login") else None
    if isinstance(login, dict) and isinstance(login.get("disabled"), bool):
        state = "true" if login["disabled"] else "false"
        return SignInPaths(
            not login["disabled"],
            f"{GENESYS_LOGIN}: disabled {state}",
            providers,
            disabled,
            evidence=evidence,
        )
    why = (
        "; ".join(
            missing_reason(snap, n)
            for n in ("genesys_login", "identity_providers")
            if not snap.has(n)
        )
        or f"{GENESYS_LOGIN} did not say whether Genesys login is disabled"
    )
    logins = _password_logins_in_period(ctx)
    if logins:
        return SignInPaths(
            True,
            f"{logins} active user(s) logged in with a Genesys password in the period "
            "(dateLastLogin)",
            providers,
            disabled,
            unknown=why,
            evidence=evidence,
            inferred=True,
        )
    return SignInPaths(
        None,
        "",
        providers,
        disabled,
        unknown=f"whether people sign in with Genesys login or through an identity provider "
        f"is unknown ({why}), and nobody logged in with a Genesys password in the period; "
        "grant the permission to judge this setting",
        evidence=evidence,
    )


def _password_logins_in_period(ctx: CheckContext) -> int:
    if not ctx.snapshot.has("users"):
        return 0
    start = ctx.params.period.start
    count = 0
    for u in records(ctx.snapshot.table("users")):
        when = parse_time(u["date_last_login"])
        if u["state"] == "active" and when is not None and start <= when.date() <= ctx.today:
            count += 1
    return count
