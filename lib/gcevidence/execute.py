"""Notebook execution: papermill in child processes, kernels without the secret, stoppable.

Each notebook runs in its own `python -m papermill` process against the run folder, with the
two parameters every notebook takes (`run_dir`, `params_path`). The kernels inherit an
environment without the OAuth secret (and without the variable holding the signing key, when
there is one). Running processes are kept in a registry so that Ctrl-C, SIGTERM or a failed
notebook stops them all at once.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from gcevidence.catalog import load_catalog
from gcevidence.errors import RenderError
from gcevidence.genesys.auth import ENV_SECRET
from gcevidence.report.rewrites import rewrite_record
from gcevidence.resources import NOTEBOOKS_DIR

PARAMS_COPY = "params.yaml"  # the params file as copied into the pack
SECRET_ENV = (ENV_SECRET,)
WORKERS = 2  # the notebooks are CPU-bound kernels; more than the cores only adds contention
TIMEOUT_SECONDS = 900


def kernel_env(env: Mapping[str, str], hidden: Iterable[str] = ()) -> dict[str, str]:
    """The environment notebook kernels run in: the caller's, minus the OAuth secret.

    `hidden` names further variables to withhold, e.g. the one holding the signing key.
    """
    withheld = set(SECRET_ENV) | set(hidden)
    clean = {k: v for k, v in env.items() if k not in withheld}
    clean.setdefault("MPLBACKEND", "Agg")
    return clean


class ChildProcesses:
    """The papermill processes running now, so an interrupted run can stop them at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._procs: set[subprocess.Popen] = set()

    def start(self, cmd: list[str], env: Mapping[str, str]) -> subprocess.Popen:
        # Own session: a Ctrl-C reaches us, and we decide; the kernel follows its parent out.
        proc = subprocess.Popen(
            cmd,
            env=dict(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        with self._lock:
            self._procs.add(proc)
        return proc

    def done(self, proc: subprocess.Popen) -> None:
        with self._lock:
            self._procs.discard(proc)

    def kill_all(self) -> None:
        with self._lock:
            procs = list(self._procs)
        for proc in procs:
            with contextlib.suppress(OSError):
                proc.kill()


CHILDREN = ChildProcesses()


def papermill_command(name: str, run_dir: Path, notebooks_dir: Path) -> list[str]:
    """The command executing one notebook into the run folder (kernel python3)."""
    return [
        sys.executable,
        "-m",
        "papermill",
        str(notebooks_dir / f"{name}.ipynb"),
        str(run_dir / f"{name}.ipynb"),
        "-k",
        "python3",
        "--cwd",
        str(notebooks_dir),
        "--no-progress-bar",
        "--log-level",
        "WARNING",
        "-p",
        "run_dir",
        str(run_dir),
        "-p",
        "params_path",
        str(run_dir / PARAMS_COPY),
    ]


def execute_notebook(
    name: str,
    run_dir: Path,
    env: Mapping[str, str],
    notebooks_dir: Path = NOTEBOOKS_DIR,
    timeout: int = TIMEOUT_SECONDS,
) -> Path:
    """Execute one notebook into the run folder; the record is rewritten relative to the pack."""
    proc = CHILDREN.start(papermill_command(name, run_dir, notebooks_dir), env)
    try:
        _, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        proc.kill()
        proc.communicate()
        raise RenderError(
            f"notebook {name} did not finish within {timeout} s; no pack was sealed"
        ) from exc
    finally:
        CHILDREN.done(proc)
    if proc.returncode != 0:
        lines = [ln for ln in (stderr or "").splitlines() if ln.strip()]
        raise RenderError(
            f"notebook {name} failed: {lines[-1] if lines else 'no output'}; no pack was sealed"
        )
    relative = {"run_dir": ".", "params_path": PARAMS_COPY}
    return rewrite_record(run_dir / f"{name}.ipynb", run_dir, relative)


def execute_all(
    run_dir: Path, env: Mapping[str, str], notebooks_dir: Path = NOTEBOOKS_DIR
) -> list[Path]:
    """The family notebooks in parallel (pool of WORKERS), then the summary."""
    catalog = load_catalog()
    family = [p.notebook for p in catalog.family_papers()]
    names = [n for n in family if (notebooks_dir / f"{n}.ipynb").is_file()]
    pool = ThreadPoolExecutor(max_workers=WORKERS)
    try:
        done = list(pool.map(lambda n: execute_notebook(n, run_dir, env, notebooks_dir), names))
        # The summary reads what the family papers found, so it runs last.
        done.append(execute_notebook(catalog.summary_paper.notebook, run_dir, env, notebooks_dir))
    except BaseException:
        # Ctrl-C, SIGTERM or a failed notebook: stop the others now rather than after they
        # finish, so the unfinished pack is removed promptly.
        pool.shutdown(wait=False, cancel_futures=True)
        CHILDREN.kill_all()
        raise
    pool.shutdown()
    return done
