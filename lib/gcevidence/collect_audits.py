"""The audit trail: one batch of asynchronous queries for the period and the retention probe.

Every query must end Succeeded with its cursor exhausted. Results stream to disk as they
arrive, de-duplicated by id, into one spool file per UTC day; audit_events.csv is then written
day by day, each day sorted by event time and id, with each day's byte range recorded
(`segments`), so that a later run can read one day of a sealed pack without the rest. The raw
events are not copied again: they are the stored responses of the results endpoint
(evidence/responses/audit_query_results.jsonl.zst). The recent part of the period (what the
realtime endpoint can count, the last 14 days) is reconciled against the realtime endpoint's
`total`. A window of queries at the retention boundary shows whether the trail reaches back as
far as the baseline requires.

With a base (an earlier verified pack of the org, audit_reuse.py), the days it holds are copied
and only the rest is queried, from an overlap day whose events must match the base's by id;
audit_days records where each day's events came from.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import logging
import re
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from gcevidence.audit_reuse import AuditBase, ReusePlan, day_rows, plan_reuse
from gcevidence.config import Params
from gcevidence.datasets.audit import audit_row
from gcevidence.genesys.audits import (
    REALTIME_MAX_DAYS,
    AuditQueryOutcome,
    AuditQuerySpec,
    iso_z,
    plan_queries,
    realtime_total,
    run_audit_queries,
)
from gcevidence.snapshot import SnapshotWriter

log = logging.getLogger(__name__)
RETENTION_PROBE_DAYS = 7
SPOOL_DIR = "evidence/.audit-spool"  # removed once audit_events is written
RESULTS_ENDPOINT = "audit_query_results"  # where the raw events are stored (its responses)
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def collect_audits(
    client: Any,
    writer: SnapshotWriter,
    params: Params,
    retention_days: int,
    stop: threading.Event,
    on_events: Callable[[int], Any] = lambda count: None,
    base: AuditBase | None = None,
    no_base: str = "",
) -> None:
    """audit_events, audit_queries, audit_retention_probe and audit_days.

    `stop` abandons the queries (the rest of the collection failed); `on_events` is told how
    many events of the period each results page brought (a progress bar). With `base`, the
    days it holds are taken from it where it allows (audit_reuse.plan_reuse); `no_base` says
    why there is none (recorded as the reason for a full collection).
    """
    period, audit = params.period, params.audit
    services = list(audit.services)
    probe_start = period.end_utc - dt.timedelta(days=retention_days)
    probe_end = probe_start + dt.timedelta(days=RETENTION_PROBE_DAYS)
    probe = [AuditQuerySpec(s, probe_start, probe_end) for s in services]
    probe_specs = set(probe)
    # Reconciliation window: the recent part of the period that the realtime endpoint
    # can count, closed before any query was submitted so that both see the same events.
    rt_end = min(period.end_utc, dt.datetime.now(dt.UTC).replace(microsecond=0))
    rt_start = max(
        period.start_utc, rt_end - dt.timedelta(days=REALTIME_MAX_DAYS) + dt.timedelta(hours=1)
    )
    window = (rt_start, rt_end) if rt_end - rt_start >= dt.timedelta(hours=1) else None
    plan: ReusePlan | None = None
    full_reason = no_base
    if base is not None:
        plan, full_reason = plan_reuse(base, params, window[0] if window else None)
        if plan is None:
            log.warning("audit events: every day is queried: %s", full_reason)
    api_start = plan.api_start if plan else period.start_utc
    main = plan_queries(services, api_start, period.end_utc, audit.max_interval_days)
    spool = AuditSpool(writer.root / SPOOL_DIR, window)
    probe_stats = {"events": 0, "earliest": ""}

    def on_page(outcome: AuditQueryOutcome, entities: list[dict]) -> None:
        if outcome.spec in probe_specs:
            probe_stats["events"] += len(entities)
            dates = [e.get("eventDate", "") for e in entities if e.get("eventDate")]
            if dates:
                first = min(dates)
                if not probe_stats["earliest"] or first < probe_stats["earliest"]:
                    probe_stats["earliest"] = first
            return
        spool.add(entities)
        on_events(len(entities))

    overlap = ""
    try:
        outcomes = run_audit_queries(
            client,
            main + probe,
            on_page,
            timeout_seconds=audit.query_timeout_seconds,
            stop=stop,
        )
        if plan is not None:
            overlap, full_reason = _reconcile_seam(plan, spool)
            if full_reason:  # the pack and the API disagree: read every day from the API
                log.warning("audit events: every day is queried: %s", full_reason)
                rest = plan_queries(services, period.start_utc, api_start, audit.max_interval_days)
                outcomes += run_audit_queries(
                    client, rest, on_page, timeout_seconds=audit.query_timeout_seconds, stop=stop
                )
                main, plan = main + rest, None
    except BaseException:
        spool.discard()
        raise
    mismatches = []
    if window is not None:
        totals = client.map(lambda s: realtime_total(client, s, *window), services)
        for service, total in zip(services, totals, strict=True):
            got = spool.in_window.get(service, 0)
            if total is not None and total != got:
                mismatches.append(
                    f"{service} {iso_z(window[0])}/{iso_z(window[1])}: "
                    f"realtime count {total}, query results {got}"
                )
    main_outcomes = [o for o in outcomes if o.spec not in probe_specs]
    probe_outcomes = [o for o in outcomes if o.spec in probe_specs]
    read = sum(o.result_count for o in main_outcomes)
    copied = plan.rows_copied() if plan else 0
    try:
        status = writer.write_table(
            "audit_events",
            itertools.chain(plan.segments() if plan else (), spool.rows()),
            None,
            expected_rows=read - spool.duplicates + copied,
            requests=sum(o.pages + o.polls + 1 for o in main_outcomes),
            complete=not mismatches and spool.count == read - spool.duplicates,
            segment_of=event_day,
            queries=len(main_outcomes),
            events_read=read,
            duplicates_skipped=spool.duplicates,
            reconciled_window=[iso_z(w) for w in window] if window else [],
            reconciled_counts=dict(spool.in_window),
            count_mismatches=mismatches,
            services=services,
            interval_start=iso_z(period.start_utc),
            interval_end=iso_z(period.end_utc),
            segmented_by="UTC day of event_date; rows sorted by event_date, id",
            raw_in_responses=RESULTS_ENDPOINT,
            collection="incremental" if plan else "full",
            full_reason="" if plan else full_reason,
            from_pack=_from_pack(plan, copied, overlap),
        )
    finally:
        spool.discard()
    writer.write_table(
        "audit_days",
        day_rows(period.start, period.end, status.segments, plan, overlap),
        None,
        complete=True,
    )
    if mismatches:
        status.reason = "audit results disagree with the API's count: " + "; ".join(mismatches[:5])
    query_rows = [
        {
            "transaction_id": o.transaction_id,
            "service_name": o.spec.service,
            "interval_start": iso_z(o.spec.start),
            "interval_end": iso_z(o.spec.end),
            "state": o.state,
            "result_count": o.result_count,
            "pages": o.pages,
        }
        for o in outcomes
    ]
    writer.write_table(
        "audit_queries",
        query_rows,
        None,
        expected_rows=len(main) + len(probe),
        complete=all(o.state == "Succeeded" for o in outcomes),
    )
    writer.write_object(
        "audit_retention_probe",
        {
            "required_days": retention_days,
            "probe_start": iso_z(probe_start),
            "probe_end": iso_z(probe_end),
            "events_found": probe_stats["events"],
            "earliest_event": probe_stats["earliest"],
            "transaction_id": probe_outcomes[0].transaction_id if probe_outcomes else "",
            "transaction_ids": [o.transaction_id for o in probe_outcomes],
            "services": services,
        },
        requests=sum(o.pages + o.polls + 1 for o in probe_outcomes),
    )


def _reconcile_seam(plan: ReusePlan, spool: AuditSpool) -> tuple[str, str]:
    """(what the overlap day showed, "") when the API's ids of it are the base's, else ("", why)."""
    seam = plan.seam.isoformat()
    answered, held = spool.ids_of(seam), plan.seam_ids()
    run_id = plan.base.run_id
    if answered == held:
        return f"{len(answered)} events from the API, the same ids as pack {run_id}", ""
    return "", (
        f"the overlap day {seam} does not match pack {run_id}: the API answered "
        f"{len(answered)} events, the pack holds {len(held)}, {len(answered ^ held)} ids are "
        "in one of them only"
    )


def _from_pack(plan: ReusePlan | None, rows: int, overlap: str) -> dict[str, Any]:
    """The audit_events status's record of the days taken from an earlier pack ({} if none)."""
    if plan is None:
        return {}
    return {
        "run_id": plan.base.run_id,
        "content_digest": plan.base.content_digest,
        "pack": plan.base.pack,
        "first_day": plan.days[0],
        "last_day": plan.days[-1],
        "days": len(plan.days),
        "events": rows,
        "overlap_day": plan.seam.isoformat(),
        "overlap": overlap,
    }


