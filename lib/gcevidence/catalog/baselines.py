"""Effective thresholds: the chosen baseline's numbers with the params' overrides applied."""

from __future__ import annotations

from typing import Any

from gcevidence.catalog.load import THRESHOLD_NAMES, Conflict, load_catalog
from gcevidence.errors import InputError

_BOOLS = {
    "password_require_digits",
    "password_require_letters",
    "password_composition_forbidden",
    "mfa_required",
}
_NULLABLE = {"password_max_age_days"}  # null = not assessed


def _valid(name: str, value: Any) -> tuple[bool, str]:
    if name in _BOOLS:
        return isinstance(value, bool), "must be true or false"
    if value is None and name in _NULLABLE:
        return True, ""
    ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
    hint = " (or null: not assessed)" if name in _NULLABLE else ""
    return ok, f"must be a whole number of 0 or more{hint}"


def effective_thresholds(params: Any) -> dict[str, dict[str, Any]]:
    """name -> {"value", "source", "overridden"} for params.baseline plus params.thresholds."""
    baseline = load_catalog().baselines[params.baseline]
    result = {
        name: {
            "value": baseline.thresholds[name].value,
            "source": f"{params.baseline}: {baseline.thresholds[name].source}",
            "overridden": False,
        }
        for name in THRESHOLD_NAMES
    }
    for name, value in (params.thresholds or {}).items():
        field = f"thresholds.{name}"
        if name not in result:
            raise InputError(
                str(params.path),
                field,
                value,
                "unknown threshold",
                f"use one of {', '.join(THRESHOLD_NAMES)}",
            )
        ok, problem = _valid(name, value)
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
