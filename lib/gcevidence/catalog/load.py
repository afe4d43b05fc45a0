"""Read the catalog YAML files into frozen records (read once per process)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

HERE = Path(__file__).parent
FRAMEWORKS = ("iso27001-2013", "iso27001-2022", "soc2", "pci-dss-4.0.1", "nist-800-53r5", "cis-v8")
THRESHOLD_NAMES = (
    "password_min_length",
    "password_require_digits",
    "password_require_letters",
    "password_composition_forbidden",
    "password_max_age_days",
    "mfa_required",
    "dormant_days",
    "deprovision_hours",
    "key_cryptoperiod_days",
    "audit_retention_days",
    "access_review_days",
    "idle_timeout_minutes",
)


@dataclass(frozen=True)
class CheckSpec:
    """What a check is for, how it is done, and which controls it gives evidence for."""

    id: str
    title: str
    severity: str
    notebook: str
    objective: str
    procedure: str
    remediation: str
    controls: MappingProxyType  # framework -> tuple of control ids

    def controls_dict(self) -> dict[str, list[str]]:
        return {fw: list(ids) for fw, ids in self.controls.items()}


@dataclass(frozen=True)
class Threshold:
    name: str
    value: Any
    source: str


@dataclass(frozen=True)
class Conflict:
    """A setting on which baselines disagree (controls.md §5)."""

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
    checks: MappingProxyType  # check id -> CheckSpec
    controls: MappingProxyType  # framework -> {control id -> title}
    framework_names: MappingProxyType  # framework -> display name
    annex_b: MappingProxyType  # ISO 2013 id -> tuple of ISO 2022 ids
    new_in_2022: frozenset[str]
    baselines: MappingProxyType  # baseline id -> Baseline
    conflicts: tuple[Conflict, ...]

    def control_title(self, framework: str, control_id: str) -> str:
        return self.controls.get(framework, {}).get(control_id, "")


def _read(name: str) -> dict:
    return yaml.safe_load((HERE / name).read_text(encoding="utf-8"))


def _frozen(mapping: dict) -> MappingProxyType:
    return MappingProxyType(dict(mapping))


@functools.cache
def load_catalog() -> Catalog:
    """The catalog shipped with the package."""
    checks_doc, controls_doc, baselines_doc = (
        _read("checks.yaml"),
        _read("controls.yaml"),
        _read("baselines.yaml"),
    )
    checks = {}
    for cid, c in checks_doc["checks"].items():
        controls = {fw: tuple(str(x) for x in c["controls"].get(fw, ())) for fw in FRAMEWORKS}
        checks[cid] = CheckSpec(
            cid,
            c["title"],
            c["severity"],
            c["notebook"],
            " ".join(c["objective"].split()),
            " ".join(c["procedure"].split()),
            " ".join(c["remediation"].split()),
            _frozen(controls),
        )
    frameworks = controls_doc["frameworks"]
    controls = {
        fw: _frozen({str(k): v for k, v in frameworks[fw]["controls"].items()}) for fw in frameworks
    }
    names = {fw: frameworks[fw]["name"] for fw in frameworks}
    annex_b = {k: tuple(str(x) for x in v) for k, v in controls_doc["annex_b"].items()}
    baselines = {}
    for bid, b in baselines_doc["baselines"].items():
        ths = {n: Threshold(n, t["value"], t["source"]) for n, t in b["thresholds"].items()}
        baselines[bid] = Baseline(bid, b["name"], _frozen(ths))
    conflicts = tuple(
        Conflict(
            c["id"],
            c["setting"],
            c["kind"],
            tuple(c["thresholds"]),
            _frozen(c["positions"]),
            " ".join(str(c["note"]).split()),
        )
        for c in baselines_doc["conflicts"]
    )
    return Catalog(
        _frozen(dict(sorted(checks.items()))),
        _frozen(controls),
        _frozen(names),
        _frozen(annex_b),
        frozenset(str(x) for x in controls_doc["new_in_2022"]),
        _frozen(baselines),
        conflicts,
    )
