"""The embedded Genesys Cloud: a synthetic org served over HTTP on loopback."""

from __future__ import annotations

import logging
import random
import secrets
import threading
import time
from pathlib import Path

from gcevidence.simulator.api import Api
from gcevidence.simulator.clients import add_oauth_clients
from gcevidence.simulator.config import FaultConfig, SimConfig
from gcevidence.simulator.evolve import advance_month
from gcevidence.simulator.org import Org
from gcevidence.simulator.planted import compute_planted, compute_populations, compute_statuses
from gcevidence.simulator.server import RateWindow, start_server

log = logging.getLogger(__name__)


class Simulator:
    """`with Simulator(SimConfig(...)) as sim:` serves the org at `sim.base_url`."""

    def __init__(self, cfg: SimConfig | None = None):
        self.cfg = cfg or SimConfig()
        self.faults: FaultConfig = self.cfg.faults
        started = time.perf_counter()
        self.org = Org(
            self.cfg.seed,
            self.cfg.users,
            self.cfg.resolved_now(),
            self.cfg.audit_events_per_day,
            self.cfg.audit_history_days,
            self.cfg.sign_in,
            self.cfg.siem_export,
        )
        add_oauth_clients(
            self.org, self.cfg.client_id, self.cfg.client_secret, self.cfg.collector_divisions
        )
        log.info(
            "generated org with %d users in %.2fs", self.cfg.users, time.perf_counter() - started
        )
        self.api = Api(self)
        self.lock = threading.RLock()
        self.audit_queries: dict[str, dict] = {}
        self.usage_queries: dict[str, dict] = {}  # OAuth client usage: execution id -> query
        self.tokens_issued: list[str] = []
        self.status_counts: dict[int, int] = {}
        self._tokens: dict[str, float] = {}  # token -> expiry (monotonic)
        self._windows: dict[str, RateWindow] = {}
        self._fault_rng = random.Random(f"{self.cfg.seed}:faults")
        self._rng_lock = threading.Lock()
        self._requests = 0
        self._page_reads: dict[tuple, int] = {}
        self._planted: dict[str, list[str]] | None = None
        self._server = None
        self._thread = None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> Simulator:
        if self._server is None:
            self._server, self._thread = start_server(self, self.cfg.host, self.cfg.port)
            log.info("simulator listening on %s", self.base_url)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- public surface ----------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the simulator is not running; use it as a context manager")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def client_id(self) -> str:
        return self.cfg.client_id

    @property
    def client_secret(self) -> str:
        return self.cfg.client_secret

    @property
    def now(self):
        return self.org.now

    @property
    def planted(self) -> dict[str, list[str]]:
        with self.lock:
            if self._planted is None:
                self._planted = compute_planted(self.org)
            return self._planted

    @property
    def planted_populations(self) -> dict[str, list[str]]:
        """population -> the ids a correct build lists (PLANTED.md: populations)."""
        with self.lock:
            return compute_populations(self.org)

    @property
    def planted_status(self) -> dict[str, str]:
        """check id -> the status a correct check reports (PLANTED.md)."""
        return compute_statuses(self.org, self.planted)

    def write_roster(self, path: str | Path) -> Path:
        with self.lock:
            return self.org.write_roster(Path(path))

    def advance_month(self) -> dict:
        with self.lock:
            changes = advance_month(self.org)
            self._planted = None
            return changes

    def expire_tokens(self) -> None:
        """Make every issued token expired (tests of re-authentication)."""
        with self._rng_lock:
            for token in self._tokens:
                self._tokens[token] = 0.0

    # -- used by the HTTP handler ------------------------------------------------------------
    def issue_token(self) -> tuple[str, int]:
        lifetime = self.faults.token_lifetime_seconds or self.cfg.token_lifetime_seconds
        token = secrets.token_urlsafe(64)[:86]
        with self._rng_lock:
            self._tokens[token] = time.monotonic() + lifetime
            self.tokens_issued.append(token)
        return token, lifetime

    def check_token(self, header: str) -> str:
        """'ok', 'missing', 'unknown' or 'expired' for an Authorization header."""
        parts = header.split(None, 1)
        if len(parts) != 2 or parts[0].lower() != "bearer":
            return "missing"
        expiry = self._tokens.get(parts[1].strip())
        if expiry is None:
            return "unknown"
        return "ok" if time.monotonic() < expiry else "expired"

    def rate_window(self, token: str) -> RateWindow:
        with self._rng_lock:
            window = self._windows.get(token)
            if window is None:
                window = self._windows[token] = RateWindow(self.cfg.rate_limit_per_minute)
            return window

    def next_request_number(self) -> int:
        with self._rng_lock:
            self._requests += 1
            return self._requests

    @property
    def requests_served(self) -> int:
        return self._requests

    def count_response(self, status: int) -> None:
        with self._rng_lock:
            self.status_counts[status] = self.status_counts.get(status, 0) + 1

    def chance(self, rate: float) -> bool:
        if rate <= 0:
            return False
        with self._rng_lock:
            return self._fault_rng.random() < rate

    def pick(self, options):
        with self._rng_lock:
            return options[self._fault_rng.randrange(len(options))]

    def rng_bits(self, bits: int) -> int:
        with self._rng_lock:
            return self._fault_rng.getrandbits(bits)

    def token_dropped(self, page: tuple) -> bool:
        """Whether this read of a users page omits lastTokenIssued, at `token_drop_rate`.

        Seeded by the page and how often it was read, not by the request order: concurrent
        readers meet the same drops, and a page read again gets a fresh draw.
        """
        rate = self.faults.token_drop_rate
        if rate <= 0:
            return False
        with self._rng_lock:
            reads = self._page_reads[page] = self._page_reads.get(page, 0) + 1
        return random.Random(f"{self.cfg.seed}:lasttokenissued:{page}:{reads}").random() < rate

    def dropped_expansion(self, requested: list[str]) -> str | None:
        """Which expansion (if any) this page silently omits, at `drop_expand_rate`."""
        if not requested or not self.chance(self.faults.drop_expand_rate):
            return None
        return self.pick(requested)
