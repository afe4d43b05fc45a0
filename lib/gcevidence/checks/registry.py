"""The check registry and runner: one Finding per check id, statuses decided in one place.

A check is a pure function `fn(ctx) -> Outcome` registered with `register_check(check_id)`;
what it reads (datasets, thresholds) is declared in the catalog. The runner declares a check
not_evaluable when a dataset it needs is unavailable (naming the missing permission or input),
so check bodies only ever see the data they asked for.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gcevidence.catalog import load_catalog
from gcevidence.catalog.load import CHECKS_FILE
from gcevidence.catalog.schema import key_path
from gcevidence.errors import CatalogError
from gcevidence.findings import ExceptionItem, Finding

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckContext:
    """Everything a check may look at: the snapshot, the params, thresholds and the period end.

    `today` is the last day of the period (UTC), never the day of collection.
    """

    snapshot: Any  # gcevidence.snapshot.Snapshot
    params: Any  # gcevidence.config.Params
    thresholds: dict[str, dict[str, Any]]
    today: dt.date
    previous: Any = None  # Snapshot of the previous verified pack, for access.role_drift
    previous_info: dict[str, Any] = field(default_factory=dict)

    def threshold(self, name: str) -> Any:
        return self.thresholds[name]["value"]

    @property
    def as_of(self) -> dt.datetime:
        """The end of the period (the midnight after `today`): what "as of" measurements use."""
        return dt.datetime.combine(self.today + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Outcome:
    """What a check found. status None = fail when there are exceptions, else pass."""

    exceptions: tuple[ExceptionItem, ...] | list[ExceptionItem] = ()
    population: int | None = None
    reason: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    status: str | None = None
    evidence: tuple[str, ...] = ()  # evidence files beyond those of the needed datasets


@dataclass(frozen=True)
class RegisteredCheck:
    check_id: str
    fn: Callable[[CheckContext], Outcome | Finding]
    notebook: str
    needs: tuple[str, ...]
    allow_incomplete: bool
    thresholds: tuple[str, ...] = ()  # recorded in Finding.extra for the report


REGISTRY: dict[str, RegisteredCheck] = {}


def register_check(check_id: str) -> Callable:
    """Decorator: register `fn(ctx) -> Outcome` as the code of a check declared in the catalog.

    Its paper, datasets, allow_incomplete and thresholds come from the catalog entry; an id the
    catalog does not declare is an error as soon as the module is imported.
    """
    catalog = load_catalog()
    spec = catalog.checks.get(check_id)

    def wrap(fn: Callable) -> Callable:
        if spec is None:
            raise CatalogError(
                str(CHECKS_FILE),
                key_path(("checks", check_id)),
                None,
                f"missing, but {fn.__module__}.{fn.__qualname__} is registered under this id",
                "declare the check in checks.yaml, or fix the id in @register_check",
            )
        REGISTRY[check_id] = RegisteredCheck(
            check_id, fn, spec.paper, spec.datasets, spec.allow_incomplete, spec.thresholds
        )
        return fn

    return wrap


def unavailable_because(status: Any) -> str:
    """Why a collected dataset is unavailable: the missing permission, or the recorded reason."""
    if status.missing_permission:
        return f"the OAuth client lacks permission {status.missing_permission}"
    return status.reason or "not collected"


def missing_reason(snapshot: Any, name: str) -> str:
    """Why a dataset is not there, in words an auditor can act on."""
    status = snapshot.status(name)
    if name == "hr_roster" and not status.missing_permission:
        return "no HR roster (params hr.roster)"
    return f"{name} unavailable: {unavailable_because(status)}"


def _finding(
    reg_id: str,
    outcome: Outcome,
    notebook: str,
    evidence: list[str],
    thresholds_used: dict[str, Any],
) -> Finding:
    spec = load_catalog().checks.get(reg_id)  # None for a check registered by hand (tests)
    exceptions = tuple(outcome.exceptions)
    status = outcome.status or ("fail" if exceptions else "pass")
    extra = dict(outcome.extra)
    if thresholds_used:
        extra.setdefault("thresholds", thresholds_used)
    reason = outcome.reason or (
        f"{len(exceptions)} exception(s) among {outcome.population}"
        if status == "fail"
        else "no exceptions"
    )
    return Finding(
        check=reg_id,
        title=spec.title if spec else reg_id,
        status=status,
        severity=spec.severity if spec else "medium",
        controls=spec.controls_dict() if spec else {},
        population=outcome.population,
        exceptions=exceptions,
        evidence=tuple(dict.fromkeys([*evidence, *outcome.evidence])),
        notebook=notebook,
        reason=reason,
        extra=extra,
        ref=spec.ref if spec else "",
    )


def run_one(ctx: CheckContext, reg: RegisteredCheck) -> Finding:
    snap = ctx.snapshot
    evidence = [snap.status(n).path for n in reg.needs if snap.has(n) and snap.status(n).path]
    used = {n: ctx.thresholds[n] for n in reg.thresholds if n in ctx.thresholds}
    missing = [n for n in reg.needs if not snap.has(n)]
    if missing:
        reason = "; ".join(missing_reason(snap, n) for n in missing)
        return _finding(
            reg.check_id,
            Outcome(status="not_evaluable", reason=reason, extra={"missing": missing}),
            reg.notebook,
            evidence,
            used,
        )
    incomplete = [n for n in reg.needs if not snap.status(n).complete]
    if incomplete and not reg.allow_incomplete:
        reason = "; ".join(
            f"{n} incomplete ({snap.status(n).rows} of {snap.status(n).expected_rows} rows read)"
            for n in incomplete
        )
        return _finding(
            reg.check_id,
            Outcome(status="not_evaluable", reason=reason),
            reg.notebook,
            evidence,
            used,
        )
    result = reg.fn(ctx)
    if isinstance(result, Finding):
        return result
    return _finding(reg.check_id, result, reg.notebook, evidence, used)


def run_checks(ctx: CheckContext) -> list[Finding]:
    """One Finding per check id (registered or in the catalog), sorted by id."""
    findings = []
    for check_id in sorted(set(REGISTRY) | set(load_catalog().checks)):
        reg = REGISTRY.get(check_id)
        if reg is None:
            # A catalog check without code in this version is reported, never silently dropped.
            spec = load_catalog().checks[check_id]
            findings.append(
                _finding(
                    check_id,
                    Outcome(
                        status="not_evaluable",
                        reason="this check is not implemented in this version",
                    ),
                    spec.paper,
                    [],
                    {},
                )
            )
            continue
        log.debug("running %s", check_id)
        findings.append(run_one(ctx, reg))
    return findings
