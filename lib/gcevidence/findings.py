"""Finding records (docs/evidence-pack.md §5) and their JSON/CSV forms."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

STATUSES = ("pass", "fail", "not_evaluable")
SEVERITIES = ("low", "medium", "high", "critical")


@dataclass(frozen=True)
class ExceptionItem:
    """One subject that fails a check: every one is listed, never a sample."""

    subject_type: str  # user | role | trunk | key | key_config | day | setting | grant | query
    subject_id: str
    subject_name: str
    detail: str
    accepted: dict[str, str] | None = None  # set by the exceptions register (reason, approver…)
    # The audit events the exception rests on (audit_events.id), so an auditor can find each
    # in evidence/audit_events.csv; empty when it rests on no event.
    event_ids: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Read back from findings.json the ids come as a list: keep the record immutable.
        object.__setattr__(self, "event_ids", tuple(str(i) for i in self.event_ids or ()))

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        if d["accepted"] is None:
            del d["accepted"]
        d["event_ids"] = list(self.event_ids)
        return d


@dataclass(frozen=True)
class Finding:
    check: str
    title: str
    status: str
    severity: str
    controls: dict[str, list[str]]
    population: int | None
    exceptions: tuple[ExceptionItem, ...]
    evidence: tuple[str, ...]
    notebook: str
    reason: str
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. thresholds used, chart data
    ref: str = ""  # the working-paper reference an auditor cites (catalog, e.g. A09-3)

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"status {self.status!r} not in {STATUSES}")
        if self.status == "pass" and any(e.accepted is None for e in self.exceptions):
            raise ValueError(f"{self.check}: a pass cannot carry unaccepted exceptions")

    def to_dict(self) -> dict[str, Any]:
        d = {
            "check": self.check,
            "ref": self.ref,
            "title": self.title,
            "status": self.status,
            "severity": self.severity,
            "controls": self.controls,
            "population": self.population,
            "exceptions": [e.to_dict() for e in self.exceptions],
            "evidence": list(self.evidence),
            "notebook": self.notebook,
            "reason": self.reason,
        }
        if self.extra:
            d["extra"] = self.extra
        return d
