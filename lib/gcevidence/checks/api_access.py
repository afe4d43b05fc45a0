"""Access that is not a person's: OAuth clients and partner organisations (trustees)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from gcevidence.audit_trail import audit_trail
from gcevidence.checks.common import (
    day_start,
    join_names,
    parse_time,
    period_bounds,
    records,
    split_list,
)
from gcevidence.checks.registry import CheckContext, Outcome, register_check
from gcevidence.findings import ExceptionItem

CLIENT_CREDENTIALS = "CLIENT-CREDENTIALS"
# Grants in which the client handles a person's password, or receives tokens in the browser
# with no secret at all (implicit): both are deprecated by OAuth 2.0 security practice.
UNSAFE_GRANTS = {
    "TOKEN": "implicit grant (tokens handed to the browser, no client secret)",
    "PASSWORD": "password grant (the client handles people's passwords)",
}


def _client_roles(ctx: CheckContext) -> tuple[dict[str, dict[str, set[str]]], list[dict]]:
    """client id -> role name -> divisions, from roleDivisions and from the subject grants;
    and where the two sources disagree."""
    names = {r["id"]: r["name"] for r in records(ctx.snapshot.table("roles"))}
    grants = records(ctx.snapshot.table("role_grants"))
    # A client lists division ids; the grants name them. `*` is every division.
    divisions = {g["division_id"]: g["division_name"] for g in grants if g["division_name"]}
    divisions["*"] = "all divisions"
    listed: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for c in records(ctx.snapshot.table("oauth_clients")):
        for pair in split_list(c["role_divisions"]):
            role_id, _, division = pair.partition("@")
            listed[c["id"]][names.get(role_id, role_id)].add(divisions.get(division, division))
        for role_id in split_list(c["role_ids"]):
            listed[c["id"]].setdefault(names.get(role_id, role_id), set())
    granted: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for g in grants:
        if g["subject_type"] == "PC_OAUTH_CLIENT":
            where = divisions.get(g["division_id"], g["division_name"] or g["division_id"])
            granted[g["subject_id"]][g["role_name"]].add(where)
    held: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    disagree = []
    for cid in sorted(set(listed) | set(granted)):
        for role in set(listed.get(cid, {})) | set(granted.get(cid, {})):
            held[cid][role] |= listed.get(cid, {}).get(role, set())
            held[cid][role] |= granted.get(cid, {}).get(role, set())
        only_listed = sorted(set(listed.get(cid, {})) - set(granted.get(cid, {})))
        only_granted = sorted(set(granted.get(cid, {})) - set(listed.get(cid, {})))
        if only_listed or only_granted:
            disagree.append(
                {"client_id": cid, "roles_only": only_listed, "grants_only": only_granted}
            )
    return held, disagree


def _unused(client: dict[str, str], usage: dict[str, str], days: int, today: dt.date) -> str:
    """Why an active client counts as unused, or "" when it is used (or too new to tell)."""
    if int(usage["requests"] or 0) > 0:
        return ""
    created = parse_time(client["date_created"])
    if created and (today - created.date()).days <= days:
        return ""  # a client created within the window may not be in service yet
    return f"no API request in the last {usage['days'] or days} days (Genesys usage summary)"


@register_check("access.oauth_clients")
def oauth_clients(ctx: CheckContext) -> Outcome:
    days = ctx.threshold("oauth_client_unused_days")
    privileged = set(ctx.params.privileged_roles)
    clients = records(ctx.snapshot.table("oauth_clients"))
    usage = {u["client_id"]: u for u in records(ctx.snapshot.table("oauth_client_usage"))}
    held, disagree = _client_roles(ctx)
    exceptions, inactive, too_new, unknown = [], [], [], []
    for c in sorted(clients, key=lambda c: (c["name"].casefold(), c["id"])):
        if c["state"] != "active":
            inactive.append({"id": c["id"], "name": c["name"], "state": c["state"]})
            continue  # disabled and inactive clients cannot obtain tokens
        problems = []
        roles = held.get(c["id"], {})
        if c["grant_type"] == CLIENT_CREDENTIALS and privileged & set(roles):
            where = "; ".join(
                f"{r} in {join_names(roles[r])}" for r in sorted(privileged & set(roles))
            )
            problems.append(
                f"client-credentials client holding privileged role(s) {where}: its tokens "
                "act with those rights and no person signs in"
            )
        if c["grant_type"] in UNSAFE_GRANTS:
            problems.append(f"uses the {UNSAFE_GRANTS[c['grant_type']]}")
        if c["id"] not in usage:
            unknown.append(c["id"])  # listed after the usage was read: its use is not judged
        elif unused := _unused(c, usage[c["id"]], days, ctx.today):
            problems.append(f"active but {unused}")
        elif int(usage[c["id"]]["requests"] or 0) == 0:
            too_new.append(c["id"])
        if problems:
            exceptions.append(
                ExceptionItem("oauth_client", c["id"], c["name"] or c["id"], "; ".join(problems))
            )
    active = len(clients) - len(inactive)
    notes = [
        f"{len(exceptions)} of {active} active OAuth clients hold a privileged role with the "
        f"client-credentials grant, use the implicit or password grant, or made no API request "
        f"in {days} days"
    ]
    if not privileged:
        notes.append("no privileged roles declared (params privileged_roles): roles not judged")
    if inactive:
        notes.append(f"{len(inactive)} disabled or inactive client(s) listed, not judged")
    if unknown:
        notes.append(f"the usage of {len(unknown)} active client(s) was not read: not judged")
    if disagree:
        notes.append(
            f"for {len(disagree)} client(s) the roles the client lists and the role grants "
            "disagree; both are counted"
        )
    return Outcome(
        exceptions,
        population=active,
        reason="; ".join(notes),
        extra={
            "threshold_days": days,
            "not_active": inactive,
            "created_within_window": too_new,
            "usage_not_read": unknown,
            "roles_and_grants_disagree": disagree,
            "grant_types": _count(c["grant_type"] for c in clients),
        },
    )


def _count(values) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        out[v or "(none)"] = out.get(v or "(none)", 0) + 1
    return dict(sorted(out.items()))


def _trustee_activity(ctx: CheckContext, trustee_org_ids: set[str]) -> dict[str, list[dict]]:
    """trustee org id -> its users' audit events in the period (when the trail was read).

    An event belongs to a trustee when its actor's home organisation is the trustee's, or
    its actor is a trustee user holding a role in this org.
    """
    snap = ctx.snapshot
    if not snap.has("audit_events"):
        return {}
    user_org: dict[str, str] = {}
    if snap.has("role_grants"):
        for g in records(snap.table("role_grants")):
            if g["subject_type"] == "PC_TRUSTEE_USER":
                user_org[g["subject_id"]] = ""
    start, end = period_bounds(ctx)
    first, last = day_start(start), day_start(end + dt.timedelta(days=1))
    # Every event of an actor from another organisation or of a trustee user is kept.
    events = audit_trail(snap).events
    # The trail is large: keep the partners' rows before turning any into dicts.
    events = events[
        events["user_home_org_id"].isin(trustee_org_ids) | events["user_id"].isin(set(user_org))
    ]
    out: dict[str, list[dict]] = defaultdict(list)
    for e in records(events):
        home = e.get("user_home_org_id", "")
        if home in trustee_org_ids:
            key = home
        elif e["user_id"] in user_org:
            key = user_org[e["user_id"]] or "(trustee user, organisation not given)"
        else:
            continue
        when = parse_time(e["event_date"])
        if when and first <= when < last:
            out[key].append(
                {
                    "event_id": e["id"],
                    "event_date": e["event_date"],
                    "user_id": e["user_id"],
                    "user_name": e["user_name"],
                    "service": e["service_name"],
                    "entity_type": e["entity_type"],
                    "action": e["action"],
                }
            )
    return {k: sorted(v, key=lambda x: (x["event_date"], x["event_id"])) for k, v in out.items()}


@register_check("access.trustees")
def trustees(ctx: CheckContext) -> Outcome:
    max_days = ctx.threshold("trustee_max_days")
    rows = records(ctx.snapshot.table("trustees"))
    exceptions, listed = [], []
    for t in sorted(rows, key=lambda t: (t["organization_name"].casefold(), t["id"])):
        name = t["organization_name"] or t["organization_id"] or t["id"]
        expires = parse_time(t["date_expired"])
        entry = {
            "id": t["id"],
            "organization": name,
            "enabled": t["enabled"] == "true",
            "has_full_access": t["has_full_access"] == "true",
            "date_expired": t["date_expired"],
            "date_created": t["date_created"],
            "created_by": t["created_by_name"] or t["created_by_id"],
        }
        listed.append(entry)
        if t["enabled"] != "true":
            continue  # a disabled trust gives no partner user access
        if expires is not None and expires < day_start(ctx.today):
            entry["expired"] = True
            continue
        problems = []
        if expires is None:
            problems.append("no expiry date: the partner's access never ends")
        elif (expires.date() - ctx.today).days > max_days:
            ahead = (expires.date() - ctx.today).days
            problems.append(
                f"expires {expires.date()}, {ahead} days after {ctx.today} (limit {max_days})"
            )
        if t["has_full_access"] == "true":
            problems.append("full access: the partner's users get every permission")
        if problems:
            exceptions.append(
                ExceptionItem("trustee", t["id"], name, "enabled trust; " + "; ".join(problems))
            )
    org_ids = {t["id"] for t in rows} | {t["organization_id"] for t in rows if t["organization_id"]}
    activity = _trustee_activity(ctx, org_ids)
    enabled = sum(1 for e in listed if e["enabled"] and not e.get("expired"))
    if ctx.snapshot.has("audit_events"):
        seen = (
            f"; {sum(len(v) for v in activity.values())} audit event(s) in the period by "
            f"partners' users ({len(activity)} partner(s))"
        )
    else:
        seen = "; audit events unavailable, so partners' activity is not shown"
    return Outcome(
        exceptions,
        population=enabled,
        reason=f"{len(exceptions)} of {enabled} enabled trusts have no expiry, expire more than "
        f"{max_days} days ahead or give full access; {len(listed) - enabled} disabled or "
        f"expired listed" + seen,
        extra={"trustees": listed, "activity": activity, "threshold_days": max_days},
    )
