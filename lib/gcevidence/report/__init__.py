"""What the notebooks display: run context, escaped tables, working-paper sections, charts.

Notebook cells call these in one line each, e.g. `ctx = report.open_run(run_dir, params_path)`,
`report.show_header(ctx, "A09_access_control")`, then `report.show_check(ctx, "access.x")` for
each check of the paper, `report.show_conclusion(ctx, "A09_access_control")` and
`report.show_signoff(ctx)`.
"""

from gcevidence.report.audit_days import show_audit_provenance
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
    show_check,
    show_conclusion,
    show_coverage,
    show_datasets,
    show_finding,
    show_findings_summary,
    show_glossary,
    show_header,
    show_history,
    show_population,
    show_requirements,
    show_scope,
    show_signoff,
    show_status_matrix,
    show_thresholds,
)

__all__ = [
    "RunContext",
    "open_run",
    "show_header",
    "show_scope",
    "show_inputs",
    "show_audit_provenance",
    "show_joiners",
    "show_role_changes",
    "show_privileged_grants",
    "show_leavers",
    "show_sample_plan",
    "show_sample",
    "show_population",
    "show_thresholds",
    "show_check",
    "show_finding",
    "show_findings_summary",
    "show_conclusion",
    "show_signoff",
    "show_history",
    "show_status_matrix",
    "show_requirements",
    "show_coverage",
    "show_glossary",
    "show_datasets",
    "chart_privileged_holders",
    "chart_role_grants",
    "chart_audit_events_per_day",
    "chart_deprovision_delay",
    "chart_key_age",
]
