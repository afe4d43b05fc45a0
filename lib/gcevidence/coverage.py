"""The coverage matrix: per framework and requirement, its coverage and, for checks, the result.

Made from the catalog's framework files (each requirement states exactly one coverage: checks,
manual, genesys, organisation) and the findings of one run. It is written into every pack as
coverage.json and coverage.csv, shown in the summary paper and carried into OSCAL, so an
auditor sees every requirement in scope accounted for: proven by a passing check, contradicted
by a failing one, not evaluable, left to a manual procedure, Genesys' own, or evidenced
outside the tenant.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gcevidence.catalog import load_catalog, worst
from gcevidence.catalog.records import Framework
from gcevidence.csvsafe import guard

COVERAGE_SCHEMA = "gcevidence.coverage/1"
JSON_FILE = "coverage.json"
CSV_FILE = "coverage.csv"
CSV_COLUMNS = (
    "framework",
    "requirement",
    "title",
    "in_scope",
    "coverage",
    "result",
    "checks",
    "procedure_or_attestation",
)
# Where a requirement stands in this run: the roll-up of its checks, or its other coverage.
TALLIES = ("pass", "fail", "not_evaluable", "manual", "genesys", "organisation")
TALLY_LABELS = {
    "pass": "proven by a passing check",
    "fail": "a check found exceptions",
    "not_evaluable": "a check could not be evaluated",
    "manual": "manual procedure (to do)",
    "genesys": "Genesys' responsibility (its attestation)",
    "organisation": "organisational (evidenced outside the tenant)",
}


@dataclass(frozen=True)
class MappedCheck:
    """One check mapped to a requirement, its result in this run, and why it is mapped."""

    ref: str
    check: str
    status: str  # pass | fail | not_evaluable (not_evaluable when the run has no finding)
    rationale: str
    condition: str


@dataclass(frozen=True)
class CoverageRow:
    """One requirement of one framework: its coverage and, for checks, the roll-up."""

    framework: str
    requirement: str
    title: str
    in_scope: bool
    coverage: str  # checks | manual | genesys | organisation
    result: str  # the worst result of its checks; "" for the other coverages
    checks: tuple[MappedCheck, ...]
    text: str  # the manual procedure, the Genesys attestation or the outside evidence

    @property
    def tally(self) -> str:
        """One of TALLIES: the check roll-up, or the coverage itself."""
        return self.result if self.coverage == "checks" else self.coverage


def _get(finding: Any, key: str) -> Any:
    return finding.get(key) if isinstance(finding, dict) else getattr(finding, key, None)


def framework_rows(fw: Framework, findings: Iterable[Any]) -> list[CoverageRow]:
    """Every requirement of the framework, in file order, with this run's results."""
    catalog = load_catalog()
    status = {_get(f, "check"): _get(f, "status") for f in findings}
    rows = []
    scope = set(fw.scope)
    for req in fw.requirements.values():
        mapped = tuple(
            MappedCheck(
                catalog.checks[m.check].ref,
                m.check,
                status.get(m.check) or "not_evaluable",
                m.rationale,
                m.condition,
            )
            for m in req.checks
        )
        rows.append(
            CoverageRow(
                fw.id,
                req.id,
                req.title,
                req.id in scope or not fw.scope,
                req.coverage,
                worst(c.status for c in mapped) if mapped else "",
                mapped,
                req.coverage_text,
            )
        )
    return rows


def coverage_matrix(findings: Iterable[Any]) -> dict[str, list[CoverageRow]]:
    """framework id -> its rows, every catalog framework in catalog order."""
    findings = list(findings)
    return {fid: framework_rows(fw, findings) for fid, fw in load_catalog().frameworks.items()}


def tally_counts(rows: Iterable[CoverageRow]) -> dict[str, int]:
    """How many in-scope requirements stand where (every key of TALLIES present)."""
    counts = Counter(r.tally for r in rows if r.in_scope)
    return {k: counts.get(k, 0) for k in TALLIES}


def coverage_document(
    run: dict[str, Any], findings: Iterable[Any], matrix: dict[str, list[CoverageRow]] | None = None
) -> dict[str, Any]:
    """coverage.json: the run it belongs to, then per framework its counts and every row."""
    catalog = load_catalog()
    frameworks = []
    for fid, rows in (matrix if matrix is not None else coverage_matrix(findings)).items():
        fw = catalog.frameworks[fid]
        frameworks.append(
            {
                "id": fid,
                "label": fw.label,
                "short": fw.short,
                "scope": {"description": fw.scope_description, "requirements": len(fw.scope)}
                if fw.scope
                else None,
                "counts": tally_counts(rows),
                "requirements": [_row_dict(r) for r in rows],
            }
        )
    return {
        "schema": COVERAGE_SCHEMA,
        "run": {k: run.get(k) for k in ("id", "generated_at", "org", "period", "baseline")},
        "tallies": TALLY_LABELS,
        "frameworks": frameworks,
    }


def _row_dict(row: CoverageRow) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": row.requirement,
        "title": row.title,
        "in_scope": row.in_scope,
        "coverage": row.coverage,
    }
    if row.coverage == "checks":
        doc["result"] = row.result
        doc["checks"] = [
            {
                "ref": c.ref,
                "check": c.check,
                "status": c.status,
                "rationale": c.rationale,
                **({"condition": c.condition} if c.condition else {}),
            }
            for c in row.checks
        ]
    else:
        doc[row.coverage] = row.text
    return doc


def checks_cell(row: CoverageRow) -> str:
    """'A09-1 access.terminated_active: fail; …' (the checks of a row and their results)."""
    return "; ".join(f"{c.ref} {c.check}: {c.status}" for c in row.checks)


def write_coverage(findings_doc: dict[str, Any], pack_dir: Path) -> tuple[Path, Path]:
    """Write coverage.json and coverage.csv (every cell CSV-injection guarded) into pack_dir."""
    pack_dir = Path(pack_dir)
    matrix = coverage_matrix(findings_doc["findings"])
    doc = coverage_document(findings_doc["run"], findings_doc["findings"], matrix)
    json_path = pack_dir / JSON_FILE
    json_path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    csv_path = pack_dir / CSV_FILE
    with csv_path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(CSV_COLUMNS)
        for rows in matrix.values():
            for r in rows:
                cells = (
                    r.framework,
                    r.requirement,
                    r.title,
                    "yes" if r.in_scope else "no",
                    r.coverage,
                    r.result,
                    checks_cell(r),
                    r.text,
                )
                writer.writerow([guard(v) for v in cells])
    return json_path, csv_path
