"""Reviewer sign-off: recorded beside a sealed pack, checked by verify, never a pack itself."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from gcevidence.cli import main
from gcevidence.history import find_previous_packs
from gcevidence.pack import PackBuilder, sign
from gcevidence.pack import manifest as mf
from gcevidence.pack.signoff import check_signoffs, sidecar_dir
from gcevidence.pack.verify import verify_pack
from gcevidence.report.period import discover_packs


def make_pack(out_root: Path, period_end: str = "2026-11-30") -> Path:
    with PackBuilder(out_root, period_end) as pb:
        (pb.dir / "findings.json").write_text(
            json.dumps(
                {
                    "schema": "gcevidence.findings/1",
                    "run": {"id": pb.run_id, "org": {"id": "o-1", "name": "Acme"}},
                    "findings": [],
                }
            )
        )
        (pb.dir / "index.html").write_text("<p>pack</p>")
        return pb.seal({"org": {"id": "o-1"}})


def snapshot_bytes(folder: Path) -> dict[str, bytes]:
    return {rel: path.read_bytes() for rel, path in mf.walk_files(folder)}


@pytest.fixture
def pack(tmp_path):
    return make_pack(tmp_path / "out")


@pytest.fixture
def reviewer_key(tmp_path):
    private, public, key_id = sign.keygen(tmp_path / "reviewer.pem")
    return private, key_id


def sign_it(pack, key_path, *extra):
    argv = ["review", "sign", str(pack), "--reviewer", "Jane Roe", "--key", str(key_path)]
    return main([*argv, "--role", "Internal audit lead", "--date", "2026-12-02", *extra])


def test_sign_records_a_statement_beside_the_pack_and_verify_reports_it(pack, reviewer_key, capsys):
    key_path, key_id = reviewer_key
    before = snapshot_bytes(pack)
    assert sign_it(pack, key_path, "--statement", "Reviewed; exceptions followed up.") == 0
    assert str(sidecar_dir(pack)) in capsys.readouterr().out
    # the sealed files are untouched and the pack still verifies
    assert snapshot_bytes(pack) == before and verify_pack(pack).ok
    [statement] = sidecar_dir(pack).glob("review-*.json")
    assert statement.with_suffix(".sig").is_file()
    record = json.loads(statement.read_text())
    manifest = (pack / "manifest.json").read_bytes()
    assert record["pack"] == {
        "run_id": pack.name,
        "period_end": "2026-11-30",
        "content_digest": mf.parse_manifest(manifest)["content_digest"],
        "manifest_sha256": hashlib.sha256(manifest).hexdigest(),
    }
    assert (record["reviewer"], record["role"], record["date"]) == (
        "Jane Roe",
        "Internal audit lead",
        "2026-12-02",
    )
    assert record["statement"] == "Reviewed; exceptions followed up."
    assert record["key_id"] == key_id and record["tool_version"]

    assert main(["verify", str(pack)]) == 0
    out = capsys.readouterr().out
    assert (
        f"sign-off: valid, Jane Roe (Internal audit lead) on 2026-12-02, key {key_id}, "
        f"{statement.name}" in out
    )
    assert "OK:" in out


def test_default_statement_names_the_digest(pack, reviewer_key):
    key_path, _ = reviewer_key
    assert main(["review", "sign", str(pack), "--reviewer", "Jane", "--key", str(key_path)]) == 0
    [check] = check_signoffs(pack)
    [statement] = sidecar_dir(pack).glob("review-*.json")
    record = json.loads(statement.read_text())
    assert check.status == "valid" and check.role == "reviewer"
    assert record["pack"]["content_digest"] in record["statement"]


def test_a_pack_without_sign_off_verifies_exactly_as_before(pack, capsys):
    assert main(["verify", str(pack)]) == 0
    out = capsys.readouterr().out
    assert "sign-off" not in out and check_signoffs(pack) == []


def test_an_edited_statement_fails_verify(pack, reviewer_key, capsys):
    assert sign_it(pack, reviewer_key[0]) == 0
    [statement] = sidecar_dir(pack).glob("review-*.json")
    statement.write_text(statement.read_text().replace("Jane Roe", "John Doe"))
    capsys.readouterr()
    assert main(["verify", str(pack)]) == 1
    out = capsys.readouterr().out
    assert "sign-off: INVALID, John Doe (Internal audit lead) on 2026-12-02" in out
    assert f"signature does not match {statement.name}" in out
    assert "FAILED: a reviewer sign-off beside" in out


def test_a_signature_swapped_for_another_key_fails_verify(pack, reviewer_key, tmp_path, capsys):
    assert sign_it(pack, reviewer_key[0]) == 0
    [statement] = sidecar_dir(pack).glob("review-*.json")
    other, _, other_id = sign.keygen(tmp_path / "other.pem")
    other_key = sign.load_private_key(other, "test", "key")
    statement.with_suffix(".sig").write_bytes(
        sign.sign_file_bytes(statement.read_bytes(), other_key, statement.name)
    )
    assert main(["verify", str(pack)]) == 1
    out = capsys.readouterr().out
    assert f"but it was signed with {other_id}" in out


def test_a_statement_moved_to_another_pack_fails_verify(pack, reviewer_key, tmp_path, capsys):
    assert sign_it(pack, reviewer_key[0]) == 0
    other = make_pack(tmp_path / "out", "2026-12-31")
    shutil.copytree(sidecar_dir(pack), sidecar_dir(other))
    assert main(["verify", str(other)]) == 1
    assert f"it signs pack {pack.name}, not {other.name}" in capsys.readouterr().out


def test_a_deleted_statement_leaves_its_signature_reported(pack, reviewer_key, capsys):
    assert sign_it(pack, reviewer_key[0]) == 0
    [statement] = sidecar_dir(pack).glob("review-*.json")
    statement.unlink()
    assert main(["verify", str(pack)]) == 1
    assert "has no statement" in capsys.readouterr().out


def test_a_tampered_pack_cannot_be_signed(pack, reviewer_key, capsys):
    (pack / "findings.json").write_text("{}")
    assert sign_it(pack, reviewer_key[0]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert "does not verify, so it cannot be signed: changed: findings.json" in line
    assert not sidecar_dir(pack).exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--date", "2026-13-01"], "--date='2026-13-01': is not a date YYYY-MM-DD"),
        (["--reviewer", "  "], "--reviewer='  ': must be a non-empty single line"),
        (["--key", "missing.pem"], "--key='missing.pem': cannot be read"),
        (["--role", "lead\nauditor"], "--role='lead\\nauditor': must be a non-empty single line"),
    ],
)
def test_bad_input_exits_2_with_one_line(pack, reviewer_key, capsys, argv, message, tmp_path):
    base = {"--reviewer": "Jane", "--key": str(reviewer_key[0]), "--date": "2026-12-02"}
    base.update(dict(zip(argv[::2], argv[1::2], strict=True)))
    assert main(["review", "sign", str(pack), *[x for kv in base.items() for x in kv]]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("gcevidence: error: ") and message in line
    assert not sidecar_dir(pack).exists()


def test_the_sidecar_never_counts_as_a_pack(pack, reviewer_key):
    assert sign_it(pack, reviewer_key[0]) == 0
    assert sign_it(pack, reviewer_key[0]) == 0  # a second sign-off in the same second
    assert len(list(sidecar_dir(pack).glob("review-*.json"))) == 2
    assert [r.path for r in find_previous_packs(pack.parent.parent, "o-1")] == [pack]
    packs, excluded = discover_packs(pack.parent.parent)
    assert [p.path for p in packs] == [pack] and excluded == []
    assert [c.status for c in packs[0].signoffs] == ["valid", "valid"]


def test_verify_from_inside_the_pack_folder_finds_its_sign_offs(
    pack, reviewer_key, capsys, monkeypatch
):
    assert sign_it(pack, reviewer_key[0]) == 0
    monkeypatch.chdir(pack)
    capsys.readouterr()
    assert main(["verify", "."]) == 0
    assert "sign-off: valid" in capsys.readouterr().out
