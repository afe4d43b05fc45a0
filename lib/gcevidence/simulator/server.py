"""HTTP plumbing of the simulator: OAuth, bearer tokens, rate limits, faults, ErrorBody answers."""

from __future__ import annotations

import base64
import json
import logging
import secrets
import socket
import struct
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlsplit

from gcevidence.simulator.api import ApiFailure, Request

log = logging.getLogger(__name__)

_5XX = (
    (500, "internal.server.error", "The server encountered an unexpected condition."),
    (502, "bad.gateway", "Bad gateway."),
    (503, "service.unavailable", "Service temporarily unavailable."),
    (504, "request.timeout", "The request timed out."),
)


class RateWindow:
    """Fixed one-minute window per token, like the `inin-ratelimit-*` headers describe."""

    def __init__(self, limit: int):
        self.limit, self.start, self.count = limit, time.monotonic(), 0

    def hit(self) -> tuple[bool, int, int]:
        """Count one request; returns (allowed, count, seconds until reset)."""
        now = time.monotonic()
        if now - self.start >= 60:
            self.start, self.count = now, 0
        self.count += 1
        reset = max(1, int(60 - (now - self.start) + 0.999))
        return self.count <= self.limit, self.count, reset


def error_body(
    status: int, code: str, message: str, context_id: str, params: dict | None = None
) -> dict:
    body = {"message": message, "code": code, "status": status, "contextId": context_id}
    if params:
        body["messageWithParams"] = message
        body["messageParams"] = params
    return body


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "gcevidence-sim"
    sys_version = ""

    @property
    def sim(self):
        return self.server.sim  # type: ignore[attr-defined]

    def log_message(self, fmt: str, *args) -> None:  # route access logs to logging
        log.debug("%s " + fmt, self.address_string(), *args)

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    # -- plumbing ----------------------------------------------------------------------------
    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, body: object, headers: dict | None = None) -> None:
        data = (
            b""
            if body is None
            else json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        )
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, str(v))
        self.end_headers()
        self.wfile.write(data)
        self.sim.count_response(status)

    def _reset_connection(self) -> None:
        """Drop the connection with a TCP reset and no answer (fault injection)."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True

    def _dispatch(self) -> None:
        sim = self.sim
        correlation = str(uuid.uuid4())
        split = urlsplit(self.path)
        path = unquote(split.path).rstrip("/") or "/"
        raw = self._read_body()
        if path == "/oauth/token":
            self._token(raw, correlation)
            return
        faults = sim.faults
        base_headers = {"ININ-Correlation-Id": correlation}

        def fail(status, code, message, params=None, headers=None, limit=None):
            h = dict(base_headers, **(headers or {}))
            if limit:
                h.update(limit)
            self._send(status, error_body(status, code, message, correlation, params), h)

        auth_state = sim.check_token(self.headers.get("Authorization", ""))
        limit_headers = {
            "inin-ratelimit-count": 0,
            "inin-ratelimit-allowed": sim.cfg.rate_limit_per_minute,
            "inin-ratelimit-reset": 60,
        }
        if auth_state != "ok":
            code, msg = {
                "missing": (
                    "authentication.required",
                    "No authentication bearer token specified in authorization header.",
                ),
                "expired": ("credentials.expired", "The bearer token has expired."),
            }.get(auth_state, ("bad.credentials", "Invalid login credentials."))
            fail(401, code, msg, limit=limit_headers)
            return
        bearer = self.headers["Authorization"].split(None, 1)[1].strip()
        allowed, count, reset = sim.rate_window(bearer).hit()
        limit_headers = {
            "inin-ratelimit-count": count,
            "inin-ratelimit-allowed": sim.cfg.rate_limit_per_minute,
            "inin-ratelimit-reset": reset,
        }
        n_request = sim.next_request_number()
        if faults.latency_ms:
            time.sleep(faults.latency_ms / 1000)
        if sim.chance(faults.reset_rate):
            self._reset_connection()
            return
        if faults.fail_after_requests is not None and n_request > faults.fail_after_requests:
            fail(
                503, "service.unavailable", "Service temporarily unavailable.", limit=limit_headers
            )
            return
        if not allowed:
            fail(
                429,
                "too.many.requests.retry.after",
                f"Rate limit exceeded the maximum. Retry the request in [{reset}] seconds",
                {"0": str(reset)},
                {"Retry-After": reset},
                limit_headers,
            )
            return
        if sim.chance(faults.rate_429):
            # Another limit than the token's was hit: the token's count stands, and the reset
            # header agrees with Retry-After.
            wait = faults.retry_after_seconds
            exhausted = dict(limit_headers, **{"inin-ratelimit-reset": wait})
            fail(
                429,
                "too.many.requests.retry.after",
                f"Rate limit exceeded the maximum. Retry the request in [{wait}] seconds",
                {"0": str(wait)},
                {"Retry-After": wait},
                exhausted,
            )
            return
        if sim.chance(faults.rate_5xx):
            status, code, msg = sim.pick(_5XX)
            fail(status, code, msg, limit=limit_headers)
            return
        route = sim.api.resolve(self.command, path)
        if route is None:
            fail(404, "not.found", "The requested resource was not found.", limit=limit_headers)
            return
        func, permission, match = route
        if permission and sim.cfg.permissions is not None and permission not in sim.cfg.permissions:
            msg = (
                "Unable to perform the requested action. You must have at least one of the "
                f"following permissions assigned: [{permission}]"
            )
            fail(
                403,
                "missing.any.permissions",
                msg,
                {"permissions": permission},
                limit=limit_headers,
            )
            return
        body = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                fail(400, "bad.request", "The request body is not valid JSON.", limit=limit_headers)
                return
        req = Request(
            self.command, path, parse_qsl(split.query, keep_blank_values=True), body, match
        )
        try:
            with sim.lock:
                reply = func(req)
        except ApiFailure as exc:
            fail(exc.status, exc.code, exc.message, exc.params or None, limit=limit_headers)
            return
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            # Malformed input we did not foresee: answer like the platform, never hang up.
            log.warning("%s %s failed: %r", self.command, path, exc)
            fail(
                400,
                "bad.request",
                f"The request could not be understood: {exc}",
                limit=limit_headers,
            )
            return
        payload = reply.body
        if (
            isinstance(payload, dict)
            and payload.get("entities")
            and "total" in payload
            and sim.chance(faults.short_page_rate)
        ):
            # Incomplete pagination: a page one entity short while `total` still counts it.
            payload = {**payload, "entities": payload["entities"][:-1]}
        self._send(reply.status, payload, dict(base_headers, **limit_headers))

    def _token(self, raw: bytes, correlation: str) -> None:
        sim = self.sim
        # The login host sends rate-limit headers too; the token call is not counted.
        headers = {
            "ININ-Correlation-Id": correlation,
            "inin-ratelimit-count": 0,
            "inin-ratelimit-allowed": sim.cfg.rate_limit_per_minute,
            "inin-ratelimit-reset": 60,
        }

        def oauth_error(status: int, error: str, description: str) -> None:
            self._send(
                status,
                {"error": error, "description": description, "error_description": description},
                headers,
            )

        if self.command != "POST":
            oauth_error(405, "invalid_request", "method not allowed")
            return
        form = dict(parse_qsl(raw.decode("utf-8", "replace")))
        if form.get("grant_type") != "client_credentials":
            oauth_error(400, "unsupported_grant_type", "grant type not supported")
            return
        auth = self.headers.get("Authorization", "")
        client_id = secret = None
        if auth.lower().startswith("basic "):
            try:
                client_id, _, secret = base64.b64decode(auth[6:].strip()).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                client_id = None
        if client_id != sim.cfg.client_id:
            oauth_error(401, "invalid_client", "client not found")
            return
        if not secrets.compare_digest(secret or "", sim.cfg.client_secret):
            oauth_error(401, "invalid_client", "authentication failed")
            return
        token, lifetime = sim.issue_token()
        self._send(
            200, {"access_token": token, "token_type": "bearer", "expires_in": lifetime}, headers
        )


class SimServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], sim):
        self.sim = sim
        super().__init__(address, Handler)


def start_server(sim, host: str, port: int) -> tuple[SimServer, threading.Thread]:
    server = SimServer((host, port), sim)
    thread = threading.Thread(
        target=server.serve_forever, args=(0.05,), name="gcevidence-sim", daemon=True
    )
    thread.start()
    return server, thread