class AuditSpool:
    """Audit events streamed to one spool file per UTC day as they arrive, de-duplicated by id.

    Adjacent windows may both return an event stamped exactly on their shared boundary, so
    ids are remembered (as 8-byte digests, not dicts) to keep each event once. `rows()` reads
    the days back in order, each sorted by event time and id: only one day is ever in memory.
    """

    def __init__(self, folder: Path, window: tuple[dt.datetime, dt.datetime] | None = None):
        self.folder = folder
        self.window = window
        self.in_window: dict[str, int] = {}  # per service, events inside `window`
        folder.mkdir(parents=True, exist_ok=True)
        self._days: dict[str, IO[str]] = {}
        self._seen: set[int] = set()
        self.count = 0
        self.duplicates = 0

    def add(self, entities: list[dict]) -> None:
        for event in entities:
            key = int.from_bytes(
                hashlib.blake2b(str(event.get("id", "")).encode(), digest_size=8).digest(), "big"
            )
            if key in self._seen:
                self.duplicates += 1
                continue
            self._seen.add(key)
            self._day_file(_day_of(event.get("eventDate"))).write(
                json.dumps(event, sort_keys=True, ensure_ascii=False) + "\n"
            )
            self.count += 1
            if self.window is not None and _within(event.get("eventDate"), self.window):
                service = str(event.get("serviceName", ""))
                self.in_window[service] = self.in_window.get(service, 0) + 1

    def _day_file(self, day: str) -> IO[str]:
        fh = self._days.get(day)
        if fh is None:
            fh = self._days[day] = self._path(day).open("a", encoding="utf-8")
        return fh

    def _path(self, day: str) -> Path:
        return self.folder / f"{day or 'undated'}.jsonl"

    def ids_of(self, day: str) -> set[str]:
        """The ids of the events spooled for one day so far."""
        fh = self._days.get(day)
        if fh is None:
            return set()
        fh.flush()
        with self._path(day).open(encoding="utf-8") as lines:
            return {str(json.loads(line).get("id", "")) for line in lines}

    def close(self) -> None:
        for fh in self._days.values():
            fh.close()
        self._seen = set()

    def discard(self) -> None:
        """Remove the spool (after the table is written, or when the collection failed)."""
        self.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def rows(self) -> Iterator[dict]:
        """audit_events rows, day after day, each day sorted by (event_date, id)."""
        self.close()
        for day in sorted(self._days):
            path = self._path(day)
            with path.open(encoding="utf-8") as fh:
                events = [json.loads(line) for line in fh]
            events.sort(key=event_order)
            for event in events:
                yield audit_row(event)
            path.unlink()


def event_order(event: dict) -> tuple[str, str]:
    """How audit events are ordered in the evidence: by eventDate, then id."""
    return str(event.get("eventDate") or ""), str(event.get("id") or "")


def event_day(row: dict) -> str:
    """The segment of an audit_events row: the UTC day of its event_date ("" when undated)."""
    return _day_of(row.get("event_date"))


def _day_of(stamp: Any) -> str:
    day = str(stamp or "")[:10]
    return day if _DAY.fullmatch(day) else ""


def _within(stamp: Any, window: tuple[dt.datetime, dt.datetime]) -> bool:
    try:
        moment = dt.datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    except ValueError:
        return False
    return window[0] <= moment < window[1]
