"""Roll findings up to requirements: each control takes the worst result of the tests mapped to it.

The one roll-up behind the summary paper, index.html and OSCAL. It reads the controls each
finding records (so a sealed pack rolls up as it was written) and the titles from the catalog.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from gcevidence.catalog.load import load_catalog

# How the roll-up is labelled wherever it is shown: it says what automated tests found, not
# whether the requirement as a whole is met.
ROLLUP_LABEL = "automated tests mapped to this requirement"
# A requirement is only as good as its weakest test; "could not test" outranks "passed".
_RANK = {"pass": 0, "not_evaluable": 1, "fail": 2}


@dataclass(frozen=True)
class ControlResult:
    """One requirement of one framework: the worst result of the checks mapped to it."""

    framework: str
    control: str
    title: str
    status: str  # fail > not_evaluable > pass
    checks: tuple[str, ...]  # the checks mapped to it, in findings order


def worst(statuses: Iterable[str]) -> str:
    """fail if any failed, else not_evaluable if any could not run (or is unknown), else pass."""
    result = "pass"
    for status in statuses:
        if _RANK.get(status, 1) > _RANK[result]:
            result = status if status in _RANK else "not_evaluable"
    return result


def _get(finding: Any, key: str) -> Any:
    return finding[key] if isinstance(finding, dict) else getattr(finding, key)


def roll_up(findings: Iterable[Any]) -> dict[str, dict[str, ControlResult]]:
    """framework -> control id -> ControlResult, for Finding objects or findings.json dicts.

    Every catalog framework is a key (in catalog order), then any other framework the findings
    name; controls are in natural order (A.9.2.10 after A.9.2.2).
    """
    catalog = load_catalog()
    cells: dict[str, dict[str, tuple[list[str], list[str]]]] = {
        fw: {} for fw in catalog.framework_ids
    }
    for f in findings:
        for fw, ids in (_get(f, "controls") or {}).items():
            for control in ids:
                checks, statuses = cells.setdefault(fw, {}).setdefault(control, ([], []))
                checks.append(_get(f, "check"))
                statuses.append(_get(f, "status"))
    return {
        fw: {
            control: ControlResult(
                fw,
                control,
                catalog.control_title(fw, control),
                worst(statuses),
                tuple(checks),
            )
            for control, (checks, statuses) in sorted(
                controls.items(), key=lambda kv: control_sort_key(kv[0])
            )
        }
        for fw, controls in cells.items()
    }


def control_sort_key(control: str) -> tuple:
    """Sort A.9.2.10 after A.9.2.2, CC6.10 after CC6.2 and AC-2(3) after AC-2."""
    parts = control.replace("(", ".").replace(")", "").replace("-", ".").split(".")
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts)
