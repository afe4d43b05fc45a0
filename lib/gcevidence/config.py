"""Params files (YAML): strict parsing into frozen records.

Unknown keys are an error so that a typo never silently weakens a check; every error names
the file, the field and the value (exit status 2).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gcevidence.errors import InputError

FORMATS = ("html", "pdf")

# The audit services queried by default: where identity, role, auth, recording-key and
# trunk changes are logged (docs/genesys-api.md §8.8, Appendix A).
DEFAULT_AUDIT_SERVICES = (
    "PeoplePermissions",
    "Directory",
    "Groups",
    "Telephony",
    "ContactCenter",
    "Quality",
    "Integrations",
    "Routing",
    "Architect",
)


@dataclass(frozen=True)
class OrgConfig:
    region: str | None = None
    api_base_url: str | None = None
    login_base_url: str | None = None


@dataclass(frozen=True)
class PeriodConfig:
    """The audit period: exactly `days` whole UTC days, the last of them `end`."""

    end: dt.date
    days: int

    @property
    def start(self) -> dt.date:
        """First day, inclusive: with `end` the period holds exactly `days` days."""
        return self.end - dt.timedelta(days=self.days - 1)

    @property
    def start_utc(self) -> dt.datetime:
        return dt.datetime.combine(self.start, dt.time.min, tzinfo=dt.UTC)

    @property
    def end_utc(self) -> dt.datetime:
        """Exclusive end: midnight after the inclusive end date."""
        return dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)

    @property
    def as_of(self) -> dt.datetime:
        """The moment "as of" measurements (dormancy, key age, leavers due) are taken at."""
        return self.end_utc

    def stamps(self) -> dict[str, str]:
        """The period as every file of a pack states it: first second to last second, UTC."""
        return {
            "start": f"{self.start.isoformat()}T00:00:00Z",
            "end": f"{self.end.isoformat()}T23:59:59Z",
        }


def last_complete_day(today: dt.date | None = None) -> dt.date:
    """The default period end: the last whole UTC day before `today` (default: the clock)."""
    return (today or dt.datetime.now(dt.UTC).date()) - dt.timedelta(days=1)


@dataclass(frozen=True)
class RosterSource:
    """Where the HR roster came from: the system, its report, when and by whom it was pulled."""

    system: str
    report: str
    extracted_at: str  # YYYY-MM-DD or an ISO-8601 time, as declared
    extracted_by: str


@dataclass(frozen=True)
class HrConfig:
    """The roster's declared provenance and how to read it (params `hr`, besides `roster`)."""

    source: RosterSource | None = None
    timezone: str = "UTC"  # IANA name: termination dates are days in this zone
    groups_source: str = ""  # where the `groups` column comes from (directory, IdP)


@dataclass(frozen=True)
class PrivilegedRolePolicy:
    allowed_groups: tuple[str, ...] = ()
    max_holders: int | None = None
    allowed_granters: tuple[str, ...] = ()


@dataclass(frozen=True)
class SensitivePermissionPolicy:
    """Who may hold a sensitive permission: people in these HR groups, no one else."""

    allowed_groups: tuple[str, ...]


# A permission as Genesys writes it: domain:entity:action (`*` allowed in any part).
PERMISSION_PATTERN = re.compile(r"[A-Za-z0-9_*-]+:[A-Za-z0-9_*-]+:[A-Za-z0-9_*-]+")


@dataclass(frozen=True)
class AuditConfig:
    services: tuple[str, ...] = DEFAULT_AUDIT_SERVICES
    max_interval_days: int = 30
    query_timeout_seconds: int = 900


@dataclass(frozen=True)
class SigningConfig:
    key: Path | None = None
    key_env: str | None = None


@dataclass(frozen=True)
class PrivacyConfig:
    """`privacy.minimize`: also strip personal data no check needs from the stored responses."""

    minimize: bool = True


