"""Populations an auditor tests against tickets: the period's joiners, role changes,
privileged grants and leavers, each row with the audit event it rests on.

Built from one snapshot and the params, sorted by their key (the column a sample is drawn
on), for the pack's `populations/<name>.csv` and the working papers. A population whose
datasets are missing is `available: False` and says why, like a check that cannot run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gcevidence.audit_events import role_member_change, succeeded, took_out_of_service
from gcevidence.audit_trail import audit_trail
from gcevidence.catalog.permissions import admin_permissions
from gcevidence.config import Params
from gcevidence.hr import termination_start
from gcevidence.snapshot import records

JOINERS = "joiners"
ROLE_CHANGES = "role_changes"
PRIVILEGED_GRANTS = "privileged_grants"
LEAVERS = "leavers"
# The role_changes population's `change` of each PeoplePermissions/Role action.
CHANGE_OF_ACTION = {"MemberAdd": "granted", "MemberRemove": "removed"}


@dataclass(frozen=True)
class Population:
    """One population: its rows (dicts of text, sorted by `key`) and how it was built."""

    name: str
    title: str
    key: str  # the column that identifies a row: samples are drawn on it
    columns: tuple[str, ...]
    rows: tuple[dict[str, str], ...] = ()
    available: bool = True
    reason: str = ""  # why it is not available
    built_from: str = ""  # in words, for the paper

    @property
    def ids(self) -> list[str]:
        return [r[self.key] for r in self.rows]


JOINER_COLUMNS = (
    "event_id",
    "event_date",
    "user_id",
    "user_name",
    "email",
    "state_now",
    "employee_id",
    "in_hr_roster",
    "created_by_id",
    "created_by",
)
CHANGE_COLUMNS = (
    "event_id",
    "event_date",
    "change",
    "role_id",
    "role_name",
    "privileged",
    "grantee_type",
    "grantee_id",
    "grantee_name",
    "by_id",
    "by_name",
    "client_id",
)
LEAVER_COLUMNS = (
    "employee_id",
    "email",
    "termination_date",
    "user_id",
    "user_name",
    "state_now",
    "deactivation_event_id",
    "deactivated_at",
    "hours_after_termination_day_start",
)


@dataclass
class _Sources:
    """The snapshot's tables the populations read, each once."""

    snapshot: Any
    params: Params
    cache: dict[str, list[dict[str, str]]] = field(default_factory=dict)

    def table(self, name: str) -> list[dict[str, str]]:
        if name not in self.cache:
            has = self.snapshot.has(name)
            self.cache[name] = records(self.snapshot.table(name)) if has else []
        return self.cache[name]

    def missing(self, *names: str) -> str:
        """Why the population cannot be built ("" when every dataset is there)."""
        gone = [n for n in names if not self.snapshot.has(n)]
        if not gone:
            return ""
        from gcevidence.checks.registry import missing_reason

        return "; ".join(missing_reason(self.snapshot, n) for n in gone)

    def in_period(self, stamp: str) -> bool:
        when = _time(stamp)
        period = self.params.period
        return when is not None and period.start_utc <= when < period.end_utc

    def events(self) -> list[dict[str, str]]:
        """The period's successful audit events, oldest first."""
        # Only the kinds of event the populations read (role and user changes) are kept.
        rows = [
            e
            for e in audit_trail(self.snapshot).records()
            if succeeded(e) and self.in_period(e["event_date"])
        ]
        return sorted(rows, key=lambda e: (e["event_date"], e["id"]))


