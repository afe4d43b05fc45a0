"""Airflow DAG `gcevidence_fleet`: one sealed evidence pack per Genesys Cloud org, then a summary.

A fleet is a folder of gcevidence params files, one per org. For each file a mapped task group
runs `gcevidence run` with the org's OAuth client from the Airflow connection
`gcevidence_<file stem>`, then `gcevidence verify` on the pack, then `gcevidence publish` when an
S3 URI is configured. A final task writes the fleet summary (JSON, CSV, HTML) whatever happened
upstream. deploy/airflow/README.md documents the connections, params, retries and summary.

This file needs only Airflow and the standard library: gcevidence runs as a command (the Variable
`gcevidence_command`), so it may live in its own virtualenv beside Airflow's.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import html
import json
import logging
import os
import re
import shlex
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from airflow.sdk import (
    Connection,
    Param,
    TriggerRule,
    Variable,
    dag,
    get_current_context,
    task,
    task_group,
)
from airflow.sdk.exceptions import (
    AirflowException,
    AirflowFailException,
    AirflowNotFoundException,
    AirflowSkipException,
)
from airflow.sdk.log import mask_secret

log = logging.getLogger(__name__)

DAG_ID = "gcevidence_fleet"
CONNECTION_PREFIX = "gcevidence_"
S3_CONNECTION_ID = "gcevidence_s3"
VARIABLES = {
    "fleet_dir": "gcevidence_fleet_dir",
    "out_dir": "gcevidence_out_dir",
    "s3_uri": "gcevidence_s3_uri",
    "command": "gcevidence_command",
}

# `gcevidence run` exit statuses (the command's contract, README "When something goes wrong").
EXIT_SEALED, EXIT_FINDINGS, EXIT_BAD_INPUT, EXIT_INCOMPLETE = 0, 1, 2, 3

SEALED = "sealed"
SEALED_WITH_FINDINGS = "sealed-with-findings"
BAD_INPUT = "bad-input"
INCOMPLETE = "incomplete"
FAILED = "failed"
VERIFY_FAILED = "verify-failed"
PUBLISH_FAILED = "publish-failed"
NOT_RUN = "not-run"
PACK_STATUSES = (SEALED, SEALED_WITH_FINDINGS)

SUMMARY_COLUMNS = (
    "org",
    "status",
    "org_name",
    "checks_fail",
    "checks_not_evaluable",
    "checks_pass",
    "pack_dir",
    "verified",
    "published",
    "tries",
    "exit_status",
    "connection_id",
    "params_file",
    "error",
)


class FleetConfigError(ValueError):
    """A setting, params folder or connection the fleet cannot run with (never retried)."""


def _env_int(name: str, default: int, minimum: int) -> int:
    """A deployment knob read when the DAG file is parsed; a bad value names the variable."""
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise FleetConfigError(f"{name}={text!r}: must be a whole number") from None
    if value < minimum:
        raise FleetConfigError(f"{name}={text!r}: must be at least {minimum}")
    return value


# Deployment knobs (environment of the DAG processor and workers): retries of `gcevidence run`
# and `publish` after exit 3 or an unexpected failure, the delay between them, the longest a
# run may take, and how many orgs run at once (a run's process tree peaks near 800 MiB).
RETRIES = _env_int("GCEVIDENCE_FLEET_RETRIES", 3, 0)
RETRY_DELAY = dt.timedelta(seconds=_env_int("GCEVIDENCE_FLEET_RETRY_DELAY_SECONDS", 1800, 0))
RUN_TIMEOUT_SECONDS = _env_int("GCEVIDENCE_FLEET_RUN_TIMEOUT_SECONDS", 4 * 3600, 60)
MAX_PARALLEL_ORGS = _env_int("GCEVIDENCE_FLEET_MAX_PARALLEL_ORGS", 4, 1)
# 03:00 UTC on the first of each month; "none" leaves the DAG to manual or API triggers.
_SCHEDULE = os.environ.get("GCEVIDENCE_FLEET_SCHEDULE", "0 3 1 * *").strip()
SCHEDULE = None if _SCHEDULE.lower() in ("", "none") else _SCHEDULE


# --- settings and records -------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class FleetSettings:
    """What one fleet run works on, resolved once from the DAG params and Variables."""

    fleet_dir: str
    out_dir: str
    run_dir: str  # OUT/fleet/<dag run>: the summary and one outcome record per org
    command: tuple[str, ...]
    period_end: str = ""
    pdf: bool = True
    s3_uri: str = ""
    retain_days: int | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FleetSettings:
        return cls(**{**data, "command": tuple(data["command"])})

    def org_out(self, org: str) -> Path:
        """Packs of one org: OUT/orgs/<org>/<period-end>/<run-id>/ (its history for role drift)."""
        return Path(self.out_dir) / "orgs" / org


@dataclasses.dataclass(frozen=True)
class OrgOutcome:
    """Where one org got to in this fleet run; the summary's row."""

    org: str
    params_file: str
    connection_id: str
    status: str = NOT_RUN
    tries: int = 0
    exit_status: int | None = None
    pack_dir: str = ""
    org_name: str = ""
    checks_fail: int | None = None
    checks_not_evaluable: int | None = None
    checks_pass: int | None = None
    verified: bool | None = None
    published: str = ""
    error: str = ""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OrgOutcome:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def resolve_settings(params: Mapping[str, Any], run_id: str) -> FleetSettings:
    """DAG params win; empty ones fall back to the Variables (fleet_dir and out_dir must be set)."""

    def pick(name: str) -> str:
        value = str(params.get(name) or "").strip()
        if not value and name in VARIABLES:
            value = str(Variable.get(VARIABLES[name], default="") or "").strip()
        return value

    folders = {}
    for name in ("fleet_dir", "out_dir"):
        value = pick(name)
        if not value:
            raise FleetConfigError(
                f"{name} is not set; give the DAG param {name} or set the Variable "
                f"{VARIABLES[name]}"
            )
        folders[name] = Path(value).expanduser()
        # Every worker must find the same folder, whatever its working directory.
        if not folders[name].is_absolute():
            raise FleetConfigError(f"{name}={value!r}: must be an absolute path")
    command = shlex.split(pick("command") or "gcevidence")
    out_dir = folders["out_dir"]
    return FleetSettings(
        fleet_dir=str(folders["fleet_dir"]),
        out_dir=str(out_dir),
        run_dir=str(out_dir / "fleet" / safe_name(run_id)),
        command=tuple(command),
        period_end=pick("period_end"),
        pdf=bool(params.get("pdf", True)),
        s3_uri=pick("s3_uri"),
        retain_days=params.get("retain_days"),
    )


