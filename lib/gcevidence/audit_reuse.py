"""Incremental audit collection: the days of the period an earlier sealed pack already holds.

A monthly run over a 90-day period would re-read two months of audit events that the previous
pack of the same org holds. When that pack verified (history.previous_snapshot), queried the
same services and covers the start of this period, its days are copied into this pack as
written (whole day segments, never re-parsed) and only the rest is queried, starting one day
earlier: that *seam* day is read from both, and the API's events of it must be the pack's by
id, or the run queries everything instead and says why. The API part always includes the
window the realtime endpoint reconciles, so that count still checks what the queries returned.

A pack stands alone for its whole period: the events are copied into its own day files, and
its day table (audit_days) says for each day whether its events came from the API or from
which pack (run id and manifest content digest).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gcevidence.config import Params
from gcevidence.datasets import SPECS
from gcevidence.evidence_files import CopiedSegment, Segment, open_text, segment_bytes
from gcevidence.snapshot import Snapshot

log = logging.getLogger(__name__)

DAY = dt.timedelta(days=1)
FULL_REQUESTED = "a full collection was requested (--full)"


@dataclass(frozen=True)
class AuditBase:
    """An earlier sealed, verified pack of the org whose audit days a run may take."""

    snapshot: Snapshot
    run_id: str
    content_digest: str  # of its manifest.json: names exactly which pack the days came from
    pack: str  # where it sits under the output folder, <period-end>/<run-id>


@dataclass(frozen=True)
class ReusePlan:
    """Which days come from the base pack, and from which day on the API is queried."""

    base: AuditBase
    days: tuple[str, ...]  # copied from the base, in order (every day before the seam)
    seam: dt.date  # the first day queried, also held by the base: its ids must agree

    @property
    def api_start(self) -> dt.datetime:
        return dt.datetime.combine(self.seam, dt.time.min, tzinfo=dt.UTC)

    def segments(self) -> Iterator[CopiedSegment]:
        """The base's rows of the copied days, day by day, as its file holds them."""
        status = self.base.snapshot.status("audit_events")
        path = self.base.snapshot.root / status.path
        for day in self.days:
            where = status.segments.get(day)
            if where is None:  # a day without events (the base recorded none)
                continue
            segment = Segment(*where)
            yield CopiedSegment(day, segment_bytes(path, segment), segment.rows)

    def rows_copied(self) -> int:
        segments = self.base.snapshot.status("audit_events").segments
        return sum(segments[d][2] for d in self.days if d in segments)

    def seam_ids(self) -> set[str]:
        """The ids of the base's events on the seam day."""
        frame = self.base.snapshot.segment_table("audit_events", [self.seam.isoformat()])
        return set(frame["id"])


def audit_base(previous: Snapshot | None, info: dict[str, Any]) -> AuditBase | None:
    """The previous verified pack (history.previous_snapshot's answer) as a base, if any."""
    if previous is None or not info.get("run_id"):
        return None
    try:
        manifest = json.loads((previous.root / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    root = Path(previous.root)
    return AuditBase(
        previous,
        str(info["run_id"]),
        str(manifest.get("content_digest", "")),
        f"{root.parent.name}/{root.name}",
    )


def plan_reuse(
    base: AuditBase, params: Params, realtime_start: dt.datetime | None
) -> tuple[ReusePlan | None, str]:
    """(plan, "") when the base's days can be used, else (None, why not)."""
    snap = base.snapshot
    if not snap.has("audit_events") or not snap.status("audit_events").complete:
        return None, f"pack {base.run_id} holds no complete audit trail"
    status = snap.status("audit_events")
    start, end = params.period.start, params.period.end
    extra = status.extra
    services = sorted(params.audit.services)
    if sorted(extra.get("services") or []) != services:
        return None, f"pack {base.run_id} queried other audit services"
    if not status.segments and status.rows:
        return None, f"pack {base.run_id} holds its audit events without day segments"
    with open_text(snap.root / status.path) as fh:
        header = fh.readline().strip("\r\n").split(",")
    if header != list(SPECS["audit_events"].columns):
        return None, f"pack {base.run_id} holds other audit_events columns"
    try:
        base_start = dt.date.fromisoformat(str(extra.get("interval_start", ""))[:10])
        base_end = dt.date.fromisoformat(str(extra.get("interval_end", ""))[:10]) - DAY
    except ValueError:
        return None, f"pack {base.run_id} does not record the interval of its audit trail"
    if base_start > start:
        return None, f"pack {base.run_id} does not cover the start of the period ({start})"
    # The seam: the base's last day, or earlier so that the realtime window is all queried.
    seam = min(base_end, end)
    if realtime_start is not None:
        seam = min(seam, realtime_start.date())
    if seam <= start:
        return None, f"pack {base.run_id} covers no day of the period before {seam}"
    days = []
    day = start
    while day < seam:
        days.append(day.isoformat())
        day += DAY
    return ReusePlan(base, tuple(days), seam), ""


DAY_COLUMNS = ("day", "events", "source", "pack_run_id", "pack_content_digest", "overlap")


def day_rows(
    period_start: dt.date,
    period_end: dt.date,
    segments: dict[str, list[int]],
    plan: ReusePlan | None,
    overlap: str = "",
) -> list[dict[str, Any]]:
    """One row per day of the period: its events, and where they came from."""
    copied = set(plan.days) if plan else set()
    rows = []
    day = period_start
    while day <= period_end:
        key = day.isoformat()
        from_pack = key in copied
        rows.append(
            {
                "day": key,
                "events": segments[key][2] if key in segments else 0,
                "source": "pack" if from_pack else "api",
                "pack_run_id": plan.base.run_id if from_pack and plan else "",
                "pack_content_digest": plan.base.content_digest if from_pack and plan else "",
                "overlap": overlap if plan and day == plan.seam else "",
            }
        )
        day += DAY
    return rows


@dataclass(frozen=True)
class DaySpan:
    """Consecutive days of audit_days with the same source: how a paper summarises the table."""

    first: str
    last: str
    days: int
    events: int
    source: str
    pack_run_id: str
    pack_content_digest: str


def day_spans(rows: list[dict[str, Any]]) -> list[DaySpan]:
    """audit_days rows (in day order) folded into spans of one source each."""
    spans: list[DaySpan] = []
    for row in rows:
        key = (str(row["source"]), str(row["pack_run_id"]), str(row["pack_content_digest"]))
        events = int(row["events"] or 0)
        last = spans[-1] if spans else None
        if last and (last.source, last.pack_run_id, last.pack_content_digest) == key:
            spans[-1] = DaySpan(
                last.first, str(row["day"]), last.days + 1, last.events + events, *key
            )
        else:
            spans.append(DaySpan(str(row["day"]), str(row["day"]), 1, events, *key))
    return spans
