"""GenesysClient: authenticated, paced, retrying JSON requests to the Platform API.

Everything transport-related lives here so that callers only ask for paths: token refresh,
retries (429 honouring Retry-After; 5xx and connection errors with capped exponential backoff
and jitter), a request budget shared across threads, and the request log.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit

import requests
from requests.adapters import HTTPAdapter

from gcevidence.errors import (
    ApiError,
    AuthenticationError,
    CredentialsRejected,
    PermissionDenied,
)
from gcevidence.genesys.auth import Credentials, TokenSource, explain_token_error
from gcevidence.genesys.backoff import backoff_delay, retry_after_seconds
from gcevidence.genesys.pacing import Pacer
from gcevidence.genesys.regions import resolve_bases
from gcevidence.genesys.requestlog import RequestLog

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})  # not 501: "not implemented" is final
TRANSIENT_ERRORS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
)
_PERMISSION = re.compile(r"\[([^\]\s]+)\]")


@dataclass(frozen=True)
class ApiResponse:
    status: int
    body: Any  # parsed JSON, or None for an empty body
    headers: dict[str, str]


@dataclass
class ClientStats:
    """Counters for the bench and the run summary."""

    requests: int = 0  # every HTTP exchange with the API host, retries included
    token_requests: int = 0
    retries: int = 0
    status_429: int = 0
    status_5xx: int = 0
    connection_errors: int = 0
    reauthentications: int = 0
    by_status: dict[int, int] = field(default_factory=dict)


def permission_from_error(body: Any) -> str:
    """The permission a 403 ErrorBody names (messageParams, else `[perm]` in the message)."""
    if not isinstance(body, dict):
        return "unknown"
    params = body.get("messageParams") or {}
    if isinstance(params, dict):
        for value in params.values():
            text = value if isinstance(value, str) else json.dumps(value)
            found = re.findall(r"[A-Za-z]+:[A-Za-z*]+:[A-Za-z*]+", text)
            if found:
                return ", ".join(found)
    for key in ("message", "messageWithParams"):
        match = _PERMISSION.search(str(body.get(key) or ""))
        if match:
            return match.group(1)
    return "unknown"


class GenesysClient:
    """One OAuth client talking to one org; safe to share between threads."""

    def __init__(
        self,
        creds: Credentials,
        api_base_url: str | None = None,
        login_base_url: str | None = None,
        region: str | None = None,
        request_log: Path | None = None,
        max_workers: int = 4,
        *,
        max_attempts: int = 8,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        max_retry_after: float = 120.0,
        timeout: tuple[float, float] = (10.0, 60.0),
        rate_limit_per_minute: int = 300,
    ):
        self.creds = creds
        self.api_base_url, self.login_base_url, self.region = resolve_bases(
            api_base_url, login_base_url, region or creds.region
        )
        self.max_workers = max(1, max_workers)
        self.max_attempts = max(1, max_attempts)
        self.backoff_base, self.backoff_cap = backoff_base, backoff_cap
        self.max_retry_after = max_retry_after
        self.timeout = timeout
        self.stats = ClientStats()
        self.pacer = Pacer(allowed=rate_limit_per_minute)
        # Without a path yet, calls are kept until the run folder exists (RequestLog.attach).
        self.log = RequestLog(request_log, buffer=True)
        self._session = requests.Session()
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=self.max_workers + 4, max_retries=0)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        self._slots = threading.BoundedSemaphore(self.max_workers)
        self._stats_lock = threading.Lock()
        self.tokens = TokenSource(self._fetch_token)

    @classmethod
    def from_params(
        cls,
        params: Any,
        env: Mapping[str, str] | None = None,
        request_log: Path | None = None,
        max_workers: int = 4,
        **kwargs: Any,
    ) -> GenesysClient:
        """Credentials from the environment, host from params.org (URL, else region, else env)."""
        creds = Credentials.from_env(env)
        org = params.org
        return cls(
            creds,
            api_base_url=org.api_base_url,
            login_base_url=org.login_base_url,
            region=org.region,
            request_log=request_log,
            max_workers=max_workers,
            **kwargs,
        )

    # -- lifecycle ---------------------------------------------------------------------------

    def close(self) -> None:
        self._session.close()
        self.log.close()

    def __enter__(self) -> GenesysClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"GenesysClient({self.api_base_url!r}, client_id={self.creds.client_id!r})"

    # -- token -------------------------------------------------------------------------------

    def authenticate(self) -> None:
        """Obtain a token now, so rejected credentials stop a run before it writes anything."""
        self.tokens.get()

    @property
    def token_url(self) -> str:
        return f"{self.login_base_url}/oauth/token"

    def _count(self, **increments: int) -> None:
        with self._stats_lock:
            for name, inc in increments.items():
                setattr(self.stats, name, getattr(self.stats, name) + inc)

    def _fetch_token(self) -> tuple[str, float]:
        """POST /oauth/token (client credentials, Basic auth, form body) -> (token, lifetime)."""
        basic = base64.b64encode(
            f"{self.creds.client_id}:{self.creds.client_secret}".encode()
        ).decode()
        headers = {
            "Authorization": f"Basic {basic}",
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        }
        region_hint = (
            f"region {self.region}, login host {urlsplit(self.login_base_url).netloc}"
            if self.region
            else f"login host {urlsplit(self.login_base_url).netloc}"
        )
        attempt = 0
        while True:
            attempt += 1
            started = time.monotonic()
            try:
                resp = self._session.post(
                    self.token_url,
                    data="grant_type=client_credentials",
                    headers=headers,
                    timeout=self.timeout,
                )
            except TRANSIENT_ERRORS as exc:
                self._count(connection_errors=1, token_requests=1)
                self.log.record(
                    method="POST",
                    path="/oauth/token",
                    status=None,
                    attempt=attempt,
                    duration_ms=(time.monotonic() - started) * 1000,
                    body=None,
                    error=type(exc).__name__,
                )
                if attempt < min(4, self.max_attempts):
                    time.sleep(backoff_delay(attempt, self.backoff_base, self.backoff_cap))
                    continue
                raise AuthenticationError(
                    "POST",
                    self.token_url,
                    None,
                    "",
                    f"cannot connect to the login host ({type(exc).__name__})",
                    f"check GENESYSCLOUD_REGION / org.login_base_url ({region_hint}) "
                    "and the network path to it",
                ) from None
            self._count(token_requests=1)
            # The token response is never digested or stored: only its size is logged.
            self.log.record(
                method="POST",
                path="/oauth/token",
                status=resp.status_code,
                attempt=attempt,
                duration_ms=(time.monotonic() - started) * 1000,
                body=resp.content,
                log_body_digest=False,
            )
            if resp.status_code in RETRY_STATUSES and attempt < self.max_attempts:
                wait_s = retry_after_seconds(resp.headers) if resp.status_code == 429 else None
                time.sleep(
                    min(self.max_retry_after, wait_s)
                    if wait_s is not None
                    else backoff_delay(attempt, self.backoff_base, self.backoff_cap)
                )
                continue
            body = _json_or_none(resp)
            if (
                resp.status_code != 200
                or not isinstance(body, dict)
                or not body.get("access_token")
            ):
                rejected = resp.status_code in (400, 401, 403)
                raise (CredentialsRejected if rejected else AuthenticationError)(
                    "POST",
                    self.token_url,
                    resp.status_code,
                    str(body.get("error", "")) if isinstance(body, dict) else "",
                    explain_token_error(resp.status_code, body, region_hint),
                )
            return str(body["access_token"]), float(body.get("expires_in") or 86400)

    # -- requests ----------------------------------------------------------------------------

    def request(
        self, method: str, path: str, params: dict[str, Any] | None = None, json_body: Any = None
    ) -> ApiResponse:
        """One API call with retries; returns 2xx responses, raises ApiError for the rest."""
        target = path if path.startswith("/") else f"/{path}"
        if params:
            query = urlencode({k: _query_value(v) for k, v in params.items() if v is not None})
            target = f"{target}{'&' if '?' in target else '?'}{query}"
        url = self.api_base_url + target
        reauthenticated = False
        attempt = 0
        while True:
            attempt += 1
            headers = {"Accept": "application/json"}
            if json_body is not None:
                headers["Content-Type"] = "application/json"
            resp, error, token = self._send(method, url, target, headers, json_body, attempt)
            if error is not None:
                if attempt >= self.max_attempts:
                    raise ApiError(
                        method,
                        target,
                        None,
                        "",
                        f"connection failed: {error}",
                        f"gave up after {attempt} attempts; check the network or re-run later",
                    ) from None
                self._count(retries=1)
                time.sleep(backoff_delay(attempt, self.backoff_base, self.backoff_cap))
                continue
            assert resp is not None
            status = resp.status_code
            if 200 <= status < 300:
                return ApiResponse(status, _json_or_none(resp), dict(resp.headers))
            body = _json_or_none(resp)
            code = str(body.get("code", "")) if isinstance(body, dict) else ""
            message = str(body.get("message", "")) if isinstance(body, dict) else resp.text[:200]
            if status == 401 and not reauthenticated:
                # Expired or revoked token: fetch a fresh one once for this request.
                reauthenticated = True
                self._count(reauthentications=1)
                self.tokens.invalidate(token)
                attempt -= 1
                continue
            if status == 401:
                raise AuthenticationError(
                    method,
                    target,
                    status,
                    code,
                    message,
                    "the API rejected a freshly issued token; check the "
                    "OAuth client's roles and IP allow-list",
                )
            if status == 403:
                raise PermissionDenied(method, target, permission_from_error(body), message)
            if status in RETRY_STATUSES and attempt < self.max_attempts:
                self._count(retries=1)
                delay = None
                if status == 429:
                    delay = retry_after_seconds(resp.headers)
                    if delay is not None:
                        delay = min(self.max_retry_after, delay)
                        self.pacer.hold_off(delay)
                if delay is None:
                    delay = backoff_delay(attempt, self.backoff_base, self.backoff_cap)
                log.debug(
                    "%s %s: HTTP %s, retry %d in %.2f s", method, target, status, attempt, delay
                )
                time.sleep(delay)
                continue
            fix = (
                f"gave up after {attempt} attempts; re-run later"
                if status in RETRY_STATUSES
                else ""
            )
            raise ApiError(method, target, status, code, message, fix)

    def _send(
        self,
        method: str,
        url: str,
        target: str,
        headers: dict[str, str],
        json_body: Any,
        attempt: int,
    ) -> tuple[requests.Response | None, str | None, str]:
        """Send once inside the concurrency and rate budgets; log it; (response, error, token).

        The token is taken only once the request may go, so that time spent waiting for the
        rate window does not age it.
        """
        data = json.dumps(json_body).encode() if json_body is not None else None
        self.pacer.acquire()
        resp: requests.Response | None = None
        token = ""
        started = time.monotonic()
        try:
            with self._slots:
                token = self.tokens.get()
                started = time.monotonic()
                resp = self._session.request(
                    method,
                    url,
                    data=data,
                    timeout=self.timeout,
                    allow_redirects=True,
                    headers={**headers, "Authorization": f"Bearer {token}"},
                )
                content = resp.content  # read inside the slot: the body is part of the call
        except TRANSIENT_ERRORS as exc:
            self.pacer.release(None)
            self._count(requests=1, connection_errors=1)
            self.log.record(
                method=method,
                path=target,
                status=None,
                attempt=attempt,
                duration_ms=(time.monotonic() - started) * 1000,
                body=None,
                error=type(exc).__name__,
            )
            log.debug("%s %s: %s", method, target, type(exc).__name__)
            return None, type(exc).__name__, token
        except BaseException:
            self.pacer.release(None)
            raise
        self.pacer.release(resp.headers)
        status = resp.status_code
        with self._stats_lock:
            self.stats.requests += 1
            self.stats.by_status[status] = self.stats.by_status.get(status, 0) + 1
            if status == 429:
                self.stats.status_429 += 1
            elif status >= 500:
                self.stats.status_5xx += 1
        self.log.record(
            method=method,
            path=target,
            status=status,
            attempt=attempt,
            duration_ms=(time.monotonic() - started) * 1000,
            body=content,
        )
        return resp, None, token

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """GET a JSON document."""
        return self.request("GET", path, params).body

    def post(self, path: str, json_body: Any, params: dict[str, Any] | None = None) -> ApiResponse:
        return self.request("POST", path, params, json_body)

    # -- concurrency -------------------------------------------------------------------------

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
        """fn over items on up to max_workers threads, results in input order.

        The first exception cancels what has not started and is re-raised. Each call gets its
        own pool so nested maps cannot deadlock; the HTTP slots bound what is in flight.
        """
        items = list(items)
        if len(items) <= 1 or self.max_workers == 1:
            return [fn(item) for item in items]
        failed = threading.Event()

        def guarded(item: T) -> R:
            # A worker freed by a failure would otherwise start the next item, with its own
            # full retry budget, before the rest are cancelled: an API outage would take
            # twice as long to report.
            if failed.is_set():
                raise _Abandoned
            try:
                return fn(item)
            except BaseException:
                failed.set()
                raise

        with ThreadPoolExecutor(
            max_workers=min(self.max_workers, len(items)), thread_name_prefix="gcevidence"
        ) as pool:
            futures = [pool.submit(guarded, item) for item in items]
            done, pending = wait(futures, return_when=FIRST_EXCEPTION)
            for fut in futures:
                if (
                    fut.done()
                    and fut.exception() is not None
                    and not isinstance(fut.exception(), _Abandoned)
                ):
                    for other in pending:
                        other.cancel()
                    raise fut.exception()  # type: ignore[misc]
            return [fut.result() for fut in futures]


class _Abandoned(Exception):
    """An item of a map not started because another item had already failed."""


def _query_value(value: Any) -> str:
    # The SDK joins list parameters with commas and writes booleans in lower case.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def _json_or_none(resp: requests.Response) -> Any:
    if not resp.content:
        return None
    try:
        return resp.json()
    except ValueError:
        return None