def safe_name(text: str) -> str:
    """A file-name-safe form of a DAG run id (`manual__2026-12-01T03:00:00+00:00`)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("._") or "run"


def connection_id(org: str) -> str:
    """`gcevidence_<org>`: the stem lower-cased, anything but letters, digits and _ as _."""
    return CONNECTION_PREFIX + re.sub(r"[^a-z0-9_]", "_", org.lower())


def list_params_files(fleet_dir: Path) -> list[dict[str, str]]:
    """One entry per `*.yaml`/`*.yml` file of the folder (not its subfolders), sorted by name."""
    if not fleet_dir.is_dir():
        raise FleetConfigError(f"fleet folder {fleet_dir} does not exist or is not a folder")
    files = sorted(
        p
        for p in fleet_dir.iterdir()
        if p.suffix in (".yaml", ".yml") and p.is_file() and not p.name.startswith(".")
    )
    if not files:
        raise FleetConfigError(f"fleet folder {fleet_dir} holds no params file (*.yaml, *.yml)")
    orgs: list[dict[str, str]] = []
    seen: dict[str, Path] = {}
    for path in files:
        org = path.stem
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", org):
            raise FleetConfigError(
                f"{path}: the file name {org!r} cannot name an org; use letters, digits, "
                "'.', '_' and '-' (it names the org's connection and output folder)"
            )
        conn = connection_id(org)
        if conn in seen:
            raise FleetConfigError(
                f"{path} and {seen[conn]} would share the connection {conn}; rename one"
            )
        seen[conn] = path
        orgs.append({"org": org, "params_file": str(path.resolve()), "connection_id": conn})
    return orgs


# --- credentials and the child environment --------------------------------------------------


def credentials_env(conn: Any, conn_id: str) -> dict[str, str]:
    """GENESYSCLOUD_OAUTHCLIENT_ID/SECRET/REGION from a connection: login, password, extra."""
    login, password = (conn.login or "").strip(), (conn.password or "").strip()
    missing = [name for name, value in (("login", login), ("password", password)) if not value]
    if missing:
        raise FleetConfigError(
            f"connection {conn_id}: {' and '.join(missing)} empty; set login to the OAuth client "
            "id and password to its secret"
        )
    extra = conn.extra_dejson or {}
    unknown = sorted(set(extra) - {"region"})
    if unknown:
        raise FleetConfigError(
            f"connection {conn_id}: extra {', '.join(unknown)}: unknown key; allowed: region"
        )
    env = {"GENESYSCLOUD_OAUTHCLIENT_ID": login, "GENESYSCLOUD_OAUTHCLIENT_SECRET": password}
    region = str(extra.get("region") or "").strip()
    if region:
        env["GENESYSCLOUD_REGION"] = region
    return env


def child_env(base: Mapping[str, str], extra: Mapping[str, str]) -> dict[str, str]:
    """The worker's environment without Airflow's settings or another org's credentials."""
    # AIRFLOW__* may hold the metadata DB's password and AIRFLOW_CONN_* whole connections; the
    # notebook kernels of a run inherit what the run gets, so none of it goes along.
    kept = {
        k: v
        for k, v in base.items()
        if not k.upper().startswith(("AIRFLOW", "_AIRFLOW", "GENESYSCLOUD_"))
    }
    return {**kept, **extra}


