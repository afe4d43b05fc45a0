"""The run: one pack from one org, as a short list of named phases over a run state.

Every input is checked, and the OAuth client authenticated, before any folder exists (a bad
input exits 2 and leaves no trace). Then the phases fill the pack being built (PackBuilder):
collection writes the snapshot, checks write the findings, execution runs the notebooks,
rendering and pdf make their readable copies, and sealing writes index.html and the manifest
and renames the pack into place. Whatever goes wrong, the PackBuilder removes the unfinished
pack; each phase is timed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from gcevidence.catalog import effective_thresholds, load_catalog
from gcevidence.checks import CheckContext, run_checks
from gcevidence.collect import collect, required_retention_days
from gcevidence.config import Params
from gcevidence.coverage import write_coverage
from gcevidence.exceptions_register import apply_register, load_register
from gcevidence.execute import PARAMS_COPY, execute_all, kernel_env
from gcevidence.findings import Finding
from gcevidence.findings_files import CSV_FILE, findings_document, run_block, write_findings_csv
from gcevidence.genesys import Credentials, GenesysClient
from gcevidence.history import previous_snapshot
from gcevidence.hr import load_roster
from gcevidence.inputs import input_provenance
from gcevidence.isolate import in_child
from gcevidence.oscal import write_assessment_results
from gcevidence.pack import PackBuilder
from gcevidence.pack.manifest import run_metadata
from gcevidence.pack.sign import key_id, load_signing_key
from gcevidence.populations import build_populations
from gcevidence.report.context import FINDINGS_FILE, THRESHOLDS_FILE
from gcevidence.report.index import NotebookOutput, write_index
from gcevidence.report.render import print_all, render_all
from gcevidence.review import write_review_workbooks
from gcevidence.samples import write_samples
from gcevidence.snapshot import Snapshot, dumps

log = logging.getLogger(__name__)


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


@dataclass(frozen=True)
class RunInputs:
    """What a run needs besides the API, each checked before anything is written."""

    params: Params
    env: Mapping[str, str]
    creds: Credentials
    thresholds: dict[str, Any]
    signing_key: Any  # an Ed25519 private key, or None
    register: Any  # the accepted-exceptions register, or None
    pdf: bool
    full: bool = False  # query every audit day, whatever earlier packs hold (--full)

    @classmethod
    def check(
        cls, params: Params, env: Mapping[str, str], *, pdf: bool, full: bool = False
    ) -> RunInputs:
        """Credentials, thresholds, signing key, HR roster and register, or an exit-2 error."""
        creds = Credentials.from_env(env)
        thresholds = effective_thresholds(params)
        signing_key = None
        if params.signing.key is not None or params.signing.key_env is not None:
            signing_key = load_signing_key(params.signing, env, source=str(params.path))
        if params.hr_roster is not None:
            load_roster(params.hr_roster)
        register = None
        if params.exceptions_register is not None:
            register = load_register(params.exceptions_register)
        return cls(params, env, creds, thresholds, signing_key, register, pdf, full)


@dataclass
class RunState:
    """What the phases hand on to each other while the pack is being built."""

    inputs: RunInputs
    client: GenesysClient
    pack: PackBuilder
    out_root: Path
    progress: bool
    generated_at: str = field(default_factory=utc_now)
    snapshot: Snapshot | None = None
    findings: list[Finding] = field(default_factory=list)
    run: dict[str, Any] = field(default_factory=dict)
    executed: list[Path] = field(default_factory=list)
    pages: list[Path] = field(default_factory=list)
    pack_dir: Path | None = None

    @functools.cached_property
    def previous(self) -> Callable[[str], tuple[Snapshot | None, dict[str, Any]]]:
        """The org's newest verified earlier pack, verified once for both collection and checks."""
        return functools.cache(lambda org_id: previous_snapshot(self.out_root, org_id))

    @property
    def dir(self) -> Path:
        return self.pack.dir

    @property
    def params(self) -> Params:
        return self.inputs.params


# --- the phases ------------------------------------------------------------------------------


