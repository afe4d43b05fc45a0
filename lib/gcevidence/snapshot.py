"""The per-run snapshot on disk: datasets written once by collection, read back by checks.

Layout inside a run folder:
    snapshot.json                 run metadata and one status record per dataset
    evidence/<name>.csv           normalised table (CSV-injection guarded, see csvsafe); a table
                                  larger than evidence_files.CSV_PLAIN_LIMIT is <name>.csv.zst
    evidence/raw/<name>.jsonl.zst  raw API entities of a table, one per line, zstd
    evidence/<name>.json          an object dataset
A table written in segments (audit events by UTC day) records each segment's byte range in its
status (`segments`), so that one day can be read without the rest (`Snapshot.segment_table`).
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from gcevidence.csvsafe import guard, unguard
from gcevidence.datasets import SPECS
from gcevidence.evidence_files import (
    CopiedSegment,
    CsvEvidenceWriter,
    FramedWriter,
    Segment,
    open_text,
    segment_bytes,
)

SNAPSHOT_FILE = "snapshot.json"


@dataclass
class DatasetStatus:
    """How complete one dataset is; `complete` is False whenever anything is in doubt."""

    name: str
    path: str = ""
    rows: int = 0
    expected_rows: int | None = None
    complete: bool = False
    requests: int = 0
    available: bool = True
    missing_permission: str = ""
    reason: str = ""
    raw_path: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    # segment key (a UTC day) -> [offset, length, rows] of its rows in the file at `path`
    segments: dict[str, list[int]] = field(default_factory=dict)


def dumps(obj: Any) -> str:
    """Canonical JSON: sorted keys, UTF-8 kept, stable across runs over the same data."""
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, indent=2, default=str) + "\n"


class SnapshotWriter:
    """Writes datasets into a run folder; every table streams to disk, never all in memory."""

    def __init__(self, root: Path):
        self.root = Path(root)
        (self.root / "evidence" / "raw").mkdir(parents=True, exist_ok=True)
        self.statuses: dict[str, DatasetStatus] = {}
        self.meta: dict[str, Any] = {}
        # Credentials the scrubbers removed: in memory only, for the seal's secret scan.
        self.withheld: set[str] = set()

    def store(self, spec: Any, entity: dict) -> dict:
        """The raw entity as a dataset stores it: scrubbed, what it held withheld in memory."""
        self.withheld.update(spec.secrets_of(entity))
        return spec.stored(entity)

    def write_table(
        self,
        name: str,
        rows: Iterable[dict | CopiedSegment],
        raw: Iterable[dict] | None = None,
        *,
        expected_rows: int | None = None,
        requests: int = 0,
        complete: bool | None = None,
        segment_of: Callable[[dict], str] | None = None,
        **extra: Any,
    ) -> DatasetStatus:
        """Write rows (dicts keyed by the spec's columns) and optionally the raw entities.

        `complete` defaults to rows == expected_rows when an expectation is given. With
        `segment_of`, rows arrive grouped by its value in ascending order and each group's byte
        range is recorded (audit events by day); a CopiedSegment among the rows is a whole
        segment taken as written from an earlier pack.
        """
        spec = SPECS[name]
        evidence = self.root / "evidence"
        writer = CsvEvidenceWriter(evidence, name, spec.columns)
        try:
            for row in rows:
                if isinstance(row, CopiedSegment):
                    writer.write_segment(row)
                    continue
                writer.writerow(
                    [guard(row.get(col, "")) for col in spec.columns],
                    segment_of(row) if segment_of else None,
                )
        except BaseException:
            writer.discard()
            raise
        rel = writer.close().relative_to(self.root).as_posix()
        count = writer.rows
        raw_rel = ""
        if raw is not None:
            raw_rel = f"evidence/raw/{name}.jsonl.zst"
            with FramedWriter(self.root / raw_rel) as fh:
                for entity in raw:
                    fh.write(json.dumps(entity, sort_keys=True, ensure_ascii=False) + "\n")
        if complete is None:
            complete = expected_rows is None or count == expected_rows
        status = DatasetStatus(
            name, rel, count, expected_rows, complete, requests, raw_path=raw_rel, extra=extra
        )
        status.segments = {k: s.as_list() for k, s in writer.segments.items()}
        self.statuses[name] = status
        return status

    def write_object(
        self, name: str, obj: Any, *, requests: int = 0, complete: bool = True, **extra: Any
    ) -> DatasetStatus:
        rel = f"evidence/{name}.json"
        (self.root / rel).write_text(dumps(obj), encoding="utf-8")
        status = DatasetStatus(name, rel, 1, 1, complete, requests, extra=extra)
        self.statuses[name] = status
        return status

    def mark_unavailable(
        self, name: str, reason: str, *, missing_permission: str = "", requests: int = 0
    ) -> DatasetStatus:
        """The dataset could not be read (a 403, a missing input): checks say not_evaluable."""
        status = DatasetStatus(
            name,
            requests=requests,
            available=False,
            complete=False,
            missing_permission=missing_permission,
            reason=reason,
        )
        self.statuses[name] = status
        return status

    def finish(self, **meta: Any) -> Path:
        self.meta.update(meta)
        doc = {
            "schema": "gcevidence.snapshot/1",
            **self.meta,
            "datasets": [asdict(s) for s in sorted(self.statuses.values(), key=lambda s: s.name)],
        }
        path = self.root / SNAPSHOT_FILE
        path.write_text(dumps(doc), encoding="utf-8")
        return path


class Snapshot:
    """Read-only view of a run folder's datasets, as pandas frames of strings."""

    def __init__(self, root: Path, withheld_secrets: frozenset[str] = frozenset()):
        self.root = Path(root)
        # What collection scrubbed (only a snapshot fresh from collect() knows it): sealing
        # refuses a pack holding any of it.
        self.withheld_secrets = withheld_secrets
        doc = json.loads((self.root / SNAPSHOT_FILE).read_text(encoding="utf-8"))
        self.meta: dict[str, Any] = {k: v for k, v in doc.items() if k != "datasets"}
        self.statuses: dict[str, DatasetStatus] = {
            d["name"]: DatasetStatus(**d) for d in doc["datasets"]
        }
        self._cache: dict[Any, Any] = {}

    def status(self, name: str) -> DatasetStatus:
        return self.statuses.get(name) or DatasetStatus(
            name, available=False, reason="not collected"
        )

    def has(self, name: str) -> bool:
        s = self.statuses.get(name)
        return bool(s and s.available)

    def table(self, name: str) -> pd.DataFrame:
        """The table as strings ("" for absent); raises KeyError when it was not collected."""
        if name not in self._cache:
            status = self._available(name)
            # pandas reads .csv.zst itself (compression inferred from the suffix).
            self._cache[name] = _frame(self.root / status.path)
        return self._cache[name]

    def segment_table(self, name: str, keys: Iterable[str]) -> pd.DataFrame:
        """Only the rows of the given segments (UTC days of audit events), read without the rest.

        A key without a segment has no rows. Nothing is cached: this is for reading a few days
        of a large table.
        """
        status = self._available(name)
        path = self.root / status.path
        spec = SPECS.get(name)
        with open_text(path) as fh:
            header = fh.readline()
        parts = [header.encode("utf-8")]
        for key in keys:
            if key in status.segments:
                parts.append(segment_bytes(path, Segment(*status.segments[key])))
        frame = _frame(io.StringIO(b"".join(parts).decode("utf-8"), newline=""))
        return frame if spec is None else frame[list(spec.columns)]

    def _available(self, name: str) -> DatasetStatus:
        status = self.statuses.get(name)
        if not status or not status.available:
            raise KeyError(f"dataset {name} is not available")
        return status

    def derived(self, key: str, build: Callable[[], Any]) -> Any:
        """Something computed from the snapshot once and shared (the checks' audit trail)."""
        if ("derived", key) not in self._cache:
            self._cache[("derived", key)] = build()
        return self._cache[("derived", key)]

    def release(self) -> None:
        """Forget every table, object and derived value read so far (they are read again
        when asked for): a run drops them once its checks are done."""
        self._cache.clear()

    def object(self, name: str) -> Any:
        if name not in self._cache:
            status = self._available(name)
            self._cache[name] = json.loads((self.root / status.path).read_text(encoding="utf-8"))
        return self._cache[name]

    def raw(self, name: str) -> Iterator[dict]:
        """The raw API entities of a table (from its raw file, or its stored responses)."""
        status = self.statuses[name]
        if not status.raw_path and status.extra.get("raw_in_responses"):
            from gcevidence.rederive import raw_entities

            yield from raw_entities(self.root, name)
            return
        with open_text(self.root / status.raw_path) as fh:
            for line in fh:
                yield json.loads(line)


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of a frame as dicts, like `to_dict("records")` but many times faster on the
    snapshot's string columns (pandas boxes each cell on its own; this reads each column once)."""
    columns = list(frame.columns)
    values = [frame[c].to_numpy(dtype=object).tolist() for c in columns]
    return [dict(zip(columns, row, strict=True)) for row in zip(*values, strict=True)]


def _frame(source: Path | io.StringIO) -> pd.DataFrame:
    """A CSV of the snapshot as a frame of strings, the CSV-injection guard undone."""
    return unguard_frame(pd.read_csv(source, dtype=str, keep_default_na=False, encoding="utf-8"))


def unguard_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame of strings read from an evidence CSV with the CSV-injection guard undone."""
    for col in frame.columns:
        values = frame[col].to_numpy(dtype=object)
        if len(values) and not _may_hold_guarded(values):
            continue
        quoted = [isinstance(v, str) and v[:1] == "'" for v in values]
        if any(quoted):
            frame.loc[quoted, col] = frame.loc[quoted, col].map(unguard)
    return frame


def _may_hold_guarded(values: Any) -> bool:
    """Whether a cell may start with the guard's quote: one join, not a loop in Python (most
    columns hold none)."""
    try:
        return "\x00'" in "\x00" + "\x00".join(values)
    except TypeError:  # not all strings
        return True
