"""Provenance of the inputs that do not come from the API: the HR roster, the exceptions
register and the access-review decisions a run applies or carries.

The pack holds what each input said, but not always the file the client keeps (the roster is
normalised into evidence/hr_roster.csv); so each input's file digest is recorded with who
produced it and when (declared in params for the roster; read from their content for the
register and the decisions), for an auditor to tie the pack to the client's own files.
The result is the `inputs` object of findings.json's run block and of the manifest metadata.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from gcevidence.config import Params
from gcevidence.hr import file_digest

log = logging.getLogger(__name__)


def roster_provenance(params: Params, rows: int | None = None) -> dict[str, Any] | None:
    """The HR roster: file, digest, declared source, timezone of its dates, groups' source."""
    if params.hr_roster is None:
        return None
    source = params.hr.source
    return {
        "file": params.hr_roster.name,
        "sha256": file_digest(params.hr_roster),
        "rows": rows,
        "source": None
        if source is None
        else {
            "system": source.system,
            "report": source.report,
            "extracted_at": source.extracted_at,
            "extracted_by": source.extracted_by,
        },
        "timezone": params.hr.timezone,
        "groups_source": params.hr.groups_source,
    }


def _span(values: Iterable[str]) -> list[str]:
    """[earliest, latest] of non-empty ISO texts, or [] when there are none."""
    known = sorted(v for v in values if v)
    return [known[0], known[-1]] if known else []


def register_provenance(register: Any) -> dict[str, Any] | None:
    """The exceptions register: file, digest, and who approved its entries, and when."""
    if register is None:
        return None
    entries = register.entries
    return {
        "file": Path(register.path).name,
        "sha256": register.digest,
        "entries": len(entries),
        "approved_by": sorted({e.approved_by for e in entries}),
        "approved_on": _span(e.approved_on.isoformat() for e in entries),
        "expires": _span(e.expires.isoformat() for e in entries),
    }


def decisions_provenance(path: Path | None, pack_dir: Path | None = None) -> dict[str, Any] | None:
    """The access-review decisions a pack carries: digest, the workbooks they were imported
    from (each with its own digest and import time), the reviewers and the review dates."""
    if path is None or not Path(path).is_file():
        return None
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # recorded by `review import`; say so, do not stop
        log.warning("review decisions %s unreadable: %s", path, exc)
        doc = {}
    decisions = [d for d in doc.get("decisions") or [] if isinstance(d, dict)]
    sources = [s for s in doc.get("sources") or [] if isinstance(s, dict)]
    shown = Path(path).relative_to(pack_dir).as_posix() if pack_dir else Path(path).name
    return {
        "file": shown,
        "sha256": file_digest(path),
        "updated_on": str(doc.get("updated_on", "")),
        "workbooks": [
            {
                "file": str(s.get("file", "")),
                "sha256": str(s.get("sha256", "")),
                "imported_at": str(s.get("imported_at", "")),
                "rows": s.get("rows"),
                "decided": s.get("decided"),
            }
            for s in sources
        ],
        "decisions": sum(1 for d in decisions if d.get("decision")),
        "reviewers": sorted({str(d["reviewer"]) for d in decisions if d.get("reviewer")}),
        "review_dates": _span(str(d.get("review_date") or "") for d in decisions),
    }


def input_provenance(
    params: Params,
    register: Any = None,
    decisions: Path | None = None,
    pack_dir: Path | None = None,
    roster_rows: int | None = None,
) -> dict[str, Any]:
    """The run block's `inputs`: each input not from the API, or None when there was none."""
    return {
        "hr_roster": roster_provenance(params, roster_rows),
        "exceptions_register": register_provenance(register),
        "review_decisions": decisions_provenance(decisions, pack_dir),
    }
