"""Building a pack: a hidden temporary folder, sealed and renamed into place only when complete.

    with PackBuilder(out_root, period_end) as pb:
        ...write files into pb.dir...
        digest = pb.content_digest()          # shown in index.html, written last
        pack_dir = pb.seal(metadata, signing_key)

The temporary folder `out_root/.building-<run-id>/` sits on the same filesystem as the final
`out_root/<period-end>/<run-id>/`, so the rename is atomic: readers see no pack or a whole one.
An exception, Ctrl-C, SIGTERM or SIGHUP inside the block removes the temporary folder. Only
SIGKILL or a power cut can leave a `.building-*` folder behind (the next run names it in a
warning), and never anything under `<period-end>/`.
"""

from __future__ import annotations

import datetime as dt
import errno
import logging
import os
import secrets
import shutil
import signal
import threading
from collections.abc import Iterable
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gcevidence import __version__
from gcevidence.errors import PackError
from gcevidence.pack import manifest as mf
from gcevidence.pack import sign

log = logging.getLogger(__name__)

BUILDING_PREFIX = ".building-"
_FULL = (errno.ENOSPC, errno.EDQUOT)
_NOT_WRITABLE = (errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOTDIR)
# kill's default and a closed terminal; Ctrl-C already raises KeyboardInterrupt.
_STOP_SIGNALS = tuple(getattr(signal, n) for n in ("SIGTERM", "SIGHUP") if hasattr(signal, n))
_STALE_AFTER = dt.timedelta(hours=24)


class OutputFolderError(PackError):
    """The output folder cannot take the pack (not writable, full): a usage problem, exit 2."""

    exit_status = 2


def new_run_id(now: dt.datetime | None = None) -> str:
    """UTC time HHMMSSZ plus a short random suffix, e.g. 101502Z-3f9a."""
    now = now or dt.datetime.now(dt.UTC)
    return f"{now.astimezone(dt.UTC):%H%M%S}Z-{secrets.token_hex(2)}"


def storage_error(exc: OSError, out_root: Path) -> OutputFolderError | None:
    """A one-line PackError for a full or unwritable output folder; None for other errors."""
    where = Path(exc.filename) if exc.filename else out_root
    if exc.errno in _FULL:
        writing = f" (writing {where})" if exc.filename else ""
        return OutputFolderError(
            f"no space left for the pack in {out_root}{writing}; free disk space there or "
            "choose another output folder (--out or output.dir)"
        )
    inside = exc.filename is None or _is_within(Path(exc.filename), out_root)
    if exc.errno in _NOT_WRITABLE and inside:
        return OutputFolderError(
            f"output folder {out_root} is not writable ({exc.strerror}: {where}); fix its "
            "permissions or choose another output folder (--out or output.dir)"
        )
    return None


