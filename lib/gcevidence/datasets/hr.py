"""The HR roster: who the organisation says works for it (not read from the API)."""

from __future__ import annotations

from gcevidence.datasets.model import table

HR_ROSTER = table(
    "hr_roster",
    "employee_id email status termination_date department groups",
    (),
    collector="hr_roster",
    origin="HR roster CSV (params hr.roster)",
)
