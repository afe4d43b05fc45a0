"""Earlier sealed packs of the same org: the baseline for drift and the data for trend views.

Packs live in OUT/<period-end>/<run-id>/. Each is verified against its manifest before use;
a pack that fails verification is reported with its problem and never used as a baseline.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from gcevidence.snapshot import SNAPSHOT_FILE, Snapshot

log = logging.getLogger(__name__)

ROLE_MEMBER_ACTIONS = {"MemberAdd": "grant", "MemberRemove": "removal"}


@dataclass(frozen=True)
class PackRef:
    """One earlier pack found under the output folder, and whether it verified."""

    path: Path
    run_id: str
    period_end: str
    generated_at: str
    verified: bool
    problem: str = ""


@dataclass(frozen=True)
class HistoryPoint:
    """A snapshot in the org's history: an earlier verified pack or the current run."""

    run_id: str
    generated_at: str
    snapshot: Snapshot


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _identify(pack: Path) -> tuple[str, str] | None:
    """(org id, generated_at) of a pack folder, from findings.json or else snapshot.json."""
    findings = _read_json(pack / "findings.json")
    if findings and isinstance(findings.get("run"), dict):
        run = findings["run"]
        return str((run.get("org") or {}).get("id", "")), str(run.get("generated_at", ""))
    snap = _read_json(pack / SNAPSHOT_FILE)
    if snap:
        return str((snap.get("org") or {}).get("id", "")), str(snap.get("collected_at", ""))
    return None


def _verify(pack: Path) -> tuple[bool, str]:
    from gcevidence.pack.verify import verify_pack  # the pack module owns verification

    try:
        report = verify_pack(pack)
    except Exception as exc:  # a damaged manifest must not stop the run: report it instead
        return False, f"cannot be verified: {exc}"
    if report.ok:
        return True, ""
    parts = []
    for label in ("missing", "added", "changed"):
        names = list(getattr(report, label, None) or [])
        if names:
            parts.append(f"{label}: {', '.join(map(str, names))}")
    if getattr(report, "signature", "") == "invalid":
        parts.append("signature invalid")
    parts.extend(getattr(report, "problems", ()) or ())
    return False, "failed verification (" + ("; ".join(parts) or "manifest mismatch") + ")"


def find_previous_packs(out_root: Path, org_id: str, before: str | None = None) -> list[PackRef]:
    """Sealed packs of org_id under out_root, oldest first, each verified against its manifest.

    `before` is a run id: that run and anything generated at or after it are left out.
    """
    out_root = Path(out_root)
    candidates: list[tuple[str, str, Path]] = []
    for pack in sorted(out_root.glob("*/*/")):
        if pack.name.startswith(".") or pack.parent.name.startswith("."):
            continue  # a pack still being built, or something else's folder
        if not (pack / "manifest.json").exists() and not (pack / "findings.json").exists():
            continue
        ident = _identify(pack)
        if ident is None or ident[0] != org_id:
            continue
        candidates.append((ident[1], pack.name, pack))
    candidates.sort()
    if before is not None:
        cut = next((gen for gen, run_id, _ in candidates if run_id == before), None)
        if cut is not None:
            candidates = [c for c in candidates if c[0] < cut and c[1] != before]
    refs = []
    for generated_at, run_id, pack in candidates:
        verified, problem = _verify(pack)
        if not verified:
            log.warning("pack %s %s; it is not used as a baseline", pack, problem)
        refs.append(PackRef(pack, run_id, pack.parent.name, generated_at, verified, problem))
    return refs


def previous_snapshot(
    out_root: Path, org_id: str, before: str | None = None
) -> tuple[Snapshot | None, dict[str, Any]]:
    """The newest verified earlier pack's snapshot, and what a drift check should report.

    The info dict has `run_id`, `path`, `generated_at`, `collected_at` of the baseline (when
    there is one), `rejected` (packs that failed verification, newest first) and `problem`
    (why there is no baseline).
    """
    refs = find_previous_packs(out_root, org_id, before)
    rejected = [
        {
            "run_id": r.run_id,
            "path": str(r.path),
            "generated_at": r.generated_at,
            "problem": r.problem,
        }
        for r in reversed(refs)
        if not r.verified
    ]
    for ref in reversed(refs):
        if ref.verified and (ref.path / SNAPSHOT_FILE).exists():
            snap = Snapshot(ref.path)
            return snap, {
                "run_id": ref.run_id,
                "path": str(ref.path),
                "generated_at": ref.generated_at,
                "collected_at": snap.meta.get("collected_at", ref.generated_at),
                "rejected": rejected,
                "problem": "",
            }
    if rejected:
        newest = rejected[0]
        problem = (
            f"no verified earlier pack for this org: pack {newest['run_id']} "
            f"{newest['problem']} and is not used as a baseline"
        )
    else:
        problem = "first run for this org: no earlier sealed pack to compare"
    return None, {"rejected": rejected, "problem": problem}


def history_points(
    out_root: Path,
    org_id: str,
    current: Snapshot | None = None,
    current_run_id: str = "current",
    before: str | None = None,
) -> list[HistoryPoint]:
    """Every verified earlier pack of the org, oldest first, then the current run if given."""
    points = [
        HistoryPoint(r.run_id, r.generated_at, Snapshot(r.path))
        for r in find_previous_packs(out_root, org_id, before or current_run_id)
        if r.verified and (r.path / SNAPSHOT_FILE).exists()
    ]
    if current is not None:
        points.append(
            HistoryPoint(current_run_id, str(current.meta.get("collected_at", "")), current)
        )
    return points


