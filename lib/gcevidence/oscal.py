"""The run as an OSCAL assessment-results document (findings.oscal.json), via compliance-trestle.

One observation per check (method TEST, type discovery, titled and tagged with its working-paper
ref) with the failing subjects and the pack files it rests on; one OSCAL finding per framework
control, from the catalog's roll-up: satisfied only when every automated test mapped to it
passed (not_evaluable is never satisfied); its remarks give each mapped test's rationale and
condition. UUIDs are uuid5 of the run id and the object's ids, so rendering the same
findings.json twice gives the same document.

The requirements no check covers (the coverage matrix: manual, genesys, organisation) are
findings too, so the document accounts for every requirement in scope. Each is not-satisfied
with reason `other` and its procedure, attestation or outside evidence as the remarks: the
tool did not assess them. A Genesys row is not marked satisfied "by inheritance": OSCAL states
inheritance in a system security plan (`inherited` / `provided` under by-components), which a
pack does not hold, and satisfied in assessment results is an assessor's conclusion that
nobody reached by reading Genesys' attestation here.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from pathlib import Path
from typing import Any

from trestle.oscal import OSCAL_VERSION, common
from trestle.oscal import assessment_plan as oscal_ap
from trestle.oscal import assessment_results as oscal_ar

from gcevidence.catalog import ROLLUP_LABEL, ControlResult, Requirement, load_catalog, roll_up
from gcevidence.errors import PackError

AR_FILE = "findings.oscal.json"
AP_FILE = "assessment-plan.oscal.json"
# The OSCAL versions whose assessment-results schema the trestle models we build with follow.
# trestle itself does not enforce oscal-version (strict_version=False), so we do.
SUPPORTED_OSCAL_VERSIONS = ("1.1.2", "1.1.3", "1.2.0", "1.2.1")
NS = "https://github.com/gcevidence/gcevidence/ns/oscal"
_UUID_NS = uuid.uuid5(uuid.NAMESPACE_URL, NS)
_NOT_TOKEN = re.compile(r"[^\w.\-]", re.ASCII)


def check_oscal_version(version: str) -> str:
    """Refuse an oscal-version we do not write or read (trestle would accept any)."""
    if version not in SUPPORTED_OSCAL_VERSIONS:
        raise PackError(
            f"oscal-version {version!r} is not supported; "
            f"use one of {', '.join(SUPPORTED_OSCAL_VERSIONS)}"
        )
    return version


def control_token(framework: str, control_id: str) -> str:
    """An OSCAL token for a framework's control id ("8.2.5" alone may not start a token)."""
    return _NOT_TOKEN.sub("-", f"{framework}_{control_id}")


def _uuid(run_id: str, *parts: str) -> str:
    return str(uuid.uuid5(_UUID_NS, "/".join((run_id, *parts))))


def _time(text: str) -> dt.datetime:
    """An aware UTC time from ISO-8601 text; a bare date or a time without zone counts as UTC."""
    t = dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def _prop(name: str, value: object) -> common.Property:
    return common.Property(name=name, value=str(value) or "-", ns=NS)


def write_assessment_results(
    findings_doc: dict[str, Any], pack_dir: Path, oscal_version: str = OSCAL_VERSION
) -> Path:
    """Write findings.oscal.json (and its stub assessment plan) into pack_dir; return its path."""
    check_oscal_version(oscal_version)
    pack_dir = Path(pack_dir)
    run = findings_doc["run"]
    run_id, when = run["id"], _time(run["generated_at"])
    findings = findings_doc["findings"]
    org = run.get("org") or {}
    rolled = {fw: results for fw, results in roll_up(findings).items() if results}
    # A control the findings already roll up (a pack sealed under an older catalog) keeps that.
    untested = {
        fw: [r for r in reqs if r.id not in rolled.get(fw, {})]
        for fw, reqs in _untested_requirements().items()
    }
    selections = [
        common.ControlSelections(
            description=f"{_label(framework)} controls tested by gcevidence checks",
            include_controls=[
                common.SelectControlById(control_id=control_token(framework, c)) for c in results
            ],
        )
        for framework, results in rolled.items()
    ]
    selections += [
        common.ControlSelections(
            description=f"{_label(framework)} controls no check covers (manual procedure, "
            "Genesys' attestation, or evidenced outside the tenant)",
            include_controls=[
                common.SelectControlById(control_id=control_token(framework, r.id)) for r in reqs
            ],
        )
        for framework, reqs in untested.items()
    ]
    reviewed = common.ReviewedControls(
        control_selections=selections
        or [common.ControlSelectionsAll(include_all=common.IncludeAll())]
    )

    tool_uuid = _uuid(run_id, "component", "gcevidence")
    tool = common.SystemComponent(
        uuid=tool_uuid,
        type="software",
        title="gcevidence",
        description=f"gcevidence {run.get('tool_version', '')}: automated evidence collection "
        "and testing against the Genesys Cloud API",
        status=common.Status(state="operational"),
    )
    origin = common.Origin(actors=[common.OriginActor(type="tool", actor_uuid=tool_uuid)])

    _write_plan(run, pack_dir, reviewed, oscal_version)
    users: dict[str, common.SystemUser] = {}
    resources: dict[str, common.Resource] = {}
    observations, obs_by_check = [], {}
    for f in findings:
        obs = _observation(run_id, when, f, origin, users, resources)
        observations.append(obs)
        obs_by_check[f["check"]] = obs.uuid

    by_check = {f["check"]: f for f in findings}
    oscal_findings = [
        _control_finding(run_id, result, by_check, obs_by_check, origin)
        for results in rolled.values()
        for result in results.values()
    ]
    oscal_findings += [
        _coverage_finding(run_id, req, origin) for reqs in untested.values() for req in reqs
    ]

    result = oscal_ar.Result(
        uuid=_uuid(run_id, "result"),
        title=f"gcevidence run {run_id}",
        description=(
            f"Automated assessment of Genesys Cloud org {org.get('name', '')} "
            f"({org.get('id', '')}), baseline {run.get('baseline', '')}, period "
            f"{run['period']['start']} to {run['period']['end']}"
        ),
        start=_time(run["period"]["start"]),
        end=_time(run["period"]["end"]),
        props=[_prop("run-id", run_id), _prop("baseline", run.get("baseline", ""))],
        local_definitions=oscal_ar.LocalDefinitions1(
            components=[tool], users=sorted(users.values(), key=lambda u: u.uuid) or None
        ),
        reviewed_controls=reviewed,
        observations=observations or None,
        findings=oscal_findings or None,
    )
    doc = oscal_ar.AssessmentResults(
        uuid=_uuid(run_id, "assessment-results"),
        metadata=_metadata(
            f"gcevidence assessment results, run {run_id}", run, when, oscal_version
        ),
        import_ap=oscal_ar.ImportAp(href=AP_FILE),
        results=[result],
        back_matter=common.BackMatter(resources=sorted(resources.values(), key=lambda r: r.uuid))
        if resources
        else None,
    )
    path = pack_dir / AR_FILE
    doc.oscal_write(path)
    return path


