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


# Where an effective threshold's number comes from (thresholds.json `origin`).
ORIGIN_PARAMS = "params"  # the client's own value (params thresholds), with its policy reference
ORIGIN_BASELINE = "baseline"  # the number the chosen standard itself sets
ORIGIN_TOOL_DEFAULT = "tool_default"  # the standard sets none; this toolkit chose it
TOOL_DEFAULT_NOTE = "tool default — confirm against your policy"
_OVERRIDE_KEYS = ("value", "source")


def _override(params: Any, name: str, raw: Any) -> tuple[Any, str]:
    """(value, source) of one params threshold: `60`, or `{value: 60, source: "AC-01 §4"}`."""
    if not isinstance(raw, dict):
        return raw, "params"
    field = f"thresholds.{name}"
    for key in raw:
        if key not in _OVERRIDE_KEYS:
            raise InputError(
                str(params.path),
                f"{field}.{key}",
                raw[key],
                "unknown key",
                f"allowed: {', '.join(_OVERRIDE_KEYS)}",
            )
    if "value" not in raw:
        raise InputError(
            str(params.path),
            f"{field}.value",
            None,
            "is missing",
            f'write {name}: {{value: N, source: "your policy reference"}}',
        )
    source = raw.get("source", "params")
    if not isinstance(source, str) or not source.strip():
        raise InputError(
            str(params.path),
            f"{field}.source",
            source,
            "must be non-empty text",
            'name the policy the number comes from, e.g. "ISMS policy AC-01 §4"',
        )
    return raw["value"], source.strip()


def effective_thresholds(params: Any) -> dict[str, dict[str, Any]]:
    """name -> {"value", "source", "overridden", "origin", "note"} for params.baseline plus
    params.thresholds: the one place that decides each number and says where it comes from.

    `origin` is params (the client's value), baseline (the standard's number) or tool_default
    (the standard sets none and this toolkit chose it; `note` then asks for confirmation).
    """
    catalog = load_catalog()
    baseline = catalog.baselines[params.baseline]
    names = catalog.threshold_names
    result = {}
    for name in names:
        t = baseline.thresholds[name]
        result[name] = {
            "value": t.value,
            "source": f"{params.baseline}: {t.source}",
            "overridden": False,
            "origin": ORIGIN_TOOL_DEFAULT if t.tool_default else ORIGIN_BASELINE,
            "note": TOOL_DEFAULT_NOTE if t.tool_default else "",
        }
    for name, raw in (params.thresholds or {}).items():
        field = f"thresholds.{name}"
        if name not in result:
            raise InputError(
                str(params.path),
                field,
                raw,
                "unknown threshold",
                f"use one of {', '.join(names)}",
            )
        value, source = _override(params, name, raw)
        ok, problem = _valid(catalog.threshold_specs[name], value)
        if not ok:
            raise InputError(
                str(params.path),
                f"{field}.value" if isinstance(raw, dict) else field,
                value,
                problem,
            )
        result[name] = {
            "value": value,
            "source": source,
            "overridden": True,
            "origin": ORIGIN_PARAMS,
            "note": "",
            "baseline_value": baseline.thresholds[name].value,
        }
    return result


def threshold_basis(entry: dict[str, Any]) -> str:
    """How a threshold was set, in the words the papers and index.html show."""
    origin = entry.get("origin")
    if origin == ORIGIN_PARAMS or (origin is None and entry.get("overridden")):
        return f"client policy: {entry.get('source', 'params')}"
    if origin == ORIGIN_TOOL_DEFAULT:
        return TOOL_DEFAULT_NOTE
    return "set by the baseline"


def baseline_conflicts(baseline: str) -> list[Conflict]:
    """The conflicts on which `baseline` takes a position, so the report can show them."""
    catalog = load_catalog()
    if baseline not in catalog.baselines:
        raise KeyError(baseline)
    return [c for c in catalog.conflicts if baseline in c.positions]
