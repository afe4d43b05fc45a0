"""Every document the code, tests, notebooks and README cite is in the repository, with the
section cited; nothing names a place outside it.

A citation is a file name ending in `.md`, optionally followed by sections (`§2.3`, `§§1-7`,
`Appendix B`). It resolves against the repository root, `docs/`, or the citing file's folder
and its parents, so `docs/genesys-api.md`, `genesys-api.md` and, inside the simulator package,
`PLANTED.md` all name a file that exists.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCANNED = ("lib", "tests", "bench", "notebooks", "params", "docs", "README.md", "Makefile")
CITATION = re.compile(
    r"(?P<doc>[A-Za-z0-9_./-]*[A-Za-z0-9_-]+\.md)\b"
    r"(?P<sections>(?:,? (?:§§?[0-9][0-9.]*(?:-[0-9.]+)?|Appendix [A-Z]))*)"
)
SECTION = re.compile(r"§§?(?P<number>[0-9][0-9.]*[0-9]|[0-9])|Appendix (?P<appendix>[A-Z])")
OUTSIDE = re.compile(r"\.\./shared|/work/shared|\bBRIEF\b")
# Citations of a document another branch replaces: allowed until it lands, then this must go.
PENDING: dict[str, tuple[str, ...]] = {}  # document -> paths allowed to cite it before it exists


def repository_files() -> list[Path]:
    try:
        listed = subprocess.run(
            ["git", "ls-files", *SCANNED], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("needs a git checkout")
    files = [ROOT / name for name in listed if name != "tests/test_docs.py"]
    return [p for p in files if p.is_file() and not p.is_symlink() and p.suffix != ".png"]


def resolve(doc: str, citing: Path) -> Path | None:
    folders = [ROOT, ROOT / "docs", *[p for p in citing.parents if p.is_relative_to(ROOT)]]
    for folder in folders:
        if (folder / doc).is_file():
            return folder / doc
    return None


def headings(path: Path) -> set[str]:
    """Section numbers and appendix letters of a document's headings ("2.3", "Appendix B")."""
    found = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(
            r"#+ (?:(?P<number>[0-9][0-9.]*[0-9]|[0-9])\.? |Appendix (?P<app>[A-Z]))", line
        )
        if match:
            found.add(match["number"] or f"Appendix {match['app']}")
    return found


def citations() -> list[tuple[Path, int, str, str]]:
    found = []
    for path in repository_files():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for match in CITATION.finditer(line):
                found.append((path, number, match["doc"], match["sections"]))
    return found


def test_every_cited_document_exists():
    missing = []
    pending_seen = set()
    for path, number, doc, _ in citations():
        if resolve(doc, path) is not None:
            continue
        rel = path.relative_to(ROOT).as_posix()
        name = Path(doc).name
        if name in PENDING and rel.startswith(PENDING[name]):
            pending_seen.add(name)
            continue
        missing.append(f"{rel}:{number}: {doc}")
    assert not missing, "cited but not in the repository:\n" + "\n".join(missing)
    stale = set(PENDING) - pending_seen
    assert not stale, f"no longer cited, remove from PENDING: {sorted(stale)}"


def test_every_cited_section_exists():
    wrong = []
    for path, number, doc, sections in citations():
        target = resolve(doc, path)
        if target is None or not sections:
            continue
        have = headings(target)
        for match in SECTION.finditer(sections):
            if sections[match.start() : match.start() + 2] == "§§":
                continue  # a range such as §§1-7 names the document as a whole
            wanted = match["number"] or f"Appendix {match['appendix']}"
            if wanted not in have:
                wrong.append(f"{path.relative_to(ROOT)}:{number}: {doc} {wanted}")
    assert not wrong, "cited section not found:\n" + "\n".join(wrong)


def test_nothing_names_a_place_outside_the_repository():
    hits = []
    for path in repository_files():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if OUTSIDE.search(line):
                hits.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not hits, "\n".join(hits)


def test_the_package_finds_its_files_through_itself_not_the_checkout():
    offenders = [
        f"{p.relative_to(ROOT)}:{n}"
        for p in (ROOT / "lib" / "gcevidence").rglob("*.py")
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"parents\[[1-9]\]", line)
    ]
    assert not offenders, offenders


def test_the_documents_the_readme_links_exist():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Documentation", 1)[1].split("\n## ", 1)[0]
    links = re.findall(r"\]\(([^)]+\.md)\)", section)
    assert {"docs/architecture.md", "docs/genesys-api.md", "docs/evidence-pack.md"} <= set(links)
    assert all((ROOT / link).is_file() for link in links), links
