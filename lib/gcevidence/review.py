"""Access review workbooks (ISO A.9.2.5 / 5.18, PCI DSS 7.2.4, SOC 2 CC6.2-6.3) and their import.

Each run writes one review file per manager (per department for people without a manager),
as CSV and as .xlsx, listing each person's roles, divisions, last login and flags, with empty
columns for the reviewer's decision. Above WORKBOOKS_PER_GROUP_LIMIT groups it writes one
workbook instead (access-review-all.xlsx and its CSV), whose first column names each person's
review group so that a reviewer filters it (thousands of files in a pack are unusable).
`gcevidence review import FILE` (either kind, .csv, .csv.zst or .xlsx) reads a completed review
back, records the decisions as out/reviews/decisions-<date>.json (the next run copies the
newest into its pack) and, given a later snapshot, reports revocations not yet carried out.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from gcevidence.csvsafe import guard, unguard
from gcevidence.errors import InputError
from gcevidence.evidence_files import CsvEvidenceWriter, read_bytes
from gcevidence.findings import Finding
from gcevidence.snapshot import Snapshot, dumps

DECISIONS = ("keep", "revoke", "modify")
FACT_COLUMNS = (
    "user_id",
    "name",
    "email",
    "department",
    "manager",
    "state",
    "roles",
    "divisions",
    "last_login",
    "flags",
)
DECISION_COLUMNS = ("decision", "reviewer", "comment", "review_date")
COLUMNS = FACT_COLUMNS + DECISION_COLUMNS
SHEET = "Access review"
REVIEWS_DIR = "reviews"
# One workbook per group up to this many groups; above it a single filterable workbook.
WORKBOOKS_PER_GROUP_LIMIT = 50
COMBINED_STEM = "access-review-all"
GROUP_COLUMN = "review_group"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Checks whose user-level exceptions are worth a reviewer's attention, shown as flags.
_FLAG_CHECKS = {
    "access.dormant_accounts": "dormant",
    "access.terminated_active": "terminated in HR",
    "access.orphan_accounts": "not in HR roster",
    "access.privileged_outside_group": "privileged outside allowed group",
    "access.sod_conflicts": "segregation-of-duties conflict",
}


@dataclass(frozen=True)
class ReviewRow:
    """One person to review, with what the reviewer needs to decide."""

    user_id: str
    name: str
    email: str
    department: str
    manager: str
    state: str
    roles: str
    divisions: str
    last_login: str
    flags: str

    def values(self) -> list[str]:
        """The fields in column order (asdict deep-copies each one: slow for 50,000 people)."""
        return [getattr(self, f.name) for f in fields(self)]


@dataclass(frozen=True)
class ReviewDecision:
    user_id: str
    name: str
    roles: tuple[str, ...]
    decision: str  # keep | revoke | modify | "" (not decided yet)
    reviewer: str
    comment: str
    review_date: str
    row: int  # spreadsheet row number, header is row 1


# ---------------------------------------------------------------- writing the workbooks


def review_rows(
    snapshot: Snapshot, findings: Sequence[Finding], privileged_roles: Collection[str] = ()
) -> dict[str, list[ReviewRow]]:
    """People to review, grouped by "Manager <name>" or "Department <name>"."""
    users = snapshot.table("users")
    users = users[users["state"] != "deleted"]
    names = dict(zip(users["id"], users["name"], strict=True))
    grants = snapshot.table("role_grants") if snapshot.has("role_grants") else None
    roles_of: dict[str, set[str]] = defaultdict(set)
    divisions_of: dict[str, set[str]] = defaultdict(set)
    if grants is not None:
        for g in grants[grants["subject_type"] == "PC_USER"].itertuples():
            roles_of[g.subject_id].add(g.role_name)
            divisions_of[g.subject_id].add(g.division_name or g.division_id)
    unused_of: dict[str, set[str]] = defaultdict(set)
    if snapshot.has("unused_roles"):
        for u in snapshot.table("unused_roles").itertuples():
            unused_of[u.user_id].add(u.role_name)
    flagged: dict[str, set[str]] = defaultdict(set)
    for f in findings:
        label = _FLAG_CHECKS.get(f.check)
        if label:
            for e in f.exceptions:
                if e.subject_type == "user":
                    flagged[e.subject_id].add(label)
    privileged = set(privileged_roles)

    groups: dict[str, list[ReviewRow]] = defaultdict(list)
    for u in users.itertuples():
        manager = names.get(u.manager_id, "") if u.manager_id else ""
        flags = sorted(flagged[u.id])
        held_privileged = sorted(roles_of[u.id] & privileged)
        if held_privileged:
            flags.insert(0, "privileged: " + ", ".join(held_privileged))
        if unused_of[u.id]:
            flags.append("unused role: " + ", ".join(sorted(unused_of[u.id])))
        row = ReviewRow(
            u.id,
            u.name,
            u.email,
            u.department,
            manager,
            u.state,
            "; ".join(sorted(roles_of[u.id])),
            "; ".join(sorted(divisions_of[u.id])),
            u.date_last_login or "never",
            "; ".join(flags),
        )
        if manager:
            key = f"Manager {manager} ({u.manager_id})"
        elif u.department:
            key = f"Department {u.department}"
        else:
            key = "No manager or department"
        groups[key].append(row)
    return {
        k: sorted(v, key=lambda r: (r.name.lower(), r.user_id)) for k, v in sorted(groups.items())
    }


def privileged_roles_of(findings: Sequence[Finding]) -> set[str]:
    """The privileged roles the policy named, as the privileged-access checks recorded them."""
    roles: set[str] = set()
    for f in findings:
        if f.check == "access.privileged_outside_group":
            roles.update(f.extra.get("roles") or ())
        elif f.check == "access.privileged_count":
            roles.update((f.extra.get("max_holders") or {}).keys())
    return roles


def write_review_workbooks(
    snapshot: Snapshot,
    findings: Sequence[Finding],
    out_dir: Path,
    privileged_roles: Collection[str] | None = None,
    out_root: Path | None = None,
) -> list[Path]:
    """Write access-review-<group>.csv and .xlsx per manager or department; return the paths.

    privileged_roles defaults to those the privileged-access findings name. The newest
    recorded review decisions under out_root (by default the output folder of a pack being
    built in out_root/.building-<run-id>/) are copied beside the workbooks, so each pack
    carries the last completed review.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if privileged_roles is None:
        privileged_roles = privileged_roles_of(findings)
    paths: list[Path] = []
    used: set[str] = set()
    groups = review_rows(snapshot, findings, privileged_roles)
    if len(groups) > WORKBOOKS_PER_GROUP_LIMIT:
        paths += write_combined_review(out_dir, groups, snapshot.meta)
        groups = {}
    for group, rows in groups.items():
        stem = _file_stem(group, used)
        paths.append(_write_csv(out_dir / f"{stem}.csv", rows))
        paths.append(_write_xlsx(out_dir / f"{stem}.xlsx", group, rows, snapshot.meta))
    if out_root is None and out_dir.parent.name.startswith(".building-"):
        out_root = out_dir.parent.parent
    latest = latest_decisions(out_root) if out_root is not None else None
    if latest is not None:
        copy = out_dir / f"previous-{latest.name}"
        copy.write_bytes(latest.read_bytes())
        paths.append(copy)
    return paths


