"""How evidence files sit on disk: zstd streams, one size rule for CSVs, and day segments.

- Raw JSON lines and the stored API responses are always compressed (`.jsonl.zst`): they are
  large, and nobody reads them without a tool (`zstdcat` is enough).
- A CSV stays plain while it is at most CSV_PLAIN_LIMIT bytes, so that an auditor opens it in
  a spreadsheet as it is; a larger one is written as `.csv.zst` instead. That is the one rule,
  whatever the dataset.
- A CSV may be written in *segments* (audit events: one per UTC day, in day order). Each
  segment's byte range on disk is recorded; in a `.csv.zst` a segment is whole zstd frames, so a
  reader can seek to one day and decompress only it, while `zstdcat` and pandas still read the
  whole file as one stream (concatenated frames are one zstd stream).

Why zstd and not gzip: a pack keeps a million audit events twice (the API's answers, and the
CSV the checks read), and gzip cannot get them below about 149 bytes an event (measured on the
simulator's events at 50,000 users: 81 for the answers, 68 for the CSV), so the two copies alone
would exceed the 150 MiB a pack may take; zstd level 9 makes it about 117, in a tenth of the
time. Output is written in frames of at most FRAME_BYTES, so no compressor stays open and
memory stays bounded however many streams a run writes. Frames carry no time or name: the
same rows give the same bytes.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import zstandard

SUFFIX = ".zst"
LEVEL = 9
FRAME_BYTES = 8 << 20  # uncompressed bytes per frame (zstd level 9's window is 8 MiB)
CSV_PLAIN_LIMIT = 1 << 20  # bytes; a larger CSV is written compressed


def _compress(data: bytes) -> bytes:
    return zstandard.ZstdCompressor(level=LEVEL, write_checksum=True).compress(data)


def decompress(data: bytes) -> bytes:
    """Every frame of zstd data, decompressed and joined."""
    reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data), read_across_frames=True)
    return reader.read()


class FramedWriter:
    """A UTF-8 text sink writing `path` as zstd frames of at most FRAME_BYTES of input each."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._fh = open(self.path, "wb")  # noqa: SIM115 - closed by close()
        self._buffer = bytearray()

    def write(self, text: str) -> int:
        self._buffer.extend(text.encode("utf-8"))
        if len(self._buffer) >= FRAME_BYTES:
            self.flush_frame()
        return len(text)

    def flush_frame(self) -> None:
        """Compress what is buffered into one frame (nothing when empty)."""
        if self._buffer:
            self._fh.write(_compress(bytes(self._buffer)))
            self._buffer = bytearray()

    def tell(self) -> int:
        """Bytes on disk so far (after flush_frame, the start of the next frame)."""
        return self._fh.tell()

    def close(self) -> None:
        if not self._fh.closed:
            self.flush_frame()
            self._fh.close()

    def __enter__(self) -> FramedWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_text(path: Path) -> IO[str]:
    """Read a text file of a pack, plain or zstd by its suffix."""
    path = Path(path)
    if path.suffix == SUFFIX:
        reader = zstandard.ZstdDecompressor().stream_reader(
            open(path, "rb"),  # noqa: SIM115 - closed with the reader
            read_across_frames=True,
            closefd=True,
        )
        return io.TextIOWrapper(reader, encoding="utf-8", newline="")
    return path.open(encoding="utf-8", newline="")


def read_bytes(path: Path) -> bytes:
    """The content of a pack file, decompressed when it is zstd."""
    path = Path(path)
    return decompress(path.read_bytes()) if path.suffix == SUFFIX else path.read_bytes()


@dataclass(frozen=True)
class Segment:
    """Where one segment's rows are on disk: `length` bytes at `offset` (whole zstd frames)."""

    offset: int
    length: int
    rows: int

    def as_list(self) -> list[int]:
        return [self.offset, self.length, self.rows]


@dataclass(frozen=True)
class CopiedSegment:
    """One segment's rows as CSV text already written by an earlier pack (same columns)."""

    key: str
    data: bytes
    rows: int


def segment_bytes(path: Path, segment: Segment) -> bytes:
    """The rows of one segment as CSV text bytes (no header), read without the rest."""
    with open(path, "rb") as fh:
        fh.seek(segment.offset)
        data = fh.read(segment.length)
    return decompress(data) if Path(path).suffix == SUFFIX else data


