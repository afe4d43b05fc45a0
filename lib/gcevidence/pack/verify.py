"""Verifying a sealed pack: re-hash every file, name what is missing, added or changed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from gcevidence.errors import InputError
from gcevidence.pack import manifest as mf
from gcevidence.pack import sign


@dataclass(frozen=True)
class VerifyReport:
    """What verify found; `ok` only when every file matches and no signature check failed."""

    ok: bool
    missing: tuple[str, ...] = ()
    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    signature: str = "absent"  # valid | invalid | absent
    content_digest_ok: bool = False
    key_id: str = ""  # the key that signed, for comparison with a published one
    content_digest: str = ""
    files_checked: int = 0
    problems: tuple[str, ...] = ()  # one readable line per problem beyond the file lists


def verify_pack(pack_dir: str | Path, public_key: Ed25519PublicKey | None = None) -> VerifyReport:
    """Check a pack against its manifest (and signature, pinned to `public_key` when given)."""
    root = Path(pack_dir)
    if not root.is_dir():
        raise InputError(
            str(root),
            "PACK_DIR",
            str(root),
            "is not a folder",
            "pass a sealed pack folder, OUT/<period-end>/<run-id>",
        )
    manifest_path = root / mf.MANIFEST
    if not manifest_path.is_file() or manifest_path.is_symlink():
        return VerifyReport(
            False,
            missing=(mf.MANIFEST,),
            problems=("manifest.json is missing: this is not a sealed pack",),
        )
    try:
        manifest_bytes = manifest_path.read_bytes()
        doc = mf.parse_manifest(manifest_bytes)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        return VerifyReport(
            False, changed=(mf.MANIFEST,), problems=(f"manifest.json cannot be read: {exc}",)
        )

    entries = mf.entries_of(doc)
    missing: list[str] = []
    changed: list[str] = []
    problems: list[str] = []
    for entry in entries:
        path = root / entry.path
        if not path.exists() and not path.is_symlink():
            missing.append(entry.path)
        elif (
            path.is_symlink()
            or not path.is_file()
            or _digest(root, entry.path, problems) != (entry.sha256, entry.size)
        ):
            changed.append(entry.path)
    listed = {e.path for e in entries} | mf.UNLISTED
    added = sorted(rel for rel, _ in mf.walk_files(root) if rel not in listed)

    digest_ok = mf.content_digest(entries) == doc["content_digest"]
    if not digest_ok:
        problems.append("content_digest in manifest.json does not match its file list")

    signature, signer = _check_signature(root, manifest_bytes, doc, public_key, missing, problems)
    ok = (
        not missing
        and not added
        and not changed
        and digest_ok
        and signature != "invalid"
        and not problems
    )
    return VerifyReport(
        ok,
        tuple(sorted(missing)),
        tuple(added),
        tuple(sorted(changed)),
        signature,
        digest_ok,
        signer,
        doc["content_digest"],
        len(entries),
        tuple(problems),
    )


def _digest(root: Path, rel: str, problems: list[str]) -> tuple[str, int] | None:
    try:
        return mf.hash_file(root / rel)
    except OSError as exc:
        problems.append(f"{rel} cannot be read ({exc.strerror})")
        return None


def _check_signature(
    root: Path,
    manifest_bytes: bytes,
    doc: dict,
    public_key: Ed25519PublicKey | None,
    missing: list[str],
    problems: list[str],
) -> tuple[str, str]:
    declared = doc.get("signing") if isinstance(doc.get("signing"), dict) else None
    sig_path = root / mf.SIGNATURE
    if not sig_path.is_file() or sig_path.is_symlink():
        if declared:
            missing.append(mf.SIGNATURE)
            problems.append(
                f"manifest.json says it was signed by {declared.get('key_id')}, "
                "but manifest.sig is missing"
            )
        elif public_key is not None:
            problems.append("the pack is not signed, but a public key was given to check")
        return "absent", ""
    check = sign.check_signature(manifest_bytes, sig_path.read_bytes(), public_key)
    if check.status != "valid":
        problems.append(check.problem)
        return check.status, check.key_id
    if declared and declared.get("key_id") != check.key_id:
        problems.append(
            f"manifest.json names key {declared.get('key_id')}, "
            f"but manifest.sig was made with {check.key_id}"
        )
        return "invalid", check.key_id
    return "valid", check.key_id