@dataclass(frozen=True)
class Params:
    path: Path
    digest: str
    org: OrgConfig
    period: PeriodConfig
    baseline: str
    hr_roster: Path | None
    privileged_roles: dict[str, PrivilegedRolePolicy]
    sod_conflicts: tuple[tuple[str, str], ...]
    thresholds: dict[str, Any]
    output_dir: Path
    formats: tuple[str, ...]
    audit: AuditConfig = field(default_factory=AuditConfig)
    signing: SigningConfig = field(default_factory=SigningConfig)
    exceptions_register: Path | None = None
    # network.ip_allowlist: an empty IP allowlist fails instead of passing with a note.
    ip_allowlist_required: bool = False
    hr: HrConfig = field(default_factory=HrConfig)
    sensitive_permissions: dict[str, SensitivePermissionPolicy] = field(default_factory=dict)
    # What the pack records and keeps (issue 12 §1, §7); read by _provenance below.
    operator: str = ""
    privacy: PrivacyConfig = field(default_factory=PrivacyConfig)


def baseline_ids() -> tuple[str, ...]:
    """The baselines a params file may choose: those of the catalog's baselines.yaml."""
    from gcevidence.catalog import load_catalog  # read on first use, like the catalog itself

    return tuple(load_catalog().baselines)


def __getattr__(name: str) -> Any:
    # BASELINES is derived from the catalog when first asked for (importing stays cheap).
    if name == "BASELINES":
        return baseline_ids()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _NoDatesLoader(yaml.SafeLoader):
    """Safe YAML that leaves dates as strings, so a bad date gets our own error message."""


