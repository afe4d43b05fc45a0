"""The working papers of a whole demo pack, read as an auditor reads them (HTML, CSV, OSCAL)."""

from __future__ import annotations

import csv
import hashlib
import html
import json
import re

from gcevidence.catalog import load_catalog
from test_pipeline import demo_pack  # noqa: F401  (shared session fixture: one demo run)

TAG = re.compile(r"<[^>]+>")
WBR = re.compile(r"<wbr\s*/?>")


def _text(markup: str) -> str:
    """The text a reader sees (a <wbr> is a place to wrap, not a space)."""
    return " ".join(html.unescape(TAG.sub(" ", WBR.sub("", markup))).split())


def _body(markup: str) -> str:
    """The page's body without its styles (every section's text is in there)."""
    body = markup[markup.index("<body") :]
    return re.sub(r"<style.*?</style>", "", body, flags=re.S)


def test_refs_reach_findings_csv_index_and_oscal(demo_pack):  # noqa: F811
    pack = demo_pack[0].pack_dir
    checks = load_catalog().checks
    doc = json.loads((pack / "findings.json").read_text(encoding="utf-8"))
    refs = {f["check"]: f["ref"] for f in doc["findings"]}
    assert refs == {cid: spec.ref for cid, spec in checks.items()}
    with (pack / "findings.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert {(r["check"], r["ref"]) for r in rows} == set(refs.items())
    index = (pack / "index.html").read_text(encoding="utf-8")
    oscal = json.loads((pack / "findings.oscal.json").read_text(encoding="utf-8"))
    observations = oscal["assessment-results"]["results"][0]["observations"]
    wp_refs = {p["value"] for o in observations for p in o["props"] if p["name"] == "wp-ref"}
    assert wp_refs == set(refs.values())
    for check, ref in refs.items():
        paper = checks[check].paper
        assert f'href="{paper}.html#{ref}"' in index  # cited on the landing page
        page = (pack / f"{paper}.html").read_text(encoding="utf-8")
        assert f'id="{ref}"' in page  # ... and the section it points at exists


def test_every_failing_check_shows_its_remediation_and_no_other_does(demo_pack):  # noqa: F811
    pack = demo_pack[0].pack_dir
    checks = load_catalog().checks
    doc = json.loads((pack / "findings.json").read_text(encoding="utf-8"))
    assert {f["status"] for f in doc["findings"]} == {"pass", "fail", "not_evaluable"}
    for f in doc["findings"]:
        spec = checks[f["check"]]
        page = (pack / f"{spec.paper}.html").read_text(encoding="utf-8")
        start = page.index(f'id="{spec.id}"')
        section = _text(page[start : page.index("</section>", start)])
        assert (spec.remediation in section) == (f["status"] == "fail"), spec.id
        for e in f["exceptions"]:  # every exception, by id
            assert e["subject_id"] in section, (spec.id, e["subject_id"])


def test_each_paper_concludes_per_requirement_and_ends_with_a_sign_off(demo_pack):  # noqa: F811
    pack = demo_pack[0].pack_dir
    doc = json.loads((pack / "findings.json").read_text(encoding="utf-8"))
    run = doc["run"]
    for paper in load_catalog().family_papers():
        text = _text(_body((pack / f"{paper.notebook}.html").read_text(encoding="utf-8")))
        conclusion = text[text.index("Conclusion") : text.index("Sign-off")]
        assert "automated tests mapped to this requirement" in conclusion
        assert "requirement fails" not in text
        assert re.search(r"\d+ exceptions? in A\d\d-\d+ \([a-z]+\.[a-z_]+\)", conclusion)
        signoff = text[text.index("Sign-off") :]
        assert f"run {run['id']}, OAuth client {run['client_id']}" in signoff
        assert "Reviewed by" in signoff and "gcevidence review sign PACK_DIR" in signoff


def test_no_section_of_a_paper_is_empty(demo_pack):  # noqa: F811
    pack = demo_pack[0].pack_dir
    for page in sorted(pack.glob("*.html")):
        if page.name == "index.html":
            continue
        body = _body(page.read_text(encoding="utf-8"))
        sections = re.split(r"<h2\b", body)[1:]
        assert len(sections) >= 5, page.name
        for section in sections:
            heading, _, rest = section.partition("</h2>")
            assert len(_text(rest)) > 20, (page.name, _text(heading))


def test_the_evidence_digest_is_recomputed_from_the_manifest(demo_pack):  # noqa: F811
    """What an auditor does by hand: the manifest's lines for the evidence files, hashed."""
    pack = demo_pack[0].pack_dir
    manifest = json.loads((pack / "manifest.json").read_text(encoding="utf-8"))
    inputs = ("findings.json", "snapshot.json", "thresholds.json", "params.yaml")
    lines = [
        f"{e['sha256']} {e['size']} {e['path']}\n"
        for e in sorted(manifest["files"], key=lambda e: e["path"])
        if e["path"] in inputs or e["path"].split("/")[0] in ("evidence", "populations", "samples")
    ]
    digest = "sha256:" + hashlib.sha256("".join(lines).encode()).hexdigest()
    index = (pack / "index.html").read_text(encoding="utf-8")
    assert f"<td>{digest}</td>" in index
    for paper in load_catalog().papers:
        assert digest in (pack / f"{paper.notebook}.html").read_text(encoding="utf-8")


def test_summary_and_index_define_severity_and_the_words_used(demo_pack):  # noqa: F811
    pack = demo_pack[0].pack_dir
    for name in ("summary.html", "index.html"):
        text = _text(_body((pack / name).read_text(encoding="utf-8")))
        for term in ("Severity", "Glossary", "not evaluable", "population", "roll-up"):
            assert term in text, (name, term)


def test_the_pack_holds_the_coverage_matrix_listed_linked_and_summarised(demo_pack):  # noqa: F811
    from gcevidence.coverage import TALLIES, TALLY_LABELS

    pack = demo_pack[0].pack_dir
    manifest = json.loads((pack / "manifest.json").read_text(encoding="utf-8"))
    listed = {f["path"] for f in manifest["files"]}
    assert {"coverage.json", "coverage.csv"} <= listed
    index = (pack / "index.html").read_text(encoding="utf-8")
    assert 'href="coverage.json"' in index and 'href="coverage.csv"' in index
    cov = json.loads((pack / "coverage.json").read_text(encoding="utf-8"))
    doc = json.loads((pack / "findings.json").read_text(encoding="utf-8"))
    assert cov["run"]["id"] == doc["run"]["id"] == pack.name
    status = {f["check"]: f["status"] for f in doc["findings"]}
    with (pack / "coverage.csv").open(encoding="utf-8", newline="") as fh:
        csv_rows = {(r["framework"], r["requirement"]): r for r in csv.DictReader(fh)}
    for fw in cov["frameworks"]:
        for r in fw["requirements"]:
            row = csv_rows[(fw["id"], r["id"])]
            assert row["coverage"] == r["coverage"]
            if r["coverage"] == "checks":  # each mapped check's result is this run's
                assert all(c["status"] == status[c["check"]] for c in r["checks"])
                assert row["result"] == r["result"]
    # the summary paper shows the same counts per framework, then the to-do list
    summary = _text(_body((pack / "summary.html").read_text(encoding="utf-8")))
    section = summary[summary.index("Coverage of every requirement in scope") :]
    for label in TALLY_LABELS.values():
        assert label in section
    for fw in cov["frameworks"]:
        spec = load_catalog().frameworks[fw["id"]]
        if not spec.report:
            continue
        counts = " ".join(str(fw["counts"][k]) for k in TALLIES)
        assert f"{fw['short']} {spec.scope_description} {sum(fw['counts'].values())} {counts}" in (
            section
        )
    todo = section[section.index("the auditor's to-do list") :]
    assert "8.3.4" in todo and "30 minutes" in todo and "8.3.7" in todo


def test_readme_catalog_notebooks_and_oscal_name_the_same_checks_and_controls(demo_pack):  # noqa: F811
    import nbformat
    from gcevidence.oscal import control_token
    from test_catalog import ROOT
    from test_permissions import readme_table

    pack = demo_pack[0].pack_dir
    cat = load_catalog()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    in_readme = dict(re.findall(r"^\| (A\d\d-\d+) \| `([a-z]+\.[a-z_]+)` \|", readme, re.M))
    assert in_readme == {spec.ref: cid for cid, spec in cat.checks.items()}
    shown = set()
    for paper in cat.family_papers():
        nb = nbformat.read(ROOT / "notebooks" / f"{paper.notebook}.ipynb", as_version=4)
        shown |= set(re.findall(r'show_check\(ctx, "([a-z0-9_.]+)"\)', nb_code(nb)))
    assert shown == set(cat.checks)
    permissions = readme_table()
    for cid, spec in cat.checks.items():  # README names the checks each permission guards
        for p in spec.permissions:
            assert cid in permissions[p], (cid, p)
    result = json.loads((pack / "findings.oscal.json").read_text(encoding="utf-8"))
    [run] = result["assessment-results"]["results"]
    observed = {
        p["value"] for o in run["observations"] for p in o["props"] if p["name"] == "check-id"
    }
    assert observed == set(cat.checks)
    targets = [f["target"]["target-id"] for f in run["findings"]]
    assert len(targets) == len(set(targets))
    assert set(targets) == {
        control_token(fw.id, r.id)
        for fw in cat.frameworks.values()
        for r in fw.requirements.values()
    }


def nb_code(nb) -> str:
    return "\n".join(c.source for c in nb.cells if c.cell_type == "code")
