"""manifest.json: canonical, complete, and recomputable by an auditor with sha256sum."""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import json
import os

import pytest
from gcevidence.errors import PackError
from gcevidence.pack import PackBuilder
from gcevidence.pack import manifest as mf

UNICODE = "Zoë \u200fעברית\u200e 😀 e\u0301"


def seal_same_data(out_root, metadata):
    with PackBuilder(out_root, "2026-11-30") as pb:
        (pb.dir / "evidence").mkdir()
        # Written in a different order each time: the manifest must not care.
        for name in ("zeta.csv", "alpha.csv", "evidence/users.csv", "Beta.csv"):
            (pb.dir / name).write_text(f"{name}\n{UNICODE}\n", encoding="utf-8")
        (pb.dir / "index.html").write_text(f"<p>{pb.content_digest()}</p>")
        return pb.seal(metadata)


def test_two_runs_over_the_same_data_differ_only_in_run_identity(tmp_path):
    meta = {
        "org": {"name": UNICODE, "id": "o-1"},
        "thresholds": {
            "dormant_days": {"value": 90, "source": "pci-dss-4.0.1", "overridden": False}
        },
        "generated_at": dt.datetime(2026, 11, 30, 6, 0, tzinfo=dt.UTC),
    }
    first = (seal_same_data(tmp_path, meta) / "manifest.json").read_text("utf-8")
    second = (seal_same_data(tmp_path, dict(reversed(meta.items()))) / "manifest.json").read_text(
        "utf-8"
    )
    changed = [
        line
        for line in difflib.unified_diff(first.splitlines(), second.splitlines(), lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    assert changed, "run ids differ, so the manifests must too"
    assert all('"run_id"' in line or '"sealed_at"' in line for line in changed), changed


def test_manifest_is_canonical_json(tmp_path):
    pack = seal_same_data(tmp_path, {"org": {"name": UNICODE}})
    raw = (pack / "manifest.json").read_bytes()
    doc = json.loads(raw)
    assert raw.endswith(b"}\n") and not raw.endswith(b"\n\n")
    assert UNICODE.encode("utf-8") in raw  # UTF-8 kept, not \u-escaped
    assert mf.canonical_json(doc) == raw  # re-serialising changes nothing
    paths = [f["path"] for f in doc["files"]]
    assert (
        paths
        == sorted(paths)
        == ["Beta.csv", "alpha.csv", "evidence/users.csv", "index.html", "zeta.csv"]
    )
    assert doc["schema"] == "gcevidence.manifest/1"


def test_every_file_is_listed_with_sha256_and_size(tmp_path):
    pack = seal_same_data(tmp_path, {})
    doc = json.loads((pack / "manifest.json").read_text())
    on_disk = sorted(p.relative_to(pack).as_posix() for p in pack.rglob("*") if p.is_file())
    assert [f["path"] for f in doc["files"]] == [p for p in on_disk if p != "manifest.json"]
    for row in doc["files"]:
        data = (pack / row["path"]).read_bytes()
        assert row["sha256"] == hashlib.sha256(data).hexdigest()
        assert row["size"] == len(data)


def test_content_digest_is_recomputable_from_the_file_list(tmp_path):
    pack = seal_same_data(tmp_path, {})
    doc = json.loads((pack / "manifest.json").read_text())
    # The documented recipe: sha256 of "<sha256> <size> <path>\n" lines sorted by path,
    # without index.html, manifest.json and manifest.sig.
    lines = "".join(
        f"{f['sha256']} {f['size']} {f['path']}\n"
        for f in sorted(doc["files"], key=lambda f: f["path"])
        if f["path"] != "index.html"
    )
    assert doc["content_digest"] == "sha256:" + hashlib.sha256(lines.encode()).hexdigest()
    assert doc["content_digest"] in (pack / "index.html").read_text()


def test_large_files_are_hashed_in_a_stream(tmp_path):
    big = tmp_path / "big.bin"
    data = os.urandom(3 * (1 << 20) + 17)
    big.write_bytes(data)
    assert mf.hash_file(big) == (hashlib.sha256(data).hexdigest(), len(data))


def test_metadata_types_are_written_stably():
    doc = {
        "when": dt.datetime(2026, 11, 30, 7, 0, tzinfo=dt.timezone(dt.timedelta(hours=1))),
        "day": dt.date(2026, 11, 30),
        "set": {"b", "a"},
    }
    assert json.loads(mf.canonical_json(doc)) == {
        "when": "2026-11-30T06:00:00Z",
        "day": "2026-11-30",
        "set": ["a", "b"],
    }
    with pytest.raises(PackError, match="cannot be written as JSON"):
        mf.canonical_json({"x": object()})
    with pytest.raises(PackError):
        mf.canonical_json({"x": float("nan")})


def test_run_metadata_records_versions_and_thresholds():
    meta = mf.run_metadata(
        generated_at=dt.datetime(2026, 11, 30, tzinfo=dt.UTC),
        org={"id": "o", "name": "n"},
        region="us-east-1",
        api_base_url=None,
        client_id="cid",
        params_digest="sha256:ab",
        baseline="pci-dss-4.0.1",
        thresholds={"dormant_days": {"value": 90}},
        period={"start": "2026-09-01", "end": "2026-11-30"},
        run_id="060000Z-abcd",
    )
    for key in ("python", "papermill", "nbconvert", "pandas", "matplotlib", "requests"):
        assert meta["dependencies"][key]
    assert meta["tool_version"] and meta["client_id"] == "cid"


@pytest.mark.parametrize("path", ["../outside", "/etc/passwd", "a/../../b", "a\\b", "", "./a"])
def test_manifest_paths_must_stay_inside_the_pack(path):
    doc = {
        "schema": mf.SCHEMA,
        "content_digest": "sha256:x",
        "files": [{"path": path, "sha256": "0" * 64, "size": 1}],
    }
    with pytest.raises(ValueError, match="bad file entry"):
        mf.parse_manifest(json.dumps(doc).encode())
