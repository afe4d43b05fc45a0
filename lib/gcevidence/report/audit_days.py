"""Where the audit events of the period came from: the API, or an earlier sealed pack.

For the A12 working paper (`report.show_audit_provenance(ctx)`): one sentence on how the trail
was collected (incremental or full, and why), then the day table (evidence/audit_days.csv)
folded into spans of days from one source.
"""

from __future__ import annotations

from IPython.display import HTML

from gcevidence.audit_reuse import day_spans
from gcevidence.report.context import RunContext
from gcevidence.report.html import esc, table


def provenance_sentence(extra: dict) -> str:
    """How the audit trail of the period was collected, in one or two sentences."""
    taken = extra.get("from_pack") or {}
    if not taken:
        why = extra.get("full_reason") or "no earlier pack was used"
        return f"Every day of the period was read from the API ({why})."
    return (
        f"Days {taken['first_day']} to {taken['last_day']} ({taken['days']} days, "
        f"{taken['events']} events) were taken from pack {taken['pack']} (manifest content "
        f"digest {taken['content_digest']}), which verified against its manifest before use, "
        f"and copied into this pack. The days from {taken['overlap_day']} on were read from "
        f"the API; the overlap day {taken['overlap_day']} was read from both: "
        f"{taken['overlap']}."
    )


def show_audit_provenance(ctx: RunContext) -> HTML:
    """The audit trail's provenance: the sentence, then the day spans by source."""
    snap = ctx.snapshot
    if not snap.has("audit_events"):
        return HTML("<p>The audit trail was not collected.</p>")
    sentence = provenance_sentence(snap.status("audit_events").extra)
    if not snap.has("audit_days"):
        return HTML(f"<p>{esc(sentence)}</p>")
    spans = day_spans(snap.table("audit_days").to_dict("records"))
    rows = [
        (
            s.first if s.first == s.last else f"{s.first} to {s.last}",
            s.days,
            s.events,
            "API" if s.source == "api" else f"pack {s.pack_run_id}",
            s.pack_content_digest,
        )
        for s in spans
    ]
    path = snap.status("audit_days").path
    return HTML(
        f"<p>{esc(sentence)}</p>"
        + table(
            ("days", "count", "events", "from", "content digest of the pack"),
            rows,
            caption=f"Every day of the period, with its source: {path}",
        )
    )
