"""The catalog is data, validated at load; whatever lists checks or frameworks derives from it."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import gcevidence.catalog
import pytest
from checks_world import DENIED, World
from gcevidence.catalog import (
    EXTRA_FRAMEWORKS_ENV,
    FRAMEWORKS,
    ROLLUP_LABEL,
    THRESHOLD_NAMES,
    baseline_conflicts,
    effective_thresholds,
    load_catalog,
    read_catalog,
    reported_frameworks,
    roll_up,
    worst,
)
from gcevidence.catalog.load import HERE
from gcevidence.catalog.readme import check_table
from gcevidence.config import BASELINES
from gcevidence.datasets import SPECS
from gcevidence.errors import CatalogError, InputError
from gcevidence.findings import SEVERITIES, Finding

ROOT = Path(__file__).resolve().parents[1]

# evidence-pack.md §6, verbatim ids.
CONTRACT_IDS = {
    "access.terminated_active",
    "access.deprovision_latency",
    "access.orphan_accounts",
    "access.dormant_accounts",
    "access.privileged_outside_group",
    "access.privileged_count",
    "access.undeclared_privileged_roles",
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
    # issue 9: sessions, identity providers, the IP allowlist, the audit export
    "auth.idle_timeout",
    "auth.sso_providers",
    "network.ip_allowlist",
    "logging.siem_export",
    # issue 9, access checks (cov-access)
    "access.oauth_clients",
    "access.trustees",
    "data.recording_retention",
    "access.role_definition_drift",
    "access.sensitive_permissions",
}
NOTEBOOKS = {
    "access": "A09_access_control",
    "auth": "A09_access_control",
    "crypto": "A10_cryptography",
    "logging": "A12_logging_monitoring",
    "network": "A13_communications",
    "data": "A10_cryptography",  # recordings: their keys and their retention
}

# ISO/IEC 27002:2022 Annex B, re-typed here so a typo in the YAML is caught.
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
    "A.11.2.8": {"8.1"},
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
    # issue 9, access checks (cov-access)
    "A.8.3.2": {"7.10"},
    "A.15.1.1": {"5.19"},
    "A.15.1.2": {"5.20"},
}

# --- the shipped catalog ----------------------------------------------------------------------


def test_every_contract_check_is_in_the_catalog_with_metadata():
    checks = load_catalog().checks
    assert set(checks) == CONTRACT_IDS
    for cid, spec in checks.items():
        assert spec.severity in SEVERITIES
        assert spec.paper == NOTEBOOKS[cid.split(".")[0]]
        assert spec.title and spec.objective and spec.procedure and spec.remediation
        for fw in FRAMEWORKS:
            assert spec.controls[fw], (cid, fw)


def test_controls_are_derived_by_inverting_the_framework_files():
    cat = load_catalog()
    for fw in cat.frameworks.values():
        for req in fw.requirements.values():
            assert req.coverage, (fw.id, req.id)  # every requirement says how it is covered
            for m in req.checks:
                assert req.id in cat.checks[m.check].controls[fw.id]
    for spec in cat.checks.values():
        for m in spec.mappings:
            assert m.check == spec.id
            assert m.control in cat.frameworks[m.framework].requirements
        assert sum(len(ids) for ids in spec.controls.values()) == len(spec.mappings)
    # two examples, as the framework files state them
    assert cat.checks["auth.mfa_required"].controls["pci-dss-4.0.1"] == ("8.4.1", "8.4.2", "8.4.3")
    assert cat.checks["access.terminated_active"].controls["iso27001-2013"] == (
        "A.9.2.1",
        "A.9.2.6",
    )


def test_every_check_has_a_stable_ref_of_its_paper_in_section_order():
    cat = load_catalog()
    refs = [spec.ref for spec in cat.checks.values()]
    assert len(set(refs)) == len(refs)
    for paper in cat.family_papers():
        mine = [spec.ref for spec in cat.checks_of(paper.notebook)]
        # numbered 1..n in the order the paper shows them (A09-2 before A09-10)
        assert mine == [f"{paper.ref}-{n}" for n in range(1, len(mine) + 1)], paper.notebook
    # refs are cited by auditors: these must never move
    assert cat.checks["access.terminated_active"].ref == "A09-1"
    assert cat.checks["auth.mfa_required"].ref == "A09-11"
    assert cat.checks["logging.privileged_grants"].ref == "A12-4"
    assert cat.check_by_ref("A13-2").id == "network.trunk_srtp"


NEGATIVE = ("not ", "without", "weaker", " late", "no active", "still ", "could not", "fail")


@pytest.mark.parametrize("check", sorted(CONTRACT_IDS))
def test_titles_are_neutral_control_statements(check):
    """A title says what holds when the check passes, so a PASS never reads as a failure."""
    title = load_catalog().checks[check].title
    assert not any(word in f" {title.lower()} " for word in NEGATIVE), title
    assert title[0].isupper() and not title.endswith(".")


def test_every_mapping_has_a_rationale_and_conditions_are_stated():
    cat = load_catalog()
    for spec in cat.checks.values():
        for m in spec.mappings:
            assert len(m.rationale) >= 20, (m.framework, m.control, m.check)
    conditions = {
        (m.framework, m.control, m.check): m.condition
        for spec in cat.checks.values()
        for m in spec.mappings
        if m.condition
    }
    # PCI 3.x applies only if recordings may hold account data
    for control, check in (
        ("3.5.1", "crypto.recording_keys"),
        ("3.6.1", "crypto.recording_keys"),
        ("3.7.4", "crypto.key_rotation"),
        ("3.7.5", "crypto.key_rotation"),
    ):
        assert (
            "recordings may contain account data" in conditions[("pci-dss-4.0.1", control, check)]
        )
    assert "account data" in conditions[("pci-dss-4.0.1", "4.2.1", "network.trunk_tls")]


def test_the_mappings_the_auditor_questioned_are_fixed_or_justified():
    cat = load_catalog()
    iso13, pci = cat.frameworks["iso27001-2013"], cat.frameworks["pci-dss-4.0.1"]
    # A.9.1.2 is about network services, not who holds privileged roles: dropped.
    assert "A.9.1.2" not in cat.checks["access.privileged_outside_group"].controls["iso27001-2013"]
    # Retention shows events are kept (A.12.4.1), not that logs are protected (A.12.4.2).
    assert cat.checks["logging.retention"].controls["iso27001-2013"] == ("A.12.4.1", "A.18.1.3")
    # Protection of the logs is who may read them (customer side); the stored trail is Genesys'.
    assert iso13.requirements["A.12.4.2"].checks[0].check == "access.sensitive_permissions"
    assert "logging.retention" not in [m.check for m in iso13.requirements["A.12.4.2"].checks]
    # Trunk TLS protects no user's authentication factor: 8.3.2 is Genesys' responsibility.
    assert "8.3.2" not in cat.checks["network.trunk_tls"].controls["pci-dss-4.0.1"]
    assert pci.requirements["8.3.2"].coverage == "genesys"
    # Reading the whole trail says nothing about what each record holds: 10.2.2 is manual.
    assert "10.2.2" not in cat.checks["logging.audit_completeness"].controls["pci-dss-4.0.1"]
    assert "logging.audit_completeness" in pci.requirements["10.2.2"].manual
    # Orphan accounts on 8.2.2: kept, because the register records approval and expiry.
    (orphan,) = pci.requirements["8.2.2"].checks
    assert orphan.check == "access.orphan_accounts" and "exceptions register" in orphan.rationale


def test_annex_b_correspondence_is_the_official_one():
    cat = load_catalog()
    assert {k: set(v) for k, v in cat.annex_b.items()} == ANNEX_B
    # CISO Assistant's known errors must not creep in.
    assert "8.14" not in {c for v in cat.annex_b.values() for c in v}
    assert cat.annex_b["A.9.2.5"] == ("5.18",) and cat.annex_b["A.9.2.6"] == ("5.18",)
    assert len(cat.new_in_2022) == 11
    assert cat.frameworks["iso27001-2013"].successor.framework == "iso27001-2022"


def test_each_checks_2013_and_2022_controls_pair_up_through_annex_b():
    cat = load_catalog()
    for cid, spec in cat.checks.items():
        old, new = spec.controls["iso27001-2013"], set(spec.controls["iso27001-2022"])
        images = {c for o in old for c in cat.annex_b[o]}
        assert images <= new, (cid, images - new)
        # every 2022 control comes from one of the check's 2013 controls, or is new in 2022
        assert new <= images | cat.new_in_2022, (cid, new - images - cat.new_in_2022)


def test_catalog_records_are_frozen():
    cat = load_catalog()
    with pytest.raises(TypeError):
        cat.checks["x"] = None
    with pytest.raises(AttributeError):
        cat.checks["auth.mfa_required"].title = "x"
    with pytest.raises(TypeError):
        cat.frameworks["soc2"].requirements["CC6.1"] = None


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
    assert eff["dormant_days"] == {
        "value": 30,
        "source": "params",
        "overridden": True,
        "origin": "params",
        "note": "",
        "baseline_value": 90,
    }
    assert eff["password_max_age_days"]["value"] is None
    assert eff["password_min_length"]["overridden"] is False
    assert "8.3.6" in eff["password_min_length"]["source"]


def test_a_threshold_may_carry_the_clients_policy_reference(tmp_path):
    from gcevidence.catalog import TOOL_DEFAULT_NOTE, threshold_basis

    eff = effective_thresholds(
        _params(
            tmp_path,
            thresholds={"dormant_days": {"value": 60, "source": "ISMS policy AC-01 §4"}},
        )
    )
    assert eff["dormant_days"]["value"] == 60
    assert eff["dormant_days"]["source"] == "ISMS policy AC-01 §4"
    assert eff["dormant_days"]["origin"] == "params"
    assert threshold_basis(eff["dormant_days"]) == "client policy: ISMS policy AC-01 §4"
    # PCI 3.7.4 leaves the cryptoperiod to the entity: the toolkit's year asks to be confirmed.
    crypto = eff["key_cryptoperiod_days"]
    assert crypto["origin"] == "tool_default" and crypto["note"] == TOOL_DEFAULT_NOTE
    assert threshold_basis(crypto) == "tool default — confirm against your policy"
    # PCI 8.3.6 itself says 12 characters.
    assert (
        eff["password_min_length"]["origin"] == "baseline"
        and not eff["password_min_length"]["note"]
    )
    iso = effective_thresholds(_params(tmp_path, baseline="iso27001-2022"))
    assert {e["origin"] for e in iso.values()} == {"tool_default"}


@pytest.mark.parametrize(
    "value, field",
    [
        ({"value": 60, "sorce": "x"}, "thresholds.dormant_days.sorce"),
        ({"source": "AC-01"}, "thresholds.dormant_days.value"),
        ({"value": 60, "source": ""}, "thresholds.dormant_days.source"),
        ({"value": "60", "source": "AC-01"}, "thresholds.dormant_days.value"),
    ],
)
def test_a_bad_threshold_with_a_source_names_its_field(tmp_path, value, field):
    with pytest.raises(InputError) as err:
        effective_thresholds(_params(tmp_path, thresholds={"dormant_days": value}))
    assert err.value.field == field and err.value.exit_status == 2


def test_baselines_and_register_check_ids_derive_from_the_catalog():
    from gcevidence import config, exceptions_register

    catalog = load_catalog()
    assert config.BASELINES == tuple(catalog.baselines) == config.baseline_ids()
    assert frozenset(catalog.checks) == exceptions_register.CONTRACT_CHECK_IDS


@pytest.mark.parametrize(
    "name, value",
    [
        ("dormant_dayz", 30),
        ("dormant_days", "30"),
        ("dormant_days", -1),
        ("dormant_days", None),  # only a nullable threshold may be null
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


# --- schema errors: each names the file, the key path and the value ---------------------------


MFA = (
    "  auth.mfa_required:\n"
    "    title: Multi-factor authentication is required for everyone who signs in\n"
)
BAD_CATALOG = [
    # (file, text, replacement, key path, value, words of the problem)
    (
        "checks.yaml",
        MFA + "    severity: high\n",
        MFA + "    severity: hgh\n",
        'checks["auth.mfa_required"].severity',
        "hgh",
        "is not a severity",
    ),
    (
        "checks.yaml",
        MFA + "    severity: high\n",
        MFA + "    severity: high\n    sevrity: high\n",
        'checks["auth.mfa_required"].sevrity',
        "high",
        "unknown key",
    ),
    (
        "checks.yaml",
        MFA + "    severity: high\n",
        MFA,
        'checks["auth.mfa_required"].severity',
        None,
        "missing",
    ),
    (
        "checks.yaml",
        "    datasets: [auth_settings]\n    thresholds: [mfa_required]\n",
        "    datasets: [auth_setings]\n    thresholds: [mfa_required]\n",
        'checks["auth.mfa_required"].datasets[0]',
        "auth_setings",
        "is not a dataset",
    ),
    (
        "checks.yaml",
        "    thresholds: [mfa_required]\n",
        "    thresholds: [mfa_requird]\n",
        'checks["auth.mfa_required"].thresholds[0]',
        "mfa_requird",
        "is not a threshold declared in baselines.yaml",
    ),
    (
        "checks.yaml",
        MFA + "    severity: high\n    paper: A09_access_control\n",
        MFA + "    severity: high\n    paper: A09_acces_control\n",
        'checks["auth.mfa_required"].paper',
        "A09_acces_control",
        "is not a working paper declared under papers",
    ),
    (
        "checks.yaml",
        MFA + "    severity: high\n    paper: A09_access_control\n",
        MFA + "    severity: high\n    paper: summary\n",
        'checks["auth.mfa_required"].paper',
        "summary",
        "the summary holds no check",
    ),
    (
        "checks.yaml",
        "  auth.mfa_required:\n",
        "  auth.MFA-required:\n",
        'checks["auth.MFA-required"]',
        "auth.MFA-required",
        "is not a check id",
    ),
    (
        "checks.yaml",
        "    ref: A10\n",
        "    ref: A09\n",
        "papers[1].ref",
        "A09",
        "already used by papers[0]",
    ),
    (
        "checks.yaml",
        "    ref: A09-11\n",
        "    ref: A10-11\n",
        'checks["auth.mfa_required"].ref',
        "A10-11",
        "does not start with the ref of its paper A09_access_control (A09)",
    ),
    (
        "checks.yaml",
        "    ref: A09-11\n",
        "    ref: A09-3\n",
        'checks["auth.mfa_required"].ref',
        "A09-3",
        "already the ref of access.orphan_accounts",
    ),
    (
        "checks.yaml",
        "    ref: A09-11\n",
        "    ref: A09.11\n",
        'checks["auth.mfa_required"].ref',
        "A09.11",
        "is not a working-paper reference",
    ),
    (
        "checks.yaml",
        "    ref: A09-11\n",
        "",
        'checks["auth.mfa_required"].ref',
        None,
        "missing",
    ),
    (
        "frameworks/soc2.yaml",
        '  "CC6.6":\n',
        '  "CC66":\n',
        "requirements.CC66",
        "CC66",
        "does not match the framework's id_pattern",
    ),
    (
        "frameworks/soc2.yaml",
        '  "CC6.6":\n    title: Protection against threats from outside the system boundary '
        "(MFA, protected channels)\n    checks:\n      - check: auth.mfa_required\n",
        '  "CC6.6":\n    title: Protection against threats from outside the system boundary '
        "(MFA, protected channels)\n    checks:\n      - check: auth.mfa_requried\n",
        'requirements["CC6.6"].checks[0].check',
        "auth.mfa_requried",
        "is not a check declared in checks.yaml",
    ),
    (
        "frameworks/soc2.yaml",
        "      - check: auth.mfa_required\n",
        "      - check: auth.mfa_required\n        rationle: typo\n",
        'requirements["CC6.1"].checks[2].rationle',
        "typo",
        "unknown key",
    ),
    (
        "frameworks/soc2.yaml",
        "      - check: auth.mfa_required\n        rationale: >-\n"
        "          A stronger authentication method, multi-factor, is required to sign in.\n",
        "      - check: auth.mfa_required\n",
        'requirements["CC6.1"].checks[2].rationale',
        None,
        "missing",
    ),
    (
        "frameworks/soc2.yaml",
        "          A stronger authentication method, multi-factor, is required to sign in.\n",
        "          \n",
        'requirements["CC6.1"].checks[2].rationale',
        "",
        "must be non-empty text",
    ),
    (
        "frameworks/soc2.yaml",
        "    title: Changes are authorised, tested, approved and implemented under control\n",
        "    title: Changes are authorised, tested, approved and implemented under control\n"
        "    genesys: Genesys runs the change process of the platform\n",
        'requirements["CC8.1"]',
        "title, genesys, checks",
        "give exactly one of checks, manual, genesys, organisation",
    ),
    (
        "frameworks/soc2.yaml",
        "report: true\n",
        "report: yes please\n",
        "report",
        "yes please",
        "must be of type boolean",
    ),
    (
        "frameworks/soc2.yaml",
        "id: soc2\n",
        "id: soc-2\n",
        "id",
        "soc-2",
        "must be the file name without .yaml (soc2)",
    ),
    (
        "frameworks/iso27001-2022.yaml",
        '  "8.15":\n',
        "  8.40:\n",
        'requirements["8.40"]',
        "8.40",
        'key is read as float 8.4, not text; quote it ("8.40")',
    ),
    (
        "frameworks/iso27001-2022.yaml",
        '  "5.14":\n',
        '  "5.3":\n',
        "line 92",
        "5.3",
        "key given twice (first on line 36)",
    ),
    (
        "frameworks/soc2.yaml",
        "id_pattern: '(CC[1-9]|A1|C1|PI1|P[1-8])\\.\\d+'\n",
        "id_pattern: '(CC[1-9]'\n",
        "id_pattern",
        "(CC[1-9]",
        "is not a regular expression",
    ),
    (
        "frameworks/iso27001-2013.yaml",
        '    "A.6.1.2": ["5.3"]\n',
        '    "A.6.1.2": ["A.5.3"]\n',
        'successor.correspondence["A.6.1.2"][0]',
        "A.5.3",
        "does not match the id_pattern of iso27001-2022",
    ),
    (
        "frameworks/iso27001-2013.yaml",
        "  framework: iso27001-2022\n",
        "  framework: iso27001-2023\n",
        "successor.framework",
        "iso27001-2023",
        "is not a loaded framework",
    ),
    (
        "baselines.yaml",
        '      dormant_days: {value: 45, source: "CIS v8 5.3"}\n',
        '      dormant_days: {value: "45", source: "CIS v8 5.3"}\n',
        "baselines.cis-v8.thresholds.dormant_days.value",
        "45",
        "must be of type integer",
    ),
    (
        "baselines.yaml",
        "    thresholds: [password_max_age_days]\n",
        "    thresholds: [password_max_age_dayz]\n",
        "conflicts[1].thresholds[0]",
        "password_max_age_dayz",
        "is not a threshold declared in baselines.yaml",
    ),
    ("checks.yaml", "papers:\n", "papers: [\n", "(file)", "checks.yaml", "is not valid YAML"),
]


@pytest.mark.parametrize(
    "name, old, new, field, value, problem", BAD_CATALOG, ids=[c[3] for c in BAD_CATALOG]
)
def test_a_catalog_typo_fails_at_load_naming_file_key_and_value(
    catalog_copy, name, old, new, field, value, problem
):
    root, edit = catalog_copy
    path = edit(name, old, new)
    with pytest.raises(CatalogError) as err:
        read_catalog(root)
    assert (err.value.file, err.value.field, err.value.value) == (str(path), field, value)
    assert problem in str(err.value)
    assert err.value.exit_status == 2
    line = str(err.value)
    assert "\n" not in line and line.startswith(f"{path}: {field}=")


def test_the_shipped_catalog_copied_loads_unchanged(catalog_copy):
    root, _ = catalog_copy
    copy, shipped = read_catalog(root), read_catalog(HERE)
    assert (copy.checks, copy.papers, copy.baselines) == (
        shipped.checks,
        shipped.papers,
        shipped.baselines,
    )
    assert [fw.requirements for fw in copy.frameworks.values()] == [
        fw.requirements for fw in shipped.frameworks.values()
    ]


def test_a_check_registered_without_a_catalog_entry_is_an_error_at_import():
    from gcevidence.checks.registry import REGISTRY, register_check

    with pytest.raises(CatalogError) as err:

        @register_check("auth.not_in_catalog")
        def not_in_catalog(ctx):  # pragma: no cover - never registered
            raise AssertionError

    assert err.value.field == 'checks["auth.not_in_catalog"]'
    assert err.value.file.endswith("checks.yaml")
    assert err.value.problem.startswith("missing, but test_catalog.")
    assert "not_in_catalog is registered under this id" in err.value.problem
    assert "auth.not_in_catalog" not in REGISTRY


def test_a_catalog_check_without_code_is_not_evaluable(tmp_path, monkeypatch):
    from gcevidence.checks import registry

    monkeypatch.delitem(registry.REGISTRY, "network.trunk_srtp")
    findings = {f.check: f for f in World(tmp_path).run_all()}
    srtp = findings["network.trunk_srtp"]
    assert srtp.status == "not_evaluable"
    assert srtp.reason == "this check is not implemented in this version"
    assert srtp.notebook == "A13_communications" and srtp.controls["pci-dss-4.0.1"] == ["4.2.1"]


# --- what derives from the catalog ------------------------------------------------------------


def test_framework_lists_derive_from_the_files():
    cat = load_catalog()
    files = sorted(p.stem for p in (HERE / "frameworks").glob("*.yaml"))
    assert sorted(FRAMEWORKS) == files
    assert FRAMEWORKS == (
        "iso27001-2013",
        "iso27001-2022",
        "soc2",
        "pci-dss-4.0.1",
        "nist-800-53r5",
        "cis-v8",
    )
    assert [fw.id for fw in reported_frameworks()] == list(FRAMEWORKS[:4])
    assert [fw.short for fw in reported_frameworks()] == [
        "ISO 27001:2013",
        "ISO 27001:2022",
        "SOC 2",
        "PCI DSS 4.0.1",
    ]
    assert cat.threshold_names == THRESHOLD_NAMES and "dormant_days" in THRESHOLD_NAMES


def test_registry_takes_paper_datasets_and_thresholds_from_the_catalog():
    from gcevidence.checks import REGISTRY

    cat = load_catalog()
    assert set(REGISTRY) == set(cat.checks)
    for cid, reg in REGISTRY.items():
        spec = cat.checks[cid]
        assert (reg.notebook, reg.needs, reg.allow_incomplete, reg.thresholds) == (
            spec.paper,
            spec.datasets,
            spec.allow_incomplete,
            spec.thresholds,
        )
    assert REGISTRY["logging.audit_completeness"].allow_incomplete is True
    assert REGISTRY["auth.password_policy"].thresholds[0] == "password_min_length"


def test_thresholds_a_check_reads_are_recorded_in_its_finding(tmp_path):
    findings = {f.check: f for f in World(tmp_path).run_all()}
    assert set(findings["crypto.key_rotation"].extra["thresholds"]) == {"key_cryptoperiod_days"}
    assert "thresholds" not in findings["network.trunk_tls"].extra


def test_permissions_derive_from_the_datasets():
    checks = load_catalog().checks
    assert checks["crypto.key_rotation"].permissions == ("recording:encryptionKey:view",)
    assert checks["access.privileged_outside_group"].permissions == ("authorization:role:view",)
    assert checks["access.terminated_active"].permissions == ()  # users need no extra one
    for spec in checks.values():
        assert set(spec.permissions) == {SPECS[d].permission for d in spec.datasets} - {""}


def test_papers_and_the_pipelines_notebooks_derive_from_the_catalog():
    cat = load_catalog()
    assert [(p.notebook, p.ref) for p in cat.papers] == [
        ("A09_access_control", "A09"),
        ("A10_cryptography", "A10"),
        ("A12_logging_monitoring", "A12"),
        ("A13_communications", "A13"),
        ("summary", "SUM"),
    ]
    assert cat.summary_paper.notebook == "summary" and cat.papers[-1] == cat.summary_paper
    for paper in cat.papers:
        assert (ROOT / "notebooks" / f"{paper.notebook}.ipynb").is_file(), paper
    assert {c.paper for c in cat.checks.values()} == {p.notebook for p in cat.family_papers()}
    assert not cat.checks_of("summary")


def test_csv_has_a_column_per_catalog_framework(tmp_path):
    from gcevidence.findings_files import csv_columns, write_findings_csv

    columns = csv_columns()
    assert columns[7:13] == FRAMEWORKS and columns[:4] == ("ref", "check", "title", "status")
    findings = World(tmp_path).run_all()
    path = write_findings_csv(tmp_path / "findings.csv", findings)
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    mfa = next(r for r in rows if r["check"] == "auth.mfa_required")
    assert mfa["nist-800-53r5"] == "IA-2(1); IA-2(2)" and mfa["cis-v8"] == "6.3; 6.5"
    assert mfa["ref"] == "A09-11"


def test_readme_check_table_equals_the_catalog():
    table = check_table()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert table in readme, "README.md's check table differs from the catalog; paste:\n" + table
    assert len(table.strip().splitlines()) == 2 + len(load_catalog().checks)


# --- the roll-up ------------------------------------------------------------------------------


def _finding(check: str, status: str, controls: dict[str, list[str]]) -> Finding:
    return Finding(check, check, status, "high", controls, 1, (), (), "A09_access_control", "")


def test_worst_ranks_fail_over_not_evaluable_over_pass():
    assert worst([]) == "pass"
    assert worst(["pass", "pass"]) == "pass"
    assert worst(["pass", "not_evaluable", "pass"]) == "not_evaluable"
    assert worst(["not_evaluable", "fail", "pass"]) == "fail"
    assert worst(["pass", "something odd"]) == "not_evaluable"  # never a silent pass


def test_roll_up_gives_each_control_the_worst_result_of_its_checks():
    findings = [
        _finding("a.one", "pass", {"soc2": ["CC6.1", "CC6.10"], "pci-dss-4.0.1": ["8.2.5"]}),
        _finding("a.two", "not_evaluable", {"soc2": ["CC6.1", "CC6.2"]}),
        _finding("a.three", "fail", {"soc2": ["CC6.2"], "legacy-fw": ["X-1"]}),
    ]
    rolled = roll_up(findings)
    assert list(rolled)[: len(FRAMEWORKS)] == list(FRAMEWORKS)
    assert list(rolled["soc2"]) == ["CC6.1", "CC6.2", "CC6.10"]  # natural order
    cc61, cc62 = rolled["soc2"]["CC6.1"], rolled["soc2"]["CC6.2"]
    assert (cc61.status, cc61.checks) == ("not_evaluable", ("a.one", "a.two"))
    assert (cc62.status, cc62.checks) == ("fail", ("a.two", "a.three"))
    assert cc61.title.startswith("Logical access security")
    assert rolled["pci-dss-4.0.1"]["8.2.5"].status == "pass"
    assert rolled["legacy-fw"]["X-1"].title == ""  # a framework the catalog no longer has
    assert rolled["cis-v8"] == {}
    assert roll_up([f.to_dict() for f in findings]) == rolled


def test_summary_index_and_oscal_use_the_one_roll_up(tmp_path):
    from gcevidence.oscal import control_token, write_assessment_results
    from gcevidence.report.sections import status_matrix_html

    world = World(tmp_path)
    world.data["auth_settings"]["multifactorAuthenticationRequired"] = False
    world.data["trunks"] = DENIED
    findings = world.run_all()
    rolled = roll_up(findings)
    html = status_matrix_html(findings)
    assert ROLLUP_LABEL in html and "requirement fails" not in html
    failing = ", ".join(c for c, r in rolled["iso27001-2022"].items() if r.status == "fail")
    assert "8.5" in failing and failing in html
    doc = _findings_doc(world, findings)
    oscal = _oscal_states(write_assessment_results(doc, tmp_path))
    for fw, results in rolled.items():
        for control, result in results.items():
            state = oscal.pop(control_token(fw, control))
            assert state == ("satisfied" if result.status == "pass" else "not-satisfied")
    # what is left are the requirements no check covers, never satisfied (the coverage matrix)
    untested = {
        control_token(fw.id, r.id)
        for fw in load_catalog().frameworks.values()
        for r in fw.requirements.values()
        if r.coverage != "checks"
    }
    assert set(oscal) == untested and set(oscal.values()) == {"not-satisfied"}


def _findings_doc(world: World, findings: list[Finding]) -> dict:
    from gcevidence.findings_files import findings_document

    run = {
        "id": "060000Z-ab12",
        "generated_at": "2026-11-30T06:00:00Z",
        "period": {"start": "2026-11-20T00:00:00Z", "end": "2026-11-30T23:59:59Z"},
        "org": {"id": "org-1", "name": "Test Org"},
        "baseline": "pci-dss-4.0.1",
        "tool_version": "0.1.0",
    }
    return json.loads(json.dumps(findings_document(run, world.ctx().snapshot, findings)))


def _oscal_states(path: Path) -> dict[str, str]:
    result = json.loads(path.read_text(encoding="utf-8"))["assessment-results"]["results"][0]
    return {f["target"]["target-id"]: f["target"]["status"]["state"] for f in result["findings"]}


# --- adding a framework is one data file ------------------------------------------------------

THROWAWAY = """\
schema: gcevidence.catalog.framework/1
id: acme-isms
label: ACME information security policy 2026
short: ACME ISMS
id_pattern: 'ACME-\\d{2}'
report: true
requirements:
  ACME-01:
    title: Leavers lose access on their last day
    checks:
      - check: access.terminated_active
        rationale: the policy's leaver rule, tested against the HR roster
      - check: access.deprovision_latency
        rationale: the policy allows one working day
  ACME-02:
    title: MFA for everyone
    checks:
      - check: auth.mfa_required
        rationale: the policy asks for MFA on every sign-in
        condition: where people sign in with Genesys login
  ACME-03:
    title: Visitors sign the book
    manual: Inspect the reception visitor book for the period.