def s3_env(conn: Any | None) -> tuple[dict[str, str], list[str]]:
    """AWS variables and publish options from the optional connection `gcevidence_s3`."""
    if conn is None:
        return {}, []
    env: dict[str, str] = {}
    if conn.login:
        env["AWS_ACCESS_KEY_ID"] = conn.login
    if conn.password:
        env["AWS_SECRET_ACCESS_KEY"] = conn.password
    extra = conn.extra_dejson or {}
    unknown = sorted(set(extra) - {"region_name", "endpoint_url"})
    if unknown:
        raise FleetConfigError(
            f"connection {S3_CONNECTION_ID}: extra {', '.join(unknown)}: unknown key; allowed: "
            "region_name, endpoint_url"
        )
    if extra.get("region_name"):
        env["AWS_DEFAULT_REGION"] = str(extra["region_name"])
    args = ["--endpoint-url", str(extra["endpoint_url"])] if extra.get("endpoint_url") else []
    return env, args


# --- running gcevidence ---------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Completed:
    """A finished gcevidence command."""

    returncode: int
    stdout: str
    stderr: str


def run_command(argv: Sequence[str], env: Mapping[str, str], timeout: float) -> Completed:
    """Run a command; on timeout or when the task is stopped, let it clean up, then raise."""
    with subprocess.Popen(
        list(argv), env=dict(env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as proc:
        try:
            out, err = proc.communicate(timeout=timeout)
        except BaseException:
            # SIGTERM makes gcevidence remove its unfinished build folder (exit 143).
            proc.terminate()
            try:
                proc.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
            raise
    return Completed(proc.returncode, out, err)


def redact(text: str, secrets: Sequence[str]) -> str:
    """The text with every secret replaced by ***."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def pack_of(stdout: str) -> Path | None:
    """The pack folder `gcevidence run` names on stdout (the path of its index.html)."""
    line = last_line(stdout)
    if not line.endswith("index.html"):
        return None
    pack = Path(line).parent
    return pack if pack.is_dir() else None


def check_counts(pack: Path) -> dict[str, Any]:
    """Failing, not evaluable and passing checks, and the org's name, from findings.json."""
    try:
        doc = json.loads((pack / "findings.json").read_text(encoding="utf-8"))
        statuses = [f["status"] for f in doc["findings"]]
        name = str(((doc.get("run") or {}).get("org") or {}).get("name") or "")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("%s: findings.json unreadable (%s); the summary has no counts", pack, exc)
        return {}
    return {
        "org_name": name,
        "checks_fail": statuses.count("fail"),
        "checks_not_evaluable": statuses.count("not_evaluable"),
        "checks_pass": statuses.count("pass"),
    }


def outcome_of_run(outcome: OrgOutcome, result: Completed) -> OrgOutcome:
    """Classify a finished `gcevidence run --fail-on-findings` by its exit status."""
    rc = result.returncode
    pack = pack_of(result.stdout) if rc in (EXIT_SEALED, EXIT_FINDINGS) else None
    if pack is not None:
        status = SEALED if rc == EXIT_SEALED else SEALED_WITH_FINDINGS
        return dataclasses.replace(
            outcome, status=status, exit_status=rc, pack_dir=str(pack), **check_counts(pack)
        )
    # Exit 1 without a pack is a crash (Python's own status for an uncaught error), not findings.
    status = {EXIT_BAD_INPUT: BAD_INPUT, EXIT_INCOMPLETE: INCOMPLETE}.get(rc, FAILED)
    error = last_line(result.stderr) or f"gcevidence run ended with exit status {rc}"
    return dataclasses.replace(outcome, status=status, exit_status=rc, error=error)


def outcome_of_verify(outcome: OrgOutcome, result: Completed) -> OrgOutcome:
    """Verified when the pack re-hashes to its manifest; else every problem verify names."""
    if result.returncode == 0:
        return dataclasses.replace(outcome, verified=True)
    problems = [
        line.strip()
        for line in result.stdout.splitlines()
        if line.strip() and not line.startswith(("signature: absent", "signature: valid"))
    ]
    error = "; ".join(problems) or last_line(result.stderr) or f"exit {result.returncode}"
    return dataclasses.replace(
        outcome, status=VERIFY_FAILED, verified=False, error=f"gcevidence verify: {error}"
    )


def publish_argv(
    settings: FleetSettings, outcome: OrgOutcome, options: Sequence[str] = ()
) -> tuple[list[str], str]:
    """`gcevidence publish` of one pack under S3_URI/<org>; (argv, that URI)."""
    uri = f"{settings.s3_uri.rstrip('/')}/{outcome.org}"
    argv = [*settings.command, "publish", outcome.pack_dir, "--s3-uri", uri, *options]
    if settings.retain_days:
        argv += ["--retain-days", str(settings.retain_days)]
    return argv, uri


def outcome_of_publish(outcome: OrgOutcome, result: Completed, uri: str) -> OrgOutcome:
    if result.returncode == 0:
        return dataclasses.replace(outcome, published=uri)
    error = last_line(result.stderr) or f"gcevidence publish ended with exit {result.returncode}"
    return dataclasses.replace(outcome, status=PUBLISH_FAILED, error=error)


def run_argv(settings: FleetSettings, org: Mapping[str, str]) -> list[str]:
    """`gcevidence run` for one org; --fail-on-findings so exit 1 tells findings apart."""
    argv = [
        *settings.command,
        "run",
        "--params",
        org["params_file"],
        "--out",
        str(settings.org_out(org["org"])),
        "--fail-on-findings",
    ]
    if settings.period_end:
        argv += ["--period-end", settings.period_end]
    if not settings.pdf:
        argv.append("--no-pdf")
    return argv


def log_output(what: str, result: Completed, secrets: Sequence[str] = ()) -> None:
    for name, text in (("stdout", result.stdout), ("stderr", result.stderr)):
        if text.strip():
            log.info("%s %s:\n%s", what, name, redact(text.rstrip(), secrets))
    log.info("%s exit status %s", what, result.returncode)


# --- outcome records and the summary --------------------------------------------------------


def record_path(run_dir: Path, org: str) -> Path:
    return run_dir / "orgs" / f"{org}.json"


def write_json(path: Path, data: Any) -> Path:
    """Write atomically: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def save(settings: FleetSettings, outcome: OrgOutcome) -> OrgOutcome:
    write_json(record_path(Path(settings.run_dir), outcome.org), outcome.to_dict())
    return outcome


def load_outcome(run_dir: Path, org: Mapping[str, str]) -> OrgOutcome:
    """The org's latest record, or `not-run` when no task of it got as far as writing one."""
    path = record_path(run_dir, org["org"])
    try:
        return OrgOutcome.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return OrgOutcome(
            org["org"],
            org["params_file"],
            org["connection_id"],
            error="no outcome recorded: the task did not start or was killed; see its log",
        )


def _cell(value: Any) -> str:
    """A CSV cell a spreadsheet shows as text: no formula from an org name or an error."""
    text = "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def write_summary(
    run_dir: Path, outcomes: Sequence[OrgOutcome], run_id: str, settings: FleetSettings
) -> dict[str, Path]:
    """summary.json, summary.csv and summary.html: one row per org of the fleet."""
    totals: dict[str, int] = {}
    for o in outcomes:
        totals[o.status] = totals.get(o.status, 0) + 1
    doc = {
        "dag_id": DAG_ID,
        "dag_run_id": run_id,
        "generated_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "fleet_dir": settings.fleet_dir,
        "out_dir": settings.out_dir,
        "totals": dict(sorted(totals.items())),
        "orgs": [o.to_dict() for o in outcomes],
    }
    paths = {"json": write_json(run_dir / "summary.json", doc)}
    csv_path = run_dir / "summary.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(SUMMARY_COLUMNS)
        for o in outcomes:
            row = o.to_dict()
            writer.writerow([_cell(row[c]) for c in SUMMARY_COLUMNS])
    paths["csv"] = csv_path
    paths["html"] = run_dir / "summary.html"
    paths["html"].write_text(summary_html(doc), encoding="utf-8")
    return paths


def summary_html(doc: Mapping[str, Any]) -> str:
    """A self-contained page: the org × status table, every value escaped."""

    def cell(value: Any) -> str:
        text = "" if value is None else str(value)
        return f"<td>{html.escape(text)}</td>"

    head = "".join(f"<th>{html.escape(c)}</th>" for c in SUMMARY_COLUMNS)
    rows = "\n".join(
        f'<tr class="{html.escape(o["status"])}">'
        + "".join(cell(o[c]) for c in SUMMARY_COLUMNS)
        + "</tr>"
        for o in doc["orgs"]
    )
    totals = ", ".join(f"{html.escape(k)}: {v}" for k, v in doc["totals"].items())
    title = f"gcevidence fleet run {doc['dag_run_id']}"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>"
        "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #999;padding:.3em .6em;text-align:left;vertical-align:top}"
        ".sealed td:nth-child(2){background:#cfc}.sealed-with-findings td:nth-child(2)"
        "{background:#ffc}tr:not(.sealed):not(.sealed-with-findings) td:nth-child(2)"
        "{background:#fcc}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p>Generated {html.escape(doc['generated_at'])}; "
        f"{totals}.</p><table><thead><tr>{head}</tr></thead><tbody>\n{rows}\n"
        "</tbody></table></body></html>\n"
    )