class CsvEvidenceWriter:
    """Writes `<stem>.csv`, or `<stem>.csv.zst` once the CSV outgrows CSV_PLAIN_LIMIT.

    `writerow(values, segment=key)` starts a new segment whenever `key` changes (each key once,
    in order). Until the limit is passed everything stays in memory; then the rest streams to
    disk in frames, a new frame at each segment, so a million rows never sit in memory. The
    header is a segment of its own (key None) that the index does not list.
    """

    def __init__(self, directory: Path, stem: str, header: tuple[str, ...] | list[str]):
        self.directory, self.stem = Path(directory), stem
        self.path: Path | None = None
        self.segments: dict[str, Segment] = {}
        self.rows = 0
        self._pending: list[tuple[str | None, bytearray]] = [(None, bytearray())]
        self._size = 0
        self._out: FramedWriter | None = None  # the .csv.zst, once spilled
        self._start = 0  # where the current segment's frames begin on disk
        self._key: str | None = None
        self._key_rows = 0
        self._rows_of: dict[str, int] = {}  # rows of each segment finished in memory
        self._csv = csv.writer(self)
        self._csv.writerow(header)

    def write(self, text: str) -> int:
        """What csv.writer calls, once per row."""
        if self._out is not None:
            return self._out.write(text)
        data = text.encode("utf-8")
        self._pending[-1][1].extend(data)
        self._size += len(data)
        if self._size > CSV_PLAIN_LIMIT:
            self._spill()
        return len(text)

    def writerow(self, values: list[Any], segment: str | None = None) -> None:
        if segment is not None and segment != self._key:
            self._begin(segment)
        self._csv.writerow(values)
        self.rows += 1
        self._key_rows += 1

    def write_segment(self, segment: CopiedSegment) -> None:
        """Append a whole segment of rows already CSV-encoded (copied from an earlier pack)."""
        self._begin(segment.key)
        if segment.data:
            self.write(segment.data.decode("utf-8"))
        self.rows += segment.rows
        self._key_rows += segment.rows

    def _begin(self, key: str) -> None:
        if key in self.segments or key in self._rows_of or key == self._key:
            raise ValueError(f"{self.stem}: rows of segment {key!r} are not together")
        if self._out is not None:
            self._end_on_disk()
            self._start = self._out.tell()
        else:
            if self._key is not None:
                self._rows_of[self._key] = self._key_rows
            self._pending.append((key, bytearray()))
        self._key, self._key_rows = key, 0

    def _end_on_disk(self) -> None:
        """Close the current segment's last frame and record where its frames are."""
        assert self._out is not None
        self._out.flush_frame()
        if self._key is not None:
            length = self._out.tell() - self._start
            self.segments[self._key] = Segment(self._start, length, self._key_rows)

    def _spill(self) -> None:
        """Past the limit: each finished segment becomes a frame, the current one streams on."""
        self.path = self.directory / f"{self.stem}.csv{SUFFIX}"
        self._out = FramedWriter(self.path)
        *done, (_, data) = self._pending
        for key, chunk in done:
            offset = self._out.tell()
            self._out.write(chunk.decode("utf-8"))
            self._out.flush_frame()
            if key is not None:
                length = self._out.tell() - offset
                self.segments[key] = Segment(offset, length, self._rows_of[key])
        self._pending = []
        self._start = self._out.tell()
        self._out.write(data.decode("utf-8"))

    def close(self) -> Path:
        """Finish the file; returns its path (.csv or .csv.zst)."""
        if self._out is not None:
            self._end_on_disk()
            self._out.close()
            return self.path  # type: ignore[return-value]
        if self._key is not None:
            self._rows_of[self._key] = self._key_rows
        self.path = self.directory / f"{self.stem}.csv"
        offset = 0
        with open(self.path, "wb") as fh:
            for key, chunk in self._pending:
                fh.write(chunk)
                if key is not None:
                    self.segments[key] = Segment(offset, len(chunk), self._rows_of[key])
                offset += len(chunk)
        return self.path

    def discard(self) -> None:
        """Drop what was written (the rows could not all be produced)."""
        if self._out is not None:
            self._out.close()
            self._out.path.unlink(missing_ok=True)
        self._pending = []
