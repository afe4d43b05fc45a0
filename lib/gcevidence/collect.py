"""Collection: every dataset of datasets.SPECS read from the API into one run folder.

A dataset without a special collector is collected from its declaration alone: its one
endpoint is read in full (a page-number listing page by page, anything else in one answer),
each entity becomes rows through the declared normaliser, the raw entity is stored minus what
the declaration removes, and a listing is reconciled against its own `total`. Datasets that
need more than one read name a special collector (SPECIAL below): users with dormant suspects,
roles with their grants and permissions, the members of granted groups, the roles carrying each
sensitive permission, trunks with property re-reads, OAuth clients with their usage, the audit
trail, and the HR roster. Collection drops the credentials the API hands out with its answers
(client secrets, key-manager keys, SIP passwords) and keeps them in memory only, for the seal.

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
from gcevidence.audit_reuse import FULL_REQUESTED, AuditBase, audit_base
from gcevidence.catalog import effective_thresholds
from gcevidence.collect_audits import collect_audits
from gcevidence.collect_clients import collect_oauth_clients
from gcevidence.collect_roles import collect_group_members, collect_roles, collect_sensitive_roles
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

FIRST = "hr_roster"
# Read next, before the background steps: the org's id names its earlier packs, whose audit
# days the audit step may take (audit_reuse.py).
ORG_STEP = "organization"
# What finds the newest verified earlier pack of an org (history.previous_snapshot, bound to
# the output folder): (its snapshot or None, what history says about it).
PreviousPack = Callable[[str], tuple[Snapshot | None, dict[str, Any]]]
# Read alongside the rest: audit queries take longest (server-side work plus polling), and
# OAuth client usage queries are polled too.
IN_BACKGROUND = ("audits", "oauth_clients")


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
    previous: PreviousPack | None = None,
    full: bool = False,
) -> Snapshot:
    """Collect every dataset into run_dir; IncompleteEvidence when anything is incomplete.

    dormant_days (default: the params' effective threshold) decides which users are dormant
    suspects, re-read one by one before the checks may call them dormant. With `previous`,
    the audit days the org's newest verified earlier pack holds are taken from it (only the
    rest is queried), unless `full`.
    """
    run_dir = Path(run_dir)
    thresholds = effective_thresholds(params)
    if dormant_days is None:
        dormant_days = int(thresholds["dormant_days"]["value"])
    collector = _Collector(params, client, SnapshotWriter(run_dir), retention_days, progress)
    collector.dormant_days = dormant_days
    collector.previous, collector.full = previous, full
    # A client is unused when it made no request in this many days: its usage is asked for
    # over exactly that span.
    collector.usage_days = int(thresholds["oauth_client_unused_days"]["value"])
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
    rows = [row for entity in entities for row in spec.normalise(entity)]
    extra = spec.summary(entities) if spec.summary else {}
    if spec.rows is not None:
        # Several rows an entity: the entities were reconciled against `total` above.
        extra = {**extra, "entities": len(entities), "entities_announced": total}
    writer.write_table(
        spec.name,
        rows,
        [writer.store(spec, entity) for entity in entities],
        expected_rows=total if spec.rows is None else len(rows),
        requests=requests,
        **extra,
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
        self.usage_days = 90
        self.stop = threading.Event()
        # The special collectors (DatasetSpec.collector names one of these).
        self.special: dict[str, Callable[[], Any]] = {
            "hr_roster": self.hr_roster,
            "users": self.users,
            "roles": self.roles_and_grants,
            "group_members": self.group_members,
            "trunks": lambda: collect_trunks(self.client, self.writer),
            "audits": self.audits,
            "sensitive_roles": lambda: collect_sensitive_roles(
                self.client, self.writer, list(self.params.sensitive_permissions)
            ),
            "oauth_clients": lambda: collect_oauth_clients(
                self.client, self.writer, self.usage_days
            ),
            "collector_client": self.collector_client,
        }
        self.collector_doc: dict | None = None
        self.divisions: list[dict] = []
        self.previous: PreviousPack | None = None
        self.full = False

    # -- orchestration -----------------------------------------------------------------------

    def run(self) -> Snapshot:
        started = dt.datetime.now(dt.UTC)
        error: BaseException | None = None
        steps = {key: (names, self._runner(key, names)) for key, names in collection_steps()}
        # A bad roster is the user's input error (exit 2): find out before any API call.
        self._step(*steps.pop(FIRST))
        self._step(*steps.pop(ORG_STEP))
        # Audit and OAuth-client usage queries take longest (server-side work plus polling):
        # run them alongside.
        background = [steps.pop(key) for key in IN_BACKGROUND]
        bg = ThreadPoolExecutor(
            max_workers=len(background), thread_name_prefix="gcevidence-background"
        )
        pending = [bg.submit(self._step, *step) for step in background]
        try:
            for names, fn in steps.values():
                self._step(names, fn)
            for future in pending:
                future.result()
        except BaseException as exc:
            error = exc
        error = self._join_background(bg, error)
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
        return Snapshot(self.writer.root, frozenset(self.writer.withheld))

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

    def _join_background(self, bg: ThreadPoolExecutor, error: BaseException | None):
        """Wait for the audit thread, even through a signal, so that it never writes into a
        folder the pack builder is removing; after any error it is told to stop first."""
        while True:
            if error is not None:
                self.stop.set()  # no point finishing the audit queries
            try:
                bg.shutdown(wait=True)
                return error
            except BaseException as exc:  # a signal while waiting: keep waiting, then re-raise
                error = error or exc

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
            "period": {**self.params.period.stamps(), "days": self.params.period.days},
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
        from gcevidence.hr import file_digest, load_roster

        rows = load_roster(self.params.hr_roster)
        self.writer.write_table(
            "hr_roster",
            rows,
            expected_rows=len(rows),
            source_file=self.params.hr_roster.name,
            sha256=file_digest(self.params.hr_roster),
            timezone=self.params.hr.timezone,
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
        base, no_base = self.audit_base()
        collect_audits(
            self.client,
            self.writer,
            self.params,
            self.retention_days,
            self.stop,
            on_events=self.audit_bar.update,
            base=base,
            no_base=no_base,
        )

    def audit_base(self) -> tuple[AuditBase | None, str]:
        """The earlier pack whose audit days may be taken, or None and why there is none."""
        if self.full:
            return None, FULL_REQUESTED
        org_id = str(self.org.get("id") or "")
        if self.previous is None or not org_id:
            return None, "no earlier pack was looked for"
        snapshot, info = self.previous(org_id)
        base = audit_base(snapshot, info)
        return base, "" if base else str(info.get("problem") or "no verified earlier pack")
