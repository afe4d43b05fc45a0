"""The catalog: checks, working papers, frameworks and baselines, as YAML data beside this file.

Importing it reads nothing; the files are read and validated on first use (load_catalog()).
FRAMEWORKS and THRESHOLD_NAMES are computed from the catalog when first asked for.
"""

from typing import Any

from gcevidence.catalog.baselines import (
    TOOL_DEFAULT_NOTE,
    baseline_conflicts,
    effective_thresholds,
    threshold_basis,
)
from gcevidence.catalog.load import EXTRA_FRAMEWORKS_ENV, load_catalog, read_catalog
from gcevidence.catalog.records import (
    Baseline,
    Catalog,
    CheckMapping,
    CheckSpec,
    Conflict,
    Framework,
    Paper,
    Requirement,
    Threshold,
    ThresholdSpec,
)
from gcevidence.catalog.rollup import ROLLUP_LABEL, ControlResult, roll_up, worst


def reported_frameworks() -> tuple[Framework, ...]:
    """The frameworks shown in the HTML status matrix and the working papers, in order."""
    return load_catalog().reported_frameworks()


def __getattr__(name: str) -> Any:
    # Derived lists, computed on first access so that importing the package stays cheap.
    if name == "FRAMEWORKS":
        return load_catalog().framework_ids
    if name == "THRESHOLD_NAMES":
        return load_catalog().threshold_names
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "EXTRA_FRAMEWORKS_ENV",
    "FRAMEWORKS",
    "ROLLUP_LABEL",
    "THRESHOLD_NAMES",
    "TOOL_DEFAULT_NOTE",
    "Baseline",
    "Catalog",
    "CheckMapping",
    "CheckSpec",
    "Conflict",
    "ControlResult",
    "Framework",
    "Paper",
    "Requirement",
    "Threshold",
    "ThresholdSpec",
    "baseline_conflicts",
    "effective_thresholds",
    "load_catalog",
    "read_catalog",
    "reported_frameworks",
    "roll_up",
    "threshold_basis",
    "worst",
]
