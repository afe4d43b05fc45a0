"""The API's answers as received, kept beside requests.jsonl so every body digest ties to bytes.

Layout (docs/evidence-pack.md §4): `evidence/responses/<endpoint>.jsonl.zst`, one zstd stream
per declared endpoint (endpoints.py; `undeclared` for anything else), one JSON line per answer
that had a body, in the order of the calls:

    {"seq": 12, "method": "GET", "path": "<path and query, as in requests.jsonl>",
     "status": 200, "body": "<the body as text>"}

`seq` is the call's line number in requests.jsonl. `body` is the text as received, or, when
fields had to be removed (an endpoint's `secrets`, and its `personal` fields when minimising),
the rest of the document written as compact JSON; the request line then names the removed
fields (`redacted`). Either way the sha256 of the UTF-8 bytes of `body` is the request line's
`sha256`. A body that is not UTF-8 is stored as `body_base64`. The token response is never
stored: its body is the token.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from gcevidence.endpoints import endpoint_for
from gcevidence.evidence_files import FramedWriter
from gcevidence.redact import remove_fields

RESPONSES_DIR = "evidence/responses"  # relative to the folder holding requests.jsonl
UNDECLARED = "undeclared"


def stored_body(method: str, path: str, body: bytes, minimize: bool) -> tuple[bytes, list[str]]:
    """The body as it is stored and digested, and the fields removed from it."""
    endpoint = endpoint_for(method, path)
    if endpoint is None or not body:
        return body, []
    fields = endpoint.secrets + (endpoint.personal if minimize else ())
    if not fields:
        return body, []
    try:
        doc = json.loads(body)
    except ValueError:
        return body, []
    removed = remove_fields(doc, fields)
    if not removed:
        return body, []
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8"), removed


def store_name(method: str, path: str) -> str:
    """The file stem a call's answer is stored under: its endpoint's name."""
    endpoint = endpoint_for(method, path)
    return endpoint.name if endpoint else UNDECLARED


def response_record(seq: int, method: str, path: str, status: int | None, body: bytes) -> str:
    """One stored answer as a JSON line."""
    record: dict[str, Any] = {"seq": seq, "method": method, "path": path, "status": status}
    try:
        record["body"] = body.decode("utf-8")
    except UnicodeDecodeError:
        record["body_base64"] = base64.b64encode(body).decode("ascii")
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"


class ResponseStore:
    """Appends answers to one zstd stream per endpoint; keeps them in memory until `attach`.

    Not thread-safe on its own: RequestLog calls it under its lock, in the order of `seq`.
    """

    def __init__(self) -> None:
        self.folder: Path | None = None
        self._files: dict[str, FramedWriter] = {}
        self._pending: list[tuple[str, str]] = []

    def attach(self, folder: Path) -> None:
        """Start writing under `folder`, beginning with the answers kept so far."""
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        pending, self._pending = self._pending, []
        for name, line in pending:
            self._file(name).write(line)

    def add(self, seq: int, method: str, path: str, status: int | None, body: bytes) -> None:
        name, line = store_name(method, path), response_record(seq, method, path, status, body)
        if self.folder is None:
            self._pending.append((name, line))
        else:
            self._file(name).write(line)

    def _file(self, name: str) -> FramedWriter:
        fh = self._files.get(name)
        if fh is None:
            fh = self._files[name] = FramedWriter(self.folder / f"{name}.jsonl.zst")  # type: ignore[operator]
        return fh

    def close(self) -> None:
        """Finish every stream (its last frame); later answers are not stored."""
        for fh in self._files.values():
            fh.close()
        self._files = {}
        self.folder = None
        self._pending = []


__all__ = ["RESPONSES_DIR", "ResponseStore", "response_record", "store_name", "stored_body"]
