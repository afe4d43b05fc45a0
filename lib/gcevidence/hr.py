"""The HR roster CSV (docs/evidence-pack.md §3): strict parsing, one error per problem.

People are matched to Genesys users by email, case-insensitively, so emails come back
lower-cased; `groups` stays the `;`-joined string of the file (split it with `roster_groups`).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import zoneinfo
from pathlib import Path

from gcevidence.errors import InputError

COLUMNS = ("employee_id", "email", "status", "termination_date", "department", "groups")
STATUSES = ("active", "terminated")


def termination_start(day: str | dt.date, timezone: str = "UTC") -> dt.datetime:
    """The start of a termination day in the roster's timezone (params hr.timezone), in UTC.

    HR systems record a calendar day where the person worked; Europe/Paris' 30 November
    starts at 29 November 23:00 UTC, and the de-provisioning delay is measured from then.
    """
    if isinstance(day, str):
        day = dt.date.fromisoformat(day)
    local = dt.datetime.combine(day, dt.time.min, tzinfo=zoneinfo.ZoneInfo(timezone))
    return local.astimezone(dt.UTC)


def file_digest(path: str | Path) -> str:
    """sha256:<hex> of a file's bytes, as the pack records its inputs."""
    return "sha256:" + hashlib.sha256(Path(path).read_bytes()).hexdigest()


def roster_groups(groups: str) -> frozenset[str]:
    """The directory groups of one roster row (`;`-separated, blanks ignored)."""
    return frozenset(g.strip() for g in (groups or "").split(";") if g.strip())


def _decode(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # Report where the bad byte is so the user can find it in an editor.
        start = 3 if data.startswith(b"\xef\xbb\xbf") else 0
        offset = exc.start + start
        line = data[:offset].count(b"\n") + 1
        raise InputError(
            str(path),
            f"line {line}",
            f"byte offset {offset}",
            f"is not UTF-8 (byte 0x{data[offset]:02x})",
            "save the roster as UTF-8 CSV",
        ) from exc


def load_roster(path: str | Path) -> list[dict[str, str]]:
    """Read and validate the roster; raises InputError naming file, row, column and value."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(
            str(path),
            "hr.roster",
            str(path),
            f"cannot be read ({exc.strerror})",
            "point params hr.roster at an existing CSV file",
        ) from exc
    text = _decode(path, data)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise InputError(
            str(path),
            "row 1 (header)",
            ",".join(header),
            f"missing column(s) {', '.join(missing)}",
            f"the header must be {','.join(COLUMNS)}",
        )
    reader.fieldnames = header

    rows: list[dict[str, str]] = []
    seen: dict[str, int] = {}
    for raw in reader:
        line_no = reader.line_num  # physical line, so blank lines skipped by csv still count
        if None in raw:  # more cells than header columns
            raise InputError(
                str(path),
                f"row {line_no}",
                raw[None],
                "has more cells than the header has columns",
                "quote values that contain commas",
            )
        row = {c: (raw.get(c) or "").strip() for c in COLUMNS}
        if not any(row.values()):
            continue  # a blank line is not a person

        def bad(column: str, problem: str, fix: str, row=row, line_no=line_no) -> InputError:
            return InputError(
                str(path), f"row {line_no} column {column}", row[column], problem, fix
            )

        row["email"] = row["email"].lower()
        if not row["email"] or "@" not in row["email"]:
            raise bad(
                "email",
                "is not an email address",
                "every person needs the email of their Genesys user",
            )
        if row["status"] not in STATUSES:
            raise bad("status", "is not a known status", "use active or terminated")
        if row["status"] == "terminated":
            if not row["termination_date"]:
                raise bad(
                    "termination_date",
                    "is missing for a terminated person",
                    "give the termination date as YYYY-MM-DD",
                )
            try:
                dt.date.fromisoformat(row["termination_date"])
            except ValueError as exc:
                raise bad(
                    "termination_date", "is not a date", "give the termination date as YYYY-MM-DD"
                ) from exc
            if len(row["termination_date"]) != 10:
                raise bad(
                    "termination_date", "is not a date", "give the termination date as YYYY-MM-DD"
                )
        elif row["termination_date"]:
            raise bad(
                "termination_date",
                "is set for an active person",
                "leave it empty, or set status to terminated",
            )
        if row["email"] in seen:
            raise bad(
                "email",
                f"duplicates row {seen[row['email']]} (emails compare case-insensitively)",
                "list each person once",
            )
        seen[row["email"]] = line_no
        rows.append(row)
    return rows
