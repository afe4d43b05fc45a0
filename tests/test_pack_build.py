"""PackBuilder: a pack appears whole or not at all, and never over an existing one."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from conftest import without_root_override
from gcevidence.errors import PackError
from gcevidence.pack import PackBuilder
from gcevidence.pack.verify import verify_pack

LIB = str(Path(__file__).resolve().parents[1] / "lib")
PERIOD_END = "2026-11-30"


def write_files(root: Path) -> None:
    (root / "evidence" / "raw").mkdir(parents=True)
    (root / "evidence" / "users.csv").write_text("id,name\n1,Zoë\n", encoding="utf-8")
    (root / "evidence" / "raw" / "users.jsonl").write_text('{"id": "1"}\n')
    (root / "findings.json").write_text('{"findings": []}\n')


def leftovers(out_root: Path) -> list[str]:
    """Everything under out_root, as relative paths."""
    return sorted(p.relative_to(out_root).as_posix() for p in out_root.rglob("*"))


def test_seal_moves_the_complete_pack_into_place(tmp_path):
    with PackBuilder(tmp_path, PERIOD_END) as pb:
        assert pb.dir.parent == tmp_path and pb.dir.name.startswith(".building-")
        write_files(pb.dir)
        digest = pb.content_digest()
        (pb.dir / "index.html").write_text(f"<p>content digest {digest}</p>")
        pack = pb.seal({"org": {"id": "org-1"}})

    assert re.fullmatch(r"\d{6}Z-[0-9a-f]{4}", pb.run_id)
    assert pack == tmp_path / PERIOD_END / pb.run_id == pb.pack_dir
    assert not pb.dir.exists()
    assert [p for p in tmp_path.iterdir() if p.name.startswith(".building-")] == []
    manifest = json.loads((pack / "manifest.json").read_text())
    assert [f["path"] for f in manifest["files"]] == [
        "evidence/raw/users.jsonl",
        "evidence/users.csv",
        "findings.json",
        "index.html",
    ]
    assert manifest["content_digest"] == digest
    assert manifest["metadata"]["run_id"] == pb.run_id
    assert manifest["metadata"]["org"] == {"id": "org-1"}
    assert {"python", "papermill", "nbconvert", "pandas", "matplotlib", "requests"} <= set(
        manifest["metadata"]["dependencies"]
    )
    assert not (pack / "manifest.sig").exists()
    assert verify_pack(pack).ok


def test_exception_in_the_block_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError, match="boom"), PackBuilder(tmp_path, PERIOD_END) as pb:
        write_files(pb.dir)
        raise RuntimeError("boom")
    assert leftovers(tmp_path) == []


def test_ctrl_c_in_the_block_leaves_nothing(tmp_path):
    with pytest.raises(KeyboardInterrupt), PackBuilder(tmp_path, PERIOD_END) as pb:
        write_files(pb.dir)
        pb.content_digest()
        raise KeyboardInterrupt
    assert leftovers(tmp_path) == []


def test_a_block_that_never_seals_leaves_nothing(tmp_path):
    with PackBuilder(tmp_path, PERIOD_END) as pb:
        write_files(pb.dir)
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_kill_while_building_removes_the_unfinished_pack(tmp_path, signum):
    script = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from gcevidence.pack import PackBuilder
        with PackBuilder({str(tmp_path)!r}, {PERIOD_END!r}) as pb:
            (pb.dir / "evidence").mkdir()
            (pb.dir / "evidence" / "users.csv").write_text("id\\n1\\n")
            print("building", flush=True)
            time.sleep(30)
            pb.seal({{}})
    """)
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": LIB},
    )
    try:
        assert proc.stdout.readline().strip() == "building"
        assert any(p.name.startswith(".building-") for p in tmp_path.iterdir())
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 128 + signum
    assert "removed the unfinished pack" in err
    assert leftovers(tmp_path) == []


def test_signal_handlers_are_restored_after_the_block(tmp_path):
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGHUP)
    with PackBuilder(tmp_path, PERIOD_END) as pb:
        assert signal.getsignal(signal.SIGTERM) != before[0]
        pb.seal({})
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGHUP)) == before


def test_folders_left_by_killed_runs_are_named(tmp_path, caplog):
    stale = tmp_path / ".building-010203Z-dead"
    stale.mkdir()
    os.utime(stale, (time.time() - 3 * 86400,) * 2)
    with PackBuilder(tmp_path, PERIOD_END) as pb:
        pb.seal({})
    assert f"{stale} was left by a run that was killed" in caplog.text


def test_an_existing_pack_is_never_written_into(tmp_path):
    with pytest.raises(PackError, match="already exists"), PackBuilder(tmp_path, PERIOD_END) as pb:
        write_files(pb.dir)
        # Another run sealed a pack at the same path first.
        pb.final_dir.mkdir(parents=True)
        (pb.final_dir / "findings.json").write_text("theirs")
        pb.seal({})
    assert (pb.final_dir / "findings.json").read_text() == "theirs"
    assert leftovers(tmp_path) == [
        PERIOD_END,
        f"{PERIOD_END}/{pb.run_id}",
        f"{PERIOD_END}/{pb.run_id}/findings.json",
    ]


