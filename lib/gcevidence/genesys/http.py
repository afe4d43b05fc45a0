"""GenesysClient: authenticated, paced, retrying JSON requests to the Platform API.

Everything transport-related lives here so that callers only ask for paths: token refresh,
retries (one `Retry` policy for the token request and every API call), a request budget shared
across threads, and the request log.
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
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError

from gcevidence.errors import (
    ApiError,
    AuthenticationError,
    CredentialsRejected,
    PermissionDenied,
)
from gcevidence.genesys.auth import Credentials, TokenSource, explain_token_error
from gcevidence.genesys.pacing import Pacer
from gcevidence.genesys.regions import resolve_bases
from gcevidence.genesys.requestlog import RequestLog
from gcevidence.genesys.retry import GiveUp, Retry

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

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
    # Earlier attempts of an unsafe request (POST) that the server may have processed too.
    uncertain_attempts: int = 0


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


def reached_server(exc: requests.RequestException) -> bool:
    """Whether a request that failed without an answer may have reached the server.

    Only a connection that was never established (refused, unresolvable, connect timeout, TLS
    handshake) proves the request was not sent; a reset or read timeout comes after sending.
    """
    if isinstance(exc, requests.exceptions.ConnectTimeout | requests.exceptions.SSLError):
        return False
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    return not isinstance(reason, ConnectTimeoutError)  # NewConnectionError is one of these


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
        retry: Retry | None = None,
        max_attempts: int | None = None,
        backoff_base: float | None = None,
        backoff_cap: float | None = None,
        max_retry_after: float | None = None,
        timeout: tuple[float, float] = (10.0, 60.0),
        rate_limit_per_minute: int = 300,
        minimize: bool = True,
    ):
        """`retry` is the policy of every request; the four keywords after it override fields.

        `minimize` keeps the personal fields endpoints declare out of the stored answers.
        """
        self.creds = creds
        self.api_base_url, self.login_base_url, self.region = resolve_bases(
            api_base_url, login_base_url, region or creds.region
        )
        self.max_workers = max(1, max_workers)
        overrides = {
            name: value
            for name, value in (
                ("total", max_attempts),
                ("backoff_base", backoff_base),
                ("backoff_cap", backoff_cap),
                ("max_retry_after", max_retry_after),
            )
            if value is not None
        }
        self.retry = (retry or Retry()).replace(**overrides)
        self.timeout = timeout
        self.stats = ClientStats()
        self.pacer = Pacer(allowed=rate_limit_per_minute)
        # Without a path yet, calls are kept until the run folder exists (RequestLog.attach).
        self.log = RequestLog(request_log, buffer=True, minimize=minimize)
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
        kwargs.setdefault("minimize", params.privacy.minimize)
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

    @property
    def _where_login(self) -> str:
        host = urlsplit(self.login_base_url).netloc
        return f"region {self.region}, login host {host}" if self.region else f"login host {host}"

    def _fetch_token(self) -> tuple[str, float]:
        """POST /oauth/token under the retry policy -> (token, lifetime in seconds)."""
        retry = self.retry
        while True:
            resp, exc = self._post_token(retry.attempts + 1)
            try:
                # Asking again for a token cannot do harm: at worst a second one is issued.
                if exc is not None:
                    failure = {"error": type(exc).__name__, "sent": reached_server(exc)}
                    retry = retry.increment("POST", idempotent=True, **failure)
                elif retry.is_retry(resp.status_code):
                    failure = {"status": resp.status_code, "headers": resp.headers}
                    retry = retry.increment("POST", idempotent=True, **failure)
                else:
                    return self._token_from(resp)
            except GiveUp:
                if exc is not None:
                    raise AuthenticationError(
                        "POST",
                        self.token_url,
                        None,
                        "",
                        f"cannot connect to the login host ({type(exc).__name__})",
                        f"check GENESYSCLOUD_REGION / org.login_base_url ({self._where_login}) "
                        "and the network path to it",
                    ) from None
                return self._token_from(resp)  # the last answer, refused: raises
            time.sleep(retry.wait)

    def _post_token(
        self, attempt: int
    ) -> tuple[requests.Response, None] | tuple[None, requests.RequestException]:
        """One token request (client credentials, Basic auth, form body), counted and logged."""
        basic = base64.b64encode(
            f"{self.creds.client_id}:{self.creds.client_secret}".encode()
        ).decode()
        headers = {
            "Authorization": f"Basic {basic}",
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        }
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
            return None, exc
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
        return resp, None

    def _token_from(self, resp: requests.Response) -> tuple[str, float]:
        """The token and its lifetime from the login host's answer, or why it was refused."""
        body = _json_or_none(resp)
        if resp.status_code != 200 or not isinstance(body, dict) or not body.get("access_token"):
            rejected = resp.status_code in (400, 401, 403)
            raise (CredentialsRejected if rejected else AuthenticationError)(
                "POST",
                self.token_url,
                resp.status_code,
                str(body.get("error", "")) if isinstance(body, dict) else "",
                explain_token_error(resp.status_code, body, self._where_login),
            )
        return str(body["access_token"]), float(body.get("expires_in") or 86400)

    # -- requests ----------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        *,
        idempotent: bool | None = None,
    ) -> ApiResponse:
        """One API call under the retry policy; returns 2xx responses, raises ApiError else.

        `idempotent=True` marks a POST that only reads, so it is retried like a GET.
        """
        target = _target(path, params)
        url = self.api_base_url + target
        headers = {"Accept": "application/json"}
        if json_body is not None:
            headers["Content-Type"] = "application/json"
        reauthenticated = False
        retry = self.retry
        while True:
            resp, exc, token = self._send(
                method, url, target, headers, json_body, retry.attempts + 1
            )
            if resp is not None and 200 <= resp.status_code < 300:
                body = _json_or_none(resp)
                return ApiResponse(
                    resp.status_code, body, dict(resp.headers), retry.uncertain_retries
                )
            if resp is not None and resp.status_code == 401 and not reauthenticated:
                # Expired or revoked token: fetch a fresh one once for this request. The server
                # refused it unprocessed, so this is no retry in the policy's sense.
                reauthenticated = True
                self._count(reauthentications=1)
                self.tokens.invalidate(token)
                continue
            failure = (
                {"status": resp.status_code, "headers": resp.headers}
                if resp is not None
                else {"error": type(exc).__name__, "sent": reached_server(exc)}
            )
            try:
                retry = self._next(retry, method, target, idempotent, **failure)
            except GiveUp as stop:
                raise _final_error(method, target, resp, exc, stop) from None

    def _next(
        self,
        retry: Retry,
        method: str,
        target: str,
        idempotent: bool | None,
        **failure: Any,
    ) -> Retry:
        """Move the policy on past one failed attempt and wait as it says (or raise GiveUp)."""
        after = retry.increment(method, idempotent=idempotent, **failure)
        self._count(retries=1)
        if after.retry_after is not None:
            self.pacer.hold_off(after.wait)  # the other threads wait for the window too
        if after.uncertain_retries > retry.uncertain_retries:
            log.warning(
                "%s %s: %s after the request was sent; repeating it (%d of at most %d): "
                "if the server had processed it, a duplicate may exist",
                method,
                target,
                after.history[-1].describe(),
                after.uncertain_retries,
                after.uncertain,
            )
        else:
            log.debug(
                "%s %s: %s, retry %d in %.2f s",
                method,
                target,
                after.history[-1].describe(),
                after.attempts,
                after.wait,
            )
        time.sleep(after.wait)
        return after

    def _send(
        self,
        method: str,
        url: str,
        target: str,
        headers: dict[str, str],
        json_body: Any,
        attempt: int,
    ) -> tuple[requests.Response | None, requests.RequestException | None, str]:
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
            return None, exc, token
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

    def post(
        self,
        path: str,
        json_body: Any,
        params: dict[str, Any] | None = None,
        *,
        idempotent: bool | None = None,
    ) -> ApiResponse:
        """POST a JSON body; not repeated blindly unless `idempotent` (see `request`)."""
        return self.request("POST", path, params, json_body, idempotent=idempotent)

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


