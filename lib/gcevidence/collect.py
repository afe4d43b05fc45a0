"""Collection: every dataset of datasets.SPECS read from the API into one run folder.

Each dataset is reconciled against the API's own counts and marked complete or not; a 403
marks it unavailable (the checks that need it report not_evaluable); anything incomplete
stops the run with IncompleteEvidence after snapshot.json has recorded why.

Reconciliation: listings against their `total` (ids unique, none missing), each role's
subject grants and each granted group's members included; audit results against the realtime
endpoint's `total` for the part of the period it can count (the last 14 days); every audit
query must end Succeeded with its cursor exhausted.

Users, roles and sign-in have modules of their own (collect_users, collect_roles,
collect_signin).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tqdm import tqdm

from gcevidence import __version__
from gcevidence.catalog import effective_thresholds
from gcevidence.collect_roles import collect_group_members, collect_roles
from gcevidence.collect_signin import collect_sign_in
from gcevidence.collect_users import collect_users
from gcevidence.config import Params
from gcevidence.datasets import SPECS
from gcevidence.errors import IncompleteEvidence, IncompletePagination, PermissionDenied
from gcevidence.genesys.audits import (
    REALTIME_MAX_DAYS,
    AuditQueryOutcome,
    AuditQuerySpec,
    iso_z,
    plan_queries,
    realtime_total,
    run_audit_queries,
)
from gcevidence.genesys.http import GenesysClient
from gcevidence.genesys.paging import list_all, reconcile_ids
from gcevidence.snapshot import DatasetStatus, Snapshot, SnapshotWriter

log = logging.getLogger(__name__)

RETENTION_PROBE_DAYS = 7
AUDIT_DATASETS = ("audit_events", "audit_queries", "audit_retention_probe")


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

    # -- orchestration -----------------------------------------------------------------------

    def run(self) -> Snapshot:
        started = dt.datetime.now(dt.UTC)
        error: BaseException | None = None
        # A bad roster is the user's input error (exit 2): find out before any API call.
        self._step(("hr_roster",), self.hr_roster)
        # Audit queries take longest (server-side work plus polling): run them alongside.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="gcevidence-audits") as bg:
            audits = bg.submit(self._step, AUDIT_DATASETS, self.audits)
            try:
                for names, fn in self._steps():
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

    def _steps(self) -> list[tuple[tuple[str, ...], Callable[[], Any]]]:
        """The datasets other than audits and the roster, in the order they are read."""

        def obj(name: str, path: str) -> tuple[tuple[str, ...], Callable[[], Any]]:
            return (name,), lambda: self.object(name, path)

        return [
            (("organization",), self.organization),
            (("users", "unused_roles"), self.users),
            (("roles", "role_grants"), self.roles_and_grants),
            (("group_members",), self.group_members),
            (("identity_providers", "genesys_login"), self.sign_in),
            (("divisions",), self.divisions),
            obj("auth_settings", "/api/v2/organizations/authentication/settings"),
            obj("token_timeout", "/api/v2/tokens/timeout"),
            (("recording_key_configs",), self.recording_key_configs),
            (("recording_keys",), self.recording_keys),
            obj("key_rotation_schedule", "/api/v2/recording/recordingkeys/rotationschedule"),
            obj("recording_settings", "/api/v2/recording/settings"),
            (("trunks",), self.trunks),
        ]

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
        }

    # -- simple objects ----------------------------------------------------------------------

    def object(self, name: str, path: str) -> Any:
        doc = self.client.get(path)
        self.writer.write_object(name, doc if doc is not None else {}, requests=1)
        return doc

    def organization(self) -> None:
        self.org = self.object("organization", "/api/v2/organizations/me") or {}

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

    # -- users, roles, sign-in --------------------------------------------------------------

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

    def sign_in(self) -> None:
        collect_sign_in(self.client, self.writer)

    def divisions(self) -> None:
        listing = list_all(self.client, "/api/v2/authorization/divisions")
        rows = [
            {
                "id": d.get("id", ""),
                "name": d.get("name", ""),
                "home_division": _bool(d.get("homeDivision")),
            }
            for d in listing.entities
        ]
        self.writer.write_table(
            "divisions",
            rows,
            listing.entities,
            expected_rows=listing.total,
            requests=listing.requests,
        )

    # -- recording and telephony -------------------------------------------------------------

    def recording_key_configs(self) -> None:
        path = "/api/v2/recording/keyconfigurations"
        doc = self.client.get(path) or {}
        entities = doc.get("entities") or []
        total = doc.get("total") if isinstance(doc.get("total"), int) else len(entities)
        reconcile_ids(path, entities, total)
        rows = [
            {
                "id": c.get("id", ""),
                "key_configuration_type": c.get("keyConfigurationType", ""),
                "url": c.get("url", ""),
                "last_error_code": (c.get("lastError") or {}).get("code", ""),
                "last_error_message": (c.get("lastError") or {}).get("message", ""),
            }
            for c in entities
        ]
        # apiKey is a Hawk credential of the customer's key manager: keep it out of the pack.
        raw = [{k: v for k, v in c.items() if k != "apiKey"} for c in entities]
        self.writer.write_table("recording_key_configs", rows, raw, expected_rows=total, requests=1)

    def recording_keys(self) -> None:
        listing = list_all(self.client, "/api/v2/recording/recordingkeys")
        rows = [
            {
                "id": k.get("id", ""),
                "name": k.get("name", ""),
                "create_date": k.get("createDate", ""),
                "key_configuration_type": k.get("keyConfigurationType", ""),
            }
            for k in listing.entities
        ]
        raw = [_without_api_keys(k) for k in listing.entities]
        self.writer.write_table(
            "recording_keys", rows, raw, expected_rows=listing.total, requests=listing.requests
        )

    def trunks(self) -> None:
        base = "/api/v2/telephony/providers/edges/trunkbasesettings"
        listing = list_all(self.client, base, {"expand": "properties"})
        trunks = listing.entities
        # `properties` is an expansion too: re-read a trunk that came back without it. A
        # managed trunk (Genesys Cloud Voice) never shows its properties to customers ("managed
        # properties will not be returned unless the user is assigned the internal:trunk:edit
        # permission", SDK docs): re-reading it would change nothing.
        refetch = [
            i
            for i, t in enumerate(trunks)
            if "properties" not in t and t.get("managed") is not True
        ]

        def reread(index: int) -> None:
            trunks[index] = self.client.get(f"{base}/{trunks[index]['id']}") or trunks[index]

        self.client.map(reread, refetch)
        still = [
            t.get("id", "")
            for t in trunks
            if "properties" not in t and t.get("managed") is not True
        ]
        rows = [_trunk_row(t) for t in trunks]
        raw = [_without_sip_secrets(t) for t in trunks]
        status = self.writer.write_table(
            "trunks",
            rows,
            raw,
            expected_rows=listing.total,
            requests=listing.requests + len(refetch),
            complete=not still and len(trunks) == listing.total,
            properties_recovered=len(refetch) - len(still),
            managed=sorted(str(t.get("name", "")) for t in trunks if t.get("managed") is True),
        )
        if still:
            status.reason = f"{base}: properties missing for trunks {', '.join(still[:5])}"

    # -- audits ------------------------------------------------------------------------------

    def audits(self) -> None:
        """audit_events, audit_queries and audit_retention_probe from one batch of queries."""
        period, audit = self.params.period, self.params.audit
        services = list(audit.services)
        main = plan_queries(services, period.start_utc, period.end_utc, audit.max_interval_days)
        probe_start = period.end_utc - dt.timedelta(days=self.retention_days)
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
        spool = AuditSpool(self.writer.root / "evidence" / "raw" / "audit_events.jsonl", window)
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
            self.audit_bar.update(len(entities))

        try:
            outcomes = run_audit_queries(
                self.client,
                main + probe,
                on_page,
                timeout_seconds=audit.query_timeout_seconds,
                stop=self.stop,
            )
        except BaseException:
            spool.discard()
            raise
        spool.close()
        mismatches = []
        if window is not None:
            totals = self.client.map(lambda s: realtime_total(self.client, s, *window), services)
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
        status = self.writer.write_table(
            "audit_events",
            spool.rows(),
            None,
            expected_rows=read - spool.duplicates,
            requests=sum(o.pages + o.polls + 1 for o in main_outcomes),
            complete=not mismatches and spool.count == read - spool.duplicates,
            queries=len(main_outcomes),
            events_read=read,
            duplicates_skipped=spool.duplicates,
            reconciled_window=[iso_z(w) for w in window] if window else [],
            reconciled_counts=dict(spool.in_window),
            count_mismatches=mismatches,
            services=services,
            interval_start=iso_z(period.start_utc),
            interval_end=iso_z(period.end_utc),
        )
        status.raw_path = spool.rel_path(self.writer.root)
        if mismatches:
            status.reason = "audit results disagree with the API's count: " + "; ".join(
                mismatches[:5]
            )
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
        self.writer.write_table(
            "audit_queries",
            query_rows,
            None,
            expected_rows=len(main) + len(probe),
            complete=all(o.state == "Succeeded" for o in outcomes),
        )
        self.writer.write_object(
            "audit_retention_probe",
            {
                "required_days": self.retention_days,
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


class AuditSpool:
    """Audit events streamed to the raw JSON-lines file as they arrive, de-duplicated by id.

    Adjacent windows may both return an event stamped exactly on their shared boundary, so
    ids are remembered (as 8-byte digests, not dicts) to keep each event once.
    """

    def __init__(self, path: Path, window: tuple[dt.datetime, dt.datetime] | None = None):
        self.path = path
        self.window = window
        self.in_window: dict[str, int] = {}  # per service, events inside `window`
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = path.open("w", encoding="utf-8")
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
            self._fh.write(json.dumps(event, sort_keys=True, ensure_ascii=False) + "\n")
            self.count += 1
            if self.window is not None and _within(event.get("eventDate"), self.window):
                service = str(event.get("serviceName", ""))
                self.in_window[service] = self.in_window.get(service, 0) + 1

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.close()
        self._seen = set()

    def discard(self) -> None:
        self.close()
        self.path.unlink(missing_ok=True)

    def rel_path(self, root: Path) -> str:
        return self.path.relative_to(root).as_posix()

    def rows(self) -> Iterator[dict]:
        with self.path.open(encoding="utf-8") as fh:
            for line in fh:
                yield audit_row(json.loads(line))


def _within(stamp: Any, window: tuple[dt.datetime, dt.datetime]) -> bool:
    try:
        moment = dt.datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    except ValueError:
        return False
    return window[0] <= moment < window[1]


# -- normalisation (columns exactly as datasets.SPECS) -------------------------------------------


def _bool(value: Any) -> str:
    return "" if value is None else ("true" if value else "false")


def _compact(value: Any) -> str:
    return (
        json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        if value
        else ""
    )


def _property(trunk: dict, key: str) -> Any:
    prop = (trunk.get("properties") or {}).get(key) or {}
    return (prop.get("value") or {}).get("instance") if isinstance(prop, dict) else None


# The properties the communications checks read: their absence is reported, not guessed.
SECURITY_PROPERTIES = ("trunk_transport_protocolVariant", "trunk_media_srtpCipherSuites")


def _trunk_row(trunk: dict) -> dict:
    suites = _property(trunk, "trunk_media_srtpCipherSuites")
    enabled = _property(trunk, "trunk_enabled")
    props = trunk.get("properties") if isinstance(trunk.get("properties"), dict) else {}
    return {
        "id": trunk.get("id", ""),
        "name": trunk.get("name", ""),
        "state": trunk.get("state", ""),
        "trunk_type": trunk.get("trunkType", ""),
        "metabase_id": (trunk.get("trunkMetabase") or {}).get("id", ""),
        "managed": _bool(trunk.get("managed")),
        "enabled": _bool(enabled) if isinstance(enabled, bool) else (enabled or ""),
        "transport": str(_property(trunk, "trunk_transport_protocolVariant") or "").lower(),
        "srtp_cipher_suites": ";".join(suites) if isinstance(suites, list) else (suites or ""),
        "absent_properties": ";".join(k for k in SECURITY_PROPERTIES if k not in props),
        "date_created": trunk.get("dateCreated", ""),
        "date_modified": trunk.get("dateModified", ""),
    }


def _without_sip_secrets(trunk: dict) -> dict:
    """The trunk as the API gave it, minus SIP credential passwords (never evidence)."""
    props = trunk.get("properties")
    if not isinstance(props, dict):
        return trunk
    clean = {k: ("[removed]" if "password" in k.lower() else v) for k, v in props.items()}
    return {**trunk, "properties": clean}


def _without_api_keys(key: dict) -> dict:
    local = key.get("localEncryptionConfiguration")
    if isinstance(local, dict) and "apiKey" in local:
        return {
            **key,
            "localEncryptionConfiguration": {k: v for k, v in local.items() if k != "apiKey"},
        }
    return key


def audit_row(event: dict) -> dict:
    entity = event.get("entity") or {}
    user = event.get("user") or {}
    remote = event.get("remoteIp") or []
    return {
        "id": event.get("id", ""),
        "event_date": event.get("eventDate", ""),
        "service_name": event.get("serviceName", ""),
        "level": event.get("level", ""),
        "action": event.get("action", ""),
        "entity_type": event.get("entityType", ""),
        "entity_id": entity.get("id", ""),
        "entity_name": entity.get("name", ""),
        "user_id": user.get("id", ""),
        "user_name": user.get("name", ""),
        "client_id": (event.get("client") or {}).get("id", ""),
        "status": event.get("status", ""),
        "remote_ip": ";".join(remote) if isinstance(remote, list) else str(remote),
        "property_changes": _compact(event.get("propertyChanges")),
        "context": _compact(event.get("context")),
    }
