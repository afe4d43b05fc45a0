"""The per-run snapshot on disk: datasets written once by collection, read back by checks.

Layout inside a run folder:
    snapshot.json            run metadata and one status record per dataset
    evidence/<name>.csv      normalised table (CSV-injection guarded, see csvsafe)
    evidence/raw/<name>.jsonl  raw API entities of a table, one per line
    evidence/<name>.json     an object dataset
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from gcevidence.csvsafe import guard, unguard
from gcevidence.datasets import SPECS

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
        rows: Iterable[dict],
        raw: Iterable[dict] | None = None,
        *,
        expected_rows: int | None = None,
        requests: int = 0,
        complete: bool | None = None,
        **extra: Any,
    ) -> DatasetStatus:
        """Write rows (dicts keyed by the spec's columns) and optionally the raw entities.

        `complete` defaults to rows == expected_rows when an expectation is given.
        """
        spec = SPECS[name]
        rel = f"evidence/{name}.csv"
        count = 0
        with (self.root / rel).open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(spec.columns)
            for row in rows:
                writer.writerow([guard(row.get(col, "")) for col in spec.columns])
                count += 1
        raw_rel = ""
        if raw is not None:
            raw_rel = f"evidence/raw/{name}.jsonl"
            with (self.root / raw_rel).open("w", encoding="utf-8") as fh:
                for entity in raw:
                    fh.write(json.dumps(entity, sort_keys=True, ensure_ascii=False) + "\n")
        if complete is None:
            complete = expected_rows is None or count == expected_rows
        status = DatasetStatus(
            name, rel, count, expected_rows, complete, requests, raw_path=raw_rel, extra=extra
        )
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
        self._cache: dict[str, Any] = {}

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
            status = self.statuses.get(name)
            if not status or not status.available:
                raise KeyError(f"dataset {name} is not available")
            frame = pd.read_csv(
                self.root / status.path, dtype=str, keep_default_na=False, encoding="utf-8"
            )
            for col in frame.columns:
                quoted = frame[col].str.startswith("'")
                if quoted.any():
                    frame.loc[quoted, col] = frame.loc[quoted, col].map(unguard)
            self._cache[name] = frame
        return self._cache[name]

    def object(self, name: str) -> Any:
        if name not in self._cache:
            status = self.statuses.get(name)
            if not status or not status.available:
                raise KeyError(f"dataset {name} is not available")
            self._cache[name] = json.loads((self.root / status.path).read_text(encoding="utf-8"))
        return self._cache[name]

    def raw(self, name: str) -> Iterator[dict]:
        status = self.statuses[name]
        with (self.root / status.raw_path).open(encoding="utf-8") as fh:
            for line in fh:
                yield json.loads(line)