def _final_error(
    method: str,
    target: str,
    resp: requests.Response | None,
    exc: BaseException | None,
    stop: GiveUp,
) -> ApiError:
    """The error of a request the retry policy gave up on, or that was final at once."""
    if resp is None:
        return ApiError(
            method,
            target,
            None,
            "",
            f"connection failed: {type(exc).__name__}",
            f"gave up after {stop.attempts} attempts; check the network or re-run later",
        )
    body = _json_or_none(resp)
    code = str(body.get("code", "")) if isinstance(body, dict) else ""
    message = str(body.get("message", "")) if isinstance(body, dict) else resp.text[:200]
    if resp.status_code == 401:
        return AuthenticationError(
            method,
            target,
            401,
            code,
            message,
            "the API rejected a freshly issued token; check the OAuth client's roles and IP "
            "allow-list",
        )
    if resp.status_code == 403:
        return PermissionDenied(method, target, permission_from_error(body), message)
    fix = f"gave up after {stop.attempts} attempts; re-run later" if stop.retryable else ""
    return ApiError(method, target, resp.status_code, code, message, fix)


def _target(path: str, params: dict[str, Any] | None) -> str:
    """The path and query sent, as the request log records it."""
    target = path if path.startswith("/") else f"/{path}"
    if params:
        query = urlencode({k: _query_value(v) for k, v in params.items() if v is not None})
        target = f"{target}{'&' if '?' in target else '?'}{query}"
    return target


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