def read_assessment_results(path: Path) -> oscal_ar.AssessmentResults:
    """Parse and validate a findings.oscal.json, including the oscal-version trestle ignores."""
    doc = oscal_ar.AssessmentResults.oscal_read(Path(path))
    if doc is None:
        raise PackError(f"{path}: not an OSCAL assessment-results document")
    check_oscal_version(
        json.loads(Path(path).read_text(encoding="utf-8"))["assessment-results"]["metadata"][
            "oscal-version"
        ]
    )
    return doc


def _metadata(title: str, run: dict, when: dt.datetime, oscal_version: str) -> common.Metadata:
    return common.Metadata(
        title=title,
        last_modified=when,
        version=run.get("tool_version") or "0",
        oscal_version=oscal_version,
    )


def _write_plan(
    run: dict, pack_dir: Path, reviewed: common.ReviewedControls, oscal_version: str
) -> Path:
    """A minimal assessment plan so import-ap resolves inside the pack."""
    plan = oscal_ap.AssessmentPlan(
        uuid=_uuid(run["id"], "assessment-plan"),
        metadata=_metadata(
            f"gcevidence assessment plan, run {run['id']}",
            run,
            _time(run["generated_at"]),
            oscal_version,
        ),
        import_ssp=common.ImportSsp(href="#"),
        reviewed_controls=reviewed,
    )
    path = pack_dir / AP_FILE
    plan.oscal_write(path)
    return path


def _label(framework: str) -> str:
    """The framework's display name from the catalog (its id when the catalog lacks it)."""
    fw = load_catalog().frameworks.get(framework)
    return fw.label if fw else framework


def _observation(
    run_id: str, when: dt.datetime, f: dict, origin: common.Origin, users: dict, resources: dict
) -> common.Observation:
    subjects = []
    for e in f["exceptions"]:
        key = f"{e['subject_type']}:{e['subject_id']}"
        subject_uuid = _uuid(run_id, "subject", key)
        if e["subject_type"] == "user":
            kind = "user"
            users.setdefault(
                subject_uuid,
                common.SystemUser(
                    uuid=subject_uuid,
                    title=e["subject_name"] or e["subject_id"],
                    props=[_prop("genesys-user-id", e["subject_id"])],
                ),
            )
        else:
            kind = "resource"
            resources.setdefault(
                subject_uuid,
                common.Resource(
                    uuid=subject_uuid,
                    title=e["subject_name"] or e["subject_id"],
                    description=f"{e['subject_type']} {e['subject_id']}",
                    props=[_prop("subject-type", e["subject_type"])],
                ),
            )
        remarks = e["detail"]
        if e.get("event_ids"):
            remarks += f" (audit events: {', '.join(e['event_ids'])})"
        if e.get("accepted"):
            a = e["accepted"]
            remarks += (
                f" (risk accepted by {a['approved_by']} on {a['approved_on']}, "
                f"expires {a['expires']}: {a['reason']})"
            )
        subjects.append(
            common.SubjectReference(
                subject_uuid=subject_uuid,
                type=kind,
                title=e["subject_name"] or e["subject_id"],
                remarks=remarks,
            )
        )
    evidence = [
        common.RelevantEvidence(href=path, description=f"Dataset {path} in this pack")
        for path in f.get("evidence") or []
    ]
    evidence.append(
        common.RelevantEvidence(
            href=f"{f['notebook']}.html", description=f"Rendered notebook {f['notebook']}"
        )
    )
    ref = f.get("ref") or _ref(f["check"])
    return common.Observation(
        uuid=_uuid(run_id, "observation", f["check"]),
        title=f"{ref} {f['title']}".strip(),
        description=f"{ref} {f['check']}: {f['status']}. {f['reason']}".strip(),
        props=[
            _prop("check-id", f["check"]),
            _prop("wp-ref", ref),
            _prop("status", f["status"]),
            _prop("severity", f["severity"]),
            _prop("population", "" if f.get("population") is None else f["population"]),
            _prop("exceptions", len(f["exceptions"])),
        ],
        methods=["TEST"],
        types=["discovery"],
        origins=[origin],
        subjects=subjects or None,
        relevant_evidence=evidence,
        collected=when,
    )


