"""manifest.json: the sha256 and size of every file of a pack, plus the run's metadata.

The manifest is canonical JSON (sorted keys, rows sorted by path, UTF-8, two-space indent,
trailing newline) so that two runs over the same data differ only where the data differs.

`content_digest` is what index.html shows: the sha256 of the UTF-8 lines
``"<sha256-hex> <size> <path>\\n"`` for every file except index.html, manifest.json and
manifest.sig, sorted by path. An auditor can recompute it from the manifest's `files` alone.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import importlib.metadata
import json
import os
import platform
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from gcevidence import __version__
from gcevidence.errors import PackError

SCHEMA = "gcevidence.manifest/1"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
INDEX = "index.html"
# The files the manifest cannot list (itself and its signature) and the one the digest cannot
# cover because it displays the digest.
UNLISTED = frozenset({MANIFEST, SIGNATURE})
NOT_IN_DIGEST = UNLISTED | {INDEX}

# Dependencies whose versions change what a pack looks like; recorded for reproducibility.
DEPENDENCIES = (
    "papermill",
    "nbconvert",
    "nbclient",
    "pandas",
    "matplotlib",
    "requests",
    "cryptography",
    "pyyaml",
)
_CHUNK = 1 << 20


@dataclass(frozen=True)
class FileEntry:
    """One file of a pack: POSIX path relative to the pack folder, sha256 hex, size in bytes."""

    path: str
    sha256: str
    size: int

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "sha256": self.sha256, "size": self.size}


def hash_file(path: Path) -> tuple[str, int]:
    """Stream a file through sha256; returns (hex digest, bytes read)."""
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def walk_files(root: Path) -> Iterator[tuple[str, Path]]:
    """Every non-directory entry under root as (POSIX relative path, path); links not followed."""
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(dirpath)
        # A symlinked folder is listed by os.walk among dirnames; treat it as a file entry so
        # that it is refused (seal) or reported (verify), never silently skipped.
        for name in sorted(dirnames):
            if (here / name).is_symlink():
                yield (here / name).relative_to(root).as_posix(), here / name
        dirnames[:] = [d for d in dirnames if not (here / d).is_symlink()]
        for name in filenames:
            yield (here / name).relative_to(root).as_posix(), here / name


def list_entries(root: Path, exclude: Iterable[str] = UNLISTED) -> list[FileEntry]:
    """Hash every regular file of a pack folder, sorted by path; PackError on anything else."""
    skip = set(exclude)
    entries = []
    for rel, path in walk_files(root):
        if rel in skip:
            continue
        if path.is_symlink() or not path.is_file():
            raise PackError(
                f"{path}: a pack may contain only regular files, not links or "
                "devices; write the file itself into the pack folder"
            )
        sha, size = hash_file(path)
        entries.append(FileEntry(rel, sha, size))
    return sorted(entries, key=lambda e: e.path)


def content_digest(entries: Iterable[FileEntry]) -> str:
    """sha256 over the sorted "<sha256> <size> <path>" lines of every file except index.html."""
    lines = sorted(
        (e.path, f"{e.sha256} {e.size} {e.path}\n") for e in entries if e.path not in NOT_IN_DIGEST
    )
    digest = hashlib.sha256()
    for _, line in lines:
        digest.update(line.encode("utf-8"))
    return "sha256:" + digest.hexdigest()


# What the working papers rest on: the findings, the collected evidence and the inputs that
# shaped them. All are written before the papers are executed and never after.
EVIDENCE_FILES = ("findings.json", "snapshot.json", "thresholds.json", "params.yaml")
EVIDENCE_DIR = "evidence"
# The populations and samples an auditor tests against tickets rest on the evidence too.
EVIDENCE_DIRS = (EVIDENCE_DIR, "populations", "samples")


def evidence_digest(root: Path) -> str:
    """sha256 over the "<sha256> <size> <path>" lines of the files the papers rest on.

    Those are EVIDENCE_FILES and every file under EVIDENCE_DIRS, sorted by path: the same lines as
    the content digest, for a subset of the manifest's files, so an auditor recomputes it from
    manifest.json alone. The PDFs print it (they cannot print the content digest, which covers
    them).
    """
    root = Path(root)
    entries = [
        FileEntry(rel, *hash_file(path))
        for rel, path in walk_files(root)
        if (rel in EVIDENCE_FILES or rel.split("/")[0] in EVIDENCE_DIRS) and path.is_file()
    ]
    lines = sorted((e.path, f"{e.sha256} {e.size} {e.path}\n") for e in entries)
    digest = hashlib.sha256()
    for _, line in lines:
        digest.update(line.encode("utf-8"))
    return "sha256:" + digest.hexdigest()


def safe_relative_path(path: object) -> bool:
    """True for a plain POSIX relative path that stays inside the pack (no '..', not absolute)."""
    if not isinstance(path, str) or not path or "\\" in path or "\0" in path:
        return False
    pure = PurePosixPath(path)
    return not pure.is_absolute() and ".." not in pure.parts and pure.as_posix() == path


def _plain(value: Any) -> Any:
    """json.dumps fallback: the few non-JSON types run metadata may contain, written stably."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
            return value.isoformat().replace("+00:00", "Z")
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Path):
        return value.as_posix()
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def canonical_json(obj: Any) -> bytes:
    """Canonical UTF-8 JSON bytes: sorted keys, two-space indent, trailing newline."""
    try:
        text = json.dumps(
            obj, sort_keys=True, ensure_ascii=False, indent=2, allow_nan=False, default=_plain
        )
    except (TypeError, ValueError) as exc:
        raise PackError(f"manifest metadata cannot be written as JSON: {exc}") from exc
    return (text + "\n").encode("utf-8")


