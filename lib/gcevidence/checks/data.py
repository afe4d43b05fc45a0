"""Data checks: how long recordings are kept, and whether they leave the tenant."""

from __future__ import annotations

from collections import defaultdict

from gcevidence.checks.common import records
from gcevidence.checks.registry import CheckContext, Outcome, register_check
from gcevidence.findings import ExceptionItem


def _media_problems(row: dict[str, str], max_days: int | None) -> list[str]:
    """What one media type of an enabled policy does wrong."""
    media, problems = row["media_type"], []
    retains = row["retain_recording"] == "true"
    delete_days = int(row["delete_after_days"]) if row["delete_after_days"] else None
    if retains and delete_days is None:
        problems.append(f"{media} recordings are retained with no deletion: kept forever")
    elif retains and max_days is not None and delete_days is not None and delete_days > max_days:
        problems.append(
            f"{media} recordings are deleted after {delete_days} days (limit {max_days})"
        )
    if row["export_integration_id"] or row["export_integration_name"]:
        where = row["export_integration_name"] or row["export_integration_id"]
        problems.append(
            f"{media} recordings are exported out of Genesys Cloud through the integration {where}"
        )
    return problems


@register_check("data.recording_retention")
def recording_retention(ctx: CheckContext) -> Outcome:
    max_days = ctx.threshold("recording_retention_max_days")
    by_policy: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in records(ctx.snapshot.table("recording_retention")):
        by_policy[row["policy_id"]].append(row)
    exceptions, disabled = [], []
    for pid, rows in sorted(by_policy.items(), key=lambda kv: (int(kv[1][0]["order"] or 0), kv[0])):
        name = rows[0]["policy_name"] or pid
        if rows[0]["enabled"] != "true":
            disabled.append({"id": pid, "name": name})
            continue  # a disabled policy acts on no recording
        problems = [p for row in rows for p in _media_problems(row, max_days)]
        if rows[0]["policy_errors"]:
            problems.append(f"the policy reports errors: {rows[0]['policy_errors']}")
        if problems:
            exceptions.append(ExceptionItem("retention_policy", pid, name, "; ".join(problems)))
    enabled = len(by_policy) - len(disabled)
    limit = (
        f", or keep them longer than {max_days} days"
        if max_days is not None
        else "; how long recordings may be kept is not assessed (no framework sets a number: "
        "set thresholds.recording_retention_max_days in the params)"
    )
    return Outcome(
        exceptions,
        population=enabled,
        reason=f"{len(exceptions)} of {enabled} enabled retention policies keep recordings "
        f"forever, report errors or export recordings out of Genesys Cloud{limit}; "
        f"{len(disabled)} disabled policies listed, not judged",
        extra={"disabled_policies": disabled, "max_days": max_days},
    )
