"""Searching every byte of a pack for secrets, in the encodings they could leak in.

A secret can reach a file as itself, base64 (an HTTP Basic header, at any byte offset inside a
larger base64 blob), URL-, JSON- or HTML-escaped, hex or UTF-16. Inside zstd files (the raw
evidence and stored responses; every frame), zip containers (xlsx) and compressed PDF streams
it is searched after decompression. PDF text drawn with subset fonts
is stored as glyph ids and cannot be searched this way; the HTML it is printed from is.
"""

from __future__ import annotations

import base64
import html
import json
import re
import urllib.parse
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

import zstandard

from gcevidence.pack.manifest import walk_files

_CHUNK = 4 << 20
_MIN_DERIVED = 8  # shorter derived patterns would match by chance
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_PDF_STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.DOTALL)


def mask(secret: str) -> str:
    """Enough of a secret to tell which one it is, not enough to use it."""
    if len(secret) >= 16:
        return f"{secret[:2]}...{secret[-2:]} ({len(secret)} chars)"
    return f"({len(secret)} chars)"


def _base64_cores(data: bytes) -> Iterator[bytes]:
    """The base64 characters that depend only on `data`, for each of the 3 byte alignments."""
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + data)
        first = -(-8 * offset // 6)  # first char whose 6 bits are all data
        last = (8 * (offset + len(data))) // 6  # chars ending within the data bits
        yield encoded[first:last]


def secret_forms(secret: str) -> list[tuple[str, bytes]]:
    """(form name, byte pattern) for every encoding searched for one secret."""
    raw = secret.encode("utf-8")
    forms: list[tuple[str, bytes]] = [("plain", raw)]
    for core in _base64_cores(raw):
        forms.append(("base64", core))
        forms.append(("base64url", core.replace(b"+", b"-").replace(b"/", b"_")))
    for name, text in (
        ("url-encoded", urllib.parse.quote(secret, safe="")),
        ("url-encoded", urllib.parse.quote_plus(secret)),
        ("json-escaped", json.dumps(secret)[1:-1]),
        ("json-escaped", json.dumps(secret, ensure_ascii=False)[1:-1]),
        ("html-escaped", html.escape(secret)),
        ("hex", raw.hex()),
        ("hex", raw.hex().upper()),
    ):
        forms.append((name, text.encode("utf-8")))
    forms.append(("utf-16", secret.encode("utf-16-le")))
    forms.append(("utf-16", secret.encode("utf-16-be")))
    unique: dict[bytes, str] = {}
    for name, pattern in forms:
        if pattern and (name == "plain" or len(pattern) >= _MIN_DERIVED):
            unique.setdefault(pattern, name)
    return [(name, pattern) for pattern, name in unique.items()]


def _scan_stream(stream: BinaryIO, patterns: list[tuple[int, str, bytes]]) -> set[tuple[int, str]]:
    """(secret index, form) for every pattern found; chunks overlap so no match is split."""
    found: set[tuple[int, str]] = set()
    overlap = max(len(p) for _, _, p in patterns) - 1
    tail = b""
    while chunk := stream.read(_CHUNK):
        window = tail + chunk
        for index, form, pattern in patterns:
            if (index, form) not in found and pattern in window:
                found.add((index, form))
        tail = window[-overlap:] if overlap else b""
    return found


def _scan_bytes(data: bytes, patterns: list[tuple[int, str, bytes]]) -> set[tuple[int, str]]:
    return {(index, form) for index, form, pattern in patterns if pattern in data}


def _containers(
    path: Path, patterns: list[tuple[int, str, bytes]]
) -> Iterator[tuple[str, set[tuple[int, str]]]]:
    """Matches inside zip members and compressed PDF streams, labelled by where they were."""
    with open(path, "rb") as fh:
        magic = fh.read(5)
    if magic.startswith(_ZSTD_MAGIC):
        try:
            with (
                open(path, "rb") as raw,
                zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True) as inner,
            ):
                yield " (zstd content)", _scan_stream(inner, patterns)
        except (OSError, zstandard.ZstdError):
            return
    elif magic.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as zf:
                for member in zf.infolist():
                    with zf.open(member) as inner:
                        yield f"!{member.filename}", _scan_stream(inner, patterns)
        except (zipfile.BadZipFile, OSError, NotImplementedError, EOFError, zlib.error):
            return
    elif magic == b"%PDF-":
        for n, match in enumerate(_PDF_STREAM.finditer(path.read_bytes())):
            try:
                data = zlib.decompress(match.group(1))
            except zlib.error:
                continue
            yield f" (pdf stream {n})", _scan_bytes(data, patterns)


def scan_for_secrets(pack_dir: str | Path, secrets: Iterable[str]) -> list[str]:
    """Every place a secret occurs in the pack, as "path: secret #N <masked> (form)" lines."""
    root = Path(pack_dir)
    values = [s for s in secrets if s]
    if not values:
        return []
    patterns = [
        (i, form, pattern) for i, s in enumerate(values) for form, pattern in secret_forms(s)
    ]
    hits: set[str] = set()

    def report(where: str, found: set[tuple[int, str]]) -> None:
        for index, form in found:
            hits.add(f"{where}: secret #{index + 1} {mask(values[index])} ({form})")

    for rel, path in walk_files(root):
        report(f"{rel} (file name)", _scan_bytes(rel.encode("utf-8"), patterns))
        if path.is_symlink() or not path.is_file():
            continue
        with open(path, "rb") as fh:
            report(rel, _scan_stream(fh, patterns))
        for suffix, found in _containers(path, patterns):
            report(rel + suffix, found)
    return sorted(hits)
