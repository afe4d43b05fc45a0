"""How evidence files sit on disk: gzip streams, one size rule for CSVs, and day segments.

- Raw JSON lines and the stored API responses are always gzip (`.jsonl.gz`): they are large,
  and nobody reads them without a tool (`zcat` is enough).
- A CSV stays plain while it is at most CSV_PLAIN_LIMIT bytes, so that an auditor opens it in
  a spreadsheet as it is; a larger one is written as `.csv.gz` instead. That is the one rule,
  whatever the dataset.
- A CSV may be written in *segments* (audit events: one per UTC day, in day order). Each
  segment's byte range on disk is recorded; in a `.csv.gz` every segment is a gzip member of
  its own, so a reader can seek to one day and decompress only it, while `zcat` and pandas
  still read the whole file as one stream (RFC 1952 allows concatenated members).

gzip comes with Python and every auditor's shell; zstd would save about a fifth more but needs a
library and a tool an auditor may not have. Level 6 is gzip's own default: level 9 saves 3 % at
twice the time. Headers carry no time, so the same rows give the same bytes.
"""

from __future__ import annotations

import csv
import gzip
import io
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

GZIP_LEVEL = 6
CSV_PLAIN_LIMIT = 1 << 20  # bytes; a larger CSV is written gzip-compressed


def open_gzip_text(path: Path) -> IO[str]:
    """A UTF-8 text stream writing one gzip member to `path` (its header carries no time)."""
    raw = gzip.GzipFile(path, mode="wb", compresslevel=GZIP_LEVEL, mtime=0)
    return io.TextIOWrapper(raw, encoding="utf-8", newline="")


def open_text(path: Path) -> IO[str]:
    """Read a text file of a pack, plain or gzip by its suffix."""
    path = Path(path)
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return path.open(encoding="utf-8", newline="")


def read_bytes(path: Path) -> bytes:
    """The content of a pack file, decompressed when it is gzip."""
    path = Path(path)
    return gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()


@dataclass(frozen=True)
class Segment:
    """Where one segment's rows are on disk: `length` bytes at `offset` (a gzip member in .gz)."""

    offset: int
    length: int
    rows: int

    def as_list(self) -> list[int]:
        return [self.offset, self.length, self.rows]


class CsvEvidenceWriter:
    """Writes `<stem>.csv`, or `<stem>.csv.gz` once the CSV outgrows CSV_PLAIN_LIMIT.

    `writerow(values, segment=key)` starts a new segment whenever `key` changes (each key once,
    in order). Until the limit is passed everything stays in memory; then every segment so far
    becomes a gzip member and the rest streams to disk, so a million rows never sit in memory.
    The header is a segment of its own (key None) that the index does not list.
    """

    def __init__(self, directory: Path, stem: str, header: tuple[str, ...] | list[str]):
        self.directory, self.stem = Path(directory), stem
        self.path: Path | None = None
        self.segments: dict[str, Segment] = {}
        self.rows = 0
        self._pending: list[tuple[str | None, bytearray]] = [(None, bytearray())]
        self._size = 0
        self._fh: IO[bytes] | None = None  # the .csv.gz, once spilled
        self._member: gzip.GzipFile | None = None
        self._member_start = 0
        self._key: str | None = None
        self._key_rows = 0
        self._rows_of: dict[str, int] = {}  # rows of each segment finished in memory
        self._csv = csv.writer(self)
        self._csv.writerow(header)

    def write(self, text: str) -> int:
        """What csv.writer calls, once per row."""
        data = text.encode("utf-8")
        if self._member is not None:
            self._member.write(data)
        else:
            self._pending[-1][1].extend(data)
            self._size += len(data)
            if self._size > CSV_PLAIN_LIMIT:
                self._spill()
        return len(text)

    def writerow(self, values: list[Any], segment: str | None = None) -> None:
        if segment is not None and segment != self._key:
            self._start(segment)
        self._csv.writerow(values)
        self.rows += 1
        self._key_rows += 1

    def _start(self, key: str) -> None:
        if key in self.segments or any(k == key for k, _ in self._pending):
            raise ValueError(f"{self.stem}: rows of segment {key!r} are not together")
        if self._member is not None:
            self._end_member()
            self._open_member()
        else:
            self._close_pending()
            self._pending.append((key, bytearray()))
        self._key, self._key_rows = key, 0

    def _close_pending(self) -> None:
        """Remember the row count of the segment that ends while still in memory."""
        if self._key is not None:
            self._rows_of[self._key] = self._key_rows

    def _open_member(self) -> None:
        assert self._fh is not None
        self._member_start = self._fh.tell()
        self._member = gzip.GzipFile(
            filename="", mode="wb", compresslevel=GZIP_LEVEL, fileobj=self._fh, mtime=0
        )

    def _end_member(self) -> None:
        assert self._fh is not None and self._member is not None
        self._member.close()  # writes the member's trailer; the file stays open
        self._member = None
        if self._key is not None:
            length = self._fh.tell() - self._member_start
            self.segments[self._key] = Segment(self._member_start, length, self._key_rows)

    def _spill(self) -> None:
        """Past the limit: the finished segments become members, the current one streams on."""
        self.path = self.directory / f"{self.stem}.csv.gz"
        self._fh = open(self.path, "wb")  # noqa: SIM115 - closed by close() or discard()
        *done, (_, data) = self._pending
        for key, chunk in done:
            offset = self._fh.tell()
            self._fh.write(gzip.compress(bytes(chunk), GZIP_LEVEL, mtime=0))
            if key is not None:
                length = self._fh.tell() - offset
                self.segments[key] = Segment(offset, length, self._rows_of[key])
        self._pending = []
        self._open_member()
        self._member.write(bytes(data))  # type: ignore[union-attr]

    def close(self) -> Path:
        """Finish the file; returns its path (.csv or .csv.gz)."""
        if self._fh is not None:
            self._end_member()
            self._fh.close()
            return self.path  # type: ignore[return-value]
        self._close_pending()
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
        if self._fh is not None:
            if self._member is not None:
                self._member.close()
            self._fh.close()
            Path(self._fh.name).unlink(missing_ok=True)
        self._pending = []


def segment_bytes(path: Path, segment: Segment) -> bytes:
    """The rows of one segment as CSV text bytes (no header), read without the rest."""
    with open(path, "rb") as fh:
        fh.seek(segment.offset)
        data = fh.read(segment.length)
    return gzip.decompress(data) if Path(path).suffix == ".gz" else data
