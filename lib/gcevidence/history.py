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
from typing import TYPE_CHECKING, Any

import pandas as pd

from gcevidence.audit_events import role_member_change
from gcevidence.audit_trail import audit_trail
from gcevidence.role_holders import role_holders
from gcevidence.snapshot import SNAPSHOT_FILE, Snapshot, records

if TYPE_CHECKING:
    from gcevidence.pack.verify import VerifyReport

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


def identify_pack(pack: Path) -> tuple[str, str] | None:
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
    report, problem = verify_for_use(pack)
    return report is not None and report.ok, problem


def verify_for_use(pack: Path) -> tuple[VerifyReport | None, str]:
    """Verify a pack without raising: (report, "") when intact, else (report or None, why)."""
    from gcevidence.pack.verify import verify_pack  # the pack module owns verification

    try:
        report = verify_pack(pack)
    except Exception as exc:  # a damaged manifest must not stop the run: report it instead
        return None, f"cannot be verified: {exc}"
    if report.ok:
        return report, ""
    return report, "failed verification (" + verification_problem(report) + ")"


def verification_problem(report: VerifyReport) -> str:
    """What a failed verification found, in one line (files missing/added/changed, signature)."""
    parts = []
    for label in ("missing", "added", "changed"):
        names = list(getattr(report, label, None) or [])
        if names:
            parts.append(f"{label}: {', '.join(map(str, names))}")
    if getattr(report, "signature", "") == "invalid":
        parts.append("signature invalid")
    parts.extend(getattr(report, "problems", ()) or ())
    return "; ".join(parts) or "manifest mismatch"


def pack_folders(out_root: Path) -> list[Path]:
    """Every folder in a pack's place, OUT/<YYYY-MM-DD>/<run-id>/, sorted; nothing else.

    Hidden folders (packs being built), sign-off sidecars (<run-id>.signoff) and anything not
    under a date-named folder (reviews/, period-reports/) are never packs.
    """
    from gcevidence.pack.signoff import is_sidecar

    folders = []
    for day in sorted(Path(out_root).glob("*/")):
        if not _is_date(day.name) or day.is_symlink():
            continue
        try:
            entries = sorted(day.iterdir())
        except OSError as exc:
            log.warning("cannot list %s (%s); the packs in it are not read", day, exc.strerror)
            continue
        for pack in entries:
            if pack.is_dir() and not pack.name.startswith(".") and not is_sidecar(pack):
                folders.append(pack)
    return folders


def _is_date(text: str) -> bool:
    try:
        return dt.date.fromisoformat(text).isoformat() == text
    except ValueError:
        return False


def find_previous_packs(out_root: Path, org_id: str, before: str | None = None) -> list[PackRef]:
    """Sealed packs of org_id under out_root, oldest first, each verified against its manifest.

    `before` is a run id: that run and anything generated at or after it are left out.
    """
    out_root = Path(out_root)
    candidates: list[tuple[str, str, Path]] = []
    for pack in pack_folders(out_root):
        if not (pack / "manifest.json").exists() and not (pack / "findings.json").exists():
            continue
        ident = identify_pack(pack)
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


GRANT_COLUMNS = [
    "subject_id",
    "subject_name",
    "role_id",
    "role_name",
    "division_id",
    "division_name",
    "direct",
    "via_group_ids",
    "via_group_names",
]


def user_role_grants(snapshot: Snapshot, expand_groups: bool = True) -> pd.DataFrame:
    """Each person's grants, one row per (user, role, division): direct, through groups, or both.

    `via_group_ids`/`via_group_names` are `;`-joined; group grants count only when the
    snapshot holds group_members (packs made before it existed hold direct grants only).
    """
    holders = role_holders(snapshot, expand_groups)
    people = holders[holders["holder_type"] == "user"]
    merged: dict[tuple[str, str, str], dict[str, Any]] = {}
    for r in records(people):
        key = (r["holder_id"], r["role_id"], r["division_id"])
        row = merged.setdefault(
            key,
            {
                "subject_id": r["holder_id"],
                "subject_name": r["holder_name"],
                "role_id": r["role_id"],
                "role_name": r["role_name"],
                "division_id": r["division_id"],
                "division_name": r["division_name"],
                "direct": False,
                "groups": {},
            },
        )
        if r["via_group_id"]:
            row["groups"][r["via_group_id"]] = r["via_group_name"]
        else:
            row["direct"] = True
    rows = []
    for row in merged.values():
        groups = row.pop("groups")
        rows.append(
            {
                **row,
                "via_group_ids": ";".join(sorted(groups)),
                "via_group_names": ";".join(groups[g] for g in sorted(groups)),
            }
        )
    return pd.DataFrame(rows, columns=GRANT_COLUMNS)


def privileged_holders(
    points: Sequence[HistoryPoint], privileged_roles: Collection[str] = ()
) -> pd.DataFrame:
    """One row per point x role: distinct people holding it, directly or through a group
    (all roles when none are named)."""
    rows = []
    for p in points:
        grants = user_role_grants(p.snapshot)
        p.snapshot.release()  # a year of a large org's packs must not stay in memory at once
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
    rows = []
    for e in audit_trail(snapshot).records("PeoplePermissions", "Role"):
        change = role_member_change(e)
        if change is None:
            continue
        rows.append(
            {
                "event_id": e["id"],
                "event_date": e["event_date"],
                "action": change.action,
                "role_id": change.role_id,
                # the grantee: a user, or a group whose members then hold the role
                "user_id": change.grantee_id,
                "by_id": e["user_id"],
                "by_name": e["user_name"],
                "status": e["status"],
                # where a grantee id may sit when the entity name is not grantee--role--org
                "mentions": f"{e['context']} {e['property_changes']}",
            }
        )
    return pd.DataFrame(rows, columns=columns)


def grant_activity_per_week(snapshot: Snapshot) -> pd.DataFrame:
    """Role grants and removals per ISO week (Monday start) over the snapshot's period."""
    events = role_membership_events(snapshot)
    events = events[events["status"].isin(["SUCCESS", ""])]
    return weekly_grants(events, snapshot.meta.get("period") or {})


def weekly_grants(events: pd.DataFrame, period: dict[str, Any]) -> pd.DataFrame:
    """Successful MemberAdd / MemberRemove events (columns event_date, action) per ISO week of
    the period: week_start, grants, removals, every week listed."""
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
        before.snapshot.release()  # one earlier pack's users in memory at a time
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
