"""Settings of one simulated org and the faults its API injects."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

SIGN_IN_MODES = ("sso", "password")
# The audit export to the customer's SIEM (an Amazon EventBridge source integration): active,
# reporting an error, or not set up at all.
SIEM_EXPORT_MODES = ("active", "error", "none")


@dataclass
class FaultConfig:
    """Faults the simulated API injects; mutable while the server runs (tests flip them)."""

    latency_ms: int = 0  # added to every API response
    rate_429: float = 0.0  # share of API requests answered 429 (with Retry-After)
    rate_5xx: float = 0.0  # share answered 500/502/503/504
    reset_rate: float = 0.0  # share whose connection is dropped without an answer
    drop_expand_rate: float = 0.0  # share of user pages silently missing one expansion
    # Share of /api/v2/users listing pages silently missing lastTokenIssued: expansions are
    # best effort on real orgs, so a small share is dropped by default (seeded per page).
    token_drop_rate: float = 0.05
    short_page_rate: float = 0.0  # share of listing pages silently missing their last
    # entity while `total` still counts it
    # An audit query runs this long on the server: status polls before then answer 202
    # Running, like a real query that takes seconds (longer for busy orgs and long intervals).
    audit_seconds: float = 1.0
    # When set, instead: exactly this many status polls answer 202 Running, then Succeeded,
    # whatever the time (deterministic, for tests of the client's polling).
    audit_polls: int | None = None
    audit_fail: bool = False  # audit queries end Failed
    audit_never_finish: bool = False  # audit queries stay Running forever
    # OAuth client usage queries: this many result polls answer Running before Complete;
    # usage_fail makes every one end Failed.
    usage_polls: int = 0
    usage_fail: bool = False
    fail_after_requests: int | None = None  # API outage (503) after this many API requests
    retry_after_seconds: int = 1  # Retry-After on injected 429s
    token_lifetime_seconds: int | None = None  # overrides SimConfig.token_lifetime_seconds


@dataclass(frozen=True)
class SimConfig:
    """What org to generate and how its API behaves (simulator/README.md, docs/genesys-api.md)."""

    seed: int = 7
    users: int = 300
    # How people sign in: "sso" (Genesys login disabled, an enabled SAML provider, users carry
    # lastTokenIssued and no or an old dateLastLogin) or "password" (Genesys login only).
    sign_in: str = "sso"
    # The Amazon EventBridge integration that exports audit events: "active" (the default),
    # "error" (enabled, reporting ERROR) or "none" (no such integration).
    siem_export: str = "active"
    now: dt.datetime | None = None  # aware UTC; None = the wall clock at start
    audit_events_per_day: int = 200
    audit_history_days: int = 400
    client_id: str = "gcevidence-sim"
    client_secret: str = "sim-secret"  # noqa: S105 - the simulator's own demo secret
    # The divisions the collecting client holds its role in (names); None = all ("*").
    collector_divisions: tuple[str, ...] | None = None
    permissions: frozenset[str] | set[str] | None = None  # None = every permission
    rate_limit_per_minute: int = 300
    token_lifetime_seconds: int = 86400
    faults: FaultConfig = field(default_factory=FaultConfig)
    host: str = "127.0.0.1"
    port: int = 0  # 0 = a free port

    def __post_init__(self) -> None:
        if self.sign_in not in SIGN_IN_MODES:
            raise ValueError(
                f"SimConfig.sign_in={self.sign_in!r}: must be one of {', '.join(SIGN_IN_MODES)}"
            )
        if self.siem_export not in SIEM_EXPORT_MODES:
            raise ValueError(
                f"SimConfig.siem_export={self.siem_export!r}: must be one of "
                f"{', '.join(SIEM_EXPORT_MODES)}"
            )

    def resolved_now(self) -> dt.datetime:
        """`now` as an aware UTC datetime with millisecond precision."""
        now = self.now or dt.datetime.now(dt.UTC)
        if now.tzinfo is None:
            raise ValueError("SimConfig.now must be timezone-aware (UTC)")
        now = now.astimezone(dt.UTC)
        return now.replace(microsecond=now.microsecond // 1000 * 1000)
