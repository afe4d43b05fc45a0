"""Collection: every dataset of datasets.SPECS read from the API into one run folder.

A dataset without a special collector is collected from its declaration alone: its one
endpoint is read in full (a page-number listing page by page, anything else in one answer),
each entity becomes rows through the declared normaliser, the raw entity is stored minus what
the declaration removes, and a listing is reconciled against its own `total`. Datasets that
need more than one read name a special collector (SPECIAL below): users with dormant suspects,
roles with their grants, the members of granted groups, trunks with property re-reads, the
audit trail, and the HR roster.

Each dataset is reconciled against the API's own counts and marked complete or not; a 403
marks it unavailable (the checks that need it report not_evaluable); anything incomplete
stops the run with IncompleteEvidence after snapshot.json has recorded why.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tqdm import tqdm

from gcevidence import __version__
from gcevidence.catalog import effective_thresholds
from gcevidence.collect_audits import collect_audits
from gcevidence.collect_roles import collect_group_members, collect_roles
from gcevidence.collect_trunks import collect_trunks
from gcevidence.collect_users import collect_users
from gcevidence.collection_scope import scope_from
from gcevidence.config import Params
from gcevidence.datasets import SPECS, DatasetSpec
from gcevidence.datasets.collector import COLLECTOR_CLIENT
from gcevidence.endpoints import Paging, requests_by_endpoint
from gcevidence.errors import ApiError, IncompleteEvidence, IncompletePagination, PermissionDenied
from gcevidence.genesys.audits import iso_z
from gcevidence.genesys.http import GenesysClient
from gcevidence.genesys.paging import list_endpoint, reconcile_ids
from gcevidence.snapshot import DatasetStatus, Snapshot, SnapshotWriter

log = logging.getLogger(__name__)

FIRST, IN_BACKGROUND = "hr_roster", "audits"


def required_retention_days(thresholds: dict[str, dict[str, Any]]) -> int:
    """How far back the audit trail must reach: the effective `audit_retention_days`."""
    return int((thresholds.get("audit_retention_days") or {}).get("value") or 365)


def collect(
    params: Params,
    client: GenesysClient,
    run_dir: Path,
    retention_days: int = 365,
    progress: bool = False,
    dormant_days: int | None = None,
) -> Snapshot:
    """Collect every dataset into run_dir; IncompleteEvidence when anything is incomplete.

    dormant_days (default: the params' effective threshold) decides which users are dormant
    suspects, re-read one by one before the checks may call them dormant.
    """
    run_dir = Path(run_dir)
    if dormant_days is None:
        dormant_days = int(effective_thresholds(params)["dormant_days"]["value"])
    collector = _Collector(params, client, SnapshotWriter(run_dir), retention_days, progress)
    collector.dormant_days = dormant_days
    return collector.run()


def collect_declared(client: Any, writer: SnapshotWriter, spec: DatasetSpec) -> Any:
    """Read one declared dataset and write it; returns the document or the entities."""
    (endpoint,) = spec.reads
    query = endpoint.query(spec.params)
    if endpoint.paging is Paging.PAGES:
        listing = list_endpoint(client, endpoint, dict(spec.params))
        entities, total, requests = listing.entities, listing.total, listing.requests
    else:
        doc = client.get(endpoint.path, query or None)
        if spec.kind == "object":
            writer.write_object(spec.name, spec.stored(doc) if doc is not None else {}, requests=1)
            return doc
        doc = doc or {}
        entities = doc.get("entities") or []
        total = doc.get("total") if isinstance(doc.get("total"), int) else len(entities)
        reconcile_ids(endpoint.path, entities, total)
        requests = 1
    writer.write_table(
        spec.name,
        [row for entity in entities for row in spec.normalise(entity)],
        [spec.stored(entity) for entity in entities],
        expected_rows=total,
        requests=requests,
        **(spec.summary(entities) if spec.summary else {}),
    )
    return entities


def collection_steps() -> list[tuple[str, tuple[str, ...]]]:
    """(collector, datasets) in the order they are read: declared ones alone, special ones
    with every dataset they write."""
    steps: dict[str, list[str]] = {}
    for spec in SPECS.values():
        steps.setdefault(spec.collector or spec.name, []).append(spec.name)
    return [(key, tuple(names)) for key, names in steps.items()]


class _Collector:
    def __init__(
        self,
        params: Params,
        client: GenesysClient,
        writer: SnapshotWriter,
        retention_days: int,
        progress: bool,
    ):
        self.params, self.client, self.writer = params, client, writer
        self.retention_days = retention_days
        self.bar = tqdm(
            total=len(SPECS),
            desc="collecting",
            unit="dataset",
            file=sys.stderr,
            disable=not progress,
            leave=False,
        )
        self.audit_bar = tqdm(
            desc="audit events", unit="event", file=sys.stderr, disable=not progress, leave=False
        )
        self._bar_lock = threading.Lock()
        self.org: dict[str, Any] = {}
        self.grants: list[dict] = []
        self.dormant_days = 90
        self.stop = threading.Event()
        # The special collectors (DatasetSpec.collector names one of these).
        self.special: dict[str, Callable[[], Any]] = {
            "hr_roster": self.hr_roster,
            "users": self.users,
            "roles": self.roles_and_grants,
            "group_members": self.group_members,
            "trunks": lambda: collect_trunks(self.client, self.writer),
            "audits": self.audits,
            "collector_client": self.collector_client,
        }
        self.collector_doc: dict | None = None
        self.divisions: list[dict] = []

    # -- orchestration -----------------------------------------------------------------------

    def run(self) -> Snapshot:
        started = dt.datetime.now(dt.UTC)
        error: BaseException | None = None
        steps = {key: (names, self._runner(key, names)) for key, names in collection_steps()}
        # A bad roster is the user's input error (exit 2): find out before any API call.
        self._step(*steps.pop(FIRST))
        # Audit queries take longest (server-side work plus polling): run them alongside.
        background = steps.pop(IN_BACKGROUND)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="gcevidence-audits") as bg:
            audits = bg.submit(self._step, *background)
            try:
                for names, fn in steps.values():
                    self._step(names, fn)
            except BaseException as exc:
                error = exc
                self.stop.set()  # no point finishing the audit queries
            try:
                audits.result()
            except BaseException as exc:
                error = error or exc
        self.bar.close()
        self.audit_bar.close()
        meta = self._meta(started)
        if error is not None:
            meta["error"] = str(error)
            self.writer.finish(**meta)
            raise error
        self.writer.finish(**meta)
        self._log_requests()
        incomplete = [s for s in self.writer.statuses.values() if s.available and not s.complete]
        missing = [name for name in SPECS if name not in self.writer.statuses]
        if incomplete or missing:
            reasons = [
                f"{s.name}: {s.reason or f'{s.rows} of {s.expected_rows} rows'}"
                for s in sorted(incomplete, key=lambda s: s.name)
            ]
            reasons += [f"{name}: not collected" for name in missing]
            raise IncompleteEvidence("evidence incomplete - " + "; ".join(reasons))
        return Snapshot(self.writer.root)

    def _log_requests(self) -> None:
        """At debug level: how many requests went to each endpoint (from requests.jsonl)."""
        path = getattr(getattr(self.client, "log", None), "path", None)
        if path is None or not log.isEnabledFor(logging.DEBUG) or not Path(path).is_file():
            return
        with Path(path).open(encoding="utf-8") as fh:
            calls = [(e["method"], e["path"]) for e in map(json.loads, fh)]
        counts = requests_by_endpoint(calls)
        log.debug("requests by endpoint: %s", ", ".join(f"{k} {v}" for k, v in counts.items()))

    def _runner(self, key: str, names: tuple[str, ...]) -> Callable[[], Any]:
        if key in self.special:
            return self.special[key]
        spec = SPECS[key]

        def declared() -> None:
            result = collect_declared(self.client, self.writer, spec)
            if spec.name == "organization":
                self.org = result or {}
            elif spec.name == "divisions":
                self.divisions = [spec.row(d) for d in result or []]

        return declared

    def _step(self, names: tuple[str, ...], fn: Callable[[], Any]) -> None:
        """Run one collection step; a 403 or short pagination is recorded, not raised."""
        try:
            fn()
        except PermissionDenied as exc:
            log.warning("%s unavailable: %s", ", ".join(names), exc)
            for name in names:
                if name not in self.writer.statuses:
                    self.writer.mark_unavailable(name, str(exc), missing_permission=exc.permission)
        except IncompletePagination as exc:
            for name in names:
                if name not in self.writer.statuses:
                    self.writer.statuses[name] = DatasetStatus(
                        name, complete=False, reason=str(exc)
                    )
        with self._bar_lock:
            self.bar.update(len(names))

    def _meta(self, started: dt.datetime) -> dict[str, Any]:
        scope = scope_from(
            self.writer.statuses.get("collector_client"), self.collector_doc, self.divisions
        )
        return {
            "org": {"id": self.org.get("id", ""), "name": self.org.get("name", "")},
            "region": self.client.region or "",
            "api_base_url": self.client.api_base_url,
            "client_id": self.client.creds.client_id,
            "period": {
                "start": self.params.period.start.isoformat(),
                "end": self.params.period.end.isoformat(),
            },
            "collected_at": iso_z(started),
            "tool_version": __version__,
            "retention_days": self.retention_days,
            "api_requests": self.client.stats.requests,
            "collector_scope": scope.as_dict(),
        }

    # -- special collectors ------------------------------------------------------------------

    def hr_roster(self) -> None:
        if self.params.hr_roster is None:
            self.writer.mark_unavailable("hr_roster", "no HR roster configured (params hr.roster)")
            return
        from gcevidence.hr import load_roster

        rows = load_roster(self.params.hr_roster)
        self.writer.write_table(
            "hr_roster", rows, expected_rows=len(rows), source_file=self.params.hr_roster.name
        )

    def collector_client(self) -> None:
        """The collecting client's own document, read by its id (that of the credentials)."""
        endpoint = COLLECTOR_CLIENT.reads[0]
        path = endpoint.url(clientId=self.client.creds.client_id)
        try:
            doc = self.client.get(path, endpoint.query() or None) or {}
        except ApiError as exc:
            if exc.status != 404:
                raise
            self.writer.mark_unavailable(
                COLLECTOR_CLIENT.name, f"{exc}: the API does not know this client id", requests=1
            )
            return
        self.collector_doc = COLLECTOR_CLIENT.stored(doc)
        self.writer.write_object(COLLECTOR_CLIENT.name, self.collector_doc, requests=1)

    def users(self) -> None:
        collect_users(self.client, self.writer, self.params.period.end, self.dormant_days)

    def roles_and_grants(self) -> None:
        self.grants = collect_roles(self.client, self.writer)

    def group_members(self) -> None:
        grants = self.writer.statuses.get("role_grants")
        if grants is None or not grants.available:
            self.writer.mark_unavailable(
                "group_members",
                "role grants unavailable, so the granted groups are unknown",
                missing_permission=grants.missing_permission if grants else "",
            )
            return
        collect_group_members(self.client, self.writer, self.grants)

    def audits(self) -> None:
        collect_audits(
            self.client,
            self.writer,
            self.params,
            self.retention_days,
            self.stop,
            on_events=self.audit_bar.update,
        )
