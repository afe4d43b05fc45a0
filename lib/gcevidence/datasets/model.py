"""What a dataset declaration says, and the small value helpers its normaliser uses."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from gcevidence.endpoints import Endpoint, Paging
from gcevidence.redact import without_fields

Entity = dict[str, Any]


@dataclass(frozen=True)
class DatasetSpec:
    """One named dataset: where it is read from, its columns, and how an entity becomes a row.

    Without a `collector` the dataset is *declared*: the collector reads `reads[0]` with
    `params`, writes `row(entity)` per entity and `scrub(entity)` as raw, and reconciles the
    listing against its `total`. A `collector` names a special collector (collect.SPECIAL)
    that does more than one read; it uses the same normalisers.
    """

    name: str
    kind: str  # "table" | "object"
    columns: tuple[str, ...] = ()
    reads: tuple[Endpoint, ...] = ()  # every endpoint it reads, the listing first
    params: MappingProxyType = field(default_factory=lambda: MappingProxyType({}), hash=False)
    row: Callable[[Entity], Entity] | None = None  # one row per raw entity
    rows: Callable[[Entity], list[Entity]] | None = None  # or several (one per division, ...)
    scrub: Callable[[Entity], Entity] | None = None  # the raw entity as stored: secrets removed
    removes: str = ""  # what scrub removes, in words
    # The credentials scrub removes from an entity: held in memory only, so that sealing
    # refuses a pack in which one turns up anyway (pack/secrets.py).
    withheld: Callable[[Entity], list[str]] | None = None
    # Fields of the raw entity never copied to the evidence: personal data no check or auditor
    # uses (privacy.py); the columns are what is kept.
    drops: tuple[str, ...] = ()
    summary: Callable[[list[Entity]], dict[str, Any]] | None = None  # extra status fields
    collector: str = ""  # "" = the declaration is enough; else a special collector's name
    about: str = ""  # what a row is, for the report and docs/datasets.md
    origin: str = ""  # where it comes from when it is not the API (the HR roster)

    @property
    def permission(self) -> str:
        """The permission its endpoints require ("" when none)."""
        found = {e.permission for e in self.reads if e.permission}
        return found.pop() if found else ""

    @property
    def source(self) -> str:
        """The API calls it comes from, as the working papers show them."""
        if self.origin:
            return self.origin
        calls = []
        for index, endpoint in enumerate(self.reads):
            query = endpoint.query(self.params) if index == 0 else {}
            text = "&".join(f"{k}={_query_text(v)}" for k, v in query.items())
            calls.append(f"{endpoint}{'?' + text if text else ''}")
        return " + ".join(calls)

    def normalise(self, entity: Entity) -> list[Entity]:
        """The rows of one raw entity."""
        if self.rows is not None:
            return self.rows(entity)
        return [self.row(entity)] if self.row is not None else []

    def stored(self, entity: Entity) -> Entity:
        """The raw entity as it is written to evidence/raw/: scrubbed, personal data dropped."""
        clean = self.scrub(entity) if self.scrub is not None else entity
        return without_fields(clean, self.drops) if self.drops else clean

    def secrets_of(self, entity: Entity) -> list[str]:
        """The credentials the scrubber removes from this entity (never written anywhere)."""
        return [s for s in self.withheld(entity) if s] if self.withheld is not None else []

    def problems(self) -> list[str]:
        """What is inconsistent in the declaration (checked when the datasets are loaded)."""
        out = []
        if self.kind not in ("table", "object"):
            out.append(f"kind {self.kind!r} is neither table nor object")
        if self.kind == "table" and not self.columns:
            out.append("a table without columns")
        if self.withheld is not None and self.scrub is None:
            out.append("withholds credentials but has no scrubber to remove them")
        if len({e.permission for e in self.reads if e.permission}) > 1:
            out.append("its endpoints require different permissions")
        if not self.reads and not self.origin:
            out.append("reads no endpoint and names no other origin")
        if not self.collector:
            if len(self.reads) != 1:
                out.append("a declared dataset reads exactly one endpoint")
            elif self.kind == "table" and self.row is None and self.rows is None:
                out.append("a declared table needs a normaliser")
            elif self.reads[0].paging not in (Paging.PAGES, Paging.NONE):
                out.append(f"paging {self.reads[0].paging} needs a special collector")
        return out


def table(name: str, columns: str, reads: tuple[Endpoint, ...], **kwargs: Any) -> DatasetSpec:
    """A table declaration; `columns` is space-separated, in CSV order."""
    params = MappingProxyType(dict(kwargs.pop("params", {})))
    return DatasetSpec(name, "table", tuple(columns.split()), reads, params, **kwargs)


def document(name: str, reads: tuple[Endpoint, ...], **kwargs: Any) -> DatasetSpec:
    """An object declaration: one JSON document as the API gave it."""
    params = MappingProxyType(dict(kwargs.pop("params", {})))
    return DatasetSpec(name, "object", (), reads, params, **kwargs)


def flag(value: Any) -> str:
    """A boolean as the CSV writes it: "true", "false", or "" when absent."""
    return "" if value is None else ("true" if value else "false")


def compact(value: Any) -> str:
    """A nested value as one line of canonical JSON ("" when empty)."""
    return (
        json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        if value
        else ""
    )


def _query_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return str(value)