"""


def test_a_throwaway_framework_file_reaches_findings_csv_matrix_and_oscal(tmp_path, monkeypatch):
    from gcevidence.findings_files import write_findings_csv
    from gcevidence.oscal import write_assessment_results
    from gcevidence.report.sections import status_matrix_html

    extra = tmp_path / "frameworks"
    extra.mkdir()
    (extra / "acme-isms.yaml").write_text(THROWAWAY, encoding="utf-8")
    monkeypatch.setenv(EXTRA_FRAMEWORKS_ENV, str(extra))

    cat = load_catalog()
    assert cat.framework_ids[-1] == "acme-isms" and "acme-isms" in gcevidence.catalog.FRAMEWORKS
    assert cat.frameworks["acme-isms"].requirements["ACME-03"].coverage == "manual"
    assert [fw.short for fw in reported_frameworks()][-1] == "ACME ISMS"
    mapping = cat.checks["access.terminated_active"].mappings[-1]
    assert (mapping.framework, mapping.control, mapping.rationale) == (
        "acme-isms",
        "ACME-01",
        "the policy's leaver rule, tested against the HR roster",
    )

    world = World(tmp_path)
    world.data["auth_settings"]["multifactorAuthenticationRequired"] = False
    findings = world.run_all()
    by_check = {f.check: f for f in findings}
    doc = _findings_doc(world, findings)  # findings.json
    controls = {f["check"]: f["controls"]["acme-isms"] for f in doc["findings"]}
    assert controls["access.terminated_active"] == ["ACME-01"]
    assert controls["auth.mfa_required"] == ["ACME-02"] and controls["network.trunk_tls"] == []

    with write_findings_csv(tmp_path / "findings.csv", findings).open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["check"]: r["acme-isms"] for r in rows}["access.deprovision_latency"] == "ACME-01"

    html = status_matrix_html(findings)
    assert "ACME ISMS" in html and "ACME-02" in html  # a column, and the failing requirement
    assert by_check["auth.mfa_required"].status == "fail"

    states = _oscal_states(write_assessment_results(doc, tmp_path))
    assert states["acme-isms_ACME-01"] == "satisfied"
    assert states["acme-isms_ACME-02"] == "not-satisfied"

    monkeypatch.delenv(EXTRA_FRAMEWORKS_ENV)
    assert "acme-isms" not in load_catalog().frameworks  # the shipped catalog is untouched


def test_an_extra_framework_may_not_redefine_a_shipped_one(tmp_path):
    extra = tmp_path / "fw"
    extra.mkdir()
    (extra / "soc2.yaml").write_text((HERE / "frameworks" / "soc2.yaml").read_text())
    with pytest.raises(CatalogError) as err:
        load_catalog([extra])
    assert err.value.file == str(extra.resolve() / "soc2.yaml") and err.value.field == "id"
    assert "already defined" in err.value.problem


def test_an_extra_framework_dir_that_does_not_exist_is_named(tmp_path):
    with pytest.raises(CatalogError) as err:
        load_catalog([tmp_path / "nope"])
    assert err.value.field == "(directory)" and "nope" in err.value.file


# --- start-up cost ----------------------------------------------------------------------------


def test_importing_the_cli_and_the_catalog_reads_no_catalog_file():
    code = (
        "import sys, gcevidence.cli, gcevidence.catalog, gcevidence.run_commands\n"
        "from gcevidence.catalog.load import _cached\n"
        "assert _cached.cache_info().currsize == 0\n"
        "assert 'jsonschema' not in sys.modules, 'jsonschema imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_a_broken_framework_file_stops_the_cli_with_one_line_and_exit_2(tmp_path):
    extra = tmp_path / "frameworks"
    extra.mkdir()
    bad = extra / "acme-isms.yaml"
    bad.write_text(THROWAWAY.replace("check: auth.mfa_required", "check: auth.mfa_requird"))
    env = {
        **os.environ,
        EXTRA_FRAMEWORKS_ENV: str(extra),
        "GENESYSCLOUD_OAUTHCLIENT_ID": "client",
        "GENESYSCLOUD_OAUTHCLIENT_SECRET": "secret",
    }
    out = tmp_path / "out"
    cmd = [
        sys.executable,
        "-m",
        "gcevidence",
        "run",
        "--params",
        str(ROOT / "params" / "demo.yaml"),
    ]
    proc = subprocess.run(
        [*cmd, "--out", str(out)], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2, proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith(f"gcevidence: error: {bad.resolve()}: ")
    assert "requirements.ACME-02.checks[0].check='auth.mfa_requird'" in last
    assert not out.exists()
