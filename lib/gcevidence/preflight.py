"""`gcevidence preflight`: what a new user runs first against a real org.

It tests, read-only and in a few dozen requests, the assumptions a run rests on: the login
host and region, the token, the rate limit, every permission the toolkit uses (by calling the
endpoint that needs it), how people sign in, who holds the privileged roles, the shape of the
audit events, and whether the role counts the API gives agree. It prints one table and writes
nothing unless --json is given. Exit 0: a run can proceed; 2: the table ends with the fixes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from gcevidence.audit_events import role_member_change, took_out_of_service
from gcevidence.collection_scope import ALL, LIMITED, UNKNOWN, scope_of
from gcevidence.config import load_params
from gcevidence.datasets import SPECS
from gcevidence.datasets.audit import audit_row
from gcevidence.datasets.collector import COLLECTOR_CLIENT
from gcevidence.datasets.directory import DIVISIONS
from gcevidence.endpoints import ENDPOINTS, Endpoint, Paging
from gcevidence.errors import ApiError, AuthenticationError, PermissionDenied
from gcevidence.genesys.audits import RESULTS, STATUS, SUBMIT, iso_z
from gcevidence.genesys.http import ApiResponse, GenesysClient
from gcevidence.genesys.paging import list_endpoint

AUDIT_SERVICES = ("PeoplePermissions", "Directory")
AUDIT_POLL_SECONDS = 0.5
AUDIT_MAX_POLLS = 40
AUDIT_RESULT_PAGES = 2  # at most 1,000 events of the day are read for their shapes
USER_SAMPLE = 100
RATE_HEADERS = ("inin-ratelimit-allowed", "inin-ratelimit-count", "inin-ratelimit-reset")

ROLES, ROLE, ROLE_USERS, SUBJECT_GRANTS = (
    ENDPOINTS[name] for name in ("roles", "role", "role_users", "role_subject_grants")
)
TRUNKS = ENDPOINTS["trunk_base_settings"]
GENESYS_LOGIN, PROVIDERS = ENDPOINTS["genesys_login"], ENDPOINTS["identity_providers"]
# Checks a missing permission makes not_evaluable beyond those needing its datasets.
EXTRA_DEPENDENTS = {
    # unless password logins in the period show that Genesys login is on
    "sso:provider:view": ("auth.mfa_required", "auth.password_policy"),
    "audits:audit:view": ("logging.audit_completeness",),
}


# What a run loses without a permission that no check needs.
WITHOUT_NO_CHECK = {
    "oauth:client:view": "the pack's division scope is unknown — not verified",
}


@dataclass(frozen=True)
class Row:
    section: str
    item: str
    result: str
    ok: bool | None = None  # False: needs a fix; None: information
    detail: str = ""


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    fixes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # a run can proceed, but says less

    def add(self, section: str, item: str, result: str, ok: bool | None = None, detail="") -> None:
        self.rows.append(Row(section, item, result, ok, detail))

    def fix(self, text: str) -> None:
        if text not in self.fixes:
            self.fixes.append(text)

    def warn(self, text: str) -> None:
        if text not in self.warnings:
            self.warnings.append(text)


def permission_probes() -> dict[str, Endpoint]:
    """permission -> the endpoint probed for it: the first a dataset reads that requires it.

    Every probe is read-only but the audit one, which submits the one-day query of the audit
    section (it only reads, too).
    """
    probes: dict[str, Endpoint] = {}
    for spec in SPECS.values():
        for endpoint in spec.reads:
            if endpoint.permission:
                probes.setdefault(endpoint.permission, endpoint)
    return probes


def probe_query(endpoint: Endpoint) -> dict[str, Any]:
    """A probe reads one page of a listing (at the declared page size), else the whole answer."""
    if endpoint.paging is Paging.PAGES:
        return {"pageSize": endpoint.page_size, "pageNumber": 1, **endpoint.defaults}
    return dict(endpoint.defaults)


def permission_dependents() -> dict[str, list[str]]:
    """permission -> the checks that would be not_evaluable without it."""
    from gcevidence.checks import REGISTRY

    out: dict[str, set[str]] = {}
    for spec in SPECS.values():
        if spec.permission:
            out.setdefault(spec.permission, set()).update(
                c for c, reg in REGISTRY.items() if spec.name in reg.needs
            )
    for permission, checks in EXTRA_DEPENDENTS.items():
        out.setdefault(permission, set()).update(checks)
    return {p: sorted(c) for p, c in sorted(out.items())}


class Preflight:
    """One preflight against one org; `run()` fills `report`."""

    def __init__(self, params: Any, client: GenesysClient, audit_day: dt.date | None = None):
        self.params, self.client = params, client
        # The audit query covers this whole UTC day (default: yesterday).
        self.audit_day = audit_day or dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
        self.report = Report()
        self.headers: dict[str, str] = {}
        self.granted: dict[str, bool] = {}
        self.roles_page: dict | None = None
        self.audit_submits: dict[str, dict] = {}
        self.own_client: dict | None = None  # the client's own document, when probed

    # -- plumbing ----------------------------------------------------------------------------
    def call(self, method: str, path: str, params=None, body=None) -> ApiResponse:
        resp = self.client.request(method, path, params or None, body)
        for key in RATE_HEADERS:
            found = next((v for k, v in resp.headers.items() if k.lower() == key), None)
            if found is not None:
                self.headers[key] = found
        return resp

    def get(self, path: str, params=None) -> Any:
        return self.call("GET", path, params).body

    # -- sections ----------------------------------------------------------------------------
    def run(self) -> Report:
        started = time.monotonic()
        if not self.connection():
            return self.report
        self.permissions()
        self.division_scope()
        self.sign_in()
        self.privileged_roles()
        self.audits()
        self.rate_limit(time.monotonic() - started)
        return self.report

    def connection(self) -> bool:
        c, r = self.client, self.report
        r.add("connection", "region", c.region or "(custom URL)", None, f"API {c.api_base_url}")
        r.add("connection", "login host", c.login_base_url)
        try:
            c.authenticate()
        except AuthenticationError as exc:
            r.add("connection", "token", "REJECTED", False, str(exc))
            r.fix(str(exc))
            return False
        lifetime = c.tokens.lifetime
        r.add(
            "connection",
            "token lifetime",
            f"{lifetime:.0f} s" if lifetime else "unknown",
            None,
            "renewed before expiry during a run",
        )
        org = self.get(ENDPOINTS["organization"].path) or {}
        r.add("connection", "organisation", f"{org.get('name', '')} ({org.get('id', '')})")
        return True

    def rate_limit(self, seconds: float) -> None:
        seen = ", ".join(f"{k} {v}" for k, v in sorted(self.headers.items())) or "none seen"
        self.report.add(
            "connection",
            "rate-limit headers",
            seen,
            None,
            f"preflight: {self.client.stats.requests} requests in {seconds:.1f} s",
        )

    def permissions(self) -> None:
        dependents = permission_dependents()
        probes = permission_probes()
        trunks: dict | None = None
        for permission in dependents:
            endpoint = probes.get(permission)
            if endpoint is None:
                continue
            method, path = endpoint.method, endpoint.path
            if endpoint.paging is Paging.ASYNC:
                granted = self._submit_audits()
            else:
                if "{clientId}" in path:  # the client's own document: its id is ours
                    path = endpoint.url(clientId=self.client.creds.client_id)
                try:
                    body = self.get(path, probe_query(endpoint))
                    granted = True
                    if endpoint is ROLES:
                        self.roles_page = body if isinstance(body, dict) else {}
                    if endpoint is TRUNKS:
                        trunks = body if isinstance(body, dict) else {}
                    if endpoint is COLLECTOR_CLIENT.reads[0]:
                        self.own_client = body if isinstance(body, dict) else {}
                except PermissionDenied:
                    granted = False
            self.granted[permission] = granted
            checks = dependents[permission]
            if granted:
                self.report.add("permissions", permission, "granted", True, f"{method} {path}")
            else:
                loss = (
                    f"{', '.join(checks)} not_evaluable"
                    if checks
                    else WITHOUT_NO_CHECK.get(permission, "less evidence")
                )
                detail = f"{method} {path} answered 403; without it: {loss}"
                self.report.add("permissions", permission, "MISSING", False, detail)
                self.report.fix(
                    f"grant the OAuth client's role the permission {permission} "
                    f"(without it: {loss})"
                )
        if trunks is not None:
            self._trunks(trunks)

    def division_scope(self) -> None:
        """Which divisions the client sees, from its own grants (as the collection reads them)."""
        endpoint = COLLECTOR_CLIENT.reads[0]
        divisions = [
            DIVISIONS.row(d) for d in list_endpoint(self.client, DIVISIONS.reads[0]).entities
        ]
        if self.granted.get(endpoint.permission):
            own = self.own_client
            if own is None:
                own = self.get(endpoint.url(clientId=self.client.creds.client_id)) or {}
            scope = scope_of(COLLECTOR_CLIENT.stored(own), divisions)
        else:
            why = f"missing permission {endpoint.permission}"
            scope = scope_of(None, divisions, f"the client's own grants cannot be read ({why})")
        result = {ALL: "all divisions", LIMITED: "LIMITED", UNKNOWN: "UNKNOWN"}[scope.state]
        self.report.add("scope", "divisions the client sees", result, None, scope.summary())
        if not scope.complete:
            self.report.warn(scope.summary())

    def _trunks(self, body: dict) -> None:
        trunks = body.get("entities") or []
        managed = [t.get("name", "") for t in trunks if t.get("managed") is True]
        hidden = [t.get("name", "") for t in trunks if "properties" not in t]
        self.report.add(
            "telephony",
            "trunks",
            f"{body.get('total', len(trunks))} trunk base settings, {len(managed)} managed",
            None,
            (f"managed (operated by Genesys): {'; '.join(managed)}; " if managed else "")
            + (
                f"properties not returned: {'; '.join(hidden)}"
                if hidden
                else "every trunk shows properties"
            ),
        )

    def sign_in(self) -> None:
        r = self.report
        if self.granted.get("sso:provider:view"):
            login = self.get(GENESYS_LOGIN.path) or {}
            providers = (self.get(PROVIDERS.path) or {}).get("entities") or []
            disabled = login.get("disabled")
            r.add(
                "sign-in",
                "Genesys login",
                "off (SSO only)" if disabled is True else "on" if disabled is False else "unknown",
                None,
                f"{GENESYS_LOGIN}: disabled "
                f"{str(disabled).lower() if isinstance(disabled, bool) else 'not given'}",
            )
            on = sorted(p.get("name", "") for p in providers if p.get("disabled") is not True)
            off = sorted(p.get("name", "") for p in providers if p.get("disabled") is True)
            r.add(
                "sign-in",
                "identity providers",
                f"enabled: {', '.join(on) or 'none'}; disabled: {', '.join(off) or 'none'}",
                None,
                "with Genesys login off, MFA and the password policy are the enabled provider's",
            )
        page = (
            self.get(
                ENDPOINTS["users"].path,
                {
                    "pageSize": USER_SAMPLE,
                    "pageNumber": 1,
                    "expand": ["dateLastLogin", "lasttokenissued"],
                },
            )
            or {}
        )
        users = page.get("entities") or []
        n = len(users) or 1
        token = sum(1 for u in users if "lastTokenIssued" in u)
        login = sum(1 for u in users if "dateLastLogin" in u)
        r.add(
            "sign-in",
            "users sample",
            f"{len(users)} active users: lastTokenIssued {token / n:.0%}, "
            f"dateLastLogin {login / n:.0%}",
            None,
            "dateLastLogin is set by Genesys password logins only; the last sign-in is the "
            "later of the two"
            + (
                "; no user carries lastTokenIssued: dormancy would rest on password logins"
                if users and not token
                else ""
            ),
        )

    def privileged_roles(self) -> None:
        r = self.report
        names = sorted(self.params.privileged_roles)
        if not names:
            r.add("roles", "privileged roles", "none in params", None)
            return
        if not self.granted.get("authorization:role:view"):
            r.add("roles", "privileged roles", "not read", False, "authorization:role:view missing")
            return
        roles = {x.get("name"): x for x in (self.roles_page or {}).get("entities") or []}
        for name in names:
            role = roles.get(name)
            if role is None and (self.roles_page or {}).get("pageCount", 1) > 1:
                query = {"name": name, **ROLES.defaults, "pageSize": ROLES.page_size}
                found = self.get(ROLES.path, query) or {}
                role = next((x for x in found.get("entities") or [] if x.get("name") == name), None)
            if role is None:
                r.add("roles", name, "NOT FOUND", False, "no role of that exact name in the org")
                r.fix(f"params privileged_roles: no role named {name!r} in the org; check its name")
                continue
            self._role(role)

    def _role(self, role: dict) -> None:
        rid, name = role["id"], role.get("name", "")
        first_page = {"pageSize": SUBJECT_GRANTS.page_size, "pageNumber": 1}
        grants = self.get(SUBJECT_GRANTS.url(roleId=rid), first_page) or {}
        kinds = Counter(str(g.get("type", "")) for g in grants.get("entities") or [])
        # One holder a page: only the listing's `total` is compared.
        users = self.get(ROLE_USERS.url(roleId=rid), {"pageSize": 1, "pageNumber": 1}) or {}
        counted = (self.get(ROLE.url(roleId=rid), {"userCount": True}) or {}).get("userCount")
        total = grants.get("total")
        shown = ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())) or "no subjects"
        partial = "" if grants.get("pageCount", 1) <= 1 else " (first page)"
        self.report.add("roles", f"{name}: subject types", shown + partial, None)
        counts = {
            "subject grants total": total,
            "PC_USER subjects": kinds.get("PC_USER", 0) if not partial else None,
            "roles/{id}/users total": users.get("total"),
            "userCount": counted,
        }
        known = {k: v for k, v in counts.items() if isinstance(v, int)}
        differs = len(set(known.values())) > 1
        self.report.add(
            "roles",
            f"{name}: counts",
            "; ".join(f"{k} {v}" for k, v in known.items()),
            None,
            "counts differ: the toolkit counts every distinct holder from the subject grants and "
            "group members, never userCount"
            if differs
            else "all counts agree",
        )

    # -- audits ------------------------------------------------------------------------------
    def _submit_audits(self) -> bool:
        start = dt.datetime.combine(self.audit_day, dt.time.min, tzinfo=dt.UTC)
        interval = f"{iso_z(start)}/{iso_z(start + dt.timedelta(days=1))}"
        for service in AUDIT_SERVICES:
            body = {"interval": interval, "serviceName": service}
            try:
                doc = self.call(SUBMIT.method, SUBMIT.path, None, body).body or {}
            except PermissionDenied:
                return False
            self.audit_submits[service] = {
                "id": str(doc.get("id", "")),
                "states": [str(doc.get("state", ""))],
                "interval": interval,
            }
        return True

    def audits(self) -> None:
        if not self.audit_submits:
            return
        pending = dict(self.audit_submits)
        for _ in range(AUDIT_MAX_POLLS):
            for service, q in list(pending.items()):
                doc = self.get(STATUS.url(transactionId=q["id"])) or {}
                state = str(doc.get("state", ""))
                if state != q["states"][-1]:
                    q["states"].append(state)
                if state in ("Succeeded", "Failed", "Cancelled"):
                    del pending[service]
            if not pending:
                break
            time.sleep(AUDIT_POLL_SECONDS)
        for service, q in self.audit_submits.items():
            states = " → ".join(s for s in q["states"] if s)
            if q["states"][-1] != "Succeeded":
                self.report.add("audit", f"{service} query", states, False, q["interval"])
                self.report.fix(
                    f"the one-day {service} audit query ended {q['states'][-1] or 'unfinished'}: "
                    "re-run preflight later; if it persists, raise audit.query_timeout_seconds"
                )
                continue
            events, more = self._results(q["id"])
            count = f"{len(events)}{'+' if more else ''} events"
            self.report.add("audit", f"{service} query", f"{states}; {count}", True, q["interval"])
            self.report.add("audit", f"{service} shapes", _shapes(service, events) or "no events")

    def _results(self, transaction: str) -> tuple[list[dict], bool]:
        events: list[dict] = []
        cursor = None
        for _ in range(AUDIT_RESULT_PAGES):
            query = {"pageSize": RESULTS.page_size, **({"cursor": cursor} if cursor else {})}
            page = self.get(RESULTS.url(transactionId=transaction), query) or {}
            events += [audit_row(e) for e in page.get("entities") or []]
            cursor = page.get("cursor")
            if not cursor:
                return events, False
        return events, True


def _shapes(service: str, events: list[dict]) -> str:
    """Entity types and actions seen, and how role and leaving-service events are shaped."""
    kinds = Counter(f"{e['entity_type']}/{e['action']}" for e in events)
    text = ", ".join(f"{k} {v}" for k, v in kinds.most_common(8))
    if service == "PeoplePermissions":
        shapes: Counter = Counter()
        for e in events:
            change = role_member_change(e)
            if change is None:
                if e["entity_type"] == "Role" and e["action"] in ("MemberAdd", "MemberRemove"):
                    shapes["unreadable (no role id)"] += 1
                continue
            triple = len(e["entity_name"].split("--")) == 3
            shapes[
                "entity.id + name grantee--role--org"
                if triple and e["entity_id"]
                else "name grantee--role--org only"
                if triple
                else "entity.id = role, no grantee"
            ] += 1
        if shapes:
            text += "; role grant shapes: " + ", ".join(
                f"{k} {v}" for k, v in sorted(shapes.items())
            )
        else:
            text += "; no role grant (Role MemberAdd/MemberRemove) that day"
    if service == "Directory":
        gone = Counter(
            e["action"] if e["action"] != "Update" else "Update of state"
            for e in events
            if took_out_of_service(e)
        )
        text += "; leaving service: " + (
            ", ".join(f"{k} {v}" for k, v in sorted(gone.items())) or "none that day"
        )
    return text


# -- output and command line -------------------------------------------------------------------
def render(report: Report) -> str:
    """The table, then the fixes (or that a run can proceed)."""
    mark = {True: "ok", False: "FIX", None: ""}
    header = ("section", "item", "result", "", "detail")
    rows = [header] + [(r.section, r.item, r.result, mark[r.ok], r.detail) for r in report.rows]
    widths = [min(70, max(len(str(row[i])) for row in rows)) for i in range(4)]
    lines = [
        "  ".join(str(row[i]).ljust(widths[i]) for i in range(4)) + "  " + str(row[4])
        for row in rows
    ]
    lines.insert(1, "-" * min(120, sum(widths) + 10))
    if report.warnings:
        lines += ["", "warnings (a run can proceed, but the pack will say so):"]
        lines += [f"  - {w}" for w in report.warnings]
    if report.fixes:
        lines += ["", "fixes before a run:"] + [f"  - {f}" for f in report.fixes]
    else:
        lines += ["", "ready: a run can proceed"]
    return "\n".join(line.rstrip() for line in lines)


def run_preflight(
    params_path: Path,
    json_path: Path | None = None,
    client_factory: Callable | None = None,
    audit_day: dt.date | None = None,
) -> int:
    """Preflight against the org of a params file; prints the table, returns the exit status."""
    params = load_params(params_path)
    make = client_factory or (lambda p: GenesysClient.from_params(p, max_workers=2))
    started = time.monotonic()
    with make(params) as client:
        try:
            report = Preflight(params, client, audit_day).run()
        except ApiError as exc:
            report = Report()
            report.add("connection", "API", "FAILED", False, str(exc))
            report.fix(str(exc))
        requests = client.stats.requests
    print(render(report))
    if json_path is not None:
        doc = {
            "rows": [asdict(r) for r in report.rows],
            "fixes": report.fixes,
            "warnings": report.warnings,
            "requests": requests,
            "seconds": round(time.monotonic() - started, 1),
            "ready": not report.fixes,
        }
        Path(json_path).write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    return 2 if report.fixes else 0


def cmd_preflight(args: argparse.Namespace) -> int:
    status = run_preflight(Path(args.params), Path(args.json) if args.json else None)
    sys.stdout.flush()
    return status


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "preflight",
        help="test the toolkit's assumptions against an org before the first run (read-only)",
        description="Read-only check of credentials, region, permissions, sign-in, privileged "
        "roles and audit events; prints one table and writes nothing unless --json is given. "
        "Exit 0: a run can proceed; 2: the fixes are listed.",
    )
    p.add_argument("--params", required=True, help="params YAML file")
    p.add_argument("--json", help="also write the table as JSON to this file")
    p.set_defaults(func=cmd_preflight)


__all__ = [
    "Preflight",
    "Report",
    "permission_dependents",
    "permission_probes",
    "register",
    "render",
    "run_preflight",
]
