"""requests.jsonl: one JSON line per API call, for provenance (docs/evidence-pack.md §4).

Only the method, path with query, status and sizes are kept: never a header, a token, a
secret or (for the token endpoint) a body digest. Each line has a sequence number (`seq`, its
line number) and the answer's body is stored under it (genesys/responses.py), minus the fields
that must not be kept; the line's `sha256` is the digest of what is stored, and `redacted`
names what was removed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
from pathlib import Path
from typing import Any

from gcevidence.genesys.responses import RESPONSES_DIR, ResponseStore, stored_body


class RequestLog:
    """Appends one line per call to `path`; with `buffer`, keeps lines until `attach`.

    `minimize` also removes the personal fields endpoints declare from the stored answers.
    """

    def __init__(self, path: Path | None, *, buffer: bool = False, minimize: bool = True):
        self.path = None
        self.minimize = minimize
        self.responses = ResponseStore()
        self._lock = threading.Lock()
        self._fh = None
        self._seq = 0
        self._pending: list[str] | None = [] if buffer and not path else None
        if path:
            self.attach(path)

    def attach(self, path: Path) -> None:
        """Start writing to `path` (answers under its folder), beginning with what is buffered."""
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            self._fh = self.path.open("a", encoding="utf-8")
            if self._pending:
                self._fh.writelines(self._pending)
                self._fh.flush()
            self._pending = None
            self.responses.attach(self.path.parent / RESPONSES_DIR)

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
        keep = body is not None and log_body_digest
        stored, removed = stored_body(method, path, body, self.minimize) if keep else (b"", [])
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
            "sha256": hashlib.sha256(stored).hexdigest() if keep else None,
        }
        if removed:
            entry["redacted"] = removed
            entry["stored_bytes"] = len(stored)
        if error:
            entry["error"] = error
        with self._lock:
            if self._fh is None and self._pending is None:
                return
            self._seq += 1
            entry["seq"] = self._seq
            line = json.dumps(entry, sort_keys=True) + "\n"
            if self._fh is None:
                self._pending.append(line)
            else:
                self._fh.write(line)
                self._fh.flush()
            if keep:
                self.responses.add(self._seq, method, path, status, stored)

    def close(self) -> None:
        with self._lock:
            if self._fh is not None:
                self._fh.close()
                self._fh = None
            self._pending = None
            self.responses.close()
