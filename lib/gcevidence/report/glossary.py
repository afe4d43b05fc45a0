"""The words of the pack: what each severity means, and a short glossary (summary and index)."""

from __future__ import annotations

from gcevidence.catalog import ROLLUP_LABEL
from gcevidence.findings import SEVERITIES
from gcevidence.report.html import esc, table

# What a severity says about an exception of the check, from the most to the least serious.
SEVERITY_SCALE: dict[str, str] = {
    "critical": "An exception gives someone control of the organisation or its recordings "
    "now, with nothing else needed. Act at once. (No check of this version is critical.)",
    "high": "An exception lets someone get or keep access they should not have, or leaves "
    "calls, recordings or the audit trail unprotected. Act within days.",
    "medium": "An exception weakens a safeguard, or the evidence for one, but another "
    "failure is needed before harm follows. Act within the next review cycle.",
    "low": "Housekeeping that reduces exposure, such as roles nobody uses. Act in the normal "
    "course of access reviews.",
}

GLOSSARY: tuple[tuple[str, str], ...] = (
    (
        "working-paper reference (ref)",
        "The reference of a check's section, e.g. A09-1: its paper (A09 access control) and "
        "its number there. It is the same in the papers, findings.json, findings.csv, index.html "
        "and OSCAL, and never changes.",
    ),
    (
        "population",
        "Every record a test examined (e.g. every active user), read in full from the API; its "
        "count is checked against the count the API announced. Nothing is sampled.",
    ),
    (
        "exception",
        "A member of the population that does not meet the check's control statement. Every "
        "exception is listed, never a sample.",
    ),
    (
        "accepted exception",
        "An exception the organisation's exceptions register covers, with reason, approver "
        "and expiry. It stays listed; a test whose exceptions are all accepted passes until "
        "an acceptance expires.",
    ),
    ("pass", "The test ran on complete data and found no exception (or only accepted ones)."),
    ("fail", "The test ran on complete data and found at least one exception."),
    (
        "not evaluable",
        "The test could not run: its reason names the missing permission, input or data. It "
        "is never counted as a pass.",
    ),
    (
        "baseline",
        "The set of thresholds the tests compare against (e.g. PCI DSS 4.0.1), each with its "
        "source. The params may override a value; the override is recorded.",
    ),
    (
        "threshold",
        "A number or setting a test compares with, such as the dormant-days limit.",
    ),
    (
        "mapping, rationale, condition",
        "A mapping says a test gives evidence for a requirement of a framework; its rationale "
        "says why, in one line; its condition, when there is one, says when it applies.",
    ),
    (
        "roll-up",
        f"Per requirement, the worst result of the {ROLLUP_LABEL} (fail, then not evaluable, "
        "then pass). It says what the tests found, not whether the requirement as a whole is "
        "met: parts of a requirement may be reached by no test.",
    ),
    (
        "evidence digest",
        "The SHA-256 over the files the papers rest on (findings.json, snapshot.json, "
        "thresholds.json, params.yaml and everything under evidence/, populations/ and "
        "samples/), computed before the "
        "papers were rendered. It is printed on every page of the PDFs and on index.html.",
    ),
    (
        "content digest",
        "The SHA-256 over every file of the pack but index.html and the manifest itself, "
        "listed in manifest.json; gcevidence verify checks it.",
    ),
)


def severity_html() -> str:
    """The severity scale as a table, most serious first."""
    order = sorted(SEVERITIES, key=lambda s: -SEVERITIES.index(s))
    return table(("severity", "what it means"), [(s, SEVERITY_SCALE[s]) for s in order])


def glossary_html() -> str:
    """The glossary as a definition table."""
    rows = "".join(f"<tr><th>{esc(term)}</th><td>{esc(text)}</td></tr>" for term, text in GLOSSARY)
    return f'<table class="gce-table gce-glossary"><tbody>{rows}</tbody></table>'
