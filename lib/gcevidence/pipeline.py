"""`gcevidence run` and `gcevidence demo`: collect once, check, execute, render, seal one pack.

The run folder is the pack being built (PackBuilder): collection writes the snapshot into it,
checks write findings.json/.csv, papermill executes the notebooks against it, nbconvert and
Chromium render them, index.html shows the content digest, and seal() renames it into place.
Credentials come from the environment; notebook kernels get an environment without the secret.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import dataclasses
import datetime as dt
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gcevidence import __version__
from gcevidence.catalog import load_catalog
from gcevidence.config import Params, load_params
from gcevidence.csvsafe import guard
from gcevidence.errors import InputError, RenderError
from gcevidence.findings import Finding
from gcevidence.snapshot import Snapshot, dumps

if TYPE_CHECKING:
    from gcevidence.report.index import NotebookOutput

# nbformat (via jsonschema) and gcevidence.report (matplotlib, pandas) take seconds to import;
# they are imported where a run needs them, so that a bad credential, params file or roster is
# reported at once rather than after that wait.

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
DEMO_PARAMS = REPO_ROOT / "params" / "demo.yaml"
PARAMS_COPY = "params.yaml"
SECRET_ENV = ("GENESYSCLOUD_OAUTHCLIENT_SECRET",)
FINDINGS_SCHEMA = "gcevidence.findings/1"
# findings.csv: these columns, one per catalog framework between them (csv_columns()).
CSV_HEAD = ("check", "title", "status", "severity", "notebook", "population")
CSV_TAIL = (
    "subject_type",
    "subject_id",
    "subject_name",
    "detail",
    "accepted",
    "reason",
    "evidence",
)
WORKERS = 2  # the notebooks are CPU-bound kernels; more than the cores only adds contention


@dataclass(frozen=True)
class RunResult:
    pack_dir: Path | None
    findings: list[Finding]
    exit_status: int
    timings: dict[str, float] = field(default_factory=dict)


class Timer:
    """Wall-clock seconds per named phase of a run."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = round(
                self.seconds.get(name, 0.0) + time.perf_counter() - started, 3
            )


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _iso(value: dt.datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


# --- findings.json / findings.csv -----------------------------------------------------------


def findings_document(
    run: dict[str, Any], snapshot: Snapshot, findings: list[Finding]
) -> dict[str, Any]:
    """findings.json exactly as evidence-pack.md §5 fixes it."""
    datasets = [
        {
            "name": s.name,
            "path": s.path,
            "rows": s.rows,
            "expected_rows": s.expected_rows,
            "complete": s.complete,
            "requests": s.requests,
        }
        for s in sorted(snapshot.statuses.values(), key=lambda s: s.name)
    ]
    return {
        "schema": FINDINGS_SCHEMA,
        "run": run,
        "datasets": datasets,
        "findings": [f.to_dict() for f in findings],
    }


def csv_columns() -> tuple[str, ...]:
    """findings.csv's header: every framework of the catalog gets a column of control ids."""
    return (*CSV_HEAD, *load_catalog().framework_ids, *CSV_TAIL)


def write_findings_csv(path: Path, findings: list[Finding]) -> Path:
    """One row per exception (or per finding without one); every cell CSV-injection guarded."""
    frameworks = load_catalog().framework_ids
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(csv_columns())
        for f in findings:
            base = [
                f.check,
                f.title,
                f.status,
                f.severity,
                f.notebook,
                "" if f.population is None else f.population,
                *("; ".join(f.controls.get(k, [])) for k in frameworks),
            ]
            tail = [f.reason, "; ".join(f.evidence)]
            items = f.exceptions or (None,)
            for e in items:
                middle = (
                    ["", "", "", "", ""]
                    if e is None
                    else [
                        e.subject_type,
                        e.subject_id,
                        e.subject_name,
                        e.detail,
                        json.dumps(e.accepted, ensure_ascii=False, sort_keys=True)
                        if e.accepted
                        else "",
                    ]
                )
                writer.writerow([guard(v) for v in base + middle + tail])
    return path


# --- notebooks ------------------------------------------------------------------------------


def kernel_env(env: Mapping[str, str], hidden: Iterable[str] = ()) -> dict[str, str]:
    """The environment notebook kernels run in: the caller's, minus the OAuth secret.

    `hidden` names further variables to withhold, e.g. the one holding the signing key.
    """
    withheld = set(SECRET_ENV) | set(hidden)
    clean = {k: v for k, v in env.items() if k not in withheld}
    lib = str(REPO_ROOT / "lib")
    if (REPO_ROOT / "lib" / "gcevidence").is_dir():
        clean["PYTHONPATH"] = os.pathsep.join(p for p in (lib, clean.get("PYTHONPATH", "")) if p)
    clean.setdefault("MPLBACKEND", "Agg")
    return clean


class _Children:
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


_CHILDREN = _Children()


def execute_notebook(
    name: str,
    run_dir: Path,
    env: Mapping[str, str],
    notebooks_dir: Path = NOTEBOOKS_DIR,
    timeout: int = 900,
) -> Path:
    """Execute one notebook with papermill into the run folder (kernel python3)."""
    out = run_dir / f"{name}.ipynb"
    cmd = [
        sys.executable,
        "-m",
        "papermill",
        str(notebooks_dir / f"{name}.ipynb"),
        str(out),
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
    proc = _CHILDREN.start(cmd, env)
    try:
        _, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        proc.kill()
        proc.communicate()
        raise RenderError(
            f"notebook {name} did not finish within {timeout} s; no pack was sealed"
        ) from exc
    finally:
        _CHILDREN.done(proc)
    if proc.returncode != 0:
        lines = [ln for ln in (stderr or "").splitlines() if ln.strip()]
        raise RenderError(
            f"notebook {name} failed: {lines[-1] if lines else 'no output'}; no pack was sealed"
        )
    make_relative(out, run_dir, name)
    return out


def make_relative(path: Path, run_dir: Path, name: str) -> None:
    """Rewrite papermill's injected parameters and metadata relative to the pack.

    They hold only the run folder and params paths (never credentials: those stay in the
    environment), but absolute build paths would be wrong after the pack is renamed and would
    leak machine paths; relative ones make the executed notebook re-runnable from the pack.
    """
    import nbformat

    nb = nbformat.read(path, as_version=4)
    relative = {"run_dir": ".", "params_path": PARAMS_COPY}
    for cell in nb.cells:
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell.source = (
                "# Parameters injected by papermill (relative to the pack folder)\n"
                + "\n".join(f"{k} = {json.dumps(v)}" for k, v in relative.items())
            )
    meta = nb.metadata.get("papermill", {})
    meta["parameters"] = relative
    meta["input_path"] = f"notebooks/{name}.ipynb"
    meta["output_path"] = f"{name}.ipynb"
    meta.pop("environment_variables", None)
    text = nbformat.writes(nb)
    text = text.replace(str(run_dir), ".")
    path.write_text(text, encoding="utf-8")


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
        done.append(execute_notebook(catalog.summary_paper.notebook, run_dir, env, notebooks_dir))
    except BaseException:
        # Ctrl-C, SIGTERM or a failed notebook: stop the others now rather than after they
        # finish, so the unfinished pack is removed promptly.
        pool.shutdown(wait=False, cancel_futures=True)
        _CHILDREN.kill_all()
        raise
    pool.shutdown()
    return done


def render_all(executed: list[Path]) -> list[Path]:
    from gcevidence.report import render

    return [render.render_html(p, p.with_suffix(".html")) for p in executed]


def print_all(pages: list[Path]) -> list[Path]:
    """PDF of every page through Chromium; none (one log line) when no Chromium is found."""
    from gcevidence.report import render

    chromium = render.find_chromium()
    if chromium is None:
        log.warning("no Chromium found: PDF skipped")
        return []

    def one(page: Path) -> Path | None:
        try:
            return render.print_pdf(chromium, page, page.with_suffix(".pdf"))
        except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
            # A PDF is a convenience copy of the sealed HTML; its failure must not lose the pack.
            log.warning("PDF of %s failed (%s); the HTML is sealed without it", page.name, exc)
            page.with_suffix(".pdf").unlink(missing_ok=True)
            return None

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return [p for p in pool.map(one, pages) if p is not None]


# --- the run --------------------------------------------------------------------------------


def _previous(out_root: Path, org_id: str) -> tuple[Snapshot | None, dict[str, Any]]:
    """The newest verified earlier pack of this org (role drift's baseline), if any."""
    if not org_id:
        return None, {}
    from gcevidence.history import previous_snapshot

    return previous_snapshot(out_root, org_id)


def _load_register(params: Params) -> Any:
    """The exceptions register (accepted risks), parsed up front so a bad one writes nothing."""
    if params.exceptions_register is None:
        return None
    from gcevidence.exceptions_register import load_register

    return load_register(params.exceptions_register)


def _apply_register(register: Any, params: Params, findings: list[Finding]) -> list[Finding]:
    if register is None:
        return findings
    from gcevidence.exceptions_register import apply_register

    return apply_register(findings, register, params.period.end)


def _history_extras(
    run_dir: Path, snapshot: Snapshot, findings: list[Finding], doc: dict[str, Any]
) -> None:
    """Access review workbooks and the OSCAL assessment results."""
    from gcevidence.oscal import write_assessment_results
    from gcevidence.review import write_review_workbooks

    write_review_workbooks(snapshot, findings, run_dir / "review")
    write_assessment_results(doc, run_dir)


def _run_block(
    params: Params, snapshot: Snapshot, run_id: str, generated_at: str, client_id: str
) -> dict[str, Any]:
    meta = snapshot.meta
    return {
        "id": run_id,
        "generated_at": generated_at,
        "period": {
            "start": _iso(params.period.start_utc),
            "end": _iso(params.period.end_utc - dt.timedelta(seconds=1)),
        },
        "org": {
            "id": (meta.get("org") or {}).get("id", ""),
            "name": (meta.get("org") or {}).get("name", ""),
        },
        "region": meta.get("region") or params.org.region,
        "api_base_url": meta.get("api_base_url") or params.org.api_base_url,
        "client_id": meta.get("client_id") or client_id,
        "baseline": params.baseline,
        "tool_version": __version__,
    }


def _seal_metadata(
    run: dict[str, Any], params: Params, thresholds: dict[str, Any]
) -> dict[str, Any]:
    from gcevidence.pack.manifest import run_metadata

    return run_metadata(
        generated_at=run["generated_at"],
        org=run["org"],
        region=run["region"],
        api_base_url=run["api_base_url"],
        client_id=run["client_id"],
        params_digest=params.digest,
        baseline=params.baseline,
        thresholds=thresholds,
        period=run["period"],
        run_id=run["id"],
    )


def _signing_key(params: Params, env: Mapping[str, str]) -> Any:
    if params.signing.key is None and params.signing.key_env is None:
        return None
    from gcevidence.pack.sign import load_signing_key

    return load_signing_key(params.signing, env, source=str(params.path))


def _notebook_outputs(run_dir: Path) -> list[NotebookOutput]:
    import nbformat

    from gcevidence.report.index import NotebookOutput

    outputs = []
    for name in (p.notebook for p in load_catalog().papers):
        files = tuple(
            f"{name}.{ext}"
            for ext in ("html", "pdf", "ipynb")
            if (run_dir / f"{name}.{ext}").is_file()
        )
        if files:
            title = nbformat.read(run_dir / f"{name}.ipynb", as_version=4).metadata.get(
                "title", name
            )
            outputs.append(NotebookOutput(name, title, files))
    return outputs


def _other_files(run_dir: Path) -> list[str]:
    listed = {"index.html", "findings.json", "findings.csv"}
    files = []
    for path in sorted(run_dir.rglob("*")):
        rel = path.relative_to(run_dir).as_posix()
        if (
            path.is_file()
            and not rel.startswith("evidence/")
            and rel not in listed
            and path.suffix not in (".ipynb", ".html", ".pdf")
        ):
            files.append(rel)
    return files


def run_pipeline(
    params: Params,
    out_root: Path | None = None,
    fail_on_findings: bool = False,
    env: Mapping[str, str] = os.environ,
    *,
    pdf: bool = True,
    progress: bool = False,
) -> RunResult:
    """Collect, check, execute, render and seal one pack.

    Errors propagate as GcEvidenceError subclasses (exit 2 bad input, 3 incomplete evidence);
    the PackBuilder removes the unfinished pack whatever goes wrong.
    """
    from gcevidence.collect import collect, required_retention_days
    from gcevidence.genesys import Credentials, GenesysClient
    from gcevidence.pack import PackBuilder

    # Every input is checked before anything is written (exit 2 leaves no trace).
    creds = Credentials.from_env(env)
    from gcevidence.catalog import effective_thresholds

    thresholds = effective_thresholds(params)
    signing_key = _signing_key(params, env)
    if params.hr_roster is not None:
        from gcevidence.hr import load_roster

        load_roster(params.hr_roster)
    register = _load_register(params)
    out_root = Path(out_root or params.output_dir)
    timer = Timer()
    generated_at = utc_now()
    client = GenesysClient(
        creds,
        api_base_url=params.org.api_base_url,
        login_base_url=params.org.login_base_url,
        region=params.org.region,
    )
    client.authenticate()  # rejected credentials are bad input too: stop before any folder
    with client, PackBuilder(out_root, params.period.end) as pb:
        run_dir = pb.dir
        with timer.phase("collection"):
            # The token request is recorded too: the log keeps it until the folder exists.
            client.log.attach(run_dir / "requests.jsonl")
            snapshot = collect(
                params,
                client,
                run_dir,
                retention_days=required_retention_days(thresholds),
                progress=progress,
            )
        with timer.phase("checks"):
            from gcevidence.checks import CheckContext, run_checks
            from gcevidence.report.context import FINDINGS_FILE, THRESHOLDS_FILE
            from gcevidence.report.index import write_index

            previous, previous_info = _previous(
                out_root, (snapshot.meta.get("org") or {}).get("id", "")
            )
            findings = run_checks(
                CheckContext(
                    snapshot,
                    params,
                    thresholds,
                    today=params.period.end,
                    previous=previous,
                    previous_info=previous_info,
                )
            )
            findings = _apply_register(register, params, findings)
            run = _run_block(params, snapshot, pb.run_id, generated_at, creds.client_id)
            doc = findings_document(run, snapshot, findings)
            (run_dir / FINDINGS_FILE).write_text(dumps(doc), encoding="utf-8")
            write_findings_csv(run_dir / "findings.csv", findings)
            (run_dir / THRESHOLDS_FILE).write_text(dumps(thresholds), encoding="utf-8")
            shutil.copyfile(params.path, run_dir / PARAMS_COPY)
            _history_extras(run_dir, snapshot, findings, doc)
        with timer.phase("execution"):
            hidden = [params.signing.key_env] if params.signing.key_env else []
            executed = execute_all(run_dir, kernel_env(env, hidden))
        with timer.phase("rendering"):
            pages = render_all(executed)
        with timer.phase("pdf"):
            if pdf and "pdf" in params.formats:
                print_all(pages)
        with timer.phase("sealing"):
            write_index(
                run_dir / "index.html",
                run=run,
                params_digest=params.digest,
                content_digest=pb.content_digest(),
                findings=findings,
                datasets=[
                    dataclasses.asdict(s)
                    for s in sorted(snapshot.statuses.values(), key=lambda s: s.name)
                ],
                notebooks=_notebook_outputs(run_dir),
                extra_files=_other_files(run_dir),
            )
            pack_dir = pb.seal(
                _seal_metadata(run, params, thresholds),
                signing_key=signing_key,
                refuse_secrets=[creds.client_secret],
            )
    failed = any(f.status == "fail" for f in findings)
    status = 1 if fail_on_findings and failed else 0
    log.info("pack sealed in %s; timings %s", pack_dir, timer.seconds)
    return RunResult(pack_dir, findings, status, timer.seconds)


# --- demo -----------------------------------------------------------------------------------


@contextmanager
def demo_params(
    out_root: Path | None = None, sim_config: Any = None, env: dict[str, str] | None = None
) -> Iterator[tuple[Params, Any]]:
    """A running simulator and params/demo.yaml pointed at it (roster in a temp folder).

    The simulator's credentials go into `env` (default: this process's environment only).
    """
    from gcevidence.simulator import SimConfig, Simulator

    env = os.environ if env is None else env
    cfg = sim_config or SimConfig()
    with Simulator(cfg) as sim, tempfile.TemporaryDirectory(prefix="gcevidence-demo-") as tmp:
        roster = sim.write_roster(Path(tmp) / "hr_roster.csv")
        env["GENESYSCLOUD_OAUTHCLIENT_ID"] = sim.client_id
        env["GENESYSCLOUD_OAUTHCLIENT_SECRET"] = sim.client_secret
        base = load_params(DEMO_PARAMS, period_end=getattr(cfg, "now", None) and cfg.now.date())
        params = dataclasses.replace(
            base,
            org=dataclasses.replace(
                base.org, api_base_url=sim.base_url, region=None, login_base_url=None
            ),
            hr_roster=Path(roster),
            output_dir=Path(out_root) if out_root else base.output_dir,
        )
        yield params, sim


def run_demo(
    out_root: Path | None = None,
    fail_on_findings: bool = False,
    pdf: bool = True,
    sim_config: Any = None,
    env: dict[str, str] | None = None,
    progress: bool = False,
) -> RunResult:
    """The whole pipeline against the embedded simulator."""
    env = os.environ if env is None else env
    with demo_params(out_root, sim_config, env) as (params, _sim):
        return run_pipeline(
            params, params.output_dir, fail_on_findings, env, pdf=pdf, progress=progress
        )


# --- command line ---------------------------------------------------------------------------


def _period_end(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from exc


def _report(result: RunResult) -> int:
    """A one-line summary on stderr; the path of index.html alone on stdout (for scripts)."""
    if result.pack_dir is not None:
        counts = {
            s: sum(f.status == s for f in result.findings)
            for s in ("fail", "not_evaluable", "pass")
        }
        phases = ", ".join(f"{k} {v:.1f}s" for k, v in result.timings.items())
        print(
            f"{len(result.findings)} checks: {counts['fail']} fail, "
            f"{counts['not_evaluable']} not evaluable, {counts['pass']} pass; pack sealed "
            f"({phases})",
            file=sys.stderr,
        )
        print(result.pack_dir / "index.html")
    return result.exit_status


def cmd_run(args: argparse.Namespace) -> int:
    params = load_params(args.params, period_end=args.period_end)
    out = Path(args.out) if args.out else params.output_dir
    result = run_pipeline(
        params,
        out,
        args.fail_on_findings,
        os.environ,
        pdf=not args.no_pdf,
        progress=sys.stderr.isatty(),
    )
    return _report(result)


def cmd_demo(args: argparse.Namespace) -> int:
    if not DEMO_PARAMS.is_file():
        raise InputError(
            str(DEMO_PARAMS),
            "(file)",
            str(DEMO_PARAMS),
            "is missing",
            "run from a checkout of gcevidence",
        )
    result = run_demo(
        Path(args.out) if args.out else None,
        args.fail_on_findings,
        pdf=not args.no_pdf,
        progress=sys.stderr.isatty(),
    )
    return _report(result)


def register(subparsers: argparse._SubParsersAction) -> None:
    run = subparsers.add_parser("run", help="collect, check, render and seal one evidence pack")
    run.add_argument("--params", required=True, help="params YAML file")
    run.add_argument("--out", help="output folder (default: output.dir of the params)")
    run.add_argument("--period-end", type=_period_end, help="last day of the period, YYYY-MM-DD")
    run.add_argument(
        "--fail-on-findings",
        action="store_true",
        help="exit 1 when a check fails (the pack is still sealed)",
    )
    run.add_argument("--no-pdf", action="store_true", help="skip PDF rendering")
    run.set_defaults(func=cmd_run)
    demo = subparsers.add_parser("demo", help="run everything against the embedded simulator")
    demo.add_argument("--out", help="output folder (default: output)")
    demo.add_argument("--fail-on-findings", action="store_true", help=argparse.SUPPRESS)
    demo.add_argument("--no-pdf", action="store_true", help="skip PDF rendering")
    demo.set_defaults(func=cmd_demo)


__all__ = ["RunResult", "register", "run_demo", "run_pipeline"]