def _time(text: str) -> dt.datetime | None:
    try:
        t = dt.datetime.fromisoformat(str(text).strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def _iso(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _unavailable(name: str, title: str, key: str, columns: tuple, reason: str) -> Population:
    return Population(name, title, key, columns, (), False, reason)


def joiners(src: _Sources) -> Population:
    """Users created in the period (Directory / User / Create), with the creating event."""
    title, built = (
        "Joiners: users created in the period",
        (
            "Directory / User / Create audit events of the period, joined to the users (by id) "
            "and to the HR roster (by email)"
        ),
    )
    why = src.missing("audit_events", "users")
    if why:
        return _unavailable(JOINERS, title, "event_id", JOINER_COLUMNS, why)
    users = {u["id"]: u for u in src.table("users")}
    roster = {r["email"].strip().lower(): r for r in src.table("hr_roster")}
    rows = []
    for e in src.events():
        is_create = (e["service_name"], e["entity_type"], e["action"]) == (
            "Directory",
            "User",
            "Create",
        )
        if not is_create:
            continue
        user = users.get(e["entity_id"], {})
        email = user.get("email", "")
        person = roster.get(email.strip().lower()) if email else None
        rows.append(
            {
                "event_id": e["id"],
                "event_date": e["event_date"],
                "user_id": e["entity_id"],
                "user_name": user.get("name") or e["entity_name"],
                "email": email,
                "state_now": user.get("state", "not found"),
                "employee_id": person["employee_id"] if person else "",
                "in_hr_roster": ""
                if not src.snapshot.has("hr_roster")
                else "yes"
                if person
                else "no",
                "created_by_id": e["user_id"] or e["client_id"],
                "created_by": e["user_name"]
                or (f"OAuth client {e['client_id']}" if e["client_id"] else ""),
            }
        )
    return Population(
        JOINERS, title, "event_id", JOINER_COLUMNS, _sorted(rows, "event_id"), built_from=built
    )


def _privileged_label(src: _Sources) -> Callable[[str], str]:
    """role id -> "declared" (params privileged_roles), "administrative" (catalog), or ""."""
    declared = set(src.params.privileged_roles)
    labels = {}
    for r in src.table("roles"):
        if r["name"] in declared:
            labels[r["id"]] = "declared"
        elif admin_permissions((r.get("permissions") or "").split(";")):
            labels[r["id"]] = "administrative"
    return lambda role_id: labels.get(role_id, "")


def role_changes(src: _Sources) -> Population:
    """Role grants and removals of the period (PeoplePermissions / Role MemberAdd, MemberRemove)."""
    title, built = (
        "Role changes: grants and removals in the period",
        (
            "PeoplePermissions / Role MemberAdd and MemberRemove audit events of the period; "
            "privileged = declared in params privileged_roles, or administrative by the catalog's "
            "permission patterns"
        ),
    )
    why = src.missing("audit_events")
    if why:
        return _unavailable(ROLE_CHANGES, title, "event_id", CHANGE_COLUMNS, why)
    users = {u["id"]: u for u in src.table("users")}
    roles = {r["id"]: r["name"] for r in src.table("roles")}
    groups = {
        g["subject_id"]: g["subject_name"]
        for g in src.table("role_grants")
        if g["subject_type"] == "PC_GROUP"
    }
    groups.update({m["group_id"]: m["group_name"] for m in src.table("group_members")})
    privileged = _privileged_label(src)
    rows = []
    for e in src.events():
        change = role_member_change(e)
        if change is None:
            continue
        grantee = change.grantee_id
        if grantee in users:
            kind, name = "user", users[grantee].get("name", "")
        elif grantee in groups:
            kind, name = "group", groups[grantee]
        else:
            kind, name = ("unknown" if grantee else "not stated"), ""
        rows.append(
            {
                "event_id": e["id"],
                "event_date": e["event_date"],
                "change": CHANGE_OF_ACTION[change.action],
                "role_id": change.role_id,
                "role_name": roles.get(change.role_id, ""),
                "privileged": privileged(change.role_id),
                "grantee_type": kind,
                "grantee_id": grantee,
                "grantee_name": name,
                "by_id": e["user_id"],
                "by_name": e["user_name"] or users.get(e["user_id"], {}).get("name", ""),
                "client_id": e["client_id"],
            }
        )
    return Population(
        ROLE_CHANGES, title, "event_id", CHANGE_COLUMNS, _sorted(rows, "event_id"), built_from=built
    )


def privileged_grants(changes: Population) -> Population:
    """The role changes that granted a privileged role (declared or administrative)."""
    title = "Privileged grants: privileged roles granted in the period"
    if not changes.available:
        return _unavailable(PRIVILEGED_GRANTS, title, "event_id", CHANGE_COLUMNS, changes.reason)
    rows = tuple(r for r in changes.rows if r["change"] == "granted" and r["privileged"])
    built = "the role changes that granted a declared or administrative privileged role"
    return Population(PRIVILEGED_GRANTS, title, "event_id", CHANGE_COLUMNS, rows, built_from=built)


def leavers(src: _Sources) -> Population:
    """People whose termination day (in the roster's timezone) began in the period, with the
    audit event that took their user out of service, if any."""
    title = "Leavers: people whose termination day fell in the period"
    zone = src.params.hr.timezone
    built = (
        f"HR roster people with status terminated whose termination day (a day in {zone}) "
        "began in the period, joined to the users by email; the first Directory / User event "
        "of the period that took the user out of service"
    )
    why = src.missing("hr_roster")
    if why:
        return _unavailable(LEAVERS, title, "employee_id", LEAVER_COLUMNS, why)
    by_email: dict[str, list[dict[str, str]]] = {}
    for u in src.table("users"):
        if u["email"]:
            by_email.setdefault(u["email"].strip().lower(), []).append(u)
    off: dict[str, dict[str, str]] = {}
    for e in src.events():
        if took_out_of_service(e):
            off.setdefault(e["entity_id"], e)
    period = src.params.period
    rows = []
    for person in src.table("hr_roster"):
        if person["status"] != "terminated" or not person["termination_date"]:
            continue
        start = termination_start(person["termination_date"], zone)
        if not period.start_utc <= start < period.end_utc:
            continue
        for user in by_email.get(person["email"].strip().lower()) or [{}]:
            event = off.get(user.get("id", ""))
            when = _time(event["event_date"]) if event else None
            rows.append(
                {
                    "employee_id": person["employee_id"],
                    "email": person["email"],
                    "termination_date": person["termination_date"],
                    "user_id": user.get("id", ""),
                    "user_name": user.get("name", ""),
                    "state_now": user.get("state", "no Genesys user"),
                    "deactivation_event_id": event["id"] if event else "",
                    "deactivated_at": _iso(when) if when else "",
                    "hours_after_termination_day_start": _hours(when, start),
                }
            )
    return Population(
        LEAVERS,
        title,
        "employee_id",
        LEAVER_COLUMNS,
        _sorted(rows, "employee_id"),
        built_from=built,
    )


def _hours(when: dt.datetime | None, start: dt.datetime) -> str:
    return f"{(when - start).total_seconds() / 3600:.1f}" if when else ""


def _sorted(rows: list[dict[str, str]], key: str) -> tuple[dict[str, str], ...]:
    return tuple(sorted(rows, key=lambda r: (r[key], r.get("user_id", ""))))


def build_populations(snapshot: Any, params: Params) -> dict[str, Population]:
    """Every population of the period, by name, in the order the papers show them."""
    src = _Sources(snapshot, params)
    changes = role_changes(src)
    return {
        JOINERS: joiners(src),
        ROLE_CHANGES: changes,
        PRIVILEGED_GRANTS: privileged_grants(changes),
        LEAVERS: leavers(src),
    }
