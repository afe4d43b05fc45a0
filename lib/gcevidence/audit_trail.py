"""The audit trail as the checks read it: once per snapshot, day by day, only what they use.

A million audit events as a frame of strings take over a gigabyte, and turning them into dicts
takes most of a minute, yet every check looks at a few kinds of event only: role grants,
removals and changes (PeoplePermissions/Role), users created or taken out of service
(Directory/User), group changes (Groups), and what partners' users did (an actor from another
organisation, or a trustee user). So the trail is read one day segment at a time: a few
columns of every row tell which rows are of those kinds and count the events per day and
service; only those rows are then parsed whole. The result is cached on the snapshot and
shared by the checks, the populations and the charts (`audit_trail(snapshot)`).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from gcevidence.csvsafe import unguard
from gcevidence.datasets import SPECS
from gcevidence.evidence_files import Segment, open_text, segment_bytes
from gcevidence.snapshot import records as frame_records
from gcevidence.snapshot import unguard_frame

COLUMNS = SPECS["audit_events"].columns
# The kinds of event any check, population or chart reads, as (service, entity type or None).
KEPT_KINDS = (("PeoplePermissions", "Role"), ("Directory", "User"), ("Groups", None))
# What tells the kept rows from the rest, and the per-day counts: read for every row.
INDEX_COLUMNS = ("event_date", "service_name", "entity_type", "user_id", "user_home_org_id")
ROW_END = "\r\n"  # csv.writer's line terminator in the evidence CSVs


@dataclass(frozen=True)
class AuditTrail:
    """The kept events (every column, strings, in file order: by event_date, then id), the
    number of events per UTC day and service of the whole trail, and its newest event_date."""

    events: pd.DataFrame
    counts: pd.DataFrame  # columns day, service_name, events
    rows: int
    latest: str
    _records: dict[tuple[str | None, str | None], list[dict[str, str]]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def records(self, service: str | None = None, entity_type: str | None = None) -> list[dict]:
        """The kept events of one service (and entity type) as dicts, oldest first (cached)."""
        key = (service, entity_type)
        if key not in self._records:
            frame = self.events
            if service is not None:
                frame = frame[frame["service_name"] == service]
            if entity_type is not None:
                frame = frame[frame["entity_type"] == entity_type]
            self._records[key] = frame_records(frame)
        return self._records[key]


def audit_trail(snapshot: Any) -> AuditTrail:
    """The snapshot's audit trail, read once (KeyError when audit_events was not collected)."""
    return snapshot.derived("audit_trail", lambda: read_trail(snapshot))


def read_trail(snapshot: Any) -> AuditTrail:
    """Read audit_events day by day, keeping the rows of KEPT_KINDS and partners' actors."""
    status = snapshot._available("audit_events")
    own_org = str((snapshot.meta.get("org") or {}).get("id") or "")
    trustee_users = _trustee_users(snapshot)
    kept: list[pd.DataFrame] = []
    counts: dict[tuple[str, str], int] = {}
    rows, latest = 0, ""
    for key, text in _day_texts(snapshot.root / status.path, status):
        index = _parse(text, INDEX_COLUMNS)
        if index.empty:
            continue
        rows += len(index)
        stamps = index["event_date"].to_numpy(dtype=object)
        latest = max(latest, max(stamps))
        services = index["service_name"].to_numpy(dtype=object)
        # Rows are sorted by event_date: when the first and the last are of the segment's day,
        # all are; then a Z stamp's UTC day is that day (the usual case: no stamp parsed).
        same_day = stamps[0][:10] == key == stamps[-1][:10]
        if key and same_day and index["event_date"].str.endswith("Z").all():
            days = [key]  # the segment's day is every event's UTC day (the usual case)
            pairs = zip(days * len(services), services, strict=True)
        else:
            pairs = zip(_days(stamps), services, strict=True)
        for pair in pairs:
            counts[pair] = counts.get(pair, 0) + 1
        mask = _kept(index, own_org, trustee_users)
        if mask.any():
            kept.append(_rows_where(text, mask))
    events = (
        unguard_frame(pd.concat(kept, ignore_index=True))
        if kept
        else pd.DataFrame(columns=list(COLUMNS), dtype=object)
    )
    frame = pd.DataFrame(
        [(day, unguard(service), n) for (day, service), n in sorted(counts.items())],
        columns=["day", "service_name", "events"],
    )
    return AuditTrail(events, frame, rows, latest)


def _trustee_users(snapshot: Any) -> set[str]:
    """Partners' users holding a role here (their events are kept whatever their kind)."""
    if not snapshot.has("role_grants"):
        return set()
    grants = snapshot.table("role_grants")
    return set(grants.loc[grants["subject_type"] == "PC_TRUSTEE_USER", "subject_id"])


def _day_texts(path: Any, status: Any) -> Iterator[tuple[str, str]]:
    """(day, CSV text without header) of each day segment in file order, or ("", the whole
    file) for a table written without segments."""
    if status.segments:
        for where, key in sorted((w, k) for k, w in status.segments.items()):
            yield key, segment_bytes(path, Segment(*where)).decode("utf-8")
        return
    with open_text(path) as fh:
        fh.readline()
        yield "", fh.read()


def _parse(text: str, usecols: tuple[str, ...] | None = None) -> pd.DataFrame:
    # Plain object columns: pandas' own string dtype is far slower to compare without pyarrow.
    return pd.read_csv(
        io.StringIO(text),
        header=None,
        names=list(COLUMNS),
        usecols=list(usecols) if usecols else None,
        dtype=object,
        keep_default_na=False,
        na_filter=False,
        encoding="utf-8",
    )


def _days(stamps: Any) -> list[str]:
    """The day of each event_date ("" when unreadable)."""
    return [s[:10] if len(s) > 19 and s[10] == "T" and s[-1] == "Z" else _day(s) for s in stamps]


def _day(stamp: str) -> str:
    """The day an event_date names, as activity_gaps has always counted it ("" if unreadable)."""
    try:
        return dt.datetime.fromisoformat(stamp.strip().replace("Z", "+00:00")).date().isoformat()
    except ValueError:
        return ""


def _kept(index: pd.DataFrame, own_org: str, trustee_users: set[str]) -> np.ndarray:
    service = index["service_name"].to_numpy(dtype=object)
    kind = index["entity_type"].to_numpy(dtype=object)
    mask = np.zeros(len(index), dtype=bool)
    for wanted_service, wanted_kind in KEPT_KINDS:
        hit = service == wanted_service
        mask |= hit & (kind == wanted_kind) if wanted_kind else hit
    home = index["user_home_org_id"].to_numpy(dtype=object)
    mask |= (home != "") & (home != own_org)
    if trustee_users:
        mask |= index["user_id"].isin(trustee_users).to_numpy()
    return mask


def _rows_where(text: str, mask: np.ndarray) -> pd.DataFrame:
    """Every column of the masked rows of one day, parsing only those rows when each row is
    one line (no cell holds a line break), else the whole day."""
    lines = text.split(ROW_END)
    if lines and lines[-1] == "":
        lines.pop()
    if len(lines) != len(mask):
        return _parse(text)[mask].reset_index(drop=True)
    chosen = [line for line, keep in zip(lines, mask, strict=True) if keep]
    return _parse(ROW_END.join(chosen) + ROW_END)
