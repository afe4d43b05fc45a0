"""A request budget shared by all worker threads, fed by the inin-ratelimit-* headers.

Genesys counts requests per token in a window (`inin-ratelimit-allowed` per window,
`inin-ratelimit-count` used so far, `inin-ratelimit-reset` seconds left). The pacer keeps a
local copy of "requests left in this window", spends one per request before sending it and
makes callers wait for the window to reset when it is used up, so a collection does not run
into a wall of 429s. Requests still in flight are not yet in the server's count, so they are
subtracted from what the headers report.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping

log = logging.getLogger(__name__)


class Pacer:
    def __init__(self, allowed: int = 300, window_seconds: float = 60.0, reserve: int = 1):
        self._cond = threading.Condition()
        self.allowed = allowed
        self.window = window_seconds
        self.reserve = reserve  # head-room for requests other tools make with the same client
        self.remaining = allowed
        self.reset_at: float | None = None  # monotonic time the server's window resets
        self.in_flight = 0
        self.blocked_until = 0.0  # a 429's Retry-After: nobody sends before this
        self.waited_seconds = 0.0

    def acquire(self) -> None:
        """Block until a request may be sent within the budget, then spend one."""
        with self._cond:
            while True:
                now = time.monotonic()
                if now < self.blocked_until:
                    self._wait(self.blocked_until - now)
                    continue
                if self.reset_at is not None and now >= self.reset_at:
                    self.remaining = self.allowed
                    self.reset_at = None
                if self.remaining > self.reserve:
                    self.remaining -= 1
                    self.in_flight += 1
                    return
                if self.reset_at is None:
                    if self.in_flight > 0:
                        # Budget spent, reset time unknown yet: the next response tells us.
                        self._cond.wait(timeout=1.0)
                        continue
                    self.reset_at = now + self.window  # no headers at all: assume a full window
                wait = max(0.01, self.reset_at - now)
                log.debug("rate budget used up; waiting %.2f s for the window to reset", wait)
                self._wait(wait)

    def _wait(self, seconds: float) -> None:
        started = time.monotonic()
        self._cond.wait(timeout=max(0.005, seconds))
        self.waited_seconds += time.monotonic() - started

    def release(self, headers: Mapping[str, str] | None) -> None:
        """A request finished; learn the server's view of the budget from its headers."""
        with self._cond:
            self.in_flight -= 1
            if headers:
                self._update(headers)
            self._cond.notify_all()

    def _update(self, headers: Mapping[str, str]) -> None:
        try:
            allowed = int(headers["inin-ratelimit-allowed"])
            count = int(headers["inin-ratelimit-count"])
            reset = float(headers["inin-ratelimit-reset"])
        except (KeyError, ValueError):
            return
        now = time.monotonic()
        server_left = max(0, allowed - count - self.in_flight)
        new_reset = now + max(0.0, reset)
        new_window = self.reset_at is None or new_reset > self.reset_at + 1.0
        self.allowed = allowed
        # A stale response (sent before others) can overstate what is left: only trust an
        # increase when the server has started a new window.
        self.remaining = server_left if new_window else min(self.remaining, server_left)
        self.reset_at = new_reset

    def hold_off(self, seconds: float) -> None:
        """A 429 arrived: nobody sends until `seconds` have passed.

        The budget itself is left to the 429's own inin-ratelimit headers: a real limit hit
        reports the window as used up, a 429 from elsewhere (a per-service limit) does not.
        """
        with self._cond:
            self.blocked_until = max(self.blocked_until, time.monotonic() + seconds)
