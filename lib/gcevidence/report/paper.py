"""What a working paper claims and concludes, computed from the catalog and the findings.

A paper claims, per reported framework, the requirements its checks are mapped to (its header).
Its conclusion says, per requirement, what the paper's automated tests mapped to it found over
the period: exceptions with their counts and refs, tests that could not run and why, tests
that passed. It never says more than the tests show: a requirement is "not effective on the
evidence of the automated tests mapped to it", never "failed".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from gcevidence.catalog import ROLLUP_LABEL, load_catalog, worst
from gcevidence.catalog.records import Catalog, CheckSpec, ref_sort_key
from gcevidence.catalog.rollup import control_sort_key
from gcevidence.findings import Finding

NO_RESULT = "this check produced no result in this run"
WHY_LIMIT = 160  # characters of a not-evaluable reason repeated in each conclusion line


@dataclass(frozen=True)
class TestResult:
    """One check's result, as evidence for one requirement."""

    ref: str
    check: str
    status: str
    exceptions: int  # exceptions not covered by an accepted risk
    accepted: int  # exceptions covered by an accepted, unexpired risk
    reason: str
    rationale: str
    condition: str

    @property
    def cited(self) -> str:
        """How the conclusion cites it: A09-1 (access.terminated_active)."""
        return f"{self.ref} ({self.check})"

    @property
    def why(self) -> str:
        """Why it could not run, in its first clause (its section gives the whole reason)."""
        first = re.split(r"(?<=[.;])\s", self.reason, maxsplit=1)[0].strip().rstrip(".;")
        if len(first) > WHY_LIMIT:
            first = first[: WHY_LIMIT - 1].rstrip() + "…"
        return first or "no reason recorded"


@dataclass(frozen=True)
class Conclusion:
    """What the automated tests of one paper mapped to one requirement found."""

    framework: str
    control: str
    title: str
    tests: tuple[TestResult, ...]
    elsewhere: tuple[str, ...] = ()  # refs of other papers' tests mapped to it

    @property
    def status(self) -> str:
        return worst(t.status for t in self.tests)

    @property
    def verdict(self) -> str:
        """The first words of the conclusion, by the worst result of the tests."""
        return {
            "fail": f"not effective on the evidence of the {ROLLUP_LABEL}",
            "not_evaluable": f"no conclusion: not every one of the {ROLLUP_LABEL} could run",
        }.get(self.status, f"no exception found by the {ROLLUP_LABEL}")

    @property
    def findings_text(self) -> str:
        """What each test found, failures first, then the ones that could not run, then passes."""
        failed = [t for t in self.tests if t.status == "fail"]
        unrun = [t for t in self.tests if t.status == "not_evaluable"]
        passed = [t for t in self.tests if t.status == "pass"]
        parts = [f"{_count(t.exceptions, 'exception')} in {t.cited}" for t in failed]
        parts += [f"{t.cited} not evaluable: {t.why}" for t in unrun]
        if passed:
            parts.append(
                ("passed: " if failed or unrun else "")
                + ", ".join(
                    t.cited
                    + (f" with {_count(t.accepted, 'accepted exception')}" if t.accepted else "")
                    for t in passed
                )
            )
        return "; ".join(parts)

    @property
    def text(self) -> str:
        """One sentence: the requirement, the verdict, and what the tests found."""
        label = f"{self.control} {self.title}".strip()
        return f"{label} — {self.verdict}: {self.findings_text}."


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _catalog(catalog: Catalog | None) -> Catalog:
    return catalog or load_catalog()


def paper_checks(notebook: str, catalog: Catalog | None = None) -> tuple[CheckSpec, ...]:
    """The checks a paper shows, in ref order (the notebook calls show_check for each)."""
    return _catalog(catalog).checks_of(notebook)


def paper_controls(notebook: str, catalog: Catalog | None = None) -> dict[str, tuple[str, ...]]:
    """Per reported framework, the requirements the paper's checks are mapped to (its header).

    Frameworks the paper's checks give no evidence for are left out.
    """
    catalog = _catalog(catalog)
    checks = paper_checks(notebook, catalog)
    claimed = {}
    for fw in catalog.reported_frameworks():
        ids = {c for spec in checks for c in spec.controls.get(fw.id, ())}
        if ids:
            claimed[fw.id] = tuple(sorted(ids, key=control_sort_key))
    return claimed


def _test_result(spec: CheckSpec, finding: Finding | None, framework: str, control: str):
    mapping = next(m for m in spec.mappings if (m.framework, m.control) == (framework, control))
    if finding is None:
        return TestResult(
            spec.ref,
            spec.id,
            "not_evaluable",
            0,
            0,
            NO_RESULT,
            mapping.rationale,
            mapping.condition,
        )
    accepted = sum(1 for e in finding.exceptions if e.accepted)
    return TestResult(
        finding.ref or spec.ref,
        spec.id,
        finding.status,
        len(finding.exceptions) - accepted,
        accepted,
        finding.reason,
        mapping.rationale,
        mapping.condition,
    )


def conclude(
    findings: Iterable[Finding], notebook: str, catalog: Catalog | None = None
) -> dict[str, tuple[Conclusion, ...]]:
    """Per reported framework, a conclusion for every requirement the paper claims."""
    catalog = _catalog(catalog)
    by_check = {f.check: f for f in findings}
    mine = paper_checks(notebook, catalog)
    others = [s for s in catalog.checks.values() if s.paper != notebook]
    result = {}
    for fw, controls in paper_controls(notebook, catalog).items():
        conclusions = []
        for control in controls:
            tests = tuple(
                _test_result(spec, by_check.get(spec.id), fw, control)
                for spec in mine
                if control in spec.controls.get(fw, ())
            )
            elsewhere = tuple(
                sorted(
                    (s.ref for s in others if control in s.controls.get(fw, ())), key=ref_sort_key
                )
            )
            conclusions.append(
                Conclusion(fw, control, catalog.control_title(fw, control), tests, elsewhere)
            )
        result[fw] = tuple(conclusions)
    return result