def _file_stem(group: str, used: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", group.split(" (")[0].lower()).strip("-")[:60] or "group"
    stem = f"access-review-{base}"
    if stem in used:  # two managers with the same name
        stem = f"{stem}-{hashlib.sha256(group.encode()).hexdigest()[:6]}"
    used.add(stem)
    return stem


def _write_csv(path: Path, rows: Iterable[ReviewRow]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLUMNS)
        for r in rows:
            writer.writerow([guard(v) for v in r.values()] + [""] * len(DECISION_COLUMNS))
    return path


def write_combined_review(
    out_dir: Path, groups: dict[str, list[ReviewRow]], meta: dict
) -> list[Path]:
    """One review for every group: access-review-all.xlsx (streamed) and its CSV twin.

    The CSV follows the evidence CSVs' size rule (plain while small, else .csv.zst); the xlsx
    is written row by row (openpyxl's write-only mode) so that tens of thousands of people fit.
    """
    columns = (GROUP_COLUMN, *COLUMNS)
    records = [(group, r) for group, rows in groups.items() for r in rows]
    csv_writer = CsvEvidenceWriter(out_dir, COMBINED_STEM, columns)
    for group, r in records:
        values = [group, *r.values()] + [""] * len(DECISION_COLUMNS)
        csv_writer.writerow([guard(v) for v in values])
    csv_path = csv_writer.close()

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(SHEET)
    last = max(len(records) + 1, 2)
    letter = {name: get_column_letter(i) for i, name in enumerate(columns, start=1)}
    _validations(ws, letter["decision"], letter["review_date"], last)
    ws.freeze_panes = "D2"
    ws.auto_filter.ref = f"A1:{letter[columns[-1]]}{last}"
    for name in columns:
        ws.column_dimensions[letter[name]].width = {**_WIDTHS, GROUP_COLUMN: 36}.get(name, 14)
    header_font = Font(bold=True, color="FFFFFF")
    header = []
    for name in columns:
        cell = WriteOnlyCell(ws, value=name)
        cell.font = header_font
        cell.fill = _DECIDE_FILL if name in DECISION_COLUMNS else _FACT_FILL
        header.append(cell)
    ws.append(header)
    for group, r in records:
        ws.append([_text_value(ws, v) for v in (group, *r.values())])
    about = wb.create_sheet("About")
    org = meta.get("org") or {}
    for key, value in (
        ("Review groups", f"{len(groups)} (managers and departments); filter {GROUP_COLUMN}"),
        ("Organisation", f"{org.get('name', '')} ({org.get('id', '')})"),
        ("Data collected at", meta.get("collected_at", "")),
        ("How to complete", _HOW_TO),
    ):
        about.append([key, _text_value(about, str(value))])
    xlsx_path = out_dir / f"{COMBINED_STEM}.xlsx"
    wb.save(xlsx_path)
    return [csv_path, xlsx_path]


def _text_value(ws, value: str):
    """A write-only cell that a spreadsheet shows as text and never evaluates."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        cell = WriteOnlyCell(ws, value=value)
        cell.data_type = "s"
        cell.quotePrefix = True
        return cell
    return value


def _validations(ws, decision_col: str, date_col: str, last: int) -> None:
    """Decision from a list, review date a date, on every row of the review."""
    check = DataValidation(
        type="list",
        formula1='"' + ",".join(DECISIONS) + '"',
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="Decision",
        error="Choose keep, revoke or modify",
    )
    check.add(f"{decision_col}2:{decision_col}{last}")
    dates = DataValidation(
        type="date",
        operator="greaterThan",
        formula1="36526",
        allow_blank=True,
        showErrorMessage=True,
        error="Enter a date",
    )
    dates.add(f"{date_col}2:{date_col}{last}")
    ws.data_validations.append(check)
    ws.data_validations.append(dates)


_FACT_FILL = PatternFill("solid", fgColor="305496")
_DECIDE_FILL = PatternFill("solid", fgColor="C65911")
_WIDTHS = {
    "user_id": 38,
    "name": 24,
    "email": 30,
    "roles": 40,
    "divisions": 24,
    "flags": 36,
    "comment": 40,
}
_HOW_TO = (
    "For each person choose keep, revoke or modify in `decision`, and fill reviewer, comment "
    "and review_date (YYYY-MM-DD). Then run: gcevidence review import THIS_FILE"
)


def _text_cell(ws, row: int, col: int, value: str):
    """Write a value that a spreadsheet shows as text and never evaluates."""
    cell = ws.cell(row=row, column=col, value=value)
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell


def _write_xlsx(path: Path, group: str, rows: list[ReviewRow], meta: dict) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    header_font = Font(bold=True, color="FFFFFF")
    fact_fill, decide_fill = (
        PatternFill("solid", fgColor="305496"),
        PatternFill("solid", fgColor="C65911"),
    )
    for col, name in enumerate(COLUMNS, start=1):
        cell = ws.cell(row=1, column=col, value=name)
        cell.font = header_font
        cell.fill = decide_fill if name in DECISION_COLUMNS else fact_fill
        cell.alignment = Alignment(vertical="center")
    for i, r in enumerate(rows, start=2):
        for col, value in enumerate(r.values(), start=1):
            _text_cell(ws, i, col, value)
    last = max(len(rows) + 1, 2)
    decision_col = ws.cell(row=1, column=COLUMNS.index("decision") + 1).column_letter
    date_col = ws.cell(row=1, column=COLUMNS.index("review_date") + 1).column_letter
    _validations(ws, decision_col, date_col, last)
    for col, name in enumerate(COLUMNS, start=1):
        ws.column_dimensions[ws.cell(row=1, column=col).column_letter].width = _WIDTHS.get(name, 14)
    ws.freeze_panes = "C2"
    ws.auto_filter.ref = f"A1:{ws.cell(row=1, column=len(COLUMNS)).column_letter}{last}"

    about = wb.create_sheet("About")
    org = meta.get("org") or {}
    facts = [
        ("Review group", group),
        ("Organisation", f"{org.get('name', '')} ({org.get('id', '')})"),
        ("Data collected at", meta.get("collected_at", "")),
        (
            "How to complete",
            "For each person choose keep, revoke or modify in `decision`, "
            "and fill reviewer, comment and review_date (YYYY-MM-DD). "
            "Then run: gcevidence review import THIS_FILE",
        ),
    ]
    for i, (k, v) in enumerate(facts, start=1):
        about.cell(row=i, column=1, value=k).font = Font(bold=True)
        _text_cell(about, i, 2, str(v))
    about.column_dimensions["A"].width = 20
    about.column_dimensions["B"].width = 100
    wb.save(path)
    return path


# ---------------------------------------------------------------- reading a completed review


def read_review(path: Path) -> list[ReviewDecision]:
    """Read a completed review (CSV or xlsx); a bad decision or date is an InputError."""
    path = Path(path)
    if not path.is_file():
        raise InputError(
            str(path),
            "(file)",
            str(path),
            "does not exist",
            "pass a review file written by a gcevidence run",
        )
    name = path.name.lower()
    if name.endswith(".xlsx"):
        header, records = _xlsx_records(path)
    elif name.endswith((".csv", ".csv.zst")):
        header, records = _csv_records(path)
    else:
        raise InputError(
            str(path), "(file)", path.suffix, "is not a .csv, .csv.zst or .xlsx review"
        )
    missing = [c for c in ("user_id", "roles", *DECISION_COLUMNS) if c not in header]
    if missing:
        raise InputError(
            str(path),
            "(header)",
            missing,
            "required columns are missing",
            "complete the file gcevidence wrote; do not rename its columns",
        )
    return [_decision(path, row_no, rec) for row_no, rec in records if rec.get("user_id")]


def _csv_records(path: Path):
    try:
        text = read_bytes(path).decode("utf-8-sig")
    except (OSError, EOFError) as exc:
        raise InputError(
            str(path), "(file)", path.name, f"cannot be read ({exc})", "pass the file as written"
        ) from exc
    except UnicodeDecodeError as exc:
        raise InputError(
            str(path), "(file)", path.name, "is not UTF-8", "save the review as CSV UTF-8"
        ) from exc
    reader = csv.reader(text.splitlines())
    header = [h.strip() for h in next(reader, [])]
    records = [
        (i, {h: unguard(v) for h, v in zip(header, row, strict=False)})
        for i, row in enumerate(reader, start=2)
    ]
    return header, records


def _xlsx_records(path: Path):
    try:
        wb = load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise InputError(
            str(path), "(file)", path.name, f"is not a readable .xlsx ({exc})"
        ) from exc
    ws = wb[SHEET] if SHEET in wb.sheetnames else wb.worksheets[0]
    rows = ws.iter_rows(values_only=True)
    header = [str(h or "").strip() for h in next(rows, ())]
    records = []
    for i, row in enumerate(rows, start=2):
        rec = {}
        for h, v in zip(header, row, strict=False):
            if isinstance(v, dt.datetime):
                v = v.date().isoformat()
            elif isinstance(v, dt.date):
                v = v.isoformat()
            rec[h] = "" if v is None else str(v)
        records.append((i, rec))
    wb.close()
    return header, records


def _decision(path: Path, row_no: int, rec: dict[str, str]) -> ReviewDecision:
    decision = rec.get("decision", "").strip().lower()
    if decision not in ("", *DECISIONS):
        raise InputError(
            str(path),
            f"row {row_no}.decision",
            rec.get("decision"),
            "is not a decision",
            f"use one of {', '.join(DECISIONS)} (or leave empty)",
        )
    reviewer = rec.get("reviewer", "").strip()
    if decision and not reviewer:
        raise InputError(
            str(path), f"row {row_no}.reviewer", reviewer, "a decision needs the reviewer's name"
        )
    review_date = rec.get("review_date", "").strip()
    if review_date:
        try:
            review_date = dt.date.fromisoformat(review_date[:10]).isoformat()
        except ValueError as exc:
            raise InputError(
                str(path),
                f"row {row_no}.review_date",
                rec.get("review_date"),
                "must be a date YYYY-MM-DD",
            ) from exc
    roles = tuple(r.strip() for r in rec.get("roles", "").split(";") if r.strip())
    return ReviewDecision(
        rec["user_id"].strip(),
        rec.get("name", ""),
        roles,
        decision,
        reviewer,
        rec.get("comment", "").strip(),
        review_date,
        row_no,
    )


def record_decisions(
    review_file: Path,
    decisions: Sequence[ReviewDecision],
    out_root: Path,
    today: dt.date | None = None,
) -> Path:
    """Merge one review's decisions into out_root/reviews/decisions-<today>.json."""
    today = today or dt.datetime.now(dt.UTC).date()
    target = Path(out_root) / REVIEWS_DIR / f"decisions-{today.isoformat()}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    doc = (
        json.loads(target.read_text(encoding="utf-8"))
        if target.exists()
        else {"schema": "gcevidence.review-decisions/1", "sources": [], "decisions": []}
    )
    source = Path(review_file).name
    doc["sources"] = [s for s in doc["sources"] if s["file"] != source] + [
        {
            "file": source,
            "sha256": hashlib.sha256(Path(review_file).read_bytes()).hexdigest(),
            "imported_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "rows": len(decisions),
            "decided": sum(1 for d in decisions if d.decision),
        }
    ]
    doc["decisions"] = [d for d in doc["decisions"] if d["source"] != source] + [
        {"source": source, **asdict(d), "roles": list(d.roles)} for d in decisions
    ]
    doc["updated_on"] = today.isoformat()
    target.write_text(dumps(doc), encoding="utf-8")
    return target


def latest_decisions(out_root: Path) -> Path | None:
    """The newest decisions-<date>.json under out_root/reviews, for the next pack to carry."""
    found = sorted((Path(out_root) / REVIEWS_DIR).glob("decisions-????-??-??.json"))
    return found[-1] if found else None


def outstanding_revocations(
    decisions: Iterable[ReviewDecision], snapshot: Snapshot
) -> list[dict[str, object]]:
    """Revoke decisions whose person is still active and still holds a reviewed role."""
    users = snapshot.table("users")
    state = dict(zip(users["id"], users["state"], strict=True))
    held: dict[str, set[str]] = defaultdict(set)
    grants = snapshot.table("role_grants")
    for g in grants[grants["subject_type"] == "PC_USER"].itertuples():
        held[g.subject_id].add(g.role_name)
    outstanding = []
    for d in decisions:
        if d.decision != "revoke" or state.get(d.user_id) != "active":
            continue
        still = sorted(held[d.user_id] & set(d.roles)) if d.roles else sorted(held[d.user_id])
        if still:
            outstanding.append(
                {
                    "user_id": d.user_id,
                    "name": d.name,
                    "roles_still_held": still,
                    "decided_by": d.reviewer,
                    "decided_on": d.review_date,
                }
            )
    return outstanding


# ---------------------------------------------------------------- command line


def register(subparsers) -> None:
    """Add `gcevidence review import FILE [--out DIR] [--snapshot RUN_OR_PACK_DIR]`."""
    review = subparsers.add_parser("review", help="access review workbooks")
    sub = review.add_subparsers(dest="review_command", required=True, metavar="ACTION")
    imp = sub.add_parser("import", help="record a completed access review's decisions")
    imp.add_argument("file", type=Path, help="a completed access-review-*.csv or .xlsx")
    imp.add_argument(
        "--out",
        type=Path,
        default=Path("output"),
        help="output folder of the runs (decisions go to OUT/reviews/)",
    )
    imp.add_argument(
        "--snapshot",
        type=Path,
        default=None,
        metavar="RUN_OR_PACK_DIR",
        help="a later run or pack: report revocations not yet carried out",
    )
    imp.set_defaults(func=_import_command)
    sig = sub.add_parser(
        "sign",
        help="record a signed reviewer statement beside a sealed pack",
        description="Verifies the pack, then writes PACK_DIR.signoff/review-<UTC time>.json "
        "and its Ed25519 signature (.sig) beside it; the sealed files are never touched. "
        "gcevidence verify PACK_DIR reports every sign-off it finds.",
    )
    sig.add_argument("pack_dir", metavar="PACK_DIR", type=Path)
    sig.add_argument("--reviewer", required=True, metavar="NAME", help="who reviewed the pack")
    sig.add_argument(
        "--key",
        required=True,
        metavar="PEM",
        type=Path,
        help="the reviewer's Ed25519 private key (gcevidence keygen makes one)",
    )
    sig.add_argument("--role", default="reviewer", help="e.g. 'Internal audit lead'")
    sig.add_argument("--statement", default="", metavar="TEXT", help="what the reviewer attests")
    sig.add_argument(
        "--date",
        default=None,
        metavar="YYYY-MM-DD",
        help="date of the review (default: today, UTC)",
    )
    sig.set_defaults(func=_sign_command)


def _import_command(args: argparse.Namespace) -> int:
    decisions = read_review(args.file)
    target = record_decisions(args.file, decisions, args.out)
    counts = {k: sum(1 for d in decisions if d.decision == k) for k in DECISIONS}
    pending = sum(1 for d in decisions if not d.decision)
    print(
        f"recorded {len(decisions)} people from {args.file.name} into {target}: "
        + ", ".join(f"{v} {k}" for k, v in counts.items())
        + f", {pending} not decided"
    )
    if args.snapshot is None:
        return 0
    snap_dir = Path(args.snapshot)
    if not (snap_dir / "snapshot.json").is_file():
        raise InputError(
            str(snap_dir),
            "--snapshot",
            str(snap_dir),
            "holds no snapshot.json",
            "pass a run or pack folder",
        )
    outstanding = outstanding_revocations(decisions, Snapshot(snap_dir))
    for o in outstanding:
        print(
            f"NOT CARRIED OUT: revoke {o['name']} ({o['user_id']}) decided by "
            f"{o['decided_by']} on {o['decided_on'] or '?'}; still holds "
            + ", ".join(o["roles_still_held"])
        )
    if outstanding:
        print(f"{len(outstanding)} revocation(s) not yet carried out in {snap_dir}")
        return 1
    print(f"all {counts['revoke']} revocation(s) carried out in {snap_dir}")
    return 0


def _sign_command(args: argparse.Namespace) -> int:
    from gcevidence.cli import parse_date
    from gcevidence.pack.sign import key_id, load_private_key
    from gcevidence.pack.signoff import sign_pack

    review_date = parse_date("--date", args.date)
    key = load_private_key(args.key, str(args.key), "--key")
    path = sign_pack(
        args.pack_dir,
        args.reviewer,
        key,
        role=args.role,
        statement=args.statement,
        date=review_date,
    )
    print(f"signed by {args.reviewer} with key {key_id(key.public_key())}: {path}")
    print(f"check it with: gcevidence verify {args.pack_dir}")
    return 0