# --- Airflow tasks --------------------------------------------------------------------------


def _label(org: str) -> None:
    """Show the org, not a bare map index, in the UI (map_index_template below)."""
    get_current_context()["gcevidence_org"] = org


def _connection(conn_id: str) -> Any | None:
    try:
        return Connection.get(conn_id)
    except AirflowNotFoundException:
        return None


@task
def list_orgs() -> list[dict[str, Any]]:
    """The fleet's params files, each with the settings of this run."""
    ctx = get_current_context()
    try:
        settings = resolve_settings(ctx["params"], ctx["run_id"])
        orgs = list_params_files(Path(settings.fleet_dir))
    except FleetConfigError as exc:
        raise AirflowFailException(str(exc)) from None
    log.info("%d orgs in %s: %s", len(orgs), settings.fleet_dir, ", ".join(o["org"] for o in orgs))
    data = dataclasses.asdict(settings)
    return [{**org, "settings": data} for org in orgs]


@task(
    retries=RETRIES,
    retry_delay=RETRY_DELAY,
    max_active_tis_per_dagrun=MAX_PARALLEL_ORGS,
    map_index_template="{{ gcevidence_org }}",
)
def run(org: dict[str, Any]) -> dict[str, Any]:
    """`gcevidence run` with the org's connection: exit 2 fails at once, exit 3 retries later."""
    _label(org["org"])
    settings = FleetSettings.from_dict(org["settings"])
    tries = get_current_context()["ti"].try_number
    outcome = OrgOutcome(org["org"], org["params_file"], org["connection_id"], tries=tries)
    conn = _connection(org["connection_id"])
    try:
        if conn is None:
            raise FleetConfigError(
                f"no Airflow connection {org['connection_id']} for {org['params_file']}; create "
                "it with login = OAuth client id, password = client secret, optional extra "
                '{"region": "eu-west-1"}'
            )
        creds = credentials_env(conn, org["connection_id"])
    except FleetConfigError as exc:
        save(settings, dataclasses.replace(outcome, status=BAD_INPUT, error=str(exc)))
        raise AirflowFailException(str(exc)) from None
    secret = creds["GENESYSCLOUD_OAUTHCLIENT_SECRET"]
    mask_secret(secret)
    argv = run_argv(settings, org)
    log.info("org %s, try %d: %s", org["org"], tries, shlex.join(argv))
    try:
        result = run_command(argv, child_env(os.environ, creds), RUN_TIMEOUT_SECONDS)
    except FileNotFoundError:
        error = (
            f"command not found: {settings.command[0]}; install gcevidence on the worker or set "
            f"the Variable {VARIABLES['command']}"
        )
        save(settings, dataclasses.replace(outcome, status=BAD_INPUT, error=error))
        raise AirflowFailException(error) from None
    except subprocess.TimeoutExpired:
        error = f"gcevidence run did not finish within {RUN_TIMEOUT_SECONDS} s; stopped it"
        save(settings, dataclasses.replace(outcome, status=FAILED, error=error))
        raise AirflowException(error) from None
    log_output("gcevidence run", result, [secret])
    outcome = outcome_of_run(outcome, result)
    outcome = save(settings, dataclasses.replace(outcome, error=redact(outcome.error, [secret])))
    if outcome.status in PACK_STATUSES:
        log.info("org %s: %s, pack %s", outcome.org, outcome.status, outcome.pack_dir)
        return outcome.to_dict()
    message = f"org {outcome.org}: {outcome.status}: {outcome.error}"
    if outcome.status == BAD_INPUT:
        raise AirflowFailException(message)  # retrying cannot fix params or credentials
    raise AirflowException(message)  # evidence incomplete (or a crash): retry later


