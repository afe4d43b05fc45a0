"""Roll findings up to controls: the status matrix across frameworks for the summary notebook."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from gcevidence.catalog import FRAMEWORKS, load_catalog

# A control is only as good as its weakest check; "could not check" outranks "passed".
_RANK = {"pass": 0, "not_evaluable": 1, "fail": 2}


def _get(finding: Any, key: str) -> Any:
    return finding[key] if isinstance(finding, dict) else getattr(finding, key)


def control_matrix(findings: Iterable[Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """framework -> control id -> {"title", "status", "checks": [check ids]}.

    Accepts Finding objects or findings.json dicts; controls come from each finding.
    """
    catalog = load_catalog()
    matrix: dict[str, dict[str, dict[str, Any]]] = {fw: {} for fw in FRAMEWORKS}
    for f in findings:
        status = _get(f, "status")
        for fw, ids in (_get(f, "controls") or {}).items():
            for control in ids:
                cell = matrix.setdefault(fw, {}).setdefault(
                    control,
                    {"title": catalog.control_title(fw, control), "status": "pass", "checks": []},
                )
                cell["checks"].append(_get(f, "check"))
                if _RANK.get(status, 1) > _RANK[cell["status"]]:
                    cell["status"] = status
    return {
        fw: dict(sorted(cells.items(), key=lambda kv: _control_key(kv[0])))
        for fw, cells in matrix.items()
    }


def _control_key(control: str) -> tuple:
    """Sort A.9.2.10 after A.9.2.2 and CC6.10 after CC6.2."""
    parts = control.replace("(", ".").replace(")", "").replace("-", ".").split(".")
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts)
