"""requests.jsonl: one JSON line per API call, for provenance (docs/evidence-pack.md §4).

Only the method, path with query, status and sizes are kept: never a header, a token, a
secret or (for the token endpoint) a body digest.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
from pathlib import Path
from typing import Any


class RequestLog:
    """Appends one line per call to `path`; with `buffer`, keeps lines until `attach`."""

    def __init__(self, path: Path | None, *, buffer: bool = False):
        self.path = None
        self._lock = threading.Lock()
        self._fh = None
        self._pending: list[str] | None = [] if buffer and not path else None
        if path:
            self.attach(path)

    def attach(self, path: Path) -> None:
        """Start writing to `path`, beginning with the lines buffered so far."""
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            self._fh = self.path.open("a", encoding="utf-8")
            if self._pending:
                self._fh.writelines(self._pending)
                self._fh.flush()
            self._pending = None

    def record(
        self,
        *,
        method: str,
        path: str,
        status: int | None,
        attempt: int,
        duration_ms: float,
        body: bytes | None,
        log_body_digest: bool = True,
        error: str = "",
    ) -> None:
        if self._fh is None and self._pending is None:
            return
        entry: dict[str, Any] = {
            "time": dt.datetime.now(dt.UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "method": method,
            "path": path,
            "status": status,
            "attempt": attempt,
            "duration_ms": round(duration_ms, 1),
            "bytes": len(body) if body is not None else 0,
            "sha256": hashlib.sha256(body).hexdigest()
            if body is not None and log_body_digest
            else None,
        }
        if error:
            entry["error"] = error
        line = json.dumps(entry, sort_keys=True) + "\n"
        with self._lock:
            if self._fh is None:
                self._pending.append(line)
                return
            self._fh.write(line)
            self._fh.flush()

    def close(self) -> None:
        with self._lock:
            if self._fh is not None:
                self._fh.close()
                self._fh = None