def dependency_versions() -> dict[str, str]:
    """Installed versions of the libraries that shape a pack, and of Python itself."""
    versions = {"python": platform.python_version()}
    for name in DEPENDENCIES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def run_metadata(
    *,
    generated_at: dt.datetime,
    org: dict[str, Any],
    region: str | None,
    api_base_url: str | None,
    client_id: str,
    params_digest: str,
    baseline: str,
    thresholds: dict[str, Any],
    period: dict[str, Any],
    run_id: str,
    **extra: Any,
) -> dict[str, Any]:
    """The run metadata a manifest records; callers may add more keys through `extra`."""
    return {
        "run_id": run_id,
        "generated_at": generated_at,
        "org": org,
        "region": region,
        "api_base_url": api_base_url,
        "client_id": client_id,
        "params_digest": params_digest,
        "baseline": baseline,
        "thresholds": thresholds,
        "period": period,
        "tool_version": __version__,
        "dependencies": dependency_versions(),
        **extra,
    }


def build_manifest(
    entries: list[FileEntry], metadata: dict[str, Any], signing: dict[str, str] | None = None
) -> dict[str, Any]:
    """The manifest document for the given file entries and metadata."""
    doc: dict[str, Any] = {
        "schema": SCHEMA,
        "files": [e.as_dict() for e in sorted(entries, key=lambda e: e.path)],
        "content_digest": content_digest(entries),
        "metadata": metadata,
    }
    if signing:
        # Inside the signed bytes, so a stripped or swapped signature is detectable.
        doc["signing"] = signing
    return doc


def parse_manifest(data: bytes) -> dict[str, Any]:
    """Parse and shape-check manifest.json bytes; ValueError with the problem otherwise."""
    doc = json.loads(data.decode("utf-8"))
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        raise ValueError(f"schema is not {SCHEMA}")
    files = doc.get("files")
    if not isinstance(files, list):
        raise ValueError("files is not a list")
    seen = set()
    for row in files:
        if (
            not isinstance(row, dict)
            or not safe_relative_path(row.get("path"))
            or not isinstance(row.get("sha256"), str)
            or not isinstance(row.get("size"), int)
            or isinstance(row.get("size"), bool)
        ):
            raise ValueError(f"bad file entry {row!r:.120}")
        if row["path"] in seen or row["path"] in UNLISTED:
            raise ValueError(f"file entry {row['path']!r} repeated or not allowed")
        seen.add(row["path"])
    if not isinstance(doc.get("content_digest"), str):
        raise ValueError("content_digest missing")
    return doc


def entries_of(doc: dict[str, Any]) -> list[FileEntry]:
    """The file entries of a parsed manifest."""
    return [FileEntry(r["path"], r["sha256"], r["size"]) for r in doc["files"]]
