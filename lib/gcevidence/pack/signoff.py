"""Reviewer sign-off: a signed statement recorded beside a sealed pack, never inside it.

A pack is immutable once sealed, so the reviewer's statement lives in a sidecar folder next to
it, `OUT/<period-end>/<run-id>.signoff/`, as `review-<UTC time>.json` (canonical JSON, schema
`gcevidence.signoff/1`) and `review-<UTC time>.sig` (an Ed25519 signature over the exact JSON
bytes, in the format of manifest.sig). The statement names the pack by run id, by the
manifest's content digest and by the sha256 of manifest.json itself, and records the key id
of the signer inside the signed bytes, so a statement moved to another pack, edited, or
re-signed with another key is reported invalid.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gcevidence import __version__
from gcevidence.errors import InputError
from gcevidence.pack import manifest as mf
from gcevidence.pack import sign

log = logging.getLogger(__name__)

SCHEMA = "gcevidence.signoff/1"
SIDECAR_SUFFIX = ".signoff"
STATEMENT_PREFIX = "review-"
DEFAULT_ROLE = "reviewer"
_REQUIRED_TEXT = ("reviewer", "role", "date", "statement", "signed_at", "tool_version", "key_id")
_PACK_FIELDS = ("run_id", "period_end", "content_digest", "manifest_sha256")


@dataclass(frozen=True)
class SignoffCheck:
    """One sign-off found beside a pack: valid or invalid, who, when, with which key, why."""

    file: str
    status: str  # valid | invalid
    reviewer: str = ""
    role: str = ""
    date: str = ""
    key_id: str = ""
    problem: str = ""


def sidecar_dir(pack_dir: Path) -> Path:
    """The sign-off folder beside a pack: OUT/<period-end>/<run-id>.signoff/."""
    pack_dir = Path(pack_dir).resolve()  # "." has no name of its own
    return pack_dir.with_name(pack_dir.name + SIDECAR_SUFFIX)


def is_sidecar(folder: Path) -> bool:
    """True for a sign-off folder (never a pack)."""
    return Path(folder).name.endswith(SIDECAR_SUFFIX)


def default_statement(period_end: str, content_digest: str) -> str:
    """What a reviewer attests when no --statement is given."""
    return (
        f"I have reviewed this evidence pack for the period ending {period_end} (content "
        f"digest {content_digest}), its working papers and every exception it lists, and I "
        "accept it as evidence of the controls it tests."
    )


def sign_pack(
    pack_dir: Path,
    reviewer: str,
    key: Ed25519PrivateKey,
    *,
    role: str = DEFAULT_ROLE,
    statement: str = "",
    date: dt.date | None = None,
    now: dt.datetime | None = None,
) -> Path:
    """Verify the pack, then write a signed reviewer statement beside it; returns the JSON path."""
    from gcevidence.history import verification_problem
    from gcevidence.pack.verify import verify_pack

    pack_dir = Path(pack_dir).resolve()  # "." has no name of its own
    reviewer = _one_line("--reviewer", reviewer)
    role = _one_line("--role", role) if role.strip() else DEFAULT_ROLE
    statement = statement.strip()
    report = verify_pack(pack_dir)
    if not report.ok:
        raise InputError(
            str(pack_dir),
            "PACK_DIR",
            str(pack_dir),
            f"does not verify, so it cannot be signed: {verification_problem(report)}",
            "sign only an intact pack (gcevidence verify PACK_DIR names what changed)",
        )
    manifest_bytes = (pack_dir / mf.MANIFEST).read_bytes()
    doc = mf.parse_manifest(manifest_bytes)
    period_end = str((doc.get("metadata") or {}).get("period_end", pack_dir.parent.name))
    now = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
    record = {
        "schema": SCHEMA,
        "pack": {
            "run_id": pack_dir.name,
            "period_end": period_end,
            "content_digest": report.content_digest,
            "manifest_sha256": hashlib.sha256(manifest_bytes).hexdigest(),
        },
        "reviewer": reviewer,
        "role": role,
        "date": (date or now.date()).isoformat(),
        "statement": statement or default_statement(period_end, report.content_digest),
        "signed_at": now.isoformat().replace("+00:00", "Z"),
        "tool_version": __version__,
        "key_id": sign.key_id(key.public_key()),
    }
    data = mf.canonical_json(record)
    folder = sidecar_dir(pack_dir)
    try:
        folder.mkdir(exist_ok=True)
        return _write_pair(folder, f"{STATEMENT_PREFIX}{now:%Y%m%dT%H%M%SZ}", data, key)
    except OSError as exc:
        raise InputError(
            str(folder),
            "sign-off folder",
            str(folder),
            f"cannot be written ({exc.strerror})",
            "give the reviewer write access beside the pack (the pack itself is never written)",
        ) from exc


def _one_line(field: str, value: str) -> str:
    text = (value or "").strip()
    if not text or any(ch in text for ch in "\r\n\t\0"):
        raise InputError(
            "command line", field, value, "must be a non-empty single line", "give it on one line"
        )
    return text


def _write_pair(folder: Path, stem: str, data: bytes, key: Ed25519PrivateKey) -> Path:
    """Write stem.json and stem.sig without overwriting; the .sig lands first, so a statement
    on disk always has its signature."""
    for attempt in range(100):
        name = stem if attempt == 0 else f"{stem}-{attempt + 1}"
        statement, signature = folder / f"{name}.json", folder / f"{name}.sig"
        if statement.exists() or signature.exists():
            continue
        sig = sign.sign_file_bytes(data, key, statement.name)
        tmp_statement, tmp_signature = folder / f".{name}.json.tmp", folder / f".{name}.sig.tmp"
        try:
            for path, content in ((tmp_statement, data), (tmp_signature, sig)):
                with open(path, "xb") as fh:
                    fh.write(content)
                    fh.flush()
                    os.fsync(fh.fileno())
            os.replace(tmp_signature, signature)
            os.replace(tmp_statement, statement)
        finally:
            for path in (tmp_statement, tmp_signature):
                path.unlink(missing_ok=True)
        log.info("recorded sign-off %s", statement)
        return statement
    raise InputError(str(folder), "sign-off", stem, "too many sign-offs in the same second")


def check_signoffs(pack_dir: Path) -> list[SignoffCheck]:
    """Every sign-off beside a pack, checked against the pack's manifest; [] when none."""
    pack_dir = Path(pack_dir).resolve()  # "." has no name of its own
    folder = sidecar_dir(pack_dir)
    if not folder.is_dir():
        return []
    try:
        manifest_bytes = (pack_dir / mf.MANIFEST).read_bytes()
        manifest = mf.parse_manifest(manifest_bytes)
    except (OSError, ValueError, UnicodeDecodeError):
        manifest_bytes, manifest = b"", None
    found = sorted(folder.glob(f"{STATEMENT_PREFIX}*.json"))
    checks = [_check_one(path, pack_dir, manifest_bytes, manifest) for path in found]
    stems = {path.stem for path in found}
    checks.extend(
        SignoffCheck(path.name, "invalid", problem=f"{path.name} has no statement {path.stem}.json")
        for path in sorted(folder.glob(f"{STATEMENT_PREFIX}*.sig"))
        if path.stem not in stems
    )
    return checks


