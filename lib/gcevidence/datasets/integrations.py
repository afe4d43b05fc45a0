"""Installed integrations: among them the audit export to the customer's SIEM."""

from __future__ import annotations

from gcevidence.datasets.model import Entity, table
from gcevidence.endpoints import ENDPOINTS

# The integration type that streams Genesys Cloud events, audit events among them, to an Amazon
# EventBridge partner event source in the customer's AWS account (and from there to a SIEM).
EVENTBRIDGE_SOURCE = "amazon-eventbridge-source"


def integration_row(integration: Entity) -> Entity:
    """One integrations row (an Integration with its reported status)."""
    kind = integration.get("integrationType") or {}
    state = integration.get("reportedState") or {}
    detail = state.get("detail") or {}
    return {
        "id": integration.get("id", ""),
        "name": integration.get("name", ""),
        "integration_type": kind.get("id", ""),
        "integration_type_name": kind.get("name", ""),
        "intended_state": integration.get("intendedState", ""),
        "reported_state": state.get("code", ""),
        "reported_detail": detail.get("message", "") if isinstance(detail, dict) else "",
        "reported_at": state.get("lastUpdated", ""),
    }


INTEGRATIONS = table(
    "integrations",
    "id name integration_type integration_type_name intended_state reported_state "
    "reported_detail reported_at",
    (ENDPOINTS["integrations"],),
    row=integration_row,
    about="every installed integration, with the state Genesys reports for it",
)