def collect_evidence(state: RunState) -> None:
    """Every dataset into the run folder; the request log joins it (the token call included).

    The log and the stored answers are closed at the end: no phase after this one calls the API,
    and every compressed stream must be complete before anything reads or seals the pack. It
    runs in a child process (isolate.py): a large org's users and pages go when it ends.
    """
    state.snapshot = in_child(lambda: _collect(state), "collection")


def _collect(state: RunState) -> Snapshot:
    state.client.log.attach(state.dir / "requests.jsonl")
    try:
        snapshot = collect(
            state.params,
            state.client,
            state.dir,
            retention_days=required_retention_days(state.inputs.thresholds),
            progress=state.progress,
            previous=state.previous,
            full=state.inputs.full,
        )
    finally:
        state.client.log.close()
    snapshot.release()  # only what describes it goes back to the parent
    return snapshot


def evaluate_checks(state: RunState) -> None:
    """Every check, the accepted exceptions applied; findings, thresholds, workbooks, OSCAL,
    the populations and their samples. In a child process, like the collection: the tables
    the checks read are not the pipeline's to keep while the kernels and Chromium run."""
    state.findings, state.run = in_child(lambda: _evaluate(state), "checks")


def _evaluate(state: RunState) -> tuple[list[Finding], dict[str, Any]]:
    params, snapshot = state.params, _snapshot(state)
    org_id = (snapshot.meta.get("org") or {}).get("id", "")
    previous, previous_info = state.previous(org_id) if org_id else (None, {})
    findings = run_checks(
        CheckContext(
            snapshot,
            params,
            state.inputs.thresholds,
            today=params.period.end,
            previous=previous,
            previous_info=previous_info,
        )
    )
    if state.inputs.register is not None:
        findings = apply_register(findings, state.inputs.register, params.period.end)
    review = write_review_workbooks(snapshot, findings, state.dir / "review")
    decisions = next((p for p in review if p.name.startswith("previous-decisions-")), None)
    inputs = input_provenance(
        params,
        state.inputs.register,
        decisions,
        state.dir,
        roster_rows=snapshot.status("hr_roster").rows if snapshot.has("hr_roster") else None,
    )
    run = run_block(
        params,
        snapshot,
        state.pack.run_id,
        state.generated_at,
        state.inputs.creds.client_id,
        inputs=inputs,
    )
    doc = findings_document(run, snapshot, findings)
    (state.dir / FINDINGS_FILE).write_text(dumps(doc), encoding="utf-8")
    write_findings_csv(state.dir / CSV_FILE, findings)
    write_coverage(doc, state.dir)  # coverage.json, coverage.csv
    (state.dir / THRESHOLDS_FILE).write_text(dumps(state.inputs.thresholds), encoding="utf-8")
    shutil.copyfile(params.path, state.dir / PARAMS_COPY)
    write_assessment_results(doc, state.dir)
    # The populations auditors test against tickets, in full and as reproducible samples.
    write_samples(state.dir, build_populations(snapshot, params), state.pack.run_id)
    # What the checks read (both snapshots' tables, the audit trail) is not read again.
    snapshot.release()
    if previous is not None:
        previous.release()
    return findings, run


def execute_notebooks(state: RunState) -> None:
    """The working papers, executed by papermill in kernels that never see a secret."""
    key_env = state.params.signing.key_env
    env = kernel_env(state.inputs.env, [key_env] if key_env else [])
    state.executed = execute_all(state.dir, env)


def render_pages(state: RunState) -> None:
    state.pages = render_all(state.executed)


def print_pages(state: RunState) -> None:
    if state.inputs.pdf and "pdf" in state.params.formats:
        print_all(state.pages)


