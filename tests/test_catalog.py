"""The catalog is data: every check id, every control known, Annex B honoured, baselines whole."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from gcevidence.catalog import (
    FRAMEWORKS,
    THRESHOLD_NAMES,
    baseline_conflicts,
    effective_thresholds,
    load_catalog,
)
from gcevidence.config import BASELINES
from gcevidence.errors import InputError
from gcevidence.findings import SEVERITIES

# evidence-pack.md §6, verbatim ids.
CONTRACT_IDS = {
    "access.terminated_active",
    "access.deprovision_latency",
    "access.orphan_accounts",
    "access.dormant_accounts",
    "access.privileged_outside_group",
    "access.privileged_count",
    "access.unused_roles",
    "access.sod_conflicts",
    "access.role_drift",
    "auth.password_policy",
    "auth.mfa_required",
    "crypto.recording_keys",
    "crypto.key_rotation",
    "network.trunk_tls",
    "network.trunk_srtp",
    "logging.audit_completeness",
    "logging.privileged_grants",
    "logging.retention",
    "logging.activity_gaps",
}
NOTEBOOKS = {
    "access": "A09_access_control",
    "auth": "A09_access_control",
    "crypto": "A10_cryptography",
    "logging": "A12_logging_monitoring",
    "network": "A13_communications",
}

# controls.md §1.1 (ISO/IEC 27002:2022 Annex B), re-typed here so a typo in the YAML is caught.
ANNEX_B = {
    "A.6.1.2": {"5.3"},
    "A.9.1.1": {"5.15"},
    "A.9.1.2": {"5.15"},
    "A.9.2.1": {"5.16"},
    "A.9.2.2": {"5.18"},
    "A.9.2.3": {"8.2"},
    "A.9.2.4": {"5.17"},
    "A.9.2.5": {"5.18"},
    "A.9.2.6": {"5.18"},
    "A.9.3.1": {"5.17"},
    "A.9.4.1": {"8.3"},
    "A.9.4.2": {"8.5"},
    "A.9.4.3": {"5.17"},
    "A.9.4.4": {"8.18"},
    "A.10.1.1": {"8.24"},
    "A.10.1.2": {"8.24"},
    "A.12.1.2": {"8.32"},
    "A.12.4.1": {"8.15"},
    "A.12.4.2": {"8.15"},
    "A.12.4.3": {"8.15"},
    "A.12.4.4": {"8.17"},
    "A.13.1.1": {"8.20"},
    "A.13.1.2": {"8.21"},
    "A.13.2.1": {"5.14"},
    "A.13.2.2": {"5.14"},
    "A.13.2.3": {"5.14"},
    "A.16.1.7": {"5.28"},
    "A.18.1.3": {"5.33"},
    "A.18.1.4": {"5.34"},
    "A.18.2.3": {"5.36", "8.8"},
}


def test_every_contract_check_is_in_the_catalog_with_metadata():
    checks = load_catalog().checks
    assert set(checks) == CONTRACT_IDS
    for cid, spec in checks.items():
        assert spec.severity in SEVERITIES
        assert spec.notebook == NOTEBOOKS[cid.split(".")[0]]
        assert spec.title and spec.objective and spec.procedure and spec.remediation
        for fw in FRAMEWORKS:
            assert spec.controls[fw], (cid, fw)


def test_every_control_id_in_checks_exists_in_controls():
    cat = load_catalog()
    for cid, spec in cat.checks.items():
        for fw, ids in spec.controls.items():
            for control in ids:
                assert cat.control_title(fw, control), (cid, fw, control)


def test_annex_b_correspondence_is_the_official_one():
    cat = load_catalog()
    assert {k: set(v) for k, v in cat.annex_b.items()} == ANNEX_B
    # CISO Assistant's known errors must not creep in.
    assert "8.14" not in {c for v in cat.annex_b.values() for c in v}
    assert cat.annex_b["A.9.2.5"] == ("5.18",) and cat.annex_b["A.9.2.6"] == ("5.18",)
    assert len(cat.new_in_2022) == 11


def test_each_checks_2013_and_2022_controls_pair_up_through_annex_b():
    cat = load_catalog()
    for cid, spec in cat.checks.items():
        old, new = spec.controls["iso27001-2013"], set(spec.controls["iso27001-2022"])
        images = {c for o in old for c in cat.annex_b[o]}
        assert images <= new, (cid, images - new)
        # every 2022 control comes from one of the check's 2013 controls, or is new in 2022
        assert new <= images | cat.new_in_2022, (cid, new - images - cat.new_in_2022)


def test_control_ids_look_like_their_framework():
    patterns = {
        "iso27001-2013": r"A\.\d+\.\d+\.\d+",
        "iso27001-2022": r"[5-8]\.\d+",
        "soc2": r"CC\d\.\d",
        "pci-dss-4.0.1": r"\d+(\.\d+){1,3}",
        "nist-800-53r5": r"[A-Z]{2}-\d+(\(\d+\))?",
        "cis-v8": r"\d+\.\d+",
    }
    for fw, ids in load_catalog().controls.items():
        for control in ids:
            assert re.fullmatch(patterns[fw], control), (fw, control)


def test_catalog_records_are_frozen():
    cat = load_catalog()
    with pytest.raises(TypeError):
        cat.checks["x"] = None
    with pytest.raises(AttributeError):
        cat.checks["auth.mfa_required"].title = "x"


@pytest.mark.parametrize("baseline", BASELINES)
def test_every_baseline_sets_every_threshold_with_a_source(baseline):
    b = load_catalog().baselines[baseline]
    assert set(b.thresholds) == set(THRESHOLD_NAMES)
    for t in b.thresholds.values():
        assert t.source
        if baseline == "iso27001-2022":
            assert "organisation policy default" in t.source


def test_baseline_numbers_match_their_sources():
    b = {
        k: {n: t.value for n, t in v.thresholds.items()}
        for k, v in load_catalog().baselines.items()
    }
    assert b["pci-dss-4.0.1"]["password_min_length"] == 12
    assert b["pci-dss-4.0.1"]["password_require_digits"] is True
    assert b["pci-dss-4.0.1"]["password_max_age_days"] == 90
    assert b["pci-dss-4.0.1"]["dormant_days"] == 90
    assert b["pci-dss-4.0.1"]["audit_retention_days"] == 365
    assert b["nist-800-63b-4"]["password_min_length"] == 15
    assert b["nist-800-63b-4"]["password_composition_forbidden"] is True
    assert b["nist-800-63b-4"]["password_max_age_days"] == 0
    assert b["cis-v8"]["dormant_days"] == 45 and b["cis-v8"]["audit_retention_days"] == 90


def _params(tmp_path, baseline="pci-dss-4.0.1", thresholds=None):
    return SimpleNamespace(
        path=tmp_path / "params.yaml", baseline=baseline, thresholds=thresholds or {}
    )


def test_effective_thresholds_apply_overrides_and_record_them(tmp_path):
    eff = effective_thresholds(
        _params(tmp_path, thresholds={"dormant_days": 30, "password_max_age_days": None})
    )
    assert set(eff) == set(THRESHOLD_NAMES)
    assert eff["dormant_days"] == {"value": 30, "source": "params", "overridden": True}
    assert eff["password_max_age_days"]["value"] is None
    assert eff["password_min_length"]["overridden"] is False
    assert "8.3.6" in eff["password_min_length"]["source"]


@pytest.mark.parametrize(
    "name, value",
    [
        ("dormant_dayz", 30),
        ("dormant_days", "30"),
        ("dormant_days", -1),
        ("mfa_required", 1),
        ("password_min_length", True),
        ("deprovision_hours", None),
    ],
)
def test_bad_threshold_overrides_name_file_field_and_value(tmp_path, name, value):
    with pytest.raises(InputError) as err:
        effective_thresholds(_params(tmp_path, thresholds={name: value}))
    assert err.value.file == str(tmp_path / "params.yaml")
    assert err.value.field == f"thresholds.{name}"
    assert err.value.value == value
    assert err.value.exit_status == 2


def test_conflicts_are_all_listed_and_filtered_by_baseline():
    cat = load_catalog()
    assert [c.id for c in cat.conflicts] == [f"C{i}" for i in range(1, 12)]
    assert {c.id for c in cat.conflicts if c.kind == "hard"} == {"C1", "C2"}
    pci = {c.id for c in baseline_conflicts("pci-dss-4.0.1")}
    cis = {c.id for c in baseline_conflicts("cis-v8")}
    assert {"C1", "C2"} <= pci
    assert "C1" not in cis and "C8" in cis
    for c in cat.conflicts:
        assert set(c.thresholds) <= set(THRESHOLD_NAMES)
    with pytest.raises(KeyError):
        baseline_conflicts("nope")
