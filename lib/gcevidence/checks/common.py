"""Small helpers the check families share: dates, the HR join, audit-event fields."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from gcevidence.hr import roster_groups
from gcevidence.snapshot import records as frame_records


def parse_time(value: str) -> dt.datetime | None:
    """An ISO-8601 timestamp (UTC when no zone is given), or None when empty or unreadable."""
    if not value:
        return None
    try:
        t = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)


def fmt_time(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def period_bounds(ctx: Any) -> tuple[dt.date, dt.date]:
    """First and last day (inclusive, UTC) of the period under review."""
    period = ctx.params.period
    return period.start, period.end


def period_days(ctx: Any) -> list[dt.date]:
    start, end = period_bounds(ctx)
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


def records(frame: Any) -> list[dict[str, str]]:
    return frame_records(frame)


def users_by_id(snapshot: Any) -> dict[str, dict[str, str]]:
    return {u["id"]: u for u in records(snapshot.table("users"))} if snapshot.has("users") else {}


def roster_by_email(snapshot: Any) -> dict[str, dict[str, str]]:
    """HR people keyed by lower-cased email: the join key between HR and Genesys."""
    return {r["email"].strip().lower(): r for r in records(snapshot.table("hr_roster"))}


def person_groups(person: dict[str, str] | None) -> frozenset[str]:
    return roster_groups(person["groups"]) if person else frozenset()


def user_label(user: dict[str, str] | None, fallback: str = "") -> str:
    if not user:
        return fallback
    return user.get("name") or user.get("email") or fallback


def parse_json(value: str, default: Any) -> Any:
    if not value:
        return default
    try:
        return json.loads(value)
    except (ValueError, TypeError):
        return default


def split_list(value: str) -> list[str]:
    """A list cell: JSON list, or `;`/`,`-separated text; blanks dropped."""
    value = (value or "").strip()
    if not value:
        return []
    if value.startswith("["):
        parsed = parse_json(value, None)
        if isinstance(parsed, list):
            return [str(v).strip() for v in parsed if str(v).strip()]
    sep = ";" if ";" in value else ","
    return [v.strip() for v in value.split(sep) if v.strip()]


def property_changes(event: dict[str, str]) -> list[dict[str, Any]]:
    """An audit event's propertyChanges as [{property, oldValues, newValues}]."""
    parsed = parse_json(event.get("property_changes", ""), [])
    if isinstance(parsed, dict):
        parsed = [parsed]
    return [p for p in parsed if isinstance(p, dict)] if isinstance(parsed, list) else []


def join_names(names: Any) -> str:
    names = sorted(names)
    return "; ".join(names) if names else "none"
