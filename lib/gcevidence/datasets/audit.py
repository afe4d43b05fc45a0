"""The audit trail: events of the period, the queries that read them, and the retention probe."""

from __future__ import annotations

from typing import Any

from gcevidence.datasets.model import Entity, compact, document, table
from gcevidence.endpoints import ENDPOINTS
from gcevidence.privacy import USER_CONTACT_FIELDS, contact_change_values
from gcevidence.redact import without_fields

# A change of a user's contact field is kept as evidence, its values are not (privacy.py).
CONTACT_VALUES = contact_change_values()

QUERY_READS = (
    ENDPOINTS["audit_query"],
    ENDPOINTS["audit_query_status"],
    ENDPOINTS["audit_query_results"],
)


def audit_row(event: Entity) -> Entity:
    """One audit_events row (an AuditLogMessage)."""
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
        "property_changes": compact(_changes_kept(event.get("propertyChanges"))),
        "context": compact(event.get("context")),
        # The actor's organisation: another one's id marks a partner's (trustee) user.
        "user_home_org_id": event.get("userHomeOrgId", ""),
    }


def _changes_kept(changes: Any) -> Any:
    """Property changes, minus the values of a contact field's change (rarely there at all)."""
    if isinstance(changes, list) and any(
        isinstance(c, dict) and c.get("property") in USER_CONTACT_FIELDS for c in changes
    ):
        return without_fields({"propertyChanges": changes}, CONTACT_VALUES)["propertyChanges"]
    return changes


# Reconciled against the realtime endpoint's `total` for the part of the period it can count.
AUDIT_EVENTS = table(
    "audit_events",
    "id event_date service_name level action entity_type entity_id entity_name user_id "
    "user_name client_id status remote_ip property_changes context user_home_org_id",
    (*QUERY_READS, ENDPOINTS["audit_realtime"]),
    row=audit_row,
    drops=CONTACT_VALUES,
    collector="audits",
)
# One row per asynchronous audit query the run submitted (provenance of audit_events).
AUDIT_QUERIES = table(
    "audit_queries",
    "transaction_id service_name interval_start interval_end state result_count pages",
    (ENDPOINTS["audit_query"],),
    collector="audits",
)
# Did the audit trail reach back as far as the baseline's retention requires? (A window of
# queries at the retention boundary.)
AUDIT_RETENTION_PROBE = document("audit_retention_probe", QUERY_READS, collector="audits")
# Where each day's audit events came from: the API, or an earlier sealed pack (incremental
# collection, audit_reuse.py), with the seam day read from both.
AUDIT_DAYS = table(
    "audit_days",
    "day events source pack_run_id pack_content_digest overlap",
    (),
    collector="audits",
    origin="this run's audit collection: per day, the API or the earlier pack its events are from",
    about="one UTC day of the period",
)
