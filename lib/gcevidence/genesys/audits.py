"""The asynchronous audit query: submit (202), poll until Succeeded, read every result page.

Many queries (one per service and window) run at once: all are submitted, then polled in
rounds with growing pauses; each query's results are read on a worker thread as soon as it
has Succeeded, page by page through the cursor, and handed to a callback so that a million
events never sit in memory together.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from gcevidence.endpoints import ENDPOINTS
from gcevidence.errors import ApiError, AuditQueryFailed
from gcevidence.genesys.paging import cursor_pages

log = logging.getLogger(__name__)

SUBMIT = ENDPOINTS["audit_query"]
STATUS = ENDPOINTS["audit_query_status"]
RESULTS = ENDPOINTS["audit_query_results"]
REALTIME = ENDPOINTS["audit_realtime"]
QUERY_PATH = SUBMIT.path
# A query takes the server seconds: the first poll waits this long, and each pause is longer
# than the one before, so a query that takes T seconds is polled about log(T) times.
POLL_FIRST_SECONDS = 1.0
POLL_GROWTH = 1.5
POLL_MAX_SECONDS = 10.0
TERMINAL_FAILURES = ("Failed", "Cancelled")
# A query is only declared unfinished after this many answers saying so: time our own polls
# spent waiting for the rate window must not count against the server.
MIN_POLLS_BEFORE_TIMEOUT = 3


@dataclass(frozen=True)
class AuditQuerySpec:
    service: str
    start: dt.datetime
    end: dt.datetime

    @property
    def interval(self) -> str:
        return f"{iso_z(self.start)}/{iso_z(self.end)}"


@dataclass
class AuditQueryOutcome:
    spec: AuditQuerySpec
    transaction_id: str = ""
    state: str = ""
    result_count: int = 0
    pages: int = 0
    polls: int = 0
    submitted_at: float = field(default=0.0, repr=False)


PageSink = Callable[[AuditQueryOutcome, list[dict]], None]


def iso_z(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def windows(
    start: dt.datetime, end: dt.datetime, max_days: int
) -> Iterator[tuple[dt.datetime, dt.datetime]]:
    """[start, end) cut into consecutive windows of at most max_days."""
    step = dt.timedelta(days=max_days)
    cursor = start
    while cursor < end:
        nxt = min(end, cursor + step)
        yield cursor, nxt
        cursor = nxt


def plan_queries(
    services: tuple[str, ...] | list[str], start: dt.datetime, end: dt.datetime, max_days: int
) -> list[AuditQuerySpec]:
    return [
        AuditQuerySpec(service, ws, we)
        for ws, we in windows(start, end, max_days)
        for service in services
    ]


def run_audit_queries(
    client: Any,
    specs: list[AuditQuerySpec],
    on_page: PageSink,
    *,
    timeout_seconds: float,
    poll_initial: float = POLL_FIRST_SECONDS,
    poll_max: float = POLL_MAX_SECONDS,
    stop: threading.Event | None = None,
) -> list[AuditQueryOutcome]:
    """Run every query to the end and stream its results to on_page (called thread-safely).

    Failed/Cancelled/timeout raise AuditQueryFailed naming the transaction id; setting
    `stop` abandons the run (the caller has already failed for another reason).
    """
    stop = stop or threading.Event()
    if not specs:
        return []

    def submit(spec: AuditQuerySpec) -> AuditQueryOutcome:
        if stop.is_set():  # the collection failed: start no further query
            raise AuditQueryFailed("", "abandoned", "the collection failed")
        return _submit(client, spec)

    outcomes = client.map(submit, specs)
    sink_lock = threading.Lock()

    def locked_sink(outcome: AuditQueryOutcome, entities: list[dict]) -> None:
        if stop.is_set():
            raise AuditQueryFailed(outcome.transaction_id, "abandoned", "the collection failed")
        with sink_lock:
            on_page(outcome, entities)

    readers: list[Future] = []
    pool = ThreadPoolExecutor(
        max_workers=max(1, client.max_workers), thread_name_prefix="gcevidence-audit"
    )
    try:
        pending = []
        for outcome in outcomes:
            if outcome.state == "Succeeded":
                readers.append(pool.submit(_read_results, client, outcome, locked_sink))
            else:
                pending.append(outcome)
        rounds = 0
        while pending:
            _raise_failed_reader(readers)
            delay = min(poll_max, poll_initial * POLL_GROWTH**rounds)
            # Jitter only lengthens a pause: polling sooner than planned finds nothing new.
            if stop.wait(delay * random.uniform(1.0, 1.2)):
                raise AuditQueryFailed(
                    pending[0].transaction_id, "abandoned", "the collection failed"
                )
            rounds += 1
            client.map(lambda o: _poll(client, o), pending)
            still = []
            for outcome in pending:
                if outcome.state == "Succeeded":
                    readers.append(pool.submit(_read_results, client, outcome, locked_sink))
                elif outcome.state in TERMINAL_FAILURES:
                    raise AuditQueryFailed(
                        outcome.transaction_id, outcome.state, _describe(outcome)
                    )
                elif (
                    time.monotonic() - outcome.submitted_at > timeout_seconds
                    and outcome.polls >= MIN_POLLS_BEFORE_TIMEOUT
                ):
                    raise AuditQueryFailed(
                        outcome.transaction_id,
                        f"unfinished after {timeout_seconds:g} s",
                        f"last state {outcome.state or 'unknown'}, {outcome.polls} polls; "
                        f"{_describe(outcome)}; raise audit.query_timeout_seconds",
                    )
                else:
                    still.append(outcome)
            pending = still
        for reader in readers:
            reader.result()
    finally:
        for reader in readers:
            reader.cancel()
        pool.shutdown(wait=True, cancel_futures=True)
    return outcomes


def _describe(outcome: AuditQueryOutcome) -> str:
    return f"service {outcome.spec.service}, interval {outcome.spec.interval}"


def _raise_failed_reader(readers: list[Future]) -> None:
    for reader in readers:
        if reader.done() and reader.exception() is not None:
            raise reader.exception()  # type: ignore[misc]


def _submit(client: Any, spec: AuditQuerySpec) -> AuditQueryOutcome:
    body = {
        "interval": spec.interval,
        "serviceName": spec.service,
        "sort": [{"name": "Timestamp", "sortOrder": "ascending"}],
    }
    # Not idempotent: each accepted POST starts a query, so the client repeats it blindly only
    # when the server cannot have acted on it (429, connection never made).
    resp = client.post(SUBMIT.path, body)
    doc = resp.body if isinstance(resp.body, dict) else {}
    outcome = AuditQueryOutcome(
        spec, str(doc.get("id", "")), str(doc.get("state", "")), submitted_at=time.monotonic()
    )
    if not outcome.transaction_id:
        raise AuditQueryFailed(
            "(none)",
            "rejected",
            f"HTTP {resp.status} without a transaction id; {_describe(outcome)}",
        )
    if resp.uncertain_attempts:
        log.warning(
            "audit query %s (%s) was submitted after %d attempt(s) the server may have "
            "processed: a duplicate query may exist; it is harmless, only this one is read",
            outcome.transaction_id,
            _describe(outcome),
            resp.uncertain_attempts,
        )
    log.debug("audit query %s submitted (%s)", outcome.transaction_id, _describe(outcome))
    return outcome


def _poll(client: Any, outcome: AuditQueryOutcome) -> None:
    doc = client.get(STATUS.url(transactionId=outcome.transaction_id)) or {}
    outcome.polls += 1
    outcome.state = str(doc.get("state", outcome.state))


def _read_results(client: Any, outcome: AuditQueryOutcome, sink: PageSink) -> None:
    path = RESULTS.url(transactionId=outcome.transaction_id)
    for page in cursor_pages(client, path, {"pageSize": RESULTS.page_size, **RESULTS.defaults}):
        entities = page.get("entities") or []
        outcome.pages += 1
        outcome.result_count += len(entities)
        sink(outcome, entities)


REALTIME_PATH = REALTIME.path
# The realtime endpoint only reaches this far back (docs/genesys-api.md §8.5).
REALTIME_MAX_DAYS = 14


def realtime_total(client: Any, service: str, start: dt.datetime, end: dt.datetime) -> int | None:
    """How many events the synchronous realtime query counts for one service and interval.

    It is the only audit endpoint that reports a `total`, so it is how asynchronous results
    are reconciled. None when the API will not answer it for this service (400).
    """
    body = {
        "interval": f"{iso_z(start)}/{iso_z(end)}",
        "serviceName": service,
        "pageNumber": 1,
        "pageSize": 1,  # only `total` is read
    }
    try:
        # A synchronous read: repeating it starts nothing, so it is retried like a GET.
        doc = client.post(REALTIME.path, body, idempotent=True).body or {}
    except ApiError as exc:
        if exc.status in (400, 403, 404):
            log.info("realtime audit count unavailable for %s: %s", service, exc)
            return None
        raise
    total = doc.get("total")
    return total if isinstance(total, int) and not isinstance(total, bool) else None