def user_role_grants(snapshot: Snapshot) -> pd.DataFrame:
    """Direct user grants (PC_USER rows) of a snapshot: user, role, division."""
    grants = snapshot.table("role_grants")
    return grants[grants["subject_type"] == "PC_USER"].reset_index(drop=True)


def privileged_holders(
    points: Sequence[HistoryPoint], privileged_roles: Collection[str] = ()
) -> pd.DataFrame:
    """One row per point x role: distinct direct holders (all roles when none are named)."""
    rows = []
    for p in points:
        grants = user_role_grants(p.snapshot)
        roles = sorted(privileged_roles) if privileged_roles else sorted(set(grants["role_name"]))
        counts = grants.groupby("role_name")["subject_id"].nunique().to_dict()
        for role in roles:
            rows.append(
                {
                    "run_id": p.run_id,
                    "generated_at": p.generated_at,
                    "role": role,
                    "holders": int(counts.get(role, 0)),
                }
            )
    return pd.DataFrame(rows, columns=["run_id", "generated_at", "role", "holders"])


def role_membership_events(snapshot: Snapshot) -> pd.DataFrame:
    """PeoplePermissions/Role MemberAdd and MemberRemove events, with the user and role parsed."""
    columns = [
        "event_id",
        "event_date",
        "action",
        "role_id",
        "user_id",
        "by_id",
        "by_name",
        "status",
        "mentions",
    ]
    if not snapshot.has("audit_events"):
        return pd.DataFrame(columns=columns)
    ev = snapshot.table("audit_events")
    ev = ev[
        (ev["service_name"] == "PeoplePermissions")
        & (ev["entity_type"] == "Role")
        & ev["action"].isin(list(ROLE_MEMBER_ACTIONS))
    ]
    rows = []
    for e in ev.itertuples():
        user_id, role_id = _member_of(e.entity_name, e.entity_id)
        rows.append(
            {
                "event_id": e.id,
                "event_date": e.event_date,
                "action": e.action,
                "role_id": role_id,
                "user_id": user_id,
                "by_id": e.user_id,
                "by_name": e.user_name,
                "status": e.status,
                # where a user id may sit when the entity name is not user--role--org
                "mentions": f"{e.context} {e.property_changes}",
            }
        )
    return pd.DataFrame(rows, columns=columns)


def _member_of(entity_name: str, entity_id: str) -> tuple[str, str]:
    """(user id, role id) from an entity name "userId--roleId--orgId" (docs/genesys-api.md §8.8)."""
    parts = (entity_name or "").split("--")
    if len(parts) == 3:
        return parts[0], parts[1]
    return "", entity_id


def grant_activity_per_week(snapshot: Snapshot) -> pd.DataFrame:
    """Role grants and removals per ISO week (Monday start) over the snapshot's period."""
    period = snapshot.meta.get("period") or {}
    events = role_membership_events(snapshot)
    events = events[events["status"].isin(["SUCCESS", ""])]
    dates = pd.to_datetime(events["event_date"], utc=True, format="ISO8601")
    weeks = (
        dates.dt.tz_localize(None).dt.normalize() - pd.to_timedelta(dates.dt.day_of_week, unit="D")
    ).dt.date
    frame = pd.DataFrame({"week_start": weeks, "kind": events["action"].map(ROLE_MEMBER_ACTIONS)})
    counts = frame.groupby(["week_start", "kind"]).size().unstack(fill_value=0)
    start = _day(period.get("start")) or (min(weeks) if len(weeks) else None)
    end = _day(period.get("end")) or (max(weeks) if len(weeks) else None)
    if start is None or end is None:
        return pd.DataFrame(columns=["week_start", "grants", "removals"])
    first = start - dt.timedelta(days=start.weekday())
    all_weeks = [first + dt.timedelta(weeks=i) for i in range((end - first).days // 7 + 1)]
    out = pd.DataFrame({"week_start": all_weeks})
    for kind, column in (("grant", "grants"), ("removal", "removals")):
        series = counts[kind] if kind in counts else pd.Series(dtype=int)
        out[column] = [int(series.get(w, 0)) for w in all_weeks]
    return out


def _day(text: str | None) -> dt.date | None:
    if not text:
        return None
    return dt.datetime.fromisoformat(str(text).replace("Z", "+00:00")).date()


def people_changes(points: Sequence[HistoryPoint]) -> pd.DataFrame:
    """Active users who appeared or disappeared between consecutive points."""
    rows = []
    for before, after in zip(points, points[1:], strict=False):
        old, new = _active_users(before.snapshot), _active_users(after.snapshot)
        for change, ids, names in (
            ("appeared", new.keys() - old.keys(), new),
            ("disappeared", old.keys() - new.keys(), old),
        ):
            for uid in sorted(ids):
                rows.append(
                    {
                        "from_run": before.run_id,
                        "to_run": after.run_id,
                        "change": change,
                        "user_id": uid,
                        "name": names[uid],
                    }
                )
    return pd.DataFrame(rows, columns=["from_run", "to_run", "change", "user_id", "name"])


def _active_users(snapshot: Snapshot) -> dict[str, str]:
    users = snapshot.table("users")
    active = users[users["state"] == "active"]
    return dict(zip(active["id"], active["name"], strict=True))