def _is_within(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except (ValueError, OSError):
        return False
    return True


def _fsync_dir(path: Path) -> None:
    """Persist a rename: the directory entry, not just the file data, must reach the disk."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems cannot fsync a directory; the rename itself is still atomic
    finally:
        os.close(fd)


class PackBuilder:
    """Context manager building one pack; see the module docstring."""

    def __init__(self, out_root: str | Path, period_end: dt.date | str):
        self.out_root = Path(out_root).expanduser().absolute()
        if isinstance(period_end, str):
            try:
                period_end = dt.date.fromisoformat(period_end)
            except ValueError as exc:
                raise PackError(f"period end {period_end!r} is not a date YYYY-MM-DD") from exc
        self.period_end: dt.date = period_end
        self.run_id = ""
        self.dir = Path()
        self.pack_dir: Path | None = None
        self._shown_digest: str | None = None
        self._previous_handlers: dict[int, Any] = {}
        self._closing = False
        self._created = False  # whether self.dir is ours to remove

    @property
    def final_dir(self) -> Path:
        """Where seal() puts the pack."""
        return self.out_root / self.period_end.isoformat() / self.run_id

    def __enter__(self) -> PackBuilder:
        # Handlers first: a signal between creating the folder and entering the block must
        # still remove it.
        self._install_handlers()
        try:
            self._create_build_dir()
        except BaseException:
            self._closing = True
            self._discard(None, quiet=True)
            self._restore_handlers()
            raise
        self._warn_stale()
        log.debug("building pack %s in %s", self.run_id, self.dir)
        return self

    def _create_build_dir(self) -> None:
        try:
            self.out_root.mkdir(parents=True, exist_ok=True)
            for _ in range(20):  # a clash of HHMMSSZ and 16 random bits is rare; retry on one
                self.run_id = new_run_id()
                self.dir = self.out_root / f"{BUILDING_PREFIX}{self.run_id}"
                try:
                    self.dir.mkdir()
                except FileExistsError:
                    continue
                self._created = True
                if not self.final_dir.exists():
                    return
                self.dir.rmdir()
                self._created = False
            raise PackError(f"cannot find a free run id under {self.out_root}")
        except OSError as exc:
            raise storage_error(exc, self.out_root) or OutputFolderError(
                f"cannot create the pack folder in {self.out_root} ({exc}); "
                "choose another output folder (--out or output.dir)"
            ) from exc

    def _warn_stale(self) -> None:
        """Name build folders left by killed runs (SIGKILL, power cut): they are never packs."""
        cutoff = dt.datetime.now().timestamp() - _STALE_AFTER.total_seconds()
        for path in self.out_root.glob(f"{BUILDING_PREFIX}*"):
            try:
                if path != self.dir and path.stat().st_mtime < cutoff:
                    log.warning(
                        "%s was left by a run that was killed; it is not a pack and can be deleted",
                        path,
                    )
            except OSError:
                continue

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._closing = True  # a second signal must not interrupt the cleanup
        try:
            if self.pack_dir is None:
                self._discard(exc)
        finally:
            self._restore_handlers()
        if isinstance(exc, OSError) and not isinstance(exc, PackError):
            translated = storage_error(exc, self.out_root)
            if translated is not None:
                raise translated from exc

    def _discard(self, exc: BaseException | None, quiet: bool = False) -> None:
        if not self._created:
            return
        self._created = False
        if self.dir.exists():
            shutil.rmtree(self.dir, ignore_errors=True)
            if self.dir.exists():
                log.error(
                    "could not remove the unfinished pack folder %s; delete it by hand", self.dir
                )
        if quiet:
            return
        if exc is None:
            log.warning("pack %s was never sealed; its folder was removed", self.run_id)
        elif isinstance(exc, KeyboardInterrupt | SystemExit):
            log.warning("run interrupted; removed the unfinished pack folder %s", self.dir)

    def _install_handlers(self) -> None:
        # Python lets only the main thread install handlers; elsewhere signals keep their default.
        if threading.current_thread() is not threading.main_thread():
            return
        for signum in _STOP_SIGNALS:
            self._previous_handlers[signum] = signal.signal(signum, self._on_stop_signal)

    def _restore_handlers(self) -> None:
        for signum, previous in self._previous_handlers.items():
            signal.signal(signum, previous)
        self._previous_handlers.clear()

    def _on_stop_signal(self, signum: int, frame: FrameType | None) -> None:
        if self._closing:
            return
        # Unwinds the with-block like Ctrl-C does, so __exit__ removes the unfinished pack;
        # the process then exits with the conventional status 128 + signal number.
        raise SystemExit(128 + signum)

    def content_digest(self) -> str:
        """The digest index.html must show: every file so far except index.html and manifest."""
        self._require_open()
        self._shown_digest = mf.content_digest(mf.list_entries(self.dir, exclude=mf.UNLISTED))
        return self._shown_digest

    def _require_open(self) -> None:
        if not self.run_id or self.pack_dir is not None or not self.dir.is_dir():
            raise PackError(
                "the pack is not being built (use PackBuilder as a context manager "
                "and seal it once)"
            )

    def seal(
        self,
        metadata: dict[str, Any],
        signing_key: Ed25519PrivateKey | None = None,
        *,
        refuse_secrets: Iterable[str] = (),
    ) -> Path:
        """Write manifest.json (and manifest.sig), then rename the pack into place.

        `refuse_secrets` (e.g. the OAuth client secret) are searched for in every file first;
        a pack holding one is not sealed.
        """
        self._require_open()
        forbidden = [s for s in refuse_secrets if s]
        if forbidden:
            from gcevidence.pack.secrets import scan_for_secrets

            hits = scan_for_secrets(self.dir, forbidden)
            if hits:
                more = f" and {len(hits) - 1} more" if len(hits) > 1 else ""
                raise PackError(
                    f"the pack would contain a secret ({hits[0]}{more}); nothing "
                    "was sealed: report this as a bug"
                )
        for name in mf.UNLISTED:
            if (self.dir / name).exists():
                raise PackError(
                    f"{self.dir / name} was written by the run; only seal() "
                    "writes the manifest and its signature"
                )
        target = self.final_dir
        if target.exists():
            raise PackError(
                f"{target} already exists; a run never writes into an existing "
                "pack, start a new run"
            )
        entries = mf.list_entries(self.dir)
        doc_meta = {
            "run_id": self.run_id,
            "period_end": self.period_end,
            "tool_version": __version__,
        }
        doc_meta.update(metadata)
        doc_meta.setdefault("dependencies", mf.dependency_versions())
        doc_meta["sealed_at"] = dt.datetime.now(dt.UTC).replace(microsecond=0)
        manifest = mf.build_manifest(
            entries, doc_meta, sign.signing_block(signing_key) if signing_key else None
        )
        if self._shown_digest is not None and manifest["content_digest"] != self._shown_digest:
            raise PackError(
                "pack files changed after content_digest() was taken for index.html;"
                " take the digest after writing every other file"
            )
        manifest_bytes = mf.canonical_json(manifest)
        try:
            _write_durable(self.dir / mf.MANIFEST, manifest_bytes)
            if signing_key is not None:
                _write_durable(
                    self.dir / mf.SIGNATURE, sign.sign_manifest(manifest_bytes, signing_key)
                )
            target.parent.mkdir(parents=True, exist_ok=True)
            # rename(2) may replace an *empty* directory created since the check above, never
            # a non-empty one (ENOTEMPTY), so no existing pack can be overwritten.
            os.rename(self.dir, target)
        except OSError as exc:
            if exc.errno in (errno.ENOTEMPTY, errno.EEXIST) and target.exists():
                raise PackError(
                    f"{target} already exists; a run never writes into an "
                    "existing pack, start a new run"
                ) from exc
            raise storage_error(exc, self.out_root) or PackError(
                f"cannot seal the pack into {target} ({exc})"
            ) from exc
        self.pack_dir, self._created = target, False
        _fsync_dir(target.parent)
        log.info("sealed pack %s (%d files, %s)", target, len(entries), manifest["content_digest"])
        return target


def _write_durable(path: Path, data: bytes) -> None:
    with open(path, "xb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
