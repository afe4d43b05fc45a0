"""The one rule for evidence CSVs (plain while small, zstd above the limit) and day segments."""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess

import pytest
from gcevidence import evidence_files
from gcevidence.evidence_files import (
    CsvEvidenceWriter,
    Segment,
    decompress,
    read_bytes,
    segment_bytes,
)

HEADER = ("id", "event_date", "note")

CLOCK = re.compile(r"\b\d{1,2}:\d{2}(?::\d{2})?")


def rows(n: int) -> list[list[str]]:
    return [
        [f"e{i:04d}", f"2026-10-{1 + i // 7:02d}T10:00:00Z", "=cmd" if i == 3 else "x"]
        for i in range(n)
    ]


def write(tmp_path, n: int, by_day: bool) -> CsvEvidenceWriter:
    writer = CsvEvidenceWriter(tmp_path, "events", HEADER)
    for row in rows(n):
        writer.writerow(row, row[1][:10] if by_day else None)
    writer.close()
    return writer


@pytest.fixture
def small_limit(monkeypatch):
    monkeypatch.setattr(evidence_files, "CSV_PLAIN_LIMIT", 1000)


@pytest.mark.parametrize("by_day", [False, True])
def test_a_small_csv_stays_plain_and_a_large_one_is_compressed(tmp_path, small_limit, by_day):
    (tmp_path / "s").mkdir()
    (tmp_path / "l").mkdir()
    small, large = write(tmp_path / "s", 10, by_day), write(tmp_path / "l", 200, by_day)
    assert small.path.name == "events.csv" and large.path.name == "events.csv.zst"
    assert small.path.stat().st_size <= 1000 < len(read_bytes(large.path))
    assert not (tmp_path / "l" / "events.csv").exists()
    for writer, n in ((small, 10), (large, 200)):
        parsed = list(csv.reader(io.StringIO(read_bytes(writer.path).decode())))
        assert parsed == [list(HEADER), *rows(n)] and writer.rows == n


def test_each_day_of_a_compressed_csv_is_frames_that_decompress_alone(tmp_path, small_limit):
    writer = write(tmp_path, 200, by_day=True)
    assert writer.path.suffix == ".zst"
    days = sorted({r[1][:10] for r in rows(200)})
    assert sorted(writer.segments) == days
    covered = 0
    for day in days:
        segment = writer.segments[day]
        part = list(csv.reader(io.StringIO(segment_bytes(writer.path, segment).decode())))
        assert part == [r for r in rows(200) if r[1].startswith(day)] and segment.rows == len(part)
        covered += segment.length
    # The frames tile the file after the header's frame, so zstdcat reads it as one stream.
    header_member = min(s.offset for s in writer.segments.values())
    assert header_member + covered == writer.path.stat().st_size
    assert decompress(writer.path.read_bytes()).decode().splitlines()[0] == ",".join(HEADER)
    if shutil.which("zstd"):
        out = subprocess.run(["zstd", "-dc", str(writer.path)], capture_output=True, check=True)
        assert out.stdout == decompress(writer.path.read_bytes())


def test_days_of_a_plain_csv_are_byte_ranges(tmp_path):
    writer = write(tmp_path, 20, by_day=True)
    assert writer.path.suffix == ".csv"
    first = writer.segments["2026-10-01"]
    assert first == Segment(len(",".join(HEADER)) + 2, first.length, 7)
    assert segment_bytes(writer.path, first).decode().count("\r\n") == 7


def test_rows_of_a_day_that_come_back_later_are_refused(tmp_path):
    writer = CsvEvidenceWriter(tmp_path, "events", HEADER)
    writer.writerow(["a", "", ""], "2026-10-01")
    writer.writerow(["b", "", ""], "2026-10-02")
    with pytest.raises(ValueError, match="not together"):
        writer.writerow(["c", "", ""], "2026-10-01")


def test_the_same_rows_give_the_same_bytes(tmp_path, small_limit):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    one, two = write(tmp_path / "a", 200, True), write(tmp_path / "b", 200, True)
    assert one.path.read_bytes() == two.path.read_bytes()


def test_the_checks_find_the_same_whether_the_csvs_are_plain_or_compressed(
    simulator, tmp_path, monkeypatch
):
    """Every loader the checks use (Snapshot, the previous pack for role drift) reads .csv.zst
    exactly as it reads .csv: with every CSV compressed, every finding is the same."""
    from gcevidence.catalog import effective_thresholds
    from gcevidence.checks import CheckContext, run_checks
    from test_collect_sim import params_for, run

    plain, _, _ = run(simulator, tmp_path / "plain")
    monkeypatch.setattr(evidence_files, "CSV_PLAIN_LIMIT", 64)
    packed, _, _ = run(simulator, tmp_path / "packed")
    tables = [s for s in packed.statuses.values() if s.path.endswith((".csv", ".csv.zst"))]
    assert tables and all(s.path.endswith(".csv.zst") for s in tables if s.rows)
    assert not any(s.path.endswith(".zst") for s in plain.statuses.values() if s.rows < 50)
    params = params_for(simulator, tmp_path)

    def findings(snapshot, previous):
        ctx = CheckContext(
            snapshot, params, effective_thresholds(params), params.period.end, previous, {}
        )
        # A reason may name when a pack was collected (role drift): the two collections may
        # straddle a minute, so clock times are not compared.
        return [
            (f.check, f.status, f.population, f.exceptions, CLOCK.sub("<time>", f.reason))
            for f in run_checks(ctx)
        ]

    assert findings(packed, packed) == findings(plain, plain)
    assert any(
        f[0] == "access.role_drift" and f[1] != "not_evaluable" for f in findings(packed, plain)
    )