@task(map_index_template="{{ gcevidence_org }}")
def verify(org: dict[str, Any], sealed: dict[str, Any]) -> dict[str, Any]:
    """`gcevidence verify PACK`: a pack that does not match its manifest fails, not retried."""
    _label(org["org"])
    settings = FleetSettings.from_dict(org["settings"])
    outcome = OrgOutcome.from_dict(sealed)
    argv = [*settings.command, "verify", outcome.pack_dir]
    result = run_command(argv, child_env(os.environ, {}), RUN_TIMEOUT_SECONDS)
    log_output("gcevidence verify", result)
    outcome = save(settings, outcome_of_verify(outcome, result))
    if outcome.verified:
        return outcome.to_dict()
    raise AirflowFailException(f"org {outcome.org}: pack {outcome.pack_dir}: {outcome.error}")


@task(retries=RETRIES, retry_delay=RETRY_DELAY, map_index_template="{{ gcevidence_org }}")
def publish(org: dict[str, Any], verified: dict[str, Any]) -> dict[str, Any]:
    """`gcevidence publish PACK --s3-uri …` when an S3 URI is configured; skipped otherwise."""
    _label(org["org"])
    settings = FleetSettings.from_dict(org["settings"])
    outcome = OrgOutcome.from_dict(verified)
    if not settings.s3_uri:
        raise AirflowSkipException(
            f"no S3 URI: set the DAG param s3_uri or the Variable {VARIABLES['s3_uri']} to publish"
        )
    try:
        env, options = s3_env(_connection(S3_CONNECTION_ID))
    except FleetConfigError as exc:
        save(settings, dataclasses.replace(outcome, status=PUBLISH_FAILED, error=str(exc)))
        raise AirflowFailException(str(exc)) from None
    secret = env.get("AWS_SECRET_ACCESS_KEY", "")
    if secret:
        mask_secret(secret)
    argv, uri = publish_argv(settings, outcome, options)
    result = run_command(argv, child_env(os.environ, env), RUN_TIMEOUT_SECONDS)
    log_output("gcevidence publish", result, [secret])
    outcome = save(settings, outcome_of_publish(outcome, result, uri))
    if outcome.status != PUBLISH_FAILED:
        return outcome.to_dict()
    if result.returncode == EXIT_BAD_INPUT:
        raise AirflowFailException(f"org {outcome.org}: {outcome.error}")
    raise AirflowException(f"org {outcome.org}: {outcome.error}")  # S3 unreachable: retry


