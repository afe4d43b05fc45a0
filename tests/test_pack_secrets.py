"""scan_for_secrets: a secret is found in whatever encoding it leaked in."""

from __future__ import annotations

import base64
import urllib.parse
import zipfile
import zlib

import pytest
from gcevidence.evidence_files import FramedWriter
from gcevidence.pack.secrets import scan_for_secrets

SECRET = "sim-Secret/+Value_9f3a2c71e0"
TOKEN = "tok.eyJhbGciOiJIUzI1NiJ9.c2ltdWxhdG9y"


@pytest.fixture
def pack(tmp_path):
    (tmp_path / "evidence").mkdir()
    (tmp_path / "evidence" / "users.csv").write_text("id,name\n1,Ann\n")
    (tmp_path / "findings.json").write_text('{"findings": []}\n')
    return tmp_path


def test_clean_pack_has_no_hits(pack):
    assert scan_for_secrets(pack, [SECRET, TOKEN]) == []


def test_plain_secret_is_found_and_masked(pack):
    (pack / "requests.jsonl").write_text(f'{{"path": "/api/v2/users", "auth": "{TOKEN}"}}\n')
    hits = scan_for_secrets(pack, [SECRET, TOKEN])
    assert hits == [
        f"requests.jsonl: secret #2 {TOKEN[:2]}...{TOKEN[-2:]} ({len(TOKEN)} chars) (plain)"
    ]
    assert TOKEN not in hits[0]


@pytest.mark.parametrize("prefix", ["", "a", "ab", "client-id:"])
def test_base64_secret_is_found_at_any_offset(pack, prefix):
    basic = base64.b64encode(f"{prefix}{SECRET}".encode()).decode()
    (pack / "A09_access_control.ipynb").write_text(
        f'{{"outputs": ["Authorization: Basic {basic}"]}}'
    )
    hits = scan_for_secrets(pack, [SECRET])
    assert hits and all(h.startswith("A09_access_control.ipynb: secret #1") for h in hits)
    assert any("(base64)" in h for h in hits)


def test_url_encoded_secret_is_found(pack):
    query = urllib.parse.urlencode({"client_secret": SECRET})
    (pack / "requests.jsonl").write_text(f'{{"body": "{query}"}}\n')
    assert any("(url-encoded)" in h for h in scan_for_secrets(pack, [SECRET]))


def test_secret_inside_a_workbook_is_found(pack):
    with zipfile.ZipFile(pack / "review.xlsx", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/sharedStrings.xml", f"<si><t>{SECRET}</t></si>")
    hits = scan_for_secrets(pack, [SECRET])
    assert "review.xlsx!xl/sharedStrings.xml: secret #1" in hits[0]


def test_secret_inside_a_compressed_pdf_stream_is_found(pack):
    stream = zlib.compress(f"BT (client secret {SECRET}) Tj ET".encode())
    (pack / "A09_access_control.pdf").write_bytes(
        b"%PDF-1.7\n1 0 obj << /Filter /FlateDecode >>\nstream\n"
        + stream
        + b"\nendstream\nendobj\n%%EOF\n"
    )
    hits = scan_for_secrets(pack, [SECRET])
    assert hits == [
        f"A09_access_control.pdf (pdf stream 0): secret #1 "
        f"{SECRET[:2]}...{SECRET[-2:]} ({len(SECRET)} chars) (plain)"
    ]


def test_secret_split_across_read_chunks_is_found(pack):
    from gcevidence.pack import secrets as module

    big = b"x" * (module._CHUNK - 5) + SECRET.encode() + b"y" * 100
    (pack / "requests.jsonl").write_bytes(big)
    assert scan_for_secrets(pack, [SECRET])


def test_secret_in_a_file_name_is_found(pack):
    (pack / f"dump-{TOKEN}.txt").write_text("x")
    assert any("(file name)" in h for h in scan_for_secrets(pack, [TOKEN]))


def test_secret_inside_a_zstd_stream_is_found_in_any_frame(pack):
    """Raw evidence and stored answers are zstd: the scan reads them decompressed, every frame."""
    path = pack / "evidence" / "audit_events.csv.zst"
    with FramedWriter(path) as out:
        out.write("id\n1\n")
        out.flush_frame()
        out.write(f"2,{SECRET}\n")
    hits = scan_for_secrets(pack, [SECRET])
    # Found through decompression (the label says so), whatever zstd kept literal on disk.
    assert any(
        h.startswith("evidence/audit_events.csv.zst (zstd content): secret #1") for h in hits
    )
