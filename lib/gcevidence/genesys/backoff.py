"""How long to wait before retrying: capped exponential backoff with jitter, and Retry-After."""

from __future__ import annotations

import random
from collections.abc import Mapping


def backoff_delay(
    attempt: int,
    base: float,
    cap: float,
    rng: random.Random | None = None,
    *,
    jitter: float = 0.5,
) -> float:
    """Delay before retry `attempt` (1-based): in [c(1-j), c], c = min(cap, base*2^(n-1)).

    The default j = 0.5 is "equal jitter": never shorter than half the exponential step (so a
    storm really backs off), randomised in the other half so that worker threads do not retry
    in lockstep.
    """
    ceiling = min(cap, base * 2 ** max(0, attempt - 1))
    return ceiling * (1 - jitter) + (rng or random).uniform(0, ceiling * jitter)


def _seconds(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None  # an HTTP-date Retry-After: Genesys sends seconds, fall back to backoff
    return max(0.0, seconds)


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """What a 429 asks us to wait: Retry-After, else inin-ratelimit-reset, else None."""
    for name in ("Retry-After", "inin-ratelimit-reset"):
        seconds = _seconds(headers.get(name))
        if seconds is not None:
            return seconds
    return None