def test_two_runs_make_two_packs(tmp_path):
    packs = []
    for _ in range(2):
        with PackBuilder(tmp_path, PERIOD_END) as pb:
            write_files(pb.dir)
            packs.append(pb.seal({}))
    assert packs[0] != packs[1] and all(verify_pack(p).ok for p in packs)


def test_digest_shown_in_index_must_cover_every_file(tmp_path):
    with (
        pytest.raises(PackError, match="changed after content_digest"),
        PackBuilder(tmp_path, PERIOD_END) as pb,
    ):
        write_files(pb.dir)
        pb.content_digest()
        (pb.dir / "late.csv").write_text("x\n")
        pb.seal({})
    assert leftovers(tmp_path) == []


def test_index_html_is_outside_the_digest_but_in_the_manifest(tmp_path):
    with PackBuilder(tmp_path, PERIOD_END) as pb:
        write_files(pb.dir)
        before = pb.content_digest()
        (pb.dir / "index.html").write_text(f"<p>{before}</p>")
        assert pb.content_digest() == before
        pack = pb.seal({})
    manifest = json.loads((pack / "manifest.json").read_text())
    assert manifest["content_digest"] == before
    assert "index.html" in [f["path"] for f in manifest["files"]]


def test_only_seal_writes_the_manifest(tmp_path):
    with pytest.raises(PackError, match="only seal"), PackBuilder(tmp_path, PERIOD_END) as pb:
        (pb.dir / "manifest.json").write_text("{}")
        pb.seal({})
    assert leftovers(tmp_path) == []


def test_links_are_refused(tmp_path):
    secret = tmp_path / "outside.txt"
    secret.write_text("not evidence")
    out = tmp_path / "out"
    with pytest.raises(PackError, match="only regular files"), PackBuilder(out, PERIOD_END) as pb:
        (pb.dir / "evidence.txt").symlink_to(secret)
        pb.seal({})
    assert leftovers(out) == []


def test_seal_twice_is_refused(tmp_path):
    with PackBuilder(tmp_path, PERIOD_END) as pb:
        pb.seal({})
        with pytest.raises(PackError, match="not being built"):
            pb.seal({})


def test_disk_full_is_one_line_naming_the_folder(tmp_path):
    if not Path("/dev/full").exists():
        pytest.skip("needs /dev/full")
    with pytest.raises(PackError) as err, PackBuilder(tmp_path, PERIOD_END) as pb:
        write_files(pb.dir)
        # /dev/full fails every write with ENOSPC, exactly like a full disk.
        with open("/dev/full", "wb") as full:
            full.write(b"x" * 65536)
            full.flush()
    message = str(err.value)
    assert err.value.exit_status == 2
    assert "\n" not in message
    assert "no space left" in message and str(tmp_path) in message and "--out" in message
    assert leftovers(tmp_path) == []


def _run_without_root_override(script: str) -> subprocess.CompletedProcess:
    """Run python as this user, but without root's power to ignore file permissions."""
    cmd = without_root_override([sys.executable, "-c", script])
    return subprocess.run(
        cmd, capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONPATH": LIB}
    )


def test_unwritable_output_folder_is_one_line_naming_folder_and_fix(tmp_path):
    out = tmp_path / "readonly"
    out.mkdir()
    out.chmod(0o555)
    script = textwrap.dedent(f"""
        from gcevidence.errors import PackError
        from gcevidence.pack import PackBuilder
        try:
            with PackBuilder({str(out)!r}, {PERIOD_END!r}) as pb:
                pb.seal({{}})
        except PackError as exc:
            print(exc)
            print(exc.exit_status)
    """)
    try:
        result = _run_without_root_override(script)
    finally:
        out.chmod(0o755)
    lines = result.stdout.strip().splitlines()
    assert result.returncode == 0, result.stderr
    assert len(lines) == 2 and lines[1] == "2"  # usage-class exit status: nothing written
    assert "not writable" in lines[0] and str(out) in lines[0]
    assert "fix its permissions or choose another output folder" in lines[0]
    assert list(out.iterdir()) == []


def test_output_path_that_is_a_file_is_refused(tmp_path):
    blocker = tmp_path / "out"
    blocker.write_text("a file, not a folder")
    with pytest.raises(PackError, match="choose another output folder") as err:
        PackBuilder(blocker, PERIOD_END).__enter__()
    assert err.value.exit_status == 2


def test_run_ids_are_unique_under_load(tmp_path):
    ids = set()
    start = time.monotonic()
    for _ in range(50):
        with PackBuilder(tmp_path, PERIOD_END) as pb:
            ids.add(pb.run_id)
            pb.seal({})
    assert len(ids) == 50
    assert time.monotonic() - start < 30


def test_a_pack_holding_a_refused_secret_is_not_sealed(tmp_path):
    secret = "client-secret-0123456789abcdef"
    with pytest.raises(PackError) as err, PackBuilder(tmp_path, PERIOD_END) as pb:
        write_files(pb.dir)
        (pb.dir / "requests.jsonl").write_text(f'{{"body": "client_secret={secret}"}}\n')
        pb.seal({}, refuse_secrets=[secret, ""])
    assert "requests.jsonl: secret #1" in str(err.value) and secret not in str(err.value)
    assert leftovers(tmp_path) == []
    with PackBuilder(tmp_path, PERIOD_END) as pb:
        write_files(pb.dir)
        assert pb.seal({}, refuse_secrets=[secret]).is_dir()
