"""gcevidence verify: every missing, added or changed file named; signatures checked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from gcevidence.cli import main
from gcevidence.pack import PackBuilder
from gcevidence.pack.sign import keygen, load_public_key, load_signing_key
from gcevidence.pack.verify import verify_pack


def signing_key(tmp_path: Path, name: str = "key.pem"):
    from gcevidence.config import SigningConfig

    private, public, _ = keygen(tmp_path / name)
    return load_signing_key(SigningConfig(key=private)), public


def make_pack(out_root: Path, key=None) -> Path:
    with PackBuilder(out_root, "2026-11-30") as pb:
        (pb.dir / "evidence").mkdir()
        (pb.dir / "evidence" / "users.csv").write_text("id,name\n1,Ann\n")
        (pb.dir / "findings.json").write_text('{"findings": []}\n')
        (pb.dir / "A09_access_control.html").write_text("<h1>A09</h1>")
        (pb.dir / "index.html").write_text(f"<p>{pb.content_digest()}</p>")
        return pb.seal({"org": {"id": "o-1"}}, key)


@pytest.fixture
def signed(tmp_path):
    key, public = signing_key(tmp_path)
    return make_pack(tmp_path / "out", key), public


def test_intact_signed_pack_verifies(signed, capsys):
    pack, public = signed
    report = verify_pack(pack, load_public_key(public))
    assert report.ok and report.signature == "valid" and report.content_digest_ok
    assert report.key_id.startswith("sha256:") and report.files_checked == 4
    assert main(["verify", str(pack), "--public-key", str(public)]) == 0
    out = capsys.readouterr().out
    assert "OK: 4 files intact" in out and report.key_id in out


def test_unsigned_pack_verifies_and_says_so(tmp_path, capsys):
    pack = make_pack(tmp_path)
    report = verify_pack(pack)
    assert report.ok and report.signature == "absent"
    assert main(["verify", str(pack)]) == 0
    assert "signature: absent" in capsys.readouterr().out


def test_missing_added_and_changed_files_are_each_named(signed, capsys):
    pack, _ = signed
    (pack / "evidence" / "users.csv").unlink()
    (pack / "findings.json").write_text('{"findings": ["forged"]}\n')
    (pack / "index.html").write_text("<p>edited</p>")
    (pack / "evidence" / "extra.csv").write_text("planted\n")
    (pack / "notes.txt").write_text("planted\n")
    report = verify_pack(pack)
    assert not report.ok
    assert report.missing == ("evidence/users.csv",)
    assert report.added == ("evidence/extra.csv", "notes.txt")
    assert report.changed == ("findings.json", "index.html")
    assert report.signature == "valid"  # the manifest itself is untouched
    assert main(["verify", str(pack)]) == 1
    lines = capsys.readouterr().out.splitlines()
    for line in (
        "missing: evidence/users.csv",
        "added: evidence/extra.csv",
        "added: notes.txt",
        "changed: findings.json",
        "changed: index.html",
    ):
        assert line in lines


def test_same_size_change_is_detected(tmp_path):
    pack = make_pack(tmp_path)
    (pack / "evidence" / "users.csv").write_text("id,name\n1,Bob\n")
    assert verify_pack(pack).changed == ("evidence/users.csv",)


def test_forged_manifest_breaks_the_signature(signed, capsys):
    pack, _ = signed
    (pack / "findings.json").write_text('{"findings": ["forged"]}\n')
    doc = json.loads((pack / "manifest.json").read_text())
    # The forger updates the manifest to match the forged file.
    import hashlib

    data = (pack / "findings.json").read_bytes()
    for row in doc["files"]:
        if row["path"] == "findings.json":
            row.update(sha256=hashlib.sha256(data).hexdigest(), size=len(data))
    (pack / "manifest.json").write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    report = verify_pack(pack)
    assert not report.ok and report.signature == "invalid" and report.changed == ()
    assert not report.content_digest_ok
    assert main(["verify", str(pack)]) == 1
    assert "signature: INVALID" in capsys.readouterr().out


def test_resigned_with_another_key_fails_against_the_published_key(tmp_path):
    _, published = signing_key(tmp_path, "org.pem")
    forger, _ = signing_key(tmp_path, "forger.pem")
    pack = make_pack(tmp_path / "out", forger)
    assert verify_pack(pack).ok  # self-consistent ...
    report = verify_pack(pack, load_public_key(published))
    assert not report.ok and report.signature == "invalid"  # ... but not by the org's key
    assert "not by the expected key" in report.problems[0]


def test_stripped_signature_is_detected(signed):
    pack, public = signed
    (pack / "manifest.sig").unlink()
    report = verify_pack(pack)
    assert not report.ok and report.missing == ("manifest.sig",)
    assert not verify_pack(pack, load_public_key(public)).ok


def test_public_key_demands_a_signature(tmp_path):
    _, public = signing_key(tmp_path)
    pack = make_pack(tmp_path / "out")
    report = verify_pack(pack, load_public_key(public))
    assert not report.ok and report.signature == "absent"


def test_garbled_signature_is_invalid(signed):
    pack, _ = signed
    (pack / "manifest.sig").write_text("not json")
    report = verify_pack(pack)
    assert not report.ok and report.signature == "invalid"


def test_no_manifest_is_not_a_pack(tmp_path, capsys):
    (tmp_path / "file.txt").write_text("x")
    report = verify_pack(tmp_path)
    assert not report.ok and report.missing == ("manifest.json",)
    assert main(["verify", str(tmp_path)]) == 1
    assert "missing: manifest.json" in capsys.readouterr().out


def test_manifest_pointing_outside_the_pack_is_rejected(tmp_path):
    pack = make_pack(tmp_path)
    doc = json.loads((pack / "manifest.json").read_text())
    doc["files"].append({"path": "../../etc/passwd", "sha256": "0" * 64, "size": 1})
    (pack / "manifest.json").write_text(json.dumps(doc))
    report = verify_pack(pack)
    assert not report.ok and report.changed == ("manifest.json",)


def test_not_a_folder_is_a_usage_error(tmp_path, capsys):
    assert main(["verify", str(tmp_path / "nope")]) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_signature_checks_out_with_openssl_alone(signed, tmp_path):
    """An auditor without gcevidence can check the signature with stock OpenSSL."""
    import base64
    import shutil
    import subprocess

    if not shutil.which("openssl"):
        pytest.skip("needs the openssl command")
    pack, public = signed
    sig = tmp_path / "sig.bin"
    sig.write_bytes(base64.b64decode(json.loads((pack / "manifest.sig").read_text())["signature"]))
    cmd = [
        "openssl",
        "pkeyutl",
        "-verify",
        "-pubin",
        "-inkey",
        str(public),
        "-rawin",
        "-in",
        str(pack / "manifest.json"),
        "-sigfile",
        str(sig),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if "rawin" in done.stderr and done.returncode != 0:
        pytest.skip("this OpenSSL predates Ed25519 -rawin (3.0)")
    assert done.returncode == 0 and "Signature Verified Successfully" in done.stdout
    (pack / "manifest.json").write_bytes((pack / "manifest.json").read_bytes() + b" ")
    assert subprocess.run(cmd, capture_output=True).returncode != 0
