"""The exceptions register: risk acceptances with an owner and an expiry, applied to findings.

A register is a YAML file (params `exceptions.register`):

    entries:
      - check: access.dormant_accounts
        subject: 6f1c…                  # exact subject_id, or
        subject_pattern: "svc-*"        # fnmatch glob on subject_id or subject_name
        reason: Break-glass account, sealed in the safe
        approved_by: CISO
        approved_on: 2026-10-01
        expires: 2027-03-31             # required: an acceptance without end is refused

An acceptance is in force from `approved_on` through `expires` (both inclusive). Accepted
exceptions stay listed with who accepted them and until when; an expired acceptance never
accepts, it is written into the exception and the finding (never a silent pass).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import fnmatch
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from gcevidence.errors import InputError
from gcevidence.findings import ExceptionItem, Finding

_ENTRY_KEYS = (
    "check",
    "subject",
    "subject_pattern",
    "reason",
    "approved_by",
    "approved_on",
    "expires",
)
_REQUIRED_TEXT = ("check", "reason", "approved_by")


@dataclass(frozen=True)
class RegisterEntry:
    """One risk acceptance: a check, whom it covers, why, who approved it and until when."""

    index: int
    check: str
    subject: str | None
    subject_pattern: str | None
    reason: str
    approved_by: str
    approved_on: dt.date
    expires: dt.date

    def covers(self, check: str, item: ExceptionItem) -> bool:
        if check != self.check:
            return False
        if self.subject is not None:
            return item.subject_id == self.subject
        pattern = self.subject_pattern or ""
        return fnmatch.fnmatchcase(item.subject_id, pattern) or fnmatch.fnmatchcase(
            item.subject_name, pattern
        )

    def in_force(self, today: dt.date) -> bool:
        return self.approved_on <= today <= self.expires

    def acceptance(self) -> dict[str, str]:
        """What an accepted exception carries (ExceptionItem.accepted)."""
        return {
            "reason": self.reason,
            "approved_by": self.approved_by,
            "approved_on": self.approved_on.isoformat(),
            "expires": self.expires.isoformat(),
        }


@dataclass(frozen=True)
class Register:
    path: Path
    digest: str  # sha256 of the file, so a pack records which register it applied
    entries: tuple[RegisterEntry, ...]


class _NoDatesLoader(yaml.SafeLoader):
    """Safe YAML that leaves dates as strings, so a bad date gets our own error message."""


_NoDatesLoader.yaml_implicit_resolvers = {
    ch: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def known_check_ids() -> frozenset[str]:
    """The check ids a register may name: every check the catalog declares (evidence-pack §6)."""
    from gcevidence.catalog import load_catalog

    return frozenset(load_catalog().checks)


def __getattr__(name: str) -> object:
    # CONTRACT_CHECK_IDS is derived from the catalog when first asked for.
    if name == "CONTRACT_CHECK_IDS":
        return known_check_ids()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def load_register(path: str | Path, known_checks: Iterable[str] | None = None) -> Register:
    """Read and strictly validate a register file; any doubt is an InputError (exit 2)."""
    path = Path(path)
    known = frozenset(known_checks) if known_checks is not None else known_check_ids()

    def fail(field_name: str, value: object, problem: str, fix: str = "") -> InputError:
        return InputError(str(path), field_name, value, problem, fix)

    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise fail(
            "(file)",
            str(path),
            f"cannot be read ({exc.strerror})",
            "set exceptions.register to an existing YAML file",
        ) from exc
    try:
        doc = yaml.load(raw.decode("utf-8"), Loader=_NoDatesLoader)  # noqa: S506
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise fail("(file)", path.name, f"is not valid UTF-8 YAML ({first})") from exc
    if not isinstance(doc, dict) or set(doc) - {"entries"}:
        extra = sorted(set(doc) - {"entries"}) if isinstance(doc, dict) else doc
        raise fail("(top level)", extra, "must be a mapping with only the key `entries`")
    items = doc.get("entries") or []
    if not isinstance(items, list):
        raise fail("entries", items, "must be a list of acceptances")
    entries = tuple(_parse_entry(i, item, known, fail) for i, item in enumerate(items))
    return Register(path.resolve(), "sha256:" + hashlib.sha256(raw).hexdigest(), entries)


def _parse_entry(i: int, item: object, known: frozenset[str], fail) -> RegisterEntry:
    where = f"entries[{i}]"
    if not isinstance(item, dict):
        raise fail(where, item, "must be a mapping")
    for key in item:
        if key not in _ENTRY_KEYS:
            raise fail(
                f"{where}.{key}", item[key], "unknown key", f"allowed: {', '.join(_ENTRY_KEYS)}"
            )
    for key in _REQUIRED_TEXT:
        value = item.get(key)
        if not isinstance(value, str) or not value.strip():
            raise fail(f"{where}.{key}", value, "is required and must be non-empty text")
    if item["check"] not in known:
        raise fail(
            f"{where}.check",
            item["check"],
            "unknown check id",
            "use a check id from findings.json (docs/evidence-pack.md §6)",
        )
    has_subject, has_pattern = "subject" in item, "subject_pattern" in item
    if has_subject == has_pattern:
        raise fail(
            where,
            sorted(k for k in item if k.startswith("subject")),
            "needs exactly one of `subject` (exact subject_id) or `subject_pattern`",
        )
    key = "subject" if has_subject else "subject_pattern"
    value = item[key]
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # a numeric id written without quotes
    if not isinstance(value, str) or not value.strip():
        raise fail(f"{where}.{key}", value, "must be non-empty text")
    if "expires" not in item or item["expires"] in (None, ""):
        raise fail(
            f"{where}.expires",
            item.get("expires"),
            "is required: an acceptance without an expiry date is refused",
            "add expires: YYYY-MM-DD (re-approve when it runs out)",
        )
    approved_on = _date(item.get("approved_on"), f"{where}.approved_on", fail)
    expires = _date(item["expires"], f"{where}.expires", fail)
    if expires < approved_on:
        raise fail(
            f"{where}.expires", item["expires"], f"is before approved_on {approved_on.isoformat()}"
        )
    return RegisterEntry(
        index=i,
        check=item["check"],
        subject=value if has_subject else None,
        subject_pattern=None if has_subject else value,
        reason=item["reason"].strip(),
        approved_by=item["approved_by"].strip(),
        approved_on=approved_on,
        expires=expires,
    )


def _date(value: object, field_name: str, fail) -> dt.date:
    if not isinstance(value, str):
        raise fail(field_name, value, "must be a date YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError as exc:
        raise fail(field_name, value, "must be a date YYYY-MM-DD") from exc


def apply_register(
    findings: Sequence[Finding], register: Register | None, today: dt.date
) -> list[Finding]:
    """Mark covered exceptions accepted; a fail becomes pass only when every one is accepted."""
    if register is None:
        return list(findings)
    return [_apply_one(f, register.entries, today) for f in findings]


def _apply_one(finding: Finding, entries: tuple[RegisterEntry, ...], today: dt.date) -> Finding:
    if finding.status == "not_evaluable":
        return finding  # nothing was checked, so nothing can be accepted
    relevant = [e for e in entries if e.check == finding.check]
    items: list[ExceptionItem] = []
    expired: list[dict[str, str]] = []
    for item in finding.exceptions:
        matching = [e for e in relevant if e.covers(finding.check, item)]
        in_force = [e for e in matching if e.in_force(today)]
        if in_force:
            best = max(in_force, key=lambda e: (e.expires, -e.index))
            items.append(dataclasses.replace(item, accepted=best.acceptance()))
            continue
        notes = []
        for e in matching:
            if e.expires < today:
                notes.append(f"acceptance expired on {e.expires.isoformat()}")
                expired.append(
                    {
                        "subject_id": item.subject_id,
                        "entry": f"entries[{e.index}]",
                        "approved_by": e.approved_by,
                        "expires": e.expires.isoformat(),
                        "reason": e.reason,
                    }
                )
            else:
                notes.append(f"acceptance not in force before {e.approved_on.isoformat()}")
        if notes:
            item = dataclasses.replace(item, detail=f"{item.detail} ({'; '.join(notes)})")
        items.append(item)

    accepted = sum(1 for i in items if i.accepted is not None)
    extra = {**finding.extra, "exceptions_total": len(items), "exceptions_accepted": accepted}
    if expired:
        extra["expired_acceptances"] = expired
    status, reason = finding.status, finding.reason
    if items and accepted == len(items) and status == "fail":
        status = "pass"
        until = min(i.accepted["expires"] for i in items if i.accepted)
        reason = (
            f"all {len(items)} exceptions accepted in the exceptions register "
            f"(earliest expiry {until}); was: {finding.reason}"
        )
    elif accepted:
        reason = f"{finding.reason} ({accepted} of {len(items)} exceptions accepted)"
    if expired:
        reason = f"{reason}; {len(expired)} acceptance(s) expired"
    return dataclasses.replace(
        finding, status=status, reason=reason, exceptions=tuple(items), extra=extra
    )


def unused_entries(findings: Sequence[Finding], register: Register) -> list[RegisterEntry]:
    """Entries that covered no exception this run: candidates for removal from the register."""
    used = set()
    for f in findings:
        for item in f.exceptions:
            for e in register.entries:
                if e.covers(f.check, item):
                    used.add(e.index)
    return [e for e in register.entries if e.index not in used]
