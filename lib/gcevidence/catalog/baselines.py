"""Effective thresholds: the chosen baseline's numbers with the params' overrides applied."""

from __future__ import annotations

from typing import Any

from gcevidence.catalog.load import load_catalog
from gcevidence.catalog.records import Conflict, ThresholdSpec
from gcevidence.errors import InputError


def _valid(spec: ThresholdSpec, value: Any) -> tuple[bool, str]:
    if spec.type == "boolean":
        return isinstance(value, bool), "must be true or false"
    if value is None and spec.nullable:  # null = not assessed
        return True, ""
    ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
    hint = " (or null: not assessed)" if spec.nullable else ""
    return ok, f"must be a whole number of 0 or more{hint}"


def effective_thresholds(params: Any) -> dict[str, dict[str, Any]]:
    """name -> {"value", "source", "overridden"} for params.baseline plus params.thresholds."""
    catalog = load_catalog()
    baseline = catalog.baselines[params.baseline]
    names = catalog.threshold_names
    result = {
        name: {
            "value": baseline.thresholds[name].value,
            "source": f"{params.baseline}: {baseline.thresholds[name].source}",
            "overridden": False,
        }
        for name in names
    }
    for name, value in (params.thresholds or {}).items():
        field = f"thresholds.{name}"
        if name not in result:
            raise InputError(
                str(params.path),
                field,
                value,
                "unknown threshold",
                f"use one of {', '.join(names)}",
            )
        ok, problem = _valid(catalog.threshold_specs[name], value)
        if not ok:
            raise InputError(str(params.path), field, value, problem)
        result[name] = {"value": value, "source": "params", "overridden": True}
    return result


def baseline_conflicts(baseline: str) -> list[Conflict]:
    """The conflicts on which `baseline` takes a position, so the report can show them."""
    catalog = load_catalog()
    if baseline not in catalog.baselines:
        raise KeyError(baseline)
    return [c for c in catalog.conflicts if baseline in c.positions]
