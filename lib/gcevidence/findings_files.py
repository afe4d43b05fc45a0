"""findings.json and findings.csv: every check result with every exception, in two forms."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from gcevidence import __version__
from gcevidence.catalog import load_catalog
from gcevidence.collection_scope import division_scope
from gcevidence.config import Params
from gcevidence.csvsafe import guard
from gcevidence.findings import Finding
from gcevidence.snapshot import Snapshot

FINDINGS_SCHEMA = "gcevidence.findings/1"
CSV_FILE = "findings.csv"
# findings.csv: these columns, one per catalog framework between them (csv_columns()).
# ref first: the working-paper reference is what an auditor cites.
CSV_HEAD = ("ref", "check", "title", "status", "severity", "notebook", "population")
CSV_TAIL = (
    "subject_type",
    "subject_id",
    "subject_name",
    "detail",
    "event_ids",
    "accepted",
    "reason",
    "evidence",
)


def run_block(
    params: Params,
    snapshot: Snapshot,
    run_id: str,
    generated_at: str,
    client_id: str,
    inputs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The `run` object of findings.json: which org, period, client and tool made the pack,
    and (`inputs`) the provenance of what did not come from the API (gcevidence.inputs)."""
    meta = snapshot.meta
    block = {
        "id": run_id,
        "generated_at": generated_at,
        "period": params.period.stamps(),
        "org": {
            "id": (meta.get("org") or {}).get("id", ""),
            "name": (meta.get("org") or {}).get("name", ""),
        },
        "region": meta.get("region") or params.org.region,
        "api_base_url": meta.get("api_base_url") or params.org.api_base_url,
        "client_id": meta.get("client_id") or client_id,
        "baseline": params.baseline,
        "tool_version": __version__,
        # Who ran it and what the collecting client could see (issue 12 §1).
        "operator": params.operator,
        "division_scope": division_scope(snapshot).as_dict(),
    }
    if inputs is not None:
        block["inputs"] = inputs
    return block


def findings_document(
    run: dict[str, Any], snapshot: Snapshot, findings: list[Finding]
) -> dict[str, Any]:
    """findings.json exactly as docs/evidence-pack.md §5 fixes it."""
    datasets = [
        {
            "name": s.name,
            "path": s.path,
            "rows": s.rows,
            "expected_rows": s.expected_rows,
            "complete": s.complete,
            "requests": s.requests,
        }
        for s in sorted(snapshot.statuses.values(), key=lambda s: s.name)
    ]
    return {
        "schema": FINDINGS_SCHEMA,
        "run": run,
        "datasets": datasets,
        "findings": [f.to_dict() for f in findings],
    }


def csv_columns() -> tuple[str, ...]:
    """findings.csv's header: every framework of the catalog gets a column of control ids."""
    return (*CSV_HEAD, *load_catalog().framework_ids, *CSV_TAIL)


def write_findings_csv(path: Path, findings: list[Finding]) -> Path:
    """One row per exception (or per finding without one); every cell CSV-injection guarded."""
    frameworks = load_catalog().framework_ids
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(csv_columns())
        for f in findings:
            base = [
                f.ref,
                f.check,
                f.title,
                f.status,
                f.severity,
                f.notebook,
                "" if f.population is None else f.population,
                *("; ".join(f.controls.get(k, [])) for k in frameworks),
            ]
            tail = [f.reason, "; ".join(f.evidence)]
            items = f.exceptions or (None,)
            for e in items:
                middle = (
                    ["", "", "", "", "", ""]
                    if e is None
                    else [
                        e.subject_type,
                        e.subject_id,
                        e.subject_name,
                        e.detail,
                        "; ".join(e.event_ids),
                        json.dumps(e.accepted, ensure_ascii=False, sort_keys=True)
                        if e.accepted
                        else "",
                    ]
                )
                writer.writerow([guard(v) for v in base + middle + tail])
    return path
