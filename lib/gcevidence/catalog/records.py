"""The catalog's frozen records: checks, papers, frameworks and their requirements, baselines."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from gcevidence.datasets import SPECS


def ref_sort_key(ref: str) -> tuple[str, int]:
    """A09-2 before A09-10; a ref without a number sorts first."""
    prefix, _, number = ref.rpartition("-")
    return (prefix, int(number)) if number.isdigit() else (ref, 0)


@dataclass(frozen=True)
class CheckMapping:
    """One check giving evidence for one requirement of one framework, and why."""

    framework: str
    control: str
    check: str
    rationale: str = ""
    condition: str = ""  # when the mapping applies only under a condition, that condition


@dataclass(frozen=True)
class Requirement:
    """A control or requirement of a framework, and how it is covered (at most one way)."""

    framework: str
    id: str
    title: str
    checks: tuple[CheckMapping, ...] = ()
    manual: str = ""  # the manual procedure that proves it, when no check does
    genesys: str = ""  # why it is Genesys' own responsibility (attestation)
    organisation: str = ""  # what evidences it outside the tenant (no concern of the tenant)

    @property
    def coverage(self) -> str:
        """checks | manual | genesys | organisation ("" only for a record built by hand)."""
        if self.checks:
            return "checks"
        return next((k for k in ("manual", "genesys", "organisation") if getattr(self, k)), "")

    @property
    def coverage_text(self) -> str:
        """The procedure, the attestation or the outside evidence; "" for checks."""
        return getattr(self, self.coverage) if self.coverage not in ("", "checks") else ""


@dataclass(frozen=True)
class Successor:
    """A newer edition of a framework and the official id correspondence to it."""

    framework: str
    correspondence: MappingProxyType  # old id -> tuple of new ids
    new: frozenset[str]  # ids of the newer edition that have no source in this one


@dataclass(frozen=True)
class Framework:
    id: str
    label: str  # display name
    short: str  # column label
    id_pattern: str
    report: bool  # shown in the HTML status matrix and the working papers
    order: int
    requirements: MappingProxyType  # control id -> Requirement, in file order
    path: Path
    successor: Successor | None = None
    scope: tuple[str, ...] = ()  # the requirement ids the file must account for, in file order
    scope_description: str = ""  # which part of the framework those are

    def title(self, control_id: str) -> str:
        req = self.requirements.get(control_id)
        return req.title if req else ""


@dataclass(frozen=True)
class Paper:
    """A working paper (notebook): its reference prefix, title and place in the pack."""

    notebook: str
    ref: str
    title: str
    order: int
    summary: bool = False


@dataclass(frozen=True)
class CheckSpec:
    """Everything about a check but its code; its controls are derived from the frameworks."""

    id: str
    title: str
    severity: str
    paper: str  # notebook name of the working paper that reports it
    ref: str  # its working-paper reference, e.g. A09-3 (stable: cited by auditors)
    datasets: tuple[str, ...]
    allow_incomplete: bool
    thresholds: tuple[str, ...]
    objective: str
    procedure: str
    remediation: str
    mappings: tuple[CheckMapping, ...]  # every framework, in framework order
    controls: MappingProxyType  # framework -> tuple of control ids (every framework a key)

    @property
    def permissions(self) -> tuple[str, ...]:
        """The API permissions its datasets need, each once."""
        return tuple(dict.fromkeys(p for d in self.datasets if (p := SPECS[d].permission)))

    def controls_dict(self) -> dict[str, list[str]]:
        return {fw: list(ids) for fw, ids in self.controls.items()}


@dataclass(frozen=True)
class ThresholdSpec:
    """A threshold a check may compare against: its type and meaning."""

    name: str
    type: str  # integer | boolean
    nullable: bool
    meaning: str


@dataclass(frozen=True)
class Threshold:
    """A baseline's number; tool_default when the standard sets none and this toolkit chose it."""

    name: str
    value: Any
    source: str
    tool_default: bool = False


@dataclass(frozen=True)
class Conflict:
    """A setting on which baselines disagree."""

    id: str
    setting: str
    kind: str  # hard | soft
    thresholds: tuple[str, ...]
    positions: MappingProxyType  # baseline -> its position, in words
    note: str


@dataclass(frozen=True)
class Baseline:
    id: str
    name: str
    thresholds: MappingProxyType  # name -> Threshold


@dataclass(frozen=True)
class Catalog:
    checks: MappingProxyType  # check id -> CheckSpec, sorted by id
    papers: tuple[Paper, ...]  # in pack order, the summary paper last
    frameworks: MappingProxyType  # framework id -> Framework, in framework order
    threshold_specs: MappingProxyType  # name -> ThresholdSpec
    baselines: MappingProxyType  # baseline id -> Baseline
    conflicts: tuple[Conflict, ...]

    @property
    def framework_ids(self) -> tuple[str, ...]:
        return tuple(self.frameworks)

    @property
    def threshold_names(self) -> tuple[str, ...]:
        return tuple(self.threshold_specs)

    def reported_frameworks(self) -> tuple[Framework, ...]:
        """The frameworks shown in the HTML status matrix and the working papers."""
        return tuple(fw for fw in self.frameworks.values() if fw.report)

    def paper(self, notebook: str) -> Paper | None:
        return next((p for p in self.papers if p.notebook == notebook), None)

    def family_papers(self) -> tuple[Paper, ...]:
        """The papers that report checks (run in parallel before the summary)."""
        return tuple(p for p in self.papers if not p.summary)

    @property
    def summary_paper(self) -> Paper:
        return next(p for p in self.papers if p.summary)

    def checks_of(self, notebook: str) -> tuple[CheckSpec, ...]:
        """The checks a paper reports, in the order of their refs (A09-2 before A09-10)."""
        return tuple(
            sorted(
                (c for c in self.checks.values() if c.paper == notebook),
                key=lambda c: ref_sort_key(c.ref),
            )
        )

    def check_by_ref(self, ref: str) -> CheckSpec | None:
        return next((c for c in self.checks.values() if c.ref == ref), None)

    def control_title(self, framework: str, control_id: str) -> str:
        fw = self.frameworks.get(framework)
        return fw.title(control_id) if fw else ""

    @property
    def annex_b(self) -> MappingProxyType:
        """ISO/IEC 27001:2013 id -> its ISO/IEC 27001:2022 ids (ISO/IEC 27002:2022 Annex B)."""
        return self.frameworks["iso27001-2013"].successor.correspondence

    @property
    def new_in_2022(self) -> frozenset[str]:
        return self.frameworks["iso27001-2013"].successor.new