def seal_pack(state: RunState) -> None:
    """index.html (with the content digest), then the manifest; the pack is renamed into place."""
    params, snapshot, run = state.params, _snapshot(state), state.run
    key = state.inputs.signing_key
    signed_by = key_id(key.public_key()) if key is not None else ""
    write_index(
        state.dir / "index.html",
        run=run,
        params_digest=params.digest,
        content_digest=state.pack.content_digest(),
        findings=state.findings,
        thresholds=state.inputs.thresholds,
        datasets=[
            dataclasses.asdict(s) for s in sorted(snapshot.statuses.values(), key=lambda s: s.name)
        ],
        notebooks=_notebook_outputs(state.dir),
        extra_files=_other_files(state.dir),
        signed_by=signed_by,
    )
    metadata = run_metadata(
        generated_at=run["generated_at"],
        org=run["org"],
        region=run["region"],
        api_base_url=run["api_base_url"],
        client_id=run["client_id"],
        params_digest=params.digest,
        baseline=params.baseline,
        thresholds=state.inputs.thresholds,
        period=run["period"],
        run_id=run["id"],
        inputs=run.get("inputs") or {},
        operator=run["operator"],
        division_scope=run["division_scope"],
    )
    state.pack_dir = state.pack.seal(
        metadata,
        signing_key=state.inputs.signing_key,
        # The run's own secret, and every credential collection scrubbed from the API's
        # answers (OAuth client secrets, key-manager keys, SIP passwords).
        refuse_secrets=[state.inputs.creds.client_secret, *sorted(snapshot.withheld_secrets)],
    )


# The run, in order; the names are the keys of RunResult.timings.
PHASES: tuple[tuple[str, Callable[[RunState], None]], ...] = (
    ("collection", collect_evidence),
    ("checks", evaluate_checks),
    ("execution", execute_notebooks),
    ("rendering", render_pages),
    ("pdf", print_pages),
    ("sealing", seal_pack),
)


def run_pipeline(
    params: Params,
    out_root: Path | None = None,
    fail_on_findings: bool = False,
    env: Mapping[str, str] = os.environ,
    *,
    pdf: bool = True,
    progress: bool = False,
    full: bool = False,
) -> RunResult:
    """Collect, check, execute, render and seal one pack (`full`: every audit day queried).

    Errors propagate as GcEvidenceError subclasses (exit 2 bad input, 3 incomplete evidence);
    the PackBuilder removes the unfinished pack whatever goes wrong.
    """
    inputs = RunInputs.check(params, env, pdf=pdf, full=full)
    out_root = Path(out_root or params.output_dir)
    client = GenesysClient(
        inputs.creds,
        api_base_url=params.org.api_base_url,
        login_base_url=params.org.login_base_url,
        region=params.org.region,
        minimize=params.privacy.minimize,
    )
    client.authenticate()  # rejected credentials are bad input too: stop before any folder
    timer = Timer()
    with client, PackBuilder(out_root, params.period.end) as pack:
        state = RunState(inputs, client, pack, out_root, progress)
        for name, phase in PHASES:
            with timer.phase(name):
                phase(state)
    failed = any(f.status == "fail" for f in state.findings)
    status = 1 if fail_on_findings and failed else 0
    log.info("pack sealed in %s; timings %s", state.pack_dir, timer.seconds)
    return RunResult(state.pack_dir, state.findings, status, timer.seconds)


# --- helpers of the phases -------------------------------------------------------------------


def _snapshot(state: RunState) -> Snapshot:
    if state.snapshot is None:
        raise RuntimeError("a phase needs the snapshot before the collection ran")
    return state.snapshot


def _notebook_outputs(run_dir: Path) -> list[NotebookOutput]:
    """Each executed notebook's title and the copies of it the pack holds."""
    outputs = []
    for name in (p.notebook for p in load_catalog().papers):
        files = tuple(
            f"{name}.{ext}"
            for ext in ("html", "pdf", "ipynb")
            if (run_dir / f"{name}.{ext}").is_file()
        )
        if files:
            nb = nbformat.read(run_dir / f"{name}.ipynb", as_version=4)
            outputs.append(NotebookOutput(name, nb.metadata.get("title", name), files))
    return outputs


def _other_files(run_dir: Path) -> list[str]:
    """The files index.html links besides the working papers, findings and evidence."""
    listed = {"index.html", FINDINGS_FILE, CSV_FILE}
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


__all__ = ["PHASES", "RunResult", "RunState", "run_pipeline"]