_NoDatesLoader.yaml_implicit_resolvers = {
    ch: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

_TOP_KEYS = {
    "org",
    "period",
    "baseline",
    "hr",
    "privileged_roles",
    "sod_conflicts",
    "thresholds",
    "output",
    "audit",
    "signing",
    "exceptions",
    "ip_allowlist_required",
    "sensitive_permissions",
    "operator",
    "privacy",
}


class _Reader:
    """Reads one params file, naming file and field in every error."""

    def __init__(self, path: Path):
        self.path = path

    def fail(self, field_name: str, value: object, problem: str, fix: str = "") -> InputError:
        return InputError(str(self.path), field_name, value, problem, fix)

    def mapping(self, value: object, name: str, allowed: set[str]) -> dict:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(name, value, "must be a mapping")
        for key in value:
            if key not in allowed:
                raise self.fail(
                    f"{name}.{key}" if name else str(key),
                    value[key],
                    "unknown key",
                    f"allowed: {', '.join(sorted(allowed))}",
                )
        return value

    def string_list(self, value: object, name: str) -> tuple[str, ...]:
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.fail(name, value, "must be a list of non-empty strings")
        return tuple(value)

    def positive_int(self, value: object, name: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise self.fail(name, value, "must be a positive whole number")
        return value

    def file_path(self, value: object, name: str) -> Path:
        if not isinstance(value, str) or not value:
            raise self.fail(name, value, "must be a path")
        p = Path(value).expanduser()
        return p if p.is_absolute() else (self.path.parent / p).resolve()


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """What the YAML parser objects to and where, on one line (lines and columns from 1)."""

    def at(mark: object) -> str:
        return f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""

    problem = getattr(exc, "problem", None)
    if not problem:
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    text = f"{problem}{at(getattr(exc, 'problem_mark', None))}"
    context = getattr(exc, "context", None)
    if context:
        text += f" ({context}{at(getattr(exc, 'context_mark', None))})"
    return text


_SOURCE_KEYS = ("system", "report", "extracted_at", "extracted_by")


def _hr_config(r: _Reader, hr: dict) -> HrConfig:
    """hr.source, hr.timezone and hr.groups_source, each validated."""
    source = None
    if hr.get("source") is not None:
        raw = r.mapping(hr["source"], "hr.source", set(_SOURCE_KEYS))
        for key in _SOURCE_KEYS:
            value = raw.get(key)
            if not isinstance(value, str) or not value.strip():
                raise r.fail(
                    f"hr.source.{key}",
                    value,
                    "is required and must be non-empty text",
                    f"declare the roster's {', '.join(_SOURCE_KEYS)}",
                )
        when = raw["extracted_at"].strip()
        try:
            moment = dt.datetime.fromisoformat(when.replace("Z", "+00:00"))
        except ValueError:
            moment = None
        if moment is None or len(when) < 10:
            raise r.fail(
                "hr.source.extracted_at",
                when,
                "must be a date YYYY-MM-DD or an ISO-8601 time",
                "write when the report was run, e.g. 2026-11-30 or 2026-11-30T07:15:00Z",
            )
        source = RosterSource(
            raw["system"].strip(), raw["report"].strip(), when, raw["extracted_by"].strip()
        )
    timezone = hr.get("timezone", "UTC")
    if not isinstance(timezone, str) or not _is_zone(timezone):
        raise r.fail(
            "hr.timezone",
            timezone,
            "is not an IANA time zone name",
            "use a name such as UTC, Europe/Paris or America/New_York",
        )
    groups_source = hr.get("groups_source", "")
    if not isinstance(groups_source, str):
        raise r.fail("hr.groups_source", groups_source, 'must be text, e.g. "Okta groups"')
    return HrConfig(source, timezone, groups_source.strip())


def _is_zone(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return bool(name)


def _period_end(
    r: _Reader, in_file: object, from_flag: dt.date | None, today: dt.date | None
) -> dt.date:
    """The last day of the period: --period-end, else period.end, else the last whole day.

    A day that has not ended yet (today or later, UTC) is refused: its audit trail and the
    measurements taken "as of" the period end would be partial or in the future.
    """
    clock = today or dt.datetime.now(dt.UTC).date()
    if from_flag is not None:
        end, source, name = from_flag, "command line", "--period-end"
    elif in_file not in (None, ""):
        end, source, name = in_file, str(r.path), "period.end"
    else:
        return last_complete_day(clock)
    if isinstance(end, str):
        try:
            end = dt.date.fromisoformat(end)
        except ValueError as exc:
            raise r.fail("period.end", end, "must be a date YYYY-MM-DD") from exc
    if isinstance(end, dt.datetime) or not isinstance(end, dt.date):
        raise r.fail("period.end", end, "must be a date YYYY-MM-DD")
    if end >= clock:
        raise InputError(
            source,
            name,
            end.isoformat(),
            f"is not a complete day yet (today is {clock.isoformat()} UTC)",
            f"give {last_complete_day(clock).isoformat()} or an earlier day, or leave it out "
            "(default: the last complete UTC day)",
        )
    return end


def load_params(
    path: str | Path,
    period_end: dt.date | None = None,
    today: dt.date | None = None,
    operator: str | None = None,
) -> Params:
    """Parse and validate a params file; paths inside it are relative to the file.

    `today` is the UTC date the collection runs on (default: the clock); the period ends at
    the latest on the day before it.
    `operator` (from --operator) overrides the file's `operator`.
    """
    path = Path(path)
    try:
        raw_bytes = path.read_bytes()
    except OSError as exc:
        raise InputError(
            str(path),
            "(file)",
            str(path),
            f"cannot be read ({exc.strerror})",
            "pass an existing params file with --params",
        ) from exc
    r = _Reader(path)
    try:
        doc = yaml.load(raw_bytes.decode("utf-8"), Loader=_NoDatesLoader)  # noqa: S506
    except UnicodeDecodeError as exc:
        raise r.fail(
            "(file)",
            path.name,
            f"is not UTF-8 (byte 0x{raw_bytes[exc.start]:02x} at offset {exc.start})",
            "save the params file as UTF-8",
        ) from exc
    except yaml.YAMLError as exc:
        raise r.fail(
            "(file)",
            path.name,
            f"is not valid YAML: {_yaml_problem(exc)}",
            "correct the YAML syntax there",
        ) from exc
    doc = r.mapping(doc, "", _TOP_KEYS)

    org_raw = r.mapping(doc.get("org"), "org", {"region", "api_base_url", "login_base_url"})
    for key in ("region", "api_base_url", "login_base_url"):
        if key in org_raw and not isinstance(org_raw[key], str):
            raise r.fail(f"org.{key}", org_raw[key], "must be a string")
    for key in ("api_base_url", "login_base_url"):
        url = org_raw.get(key)
        if url and not url.startswith(("http://", "https://")):
            raise r.fail(f"org.{key}", url, "must start with http:// or https://")
    org = OrgConfig(
        org_raw.get("region"), org_raw.get("api_base_url"), org_raw.get("login_base_url")
    )

    per = r.mapping(doc.get("period"), "period", {"end", "days"})
    end = _period_end(r, per.get("end"), period_end, today)
    days = r.positive_int(per.get("days", 90), "period.days")
    if days > 366:
        raise r.fail("period.days", days, "must be at most 366")

    baseline = doc.get("baseline", "pci-dss-4.0.1")
    baselines = baseline_ids()
    if baseline not in baselines:
        raise r.fail("baseline", baseline, "unknown baseline", f"use one of {', '.join(baselines)}")

    hr = r.mapping(doc.get("hr"), "hr", {"roster", "source", "timezone", "groups_source"})
    roster = r.file_path(hr["roster"], "hr.roster") if hr.get("roster") else None
    hr_config = _hr_config(r, hr)

    roles_raw = doc.get("privileged_roles") or {}
    if not isinstance(roles_raw, dict):
        raise r.fail("privileged_roles", roles_raw, "must be a mapping of role name to policy")
    roles: dict[str, PrivilegedRolePolicy] = {}
    for name, pol in roles_raw.items():
        base = f"privileged_roles.{name}"
        pol = r.mapping(pol, base, {"allowed_groups", "max_holders", "allowed_granters"})
        max_holders = pol.get("max_holders")
        if max_holders is not None:
            max_holders = r.positive_int(max_holders, f"{base}.max_holders")
        roles[str(name)] = PrivilegedRolePolicy(
            r.string_list(pol.get("allowed_groups"), f"{base}.allowed_groups"),
            max_holders,
            r.string_list(pol.get("allowed_granters"), f"{base}.allowed_granters"),
        )

    sod_raw = doc.get("sod_conflicts") or []
    if not isinstance(sod_raw, list):
        raise r.fail("sod_conflicts", sod_raw, "must be a list of role pairs")
    sod = []
    for i, pair in enumerate(sod_raw):
        if (
            not isinstance(pair, list)
            or len(pair) != 2
            or not all(isinstance(x, str) and x for x in pair)
            or pair[0] == pair[1]
        ):
            raise r.fail(f"sod_conflicts[{i}]", pair, "must be a pair of two different role names")
        sod.append((pair[0], pair[1]))

    sensitive = _sensitive_permissions(r, doc.get("sensitive_permissions"))

    thresholds = doc.get("thresholds") or {}
    if not isinstance(thresholds, dict):
        raise r.fail("thresholds", thresholds, "must be a mapping of threshold name to value")

    out = r.mapping(doc.get("output"), "output", {"dir", "formats"})
    out_dir = r.file_path(out.get("dir", "output"), "output.dir")
    formats = r.string_list(out.get("formats", ["html", "pdf"]), "output.formats")
    for f in formats:
        if f not in FORMATS:
            raise r.fail("output.formats", f, "unknown format", "use html and/or pdf")
    if "html" not in formats:
        raise r.fail("output.formats", list(formats), "must include html")

    aud = r.mapping(
        doc.get("audit"), "audit", {"services", "max_interval_days", "query_timeout_seconds"}
    )
    audit = AuditConfig(
        r.string_list(aud["services"], "audit.services")
        if "services" in aud
        else DEFAULT_AUDIT_SERVICES,
        r.positive_int(aud.get("max_interval_days", 30), "audit.max_interval_days"),
        r.positive_int(aud.get("query_timeout_seconds", 900), "audit.query_timeout_seconds"),
    )

    sig = r.mapping(doc.get("signing"), "signing", {"key", "key_env"})
    signing = SigningConfig(
        r.file_path(sig["key"], "signing.key") if sig.get("key") else None, sig.get("key_env")
    )

    exc = r.mapping(doc.get("exceptions"), "exceptions", {"register"})
    register = r.file_path(exc["register"], "exceptions.register") if exc.get("register") else None

    allowlist_required = doc.get("ip_allowlist_required", False)
    if not isinstance(allowlist_required, bool):
        raise r.fail(
            "ip_allowlist_required",
            allowlist_required,
            "must be true or false",
            "write true or false",
        )

    operator, privacy = _provenance(r, doc, operator)
    return Params(
        path=path.resolve(),
        digest="sha256:" + hashlib.sha256(raw_bytes).hexdigest(),
        org=org,
        period=PeriodConfig(end, days),
        baseline=baseline,
        hr_roster=roster,
        hr=hr_config,
        privileged_roles=roles,
        sod_conflicts=tuple(sod),
        thresholds=dict(thresholds),
        output_dir=out_dir,
        formats=formats,
        audit=audit,
        signing=signing,
        exceptions_register=register,
        ip_allowlist_required=allowlist_required,
        sensitive_permissions=sensitive,
        operator=operator,
        privacy=privacy,
    )


def _sensitive_permissions(r: _Reader, raw: object) -> dict[str, SensitivePermissionPolicy]:
    """`sensitive_permissions: {domain:entity:action: {allowed_groups: [...]}}`, validated."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise r.fail(
            "sensitive_permissions",
            raw,
            "must be a mapping of permission to policy",
            "e.g. recording:recording:view: {allowed_groups: [QA Department]}",
        )
    out = {}
    for permission, pol in raw.items():
        base = f"sensitive_permissions.{permission}"
        if not isinstance(permission, str) or not PERMISSION_PATTERN.fullmatch(permission):
            raise r.fail(
                base,
                permission,
                "is not a permission",
                "write it as Genesys does, domain:entity:action, e.g. audits:audit:view",
            )
        pol = r.mapping(pol, base, {"allowed_groups"})
        groups = r.string_list(pol.get("allowed_groups"), f"{base}.allowed_groups")
        if not groups:
            raise r.fail(
                f"{base}.allowed_groups",
                pol.get("allowed_groups"),
                "must list at least one HR group",
                "name the roster groups whose people may hold the permission",
            )
        out[permission] = SensitivePermissionPolicy(groups)
    return out


# -- who ran the pack and what it keeps (issue 12 §1, §7) --------------------------------------

OPERATOR_MAX = 200


def _provenance(r: _Reader, doc: dict, cli_operator: str | None) -> tuple[str, PrivacyConfig]:
    """`operator` (the command line's --operator wins) and `privacy`."""
    operator = cli_operator if cli_operator is not None else doc.get("operator")
    where = "--operator" if cli_operator is not None else "operator"
    if operator is None:
        operator = ""
    if (
        not isinstance(operator, str)
        or len(operator) > OPERATOR_MAX
        or operator != operator.strip()
    ):
        raise r.fail(
            where,
            operator,
            f"must be one line of text, at most {OPERATOR_MAX} characters, without leading or "
            "trailing spaces",
            "name the person who runs the collection, e.g. 'Jane Doe (GRC)'",
        )
    if any(ch in operator for ch in "\r\n\t") or not operator.isprintable():
        raise r.fail(where, operator, "must be printable text on one line")
    priv = r.mapping(doc.get("privacy"), "privacy", {"minimize"})
    minimize = priv.get("minimize", True)
    if not isinstance(minimize, bool):
        raise r.fail("privacy.minimize", minimize, "must be true or false")
    return operator, PrivacyConfig(minimize)