def _check_one(
    path: Path, pack_dir: Path, manifest_bytes: bytes, manifest: dict[str, Any] | None
) -> SignoffCheck:
    name = path.name
    try:
        data = path.read_bytes()
        record = json.loads(data.decode("utf-8"))
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        return SignoffCheck(name, "invalid", problem=f"{name} cannot be read: {exc}")
    shape = _shape_problem(record)
    if shape:
        return SignoffCheck(name, "invalid", problem=f"{name}: {shape}")
    who = {k: record[k] for k in ("reviewer", "role", "date")}
    sig_path = path.with_suffix(".sig")
    try:
        sig_bytes = sig_path.read_bytes()
    except OSError:
        return SignoffCheck(name, "invalid", **who, problem=f"{sig_path.name} is missing")
    check = sign.check_signature(data, sig_bytes, signed_file=name, sig_file=sig_path.name)
    if check.status != "valid":
        return SignoffCheck(name, "invalid", **who, key_id=check.key_id, problem=check.problem)
    problem = _binding_problem(record, check.key_id, pack_dir, manifest_bytes, manifest)
    return SignoffCheck(
        name, "invalid" if problem else "valid", **who, key_id=check.key_id, problem=problem
    )


def _shape_problem(record: Any) -> str:
    if not isinstance(record, dict) or record.get("schema") != SCHEMA:
        return f"schema is not {SCHEMA}"
    for field in _REQUIRED_TEXT:
        if not isinstance(record.get(field), str) or not record[field].strip():
            return f"{field} is missing or not text"
    pack = record.get("pack")
    if not isinstance(pack, dict) or any(not isinstance(pack.get(f), str) for f in _PACK_FIELDS):
        return "pack must name " + ", ".join(_PACK_FIELDS)
    try:
        dt.date.fromisoformat(record["date"])
    except ValueError:
        return f"date={record['date']!r} is not YYYY-MM-DD"
    return ""


def _binding_problem(
    record: dict[str, Any],
    signer: str,
    pack_dir: Path,
    manifest_bytes: bytes,
    manifest: dict[str, Any] | None,
) -> str:
    """Why a well-signed statement does not belong to this pack as it is now ("" if it does)."""
    if record["key_id"] != signer:
        return f"the statement names key {record['key_id']}, but it was signed with {signer}"
    pack = record["pack"]
    if pack["run_id"] != pack_dir.name:
        return f"it signs pack {pack['run_id']}, not {pack_dir.name}"
    if manifest is None:
        return "the pack's manifest.json cannot be read, so the sign-off cannot be matched"
    if pack["content_digest"] != manifest["content_digest"]:
        return (
            f"it signs content digest {pack['content_digest']}, but the pack's manifest has "
            f"{manifest['content_digest']}"
        )
    if pack["manifest_sha256"] != hashlib.sha256(manifest_bytes).hexdigest():
        return "manifest.json changed since the sign-off (its sha256 differs)"
    return ""