@task_group
def org_pack(org: dict[str, Any]) -> None:
    """One org: run, then verify its pack, then publish it (each step only if the last sealed)."""
    sealed = run(org)
    publish(org, verify(org, sealed))


@task(trigger_rule=TriggerRule.ALL_DONE)
def summarize(orgs: list[dict[str, Any]]) -> str:
    """Write the fleet summary whatever happened; fail the DAG run if an org has no good pack."""
    ctx = get_current_context()
    settings = FleetSettings.from_dict(orgs[0]["settings"])
    run_dir = Path(settings.run_dir)
    outcomes = [load_outcome(run_dir, org) for org in orgs]
    paths = write_summary(run_dir, outcomes, ctx["run_id"], settings)
    for o in outcomes:
        log.info("%s: %s %s %s", o.org, o.status, o.pack_dir, o.error)
    log.info("fleet summary: %s", paths["json"])
    bad = [o for o in outcomes if o.status not in PACK_STATUSES]
    if bad:
        raise AirflowFailException(
            f"{len(bad)} of {len(outcomes)} orgs have no verified pack: "
            + ", ".join(f"{o.org} ({o.status})" for o in bad)
            + f"; summary {paths['html']}"
        )
    return str(paths["json"])


@dag(
    dag_id=DAG_ID,
    schedule=SCHEDULE,
    start_date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    catchup=False,
    max_active_runs=1,  # two runs of one fleet would write the same orgs' history
    tags=["gcevidence", "compliance"],
    doc_md=__doc__,
    params={
        "fleet_dir": Param(
            "",
            type="string",
            description="Folder of params files, one per org (empty: Variable "
            f"{VARIABLES['fleet_dir']})",
        ),
        "out_dir": Param(
            "",
            type="string",
            description="Output folder: orgs/<org>/ packs, fleet/<run>/ summaries (empty: "
            f"Variable {VARIABLES['out_dir']})",
        ),
        "period_end": Param(
            "",
            type="string",
            pattern=r"^(\d{4}-\d{2}-\d{2})?$",
            description="Last day of the period, YYYY-MM-DD (empty: each params file's "
            "period.end, else today in UTC)",
        ),
        "pdf": Param(True, type="boolean", description="Print the working papers to PDF"),
        "s3_uri": Param(
            "",
            type="string",
            description="s3://BUCKET/PREFIX to publish to, one prefix per org (empty: Variable "
            f"{VARIABLES['s3_uri']}; unset: no publishing)",
        ),
        "retain_days": Param(
            None,
            type=["null", "integer"],
            minimum=1,
            description="Object Lock retention of published packs (empty: gcevidence's default)",
        ),
    },
)
def gcevidence_fleet() -> None:
    orgs = list_orgs()
    org_pack.expand(org=orgs) >> summarize(orgs)


fleet_dag = gcevidence_fleet()