def _control_finding(
    run_id: str,
    result: ControlResult,
    by_check: dict[str, dict],
    obs_by_check: dict[str, str],
    origin: common.Origin,
) -> common.Finding:
    framework, control_id = result.framework, result.control
    related = [by_check[c] for c in result.checks]
    satisfied = result.status == "pass"
    reason = {"pass": "pass", "fail": "fail"}.get(result.status, "other")
    summary = "; ".join(f"{f['check']} {f['status']}" for f in related)
    remarks = None
    if any(f["status"] == "not_evaluable" for f in related):
        remarks = "Not satisfied because at least one check could not be evaluated: " + "; ".join(
            f"{f['check']}: {f['reason']}" for f in related if f["status"] == "not_evaluable"
        )
    title = f": {result.title}" if result.title else ""
    mapped = _mapping_remarks(framework, control_id, related)
    return common.Finding(
        uuid=_uuid(run_id, "finding", framework, control_id),
        title=f"{framework} {control_id}",
        description=(
            f"Control {control_id}{title} of {_label(framework)}; {ROLLUP_LABEL}: {summary}"
        ),
        props=[
            _prop("framework", framework),
            _prop("control-label", control_id),
            _prop("coverage", "checks"),
        ],
        origins=[origin],
        target=common.FindingTarget(
            type="objective-id",
            target_id=control_token(framework, control_id),
            status=common.ObjectiveStatus(
                state="satisfied" if satisfied else "not-satisfied", reason=reason, remarks=remarks
            ),
        ),
        related_observations=[
            common.RelatedObservation(observation_uuid=obs_by_check[f["check"]]) for f in related
        ],
        remarks=mapped or None,
    )


# How each coverage without a check reads in a finding's remarks.
_COVERAGE_LEAD = {
    "manual": "Manual procedure for the auditor (no check covers it)",
    "genesys": "Genesys' responsibility, covered by its attestation",
    "organisation": "Organisational: evidenced outside the Genesys Cloud tenant",
}


def _untested_requirements() -> dict[str, list[Requirement]]:
    """framework -> its requirements covered by a manual procedure, Genesys or the organisation."""
    found = {}
    for fid, fw in load_catalog().frameworks.items():
        reqs = [r for r in fw.requirements.values() if r.coverage in _COVERAGE_LEAD]
        if reqs:
            found[fid] = reqs
    return found


def _coverage_finding(run_id: str, req: Requirement, origin: common.Origin) -> common.Finding:
    """A requirement no check covers: not satisfied (not assessed here), reason other."""
    lead = _COVERAGE_LEAD[req.coverage]
    return common.Finding(
        uuid=_uuid(run_id, "finding", req.framework, req.id),
        title=f"{req.framework} {req.id}",
        description=f"Control {req.id}: {req.title} of {_label(req.framework)}; {lead}.",
        props=[
            _prop("framework", req.framework),
            _prop("control-label", req.id),
            _prop("coverage", req.coverage),
        ],
        origins=[origin],
        target=common.FindingTarget(
            type="objective-id",
            target_id=control_token(req.framework, req.id),
            status=common.ObjectiveStatus(
                state="not-satisfied", reason="other", remarks=f"{lead}: {req.coverage_text}"
            ),
        ),
        remarks=req.coverage_text,
    )


def _ref(check: str) -> str:
    spec = load_catalog().checks.get(check)
    return spec.ref if spec else ""


def _mapping_remarks(framework: str, control_id: str, related: list[dict]) -> str:
    """Why each test is mapped to the control (and when only under a condition), one per line."""
    fw = load_catalog().frameworks.get(framework)
    req = fw.requirements.get(control_id) if fw else None
    mappings = {m.check: m for m in (req.checks if req else ())}
    lines = []
    for f in related:
        m = mappings.get(f["check"])
        if m is None:
            continue  # a pack sealed under another catalog: its mapping is not ours to explain
        ref = f.get("ref") or _ref(f["check"])
        line = f"{ref} {f['check']}: {m.rationale}"
        if m.condition:
            line += f" Applies only under a condition: {m.condition}"
        lines.append(line)
    return "\n".join(lines)
