"""What the notebooks display: run context, escaped tables, working-paper sections, charts.

Notebook cells call these in one line each, e.g. `ctx = report.open_run(run_dir, params_path)`
then `report.show_finding(ctx, "access.terminated_active")`.
"""

from gcevidence.report.charts import (
    chart_audit_events_per_day,
    chart_deprovision_delay,
    chart_key_age,
    chart_privileged_holders,
    chart_role_grants,
)
from gcevidence.report.context import RunContext, open_run
from gcevidence.report.populations import (
    show_joiners,
    show_leavers,
    show_privileged_grants,
    show_role_changes,
    show_sample,
    show_sample_plan,
)
from gcevidence.report.provenance import show_inputs
from gcevidence.report.sections import (
    show_datasets,
    show_finding,
    show_findings_summary,
    show_history,
    show_population,
    show_scope,
    show_status_matrix,
    show_thresholds,
)

__all__ = [
    "RunContext",
    "open_run",
    "show_scope",
    "show_inputs",
    "show_joiners",
    "show_role_changes",
    "show_privileged_grants",
    "show_leavers",
    "show_sample_plan",
    "show_sample",
    "show_population",
    "show_thresholds",
    "show_finding",
    "show_findings_summary",
    "show_history",
    "show_status_matrix",
    "show_datasets",
    "chart_privileged_holders",
    "chart_role_grants",
    "chart_audit_events_per_day",
    "chart_deprovision_delay",
    "chart_key_age",
]
