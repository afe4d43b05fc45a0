"""findings.oscal.json: valid under compliance-trestle, stable, and oscal-version checked by us."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from gcevidence.catalog import load_catalog
from gcevidence.errors import PackError
from gcevidence.oscal import (
    AP_FILE,
    check_oscal_version,
    control_token,
    read_assessment_results,
    write_assessment_results,
)
from trestle.oscal.assessment_plan import AssessmentPlan
from trestle.oscal.assessment_results import AssessmentResults

TRESTLE = Path(sys.executable).with_name("trestle")


def findings_doc() -> dict:
    controls = {
        "iso27001-2013": ["A.9.2.6"],
        "iso27001-2022": ["5.18"],
        "soc2": ["CC6.2"],
        "pci-dss-4.0.1": ["8.2.5"],
    }
    return {
        "schema": "gcevidence.findings/1",
        "run": {
            "id": "060000Z-ab12",
            "generated_at": "2026-11-30T06:00:00Z",
            "period": {"start": "2026-09-01T00:00:00Z", "end": "2026-11-30T23:59:59Z"},
            "org": {"id": "org-1", "name": "Acme <Contact> Centre"},
            "region": "us-east-1",
            "api_base_url": "http://127.0.0.1:1",
            "client_id": "c",
            "baseline": "pci-dss-4.0.1",
            "tool_version": "0.1.0",
        },
        "datasets": [],
        "findings": [
            {
                "check": "access.terminated_active",
                "title": "Terminated people still active",
                "status": "fail",
                "severity": "high",
                "controls": controls,
                "population": 3,
                "exceptions": [
                    {
                        "subject_type": "user",
                        "subject_id": "u1",
                        "subject_name": "=cmd|' /C calc'!A0",
                        "detail": "terminated 2026-10-02, still active",
                    },
                    {
                        "subject_type": "user",
                        "subject_id": "u2",
                        "subject_name": "Bob",
                        "detail": "terminated 2026-10-03, still active",
                        "accepted": {
                            "reason": "legal hold",
                            "approved_by": "CISO",
                            "approved_on": "2026-10-05",
                            "expires": "2027-01-01",
                        },
                    },
                ],
                "evidence": ["evidence/users.csv", "evidence/hr_roster.csv"],
                "notebook": "A09_access_control",
                "reason": "2 terminated people active",
            },
            {
                "check": "network.trunk_tls",
                "title": "Trunks use TLS",
                "status": "pass",
                "severity": "high",
                "controls": {"pci-dss-4.0.1": ["4.2.1"], "soc2": ["CC6.7"]},
                "population": 2,
                "exceptions": [],
                "evidence": ["evidence/trunks.csv"],
                "notebook": "A13_communications",
                "reason": "all 2 external trunks use TLS",
            },
            {
                "check": "crypto.key_rotation",
                "title": "Key rotation",
                "status": "fail",
                "severity": "medium",
                "controls": {"pci-dss-4.0.1": ["3.6.1"]},
                "population": 1,
                "exceptions": [
                    {
                        "subject_type": "key",
                        "subject_id": "k1",
                        "subject_name": "key 1",
                        "detail": "older than 365 days",
                    }
                ],
                "evidence": ["evidence/recording_keys.csv"],
                "notebook": "A10_cryptography",
                "reason": "rotation overdue",
            },
            {
                "check": "auth.mfa_required",
                "title": "MFA",
                "status": "not_evaluable",
                "severity": "high",
                "controls": {"soc2": ["CC6.7"]},
                "population": None,
                "exceptions": [],
                "evidence": [],
                "notebook": "A09_access_control",
                "reason": "missing permission directory:organization:admin",
            },
        ],
    }


@pytest.fixture()
def written(tmp_path):
    return write_assessment_results(findings_doc(), tmp_path)


def test_document_is_valid_under_trestle_model_and_cli(written):
    assert written.name == "findings.oscal.json"
    doc = AssessmentResults.oscal_read(written)
    assert doc is not None and read_assessment_results(written) is not None
    plan = AssessmentPlan.oscal_read(written.parent / AP_FILE)
    assert plan is not None and doc.import_ap.href == AP_FILE
    for path, model in (
        (written, "assessment-results"),
        (written.parent / AP_FILE, "assessment-plan"),
    ):
        proc = subprocess.run(
            [str(TRESTLE), "partial-object-validate", "-f", str(path), "-e", model],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=written.parent,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr


def test_document_passes_trestles_full_validators_in_a_workspace(tmp_path, written):
    workspace = tmp_path / "ws"
    workspace.mkdir()
    run = {"capture_output": True, "text": True, "timeout": 120, "cwd": workspace}
    assert subprocess.run([str(TRESTLE), "init"], **run).returncode == 0
    target = workspace / "assessment-results" / "run" / "assessment-results.json"
    target.parent.mkdir(parents=True)
    target.write_bytes(written.read_bytes())
    proc = subprocess.run([str(TRESTLE), "validate", "-f", str(target)], **run)
    assert proc.returncode == 0 and "VALID" in proc.stdout, proc.stdout + proc.stderr
    # (trestle's link check warns that back-matter resources are "not referenced": it only
    # recognises version-4 UUIDs in references, and ours are deterministic version-5 ones)


def test_observations_and_control_findings_carry_what_an_assessor_needs(written):
    raw = json.loads(written.read_text())["assessment-results"]
    assert raw["metadata"]["oscal-version"] == "1.2.1"
    [result] = raw["results"]
    obs = {o["props"][0]["value"]: o for o in result["observations"]}
    term = obs["access.terminated_active"]
    # cited by its working-paper ref, as in the papers, findings.json and findings.csv
    assert term["props"][1] == {"name": "wp-ref", "value": "A09-1", "ns": term["props"][1]["ns"]}
    assert term["title"].startswith("A09-1 ")
    assert term["methods"] == ["TEST"] and term["types"] == ["discovery"]
    assert term["collected"].startswith("2026-11-30T06:00:00")
    assert [s["type"] for s in term["subjects"]] == ["user", "user"]
    assert "risk accepted by CISO" in term["subjects"][1]["remarks"]
    assert [e["href"] for e in term["relevant-evidence"]] == [
        "evidence/users.csv",
        "evidence/hr_roster.csv",
        "A09_access_control.html",
    ]
    assert obs["crypto.key_rotation"]["subjects"][0]["type"] == "resource"
    # every subject points at something defined in the document
    users = {u["uuid"] for u in result["local-definitions"]["users"]}
    resources = {r["uuid"] for r in raw["back-matter"]["resources"]}
    for o in result["observations"]:
        for s in o.get("subjects", []):
            assert s["subject-uuid"] in (users if s["type"] == "user" else resources)

    def coverage(f: dict) -> str:
        return next(p["value"] for p in f["props"] if p["name"] == "coverage")

    every = {f["target"]["target-id"]: f for f in result["findings"]}
    by_target = {t: f for t, f in every.items() if coverage(f) == "checks"}
    assert set(by_target) == {
        "iso27001-2013_A.9.2.6",
        "iso27001-2022_5.18",
        "soc2_CC6.2",
        "soc2_CC6.7",
        "pci-dss-4.0.1_8.2.5",
        "pci-dss-4.0.1_4.2.1",
        "pci-dss-4.0.1_3.6.1",
    }
    for f in result["findings"]:
        assert f["target"]["type"] == "objective-id"
        assert f["target"]["status"]["state"] in ("satisfied", "not-satisfied")
    assert by_target["pci-dss-4.0.1_4.2.1"]["target"]["status"]["state"] == "satisfied"
    assert by_target["pci-dss-4.0.1_8.2.5"]["target"]["status"] == {
        "state": "not-satisfied",
        "reason": "fail",
    }
    # CC6.7 is tested by a pass and a not_evaluable: never satisfied
    cc67 = by_target["soc2_CC6.7"]
    assert cc67["target"]["status"]["state"] == "not-satisfied"
    assert len(cc67["related-observations"]) == 2
    # each mapped test's rationale, and its condition, in the remarks (issue 12 §5)
    cat = load_catalog()
    pci = cat.frameworks["pci-dss-4.0.1"].requirements
    remarks = by_target["pci-dss-4.0.1_4.2.1"]["remarks"].splitlines()
    tls = next(m for m in pci["4.2.1"].checks if m.check == "network.trunk_tls")
    assert remarks[0] == (
        f"A13-1 network.trunk_tls: {tls.rationale} Applies only under a condition: {tls.condition}"
    )
    assert by_target["iso27001-2022_5.18"]["remarks"].startswith("A09-1 access.terminated_active: ")
    selected = {
        c["control-id"]
        for sel in result["reviewed-controls"]["control-selections"]
        for c in sel["include-controls"]
    }
    assert selected == set(every)  # the tested controls, and those no check covers


def test_rendering_twice_gives_the_same_document(tmp_path, written):
    (tmp_path / "again").mkdir()
    again = write_assessment_results(findings_doc(), tmp_path / "again")
    assert again.read_bytes() == written.read_bytes()


def test_oscal_version_is_checked_by_us(tmp_path, written):
    with pytest.raises(PackError, match="oscal-version"):
        write_assessment_results(findings_doc(), tmp_path, oscal_version="9.9.9")
    assert check_oscal_version("1.1.2") == "1.1.2"
    raw = json.loads(written.read_text())
    raw["assessment-results"]["metadata"]["oscal-version"] = "0.9"
    bad = tmp_path / "bad.oscal.json"
    bad.write_text(json.dumps(raw))
    assert AssessmentResults.oscal_read(bad) is not None  # trestle lets it through
    with pytest.raises(PackError, match="0.9"):
        read_assessment_results(bad)


def test_requirements_no_check_covers_are_findings_with_their_procedure(written):
    raw = json.loads(written.read_text())["assessment-results"]
    [result] = raw["results"]
    by_target = {f["target"]["target-id"]: f for f in result["findings"]}
    cat = load_catalog()
    expected = {
        control_token(fid, r.id): r
        for fid, fw in cat.frameworks.items()
        for r in fw.requirements.values()
        if r.coverage != "checks"
    }
    assert len(expected) > 200 and set(expected) <= set(by_target)
    for target, req in expected.items():
        f = by_target[target]
        props = {p["name"]: p["value"] for p in f["props"]}
        assert props["coverage"] == req.coverage and props["control-label"] == req.id
        assert f["target"]["status"]["state"] == "not-satisfied"
        assert f["target"]["status"]["reason"] == "other"  # not assessed: neither pass nor fail
        assert f["target"]["status"]["remarks"].endswith(req.coverage_text)
        assert f["remarks"] == req.coverage_text and "related-observations" not in f
    lockout = by_target["pci-dss-4.0.1_8.3.4"]
    assert lockout["target"]["status"]["remarks"].startswith("Manual procedure for the auditor")
    assert "30 minutes" in lockout["remarks"]
    genesys = by_target["pci-dss-4.0.1_12.9.1"]["target"]["status"]["remarks"]
    assert genesys.startswith("Genesys' responsibility") and "attestation of compliance" in genesys
    organisational = by_target["iso27001-2022_5.1"]["target"]["status"]["remarks"]
    assert organisational.startswith("Organisational: evidenced outside the Genesys Cloud tenant")
    # every requirement in scope of the four frameworks has exactly one finding
    titles = [f["title"] for f in result["findings"]]
    assert len(titles) == len(set(titles))
    for fid in ("iso27001-2013", "iso27001-2022", "soc2", "pci-dss-4.0.1"):
        fw = cat.frameworks[fid]
        tested = {c for c in fw.scope if fw.requirements[c].coverage == "checks"}
        untested = set(fw.scope) - tested
        assert {f"{fid}_{c}" for c in untested} <= set(by_target)


def test_a_control_the_findings_roll_up_is_never_also_a_coverage_finding(tmp_path):
    doc = findings_doc()
    # a pack sealed under an older catalog recorded a check on 8.3.4, manual today
    doc["findings"][1]["controls"]["pci-dss-4.0.1"].append("8.3.4")
    raw = json.loads(write_assessment_results(doc, tmp_path).read_text())["assessment-results"]
    hits = [
        f
        for f in raw["results"][0]["findings"]
        if f["target"]["target-id"] == "pci-dss-4.0.1_8.3.4"
    ]
    assert len(hits) == 1 and hits[0]["target"]["status"]["state"] == "satisfied"
