"""The one retry policy of every request to Genesys Cloud, immutable like urllib3's `Retry`.

A `Retry` says how many attempts a request gets, how long to wait between them, which statuses
are worth another attempt and which methods may be repeated blindly. `increment()` records one
failed attempt and returns the policy for the next one (with the wait it needs), or raises
`GiveUp`. A request that is not safe to repeat (a POST that starts an audit query) is retried
freely only when the server cannot have acted on it: a 429 (refused before processing) or a
connection that failed before the request was sent. After a 5xx or a lost answer it may have
been processed, so it is retried at most `uncertain` times and each such retry is flagged.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from gcevidence.genesys.backoff import backoff_delay, retry_after_seconds

# RFC 9110 idempotent methods: repeating them cannot do anything a single call would not.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# Not 501: "not implemented" is final. 429 is the rate limit, the others are transient outages.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class GiveUp(Exception):
    """No further attempt: the failure is final, or a limit of the policy is reached."""

    def __init__(self, attempts: int, retryable: bool, reason: str):
        self.attempts, self.retryable, self.reason = attempts, retryable, reason
        super().__init__(f"{reason} after {attempts} attempt{'s' if attempts != 1 else ''}")


@dataclass(frozen=True)
class Attempt:
    """What one failed attempt met: an HTTP status, or a connection error (class name)."""

    status: int | None = None
    error: str | None = None
    sent: bool = True  # the request may have reached the server
    correlation_id: str = ""  # ININ-Correlation-Id of the answer, when there was one

    def describe(self) -> str:
        what = f"HTTP {self.status}" if self.status is not None else (self.error or "no answer")
        return f"{what} (correlation id {self.correlation_id})" if self.correlation_id else what


@dataclass(frozen=True)
class Retry:
    """Attempts, backoff and the statuses and methods retried; `increment()` moves it on."""

    total: int = 8  # attempts in all, the first one included
    uncertain: int = 2  # retries of an unsafe request the server may have processed
    backoff_base: float = 0.5  # seconds; the ceiling doubles with each attempt
    backoff_cap: float = 30.0
    jitter: float = 0.5  # random share of each wait, so that threads do not retry in lockstep
    statuses: frozenset[int] = RETRY_STATUSES
    methods: frozenset[str] = IDEMPOTENT_METHODS  # repeated on any retryable failure
    max_retry_after: float = 120.0  # a longer Retry-After is honoured only up to this
    # State: what the earlier attempts met, and the wait before the next one.
    history: tuple[Attempt, ...] = ()
    uncertain_retries: int = 0
    wait: float = 0.0
    retry_after: float | None = None  # the server's Retry-After behind `wait`, if it gave one

    def __post_init__(self) -> None:
        if self.total < 1 or self.uncertain < 0 or not 0 <= self.jitter <= 1:
            raise ValueError(f"invalid retry policy {self!r}")

    @property
    def attempts(self) -> int:
        """Failed attempts so far."""
        return len(self.history)

    @property
    def duplicate_risk(self) -> bool:
        """The next attempt repeats an unsafe request the server may already have processed."""
        return self.uncertain_retries > 0

    def replace(self, **changes: object) -> Retry:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    def is_retry(self, status: int) -> bool:
        """Whether an answer with this status is worth another attempt at all."""
        return status in self.statuses

    def increment(
        self,
        method: str,
        *,
        status: int | None = None,
        error: str | None = None,
        sent: bool = True,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
    ) -> Retry:
        """The policy after one failed attempt (a status, or a connection `error`), or GiveUp.

        `idempotent` overrides the method's own nature: a POST that only reads (the realtime
        audit query, the token request) may be repeated like a GET.
        """
        headers = headers or {}
        attempt = Attempt(status, error, sent, str(headers.get("ININ-Correlation-Id", "")))
        made = self.attempts + 1
        if status is not None and not self.is_retry(status):
            raise GiveUp(made, False, attempt.describe())
        if made >= self.total:
            raise GiveUp(made, True, attempt.describe())
        safe = method.upper() in self.methods if idempotent is None else idempotent
        # A 429 is refused before processing; an unsent request never reached the server.
        unprocessed = status == 429 or (status is None and not sent)
        uncertain_retries = self.uncertain_retries
        if not (safe or unprocessed):
            if uncertain_retries >= self.uncertain:
                raise GiveUp(made, True, attempt.describe())
            uncertain_retries += 1
        retry_after = retry_after_seconds(headers) if status == 429 else None
        if retry_after is not None:
            retry_after = min(self.max_retry_after, retry_after)
            wait = retry_after
        else:
            wait = backoff_delay(made, self.backoff_base, self.backoff_cap, jitter=self.jitter)
        return dataclasses.replace(
            self,
            history=(*self.history, attempt),
            uncertain_retries=uncertain_retries,
            wait=wait,
            retry_after=retry_after,
        )
