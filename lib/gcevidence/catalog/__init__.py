"""The catalog: checks, controls, crosswalk and baselines, kept as YAML data beside this file."""

from gcevidence.catalog.baselines import baseline_conflicts, effective_thresholds
from gcevidence.catalog.load import (
    FRAMEWORKS,
    THRESHOLD_NAMES,
    Baseline,
    Catalog,
    CheckSpec,
    Conflict,
    Threshold,
    load_catalog,
)

__all__ = [
    "FRAMEWORKS",
    "THRESHOLD_NAMES",
    "Baseline",
    "Catalog",
    "CheckSpec",
    "Conflict",
    "Threshold",
    "baseline_conflicts",
    "effective_thresholds",
    "load_catalog",
]
