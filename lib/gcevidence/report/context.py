"""What a notebook opens: one run folder (snapshot, findings, thresholds) and its params.

In the pipeline the run folder is the pack being built and already holds findings.json; a
notebook run standalone (run_dir empty) collects into a fresh folder and checks in-process.
Credentials are read from the environment here, never passed in as notebook parameters.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import secrets
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from gcevidence.config import Params, PeriodConfig, load_params
from gcevidence.findings import ExceptionItem, Finding
from gcevidence.snapshot import SNAPSHOT_FILE, Snapshot

log = logging.getLogger(__name__)

FINDINGS_FILE = "findings.json"
THRESHOLDS_FILE = "thresholds.json"


@dataclass
class RunContext:
    """Everything a notebook section shows, read once from the run folder."""

    run_dir: Path
    params: Params
    snapshot: Snapshot
    findings: list[Finding]
    thresholds: dict[str, dict[str, Any]]
    run: dict[str, Any] = field(default_factory=dict)
    # What a section built once and the next sections reuse (a kernel's populations).
    memo: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def finding(self, check: str) -> Finding | None:
        return next((f for f in self.findings if f.check == check), None)

    def threshold(self, name: str, default: Any = None) -> Any:
        entry = self.thresholds.get(name)
        return entry.get("value", default) if isinstance(entry, dict) else default

    @cached_property
    def evidence_digest(self) -> str:
        """The digest of what the papers rest on (findings.json, evidence/, the inputs)."""
        from gcevidence.pack.manifest import evidence_digest

        return evidence_digest(self.run_dir)

    @property
    def operator(self) -> str:
        """Who ran the collection, when the run or the params name someone."""
        return str(self.run.get("operator") or getattr(self.params, "operator", "") or "")


def finding_from_dict(doc: dict[str, Any]) -> Finding:
    """The inverse of Finding.to_dict, for findings read back from findings.json."""
    return Finding(
        check=doc["check"],
        title=doc.get("title", ""),
        status=doc["status"],
        severity=doc.get("severity", ""),
        controls=doc.get("controls") or {},
        population=doc.get("population"),
        exceptions=tuple(ExceptionItem(**e) for e in doc.get("exceptions") or ()),
        evidence=tuple(doc.get("evidence") or ()),
        notebook=doc.get("notebook", ""),
        reason=doc.get("reason", ""),
        extra=doc.get("extra") or {},
        ref=doc.get("ref") or _catalog_ref(doc["check"]),
    )


def _catalog_ref(check: str) -> str:
    """The ref of a check the findings do not carry one for (a pack made before refs)."""
    from gcevidence.catalog import load_catalog

    spec = load_catalog().checks.get(check)
    return spec.ref if spec else ""


def load_findings(run_dir: Path) -> tuple[dict[str, Any], list[Finding]]:
    """(run block, findings) from a run folder's findings.json."""
    doc = json.loads((Path(run_dir) / FINDINGS_FILE).read_text(encoding="utf-8"))
    return doc.get("run", {}), [finding_from_dict(f) for f in doc.get("findings", [])]


def compute_findings(
    snapshot: Snapshot, params: Params, thresholds: dict[str, dict[str, Any]]
) -> list[Finding]:
    """Run every check over a snapshot (standalone mode; the pipeline does this itself)."""
    from gcevidence.checks import CheckContext, run_checks

    return run_checks(
        CheckContext(
            snapshot, params, thresholds, today=params.period.end, previous=None, previous_info={}
        )
    )


def standalone_dir(params: Params) -> Path:
    """A fresh run folder under the params' output dir for a notebook run on its own."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = params.output_dir / "standalone" / f"{stamp}-{secrets.token_hex(3)}"
    path.mkdir(parents=True)
    return path


def collect_standalone(params: Params, thresholds: dict[str, dict[str, Any]]) -> Path:
    """Collect a snapshot into a fresh folder with credentials from the environment."""
    from gcevidence.collect import collect, required_retention_days
    from gcevidence.genesys import GenesysClient

    run_dir = standalone_dir(params)
    with GenesysClient.from_params(params, request_log=run_dir / "requests.jsonl") as client:
        collect(params, client, run_dir, retention_days=required_retention_days(thresholds))
    log.info("standalone run collected into %s", run_dir)
    return run_dir


def params_of_run(params_path: str | Path, snapshot: Snapshot) -> Params:
    """The params as the run used them: its period is the snapshot's, not today's default.

    A notebook may execute after midnight, or years later: the period it reports is the one
    the collection covered, and "in the future" is judged against the collection's date.
    """
    period = snapshot.meta.get("period") or {}
    end, collected = str(period.get("end", ""))[:10], str(snapshot.meta.get("collected_at", ""))
    if not end:
        return load_params(params_path)
    period_end = dt.date.fromisoformat(end)
    try:
        today = dt.date.fromisoformat(collected[:10])
    except ValueError:
        today = period_end
    params = load_params(
        params_path, period_end=period_end, today=max(today, period_end + dt.timedelta(days=1))
    )
    days = period.get("days")
    if isinstance(days, int) and days != params.period.days:
        params = dataclasses.replace(params, period=PeriodConfig(period_end, days))
    return params


def open_run(run_dir: str | Path | None, params_path: str | Path) -> RunContext:
    """Open a run folder (or collect a fresh one when run_dir is empty) for a notebook."""
    from gcevidence.catalog import effective_thresholds

    if not run_dir:
        params = load_params(params_path)
        run_dir = collect_standalone(params, effective_thresholds(params))
    run_dir = Path(run_dir)
    if not (run_dir / SNAPSHOT_FILE).is_file():
        raise FileNotFoundError(f"{run_dir} holds no {SNAPSHOT_FILE}: not a run folder")
    snapshot = Snapshot(run_dir)
    params = params_of_run(params_path, snapshot)
    thresholds_file = run_dir / THRESHOLDS_FILE
    thresholds = (
        json.loads(thresholds_file.read_text(encoding="utf-8"))
        if thresholds_file.is_file()
        else effective_thresholds(params)
    )
    if (run_dir / FINDINGS_FILE).is_file():
        run, findings = load_findings(run_dir)
    else:
        findings = compute_findings(snapshot, params, thresholds)
        run = {}
    if not run:
        run = {
            "id": run_dir.name,
            "period": snapshot.meta.get("period", {}),
            "org": snapshot.meta.get("org", {}),
            "region": snapshot.meta.get("region"),
            "client_id": snapshot.meta.get("client_id"),
            "baseline": params.baseline,
            "tool_version": snapshot.meta.get("tool_version"),
            "generated_at": snapshot.meta.get("collected_at"),
        }
    return RunContext(run_dir, params, snapshot, findings, thresholds, run)
