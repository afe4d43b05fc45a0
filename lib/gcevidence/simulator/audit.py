"""The simulated audit trail: background events generated lazily per day, plus planted events.

A day's background events depend only on (seed, day), so a million events never sit in memory:
a query window regenerates the days it reads (a small LRU keeps the last few).
"""

from __future__ import annotations

import base64
import datetime as dt
import random
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import NamedTuple

from gcevidence.simulator.model import iso, new_id

DAY = dt.timedelta(days=1)


class Event(NamedTuple):
    ts: dt.datetime
    id: str
    service: str
    entity_type: str
    action: str
    entity_id: str
    entity_name: str
    user_id: str | None  # None: a SYSTEM event
    property_changes: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = ()
    remote_ip: str = ""
    home_org_id: str = ""  # the actor's organisation when it is not this org (a trustee)


# (service, entityType, action, actor pool, entity pool, weight): the everyday noise of a contact
# center. No background event changes a user's state or a role membership: those are planted.
_BACKGROUND = (
    ("PeoplePermissions", "AccessToken", "Create", "anyone", "user", 30),
    ("PeoplePermissions", "AuthUser", "Authenticate", "anyone", "user", 8),
    ("PeoplePermissions", "Role", "Update", "admins", "role", 1),
    ("Directory", "User", "Update", "admins", "user", 6),
    ("Groups", "DirectoryGroup", "Update", "admins", "group", 2),
    ("Routing", "Queue", "Update", "supervisors", "queue", 12),
    ("Architect", "Flow", "Publish", "admins", "flow", 4),
    ("Quality", "Evaluation", "Create", "qa", "evaluation", 14),
    ("Telephony", "Phone", "Update", "admins", "phone", 3),
    ("ContactCenter", "Conversation", "Update", "supervisors", "conversation", 14),
    ("Integrations", "Integration", "Update", "admins", "integration", 1),
    ("AnalyticsReporting", "Exports", "Create", "supervisors", "export", 5),
)
_WEIGHTS = [row[5] for row in _BACKGROUND]
_ROWS = list(range(len(_BACKGROUND)))

# Actions planted outside the background, for the service mapping.
_PLANTED_KINDS = (
    ("PeoplePermissions", "Role", "MemberAdd"),
    ("PeoplePermissions", "Role", "MemberRemove"),
    ("Directory", "User", "Delete"),
    ("Directory", "User", "Create"),
)

FILTER_FIELDS = {
    "UserId": "user_id",
    "Action": "action",
    "EntityType": "entity_type",
    "EntityId": "entity_id",
    "ClientId": "",
    "TrusteeOrganizationId": "",
}


def service_mapping() -> dict:
    """AuditQueryServiceMapping: services -> entity types -> actions."""
    services: dict[str, dict[str, set[str]]] = {}
    for service, etype, action, *_ in _BACKGROUND:
        services.setdefault(service, {}).setdefault(etype, set()).add(action)
    for service, etype, action in _PLANTED_KINDS:
        services.setdefault(service, {}).setdefault(etype, set()).add(action)
    return {
        "services": [
            {
                "name": s,
                "entities": [{"name": e, "actions": sorted(a)} for e, a in sorted(ents.items())],
            }
            for s, ents in sorted(services.items())
        ]
    }


SERVICES = frozenset(s["name"] for s in service_mapping()["services"])


class AuditQuery(NamedTuple):
    start: dt.datetime
    end: dt.datetime
    service: str | None
    filters: tuple[tuple[str, str], ...]
    descending: bool


class AuditLog:
    """All audit events of the org, by day; background days are generated on demand."""

    def __init__(
        self,
        seed: int,
        history_start: dt.date,
        gap_day: dt.date,
        per_day: int,
        pools: dict[str, list[str]],
        now: dt.datetime,
    ):
        self.seed, self.history_start, self.gap_day, self.per_day = (
            seed,
            history_start,
            gap_day,
            per_day,
        )
        self.pools = {k: list(v) for k, v in pools.items()}
        self.now = now
        self.special: dict[dt.date, list[Event]] = {}
        self._cache: OrderedDict[dt.date, list[Event]] = OrderedDict()
        self._lock = threading.Lock()
        rng = random.Random(f"{seed}:entities")
        for pool in (
            "queue",
            "flow",
            "evaluation",
            "phone",
            "conversation",
            "integration",
            "export",
            "group",
        ):
            self.pools.setdefault(pool, [new_id(rng) for _ in range(40)])

    # -- writing ----------------------------------------------------------------------------
    def add(self, event: Event) -> Event:
        """Plant one event (never on the gap day: that day must stay empty)."""
        if event.ts.date() == self.gap_day:
            raise ValueError(f"planted event on the gap day {self.gap_day}")
        self.special.setdefault(event.ts.date(), []).append(event)
        with self._lock:
            self._cache.pop(event.ts.date(), None)
        return event

    def set_now(self, now: dt.datetime) -> None:
        self.now = now
        with self._lock:
            self._cache.clear()

    # -- reading ----------------------------------------------------------------------------
    def day(self, day: dt.date) -> list[Event]:
        """Every event of one UTC day up to `now`, oldest first."""
        with self._lock:
            cached = self._cache.get(day)
            if cached is not None:
                self._cache.move_to_end(day)
                return cached
        events = self._build_day(day)
        with self._lock:
            self._cache[day] = events
            while len(self._cache) > 48:
                self._cache.popitem(last=False)
        return events

    def _build_day(self, day: dt.date) -> list[Event]:
        if day < self.history_start or day == self.gap_day or day > self.now.date():
            return []
        start = dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)
        span = min(86400.0, (self.now - start).total_seconds())
        events = [e for e in self.special.get(day, ()) if e.ts < self.now]
        if span > 1:
            events.extend(self._background(day, start, span))
        events.sort(key=lambda e: (e.ts, e.id))
        return events

    def _background_size(self, day: dt.date, span: float) -> tuple[random.Random, int]:
        """The day's seeded RNG and how many background events it holds (first draw)."""
        rng = random.Random(f"{self.seed}:day:{day.isoformat()}")
        weekend = day.weekday() >= 5
        factor = (0.57 if weekend else 1.17) * rng.uniform(0.85, 1.15) * span / 86400
        return rng, max(1, round(self.per_day * factor))

    def _background(self, day: dt.date, start: dt.datetime, span: float) -> Iterator[Event]:
        rng, n = self._background_size(day, span)
        pools = self.pools
        for row in rng.choices(_ROWS, weights=_WEIGHTS, k=n):
            service, etype, action, actor_pool, entity_pool, _ = _BACKGROUND[row]
            offset = rng.random() * span
            ts = start + dt.timedelta(seconds=offset)
            ts = ts.replace(microsecond=ts.microsecond // 1000 * 1000)
            actors = pools[actor_pool] or pools["anyone"]
            actor = actors[rng.randrange(len(actors))]
            entity = (
                actor
                if entity_pool == "user" and etype != "User"
                else (pools[entity_pool][rng.randrange(len(pools[entity_pool]))])
            )
            changes: tuple = ()
            if etype == "User" and action == "Update":
                changes = (("title", ("Agent",), ("Senior Agent",)),)
            yield Event(
                ts,
                new_id(rng),
                service,
                etype,
                action,
                entity,
                "",
                actor,
                changes,
                f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
            )

    def count(self, day: dt.date) -> int:
        """Events of one day, without generating them."""
        if day < self.history_start or day == self.gap_day or day > self.now.date():
            return 0
        start = dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)
        span = min(86400.0, (self.now - start).total_seconds())
        special = sum(1 for e in self.special.get(day, ()) if e.ts < self.now)
        return special + (self._background_size(day, span)[1] if span > 1 else 0)

    def matches(self, query: AuditQuery, day: dt.date) -> list[Event]:
        """The day's events matching the query, in the query's order."""
        found = [e for e in self.day(day) if _matches(e, query)]
        if query.descending:
            found.reverse()
        return found

    def days(self, query: AuditQuery, from_ordinal: int | None = None) -> Iterator[dt.date]:
        first, last = query.start.date(), (query.end - dt.timedelta(microseconds=1)).date()
        if query.descending:
            d = dt.date.fromordinal(from_ordinal) if from_ordinal else last
            while d >= first:
                yield d
                d -= DAY
        else:
            d = dt.date.fromordinal(from_ordinal) if from_ordinal else first
            while d <= last:
                yield d
                d += DAY

    def page(
        self, query: AuditQuery, cursor: str | None, size: int
    ) -> tuple[list[Event], str | None]:
        """One cursor window: up to `size` events and the cursor of the next (None when last)."""
        start_day, start_idx = _decode_cursor(cursor) if cursor else (None, 0)
        out: list[Event] = []
        for day in self.days(query, start_day):
            found = self.matches(query, day)
            idx = start_idx if day.toordinal() == start_day else 0
            while idx < len(found):
                if len(out) == size:
                    return out, _encode_cursor(day.toordinal(), idx)
                out.append(found[idx])
                idx += 1
        return out, None

    def all_matches(self, query: AuditQuery) -> list[Event]:
        out: list[Event] = []
        for day in self.days(query):
            out.extend(self.matches(query, day))
        return out


def _matches(e: Event, q: AuditQuery) -> bool:
    if e.ts < q.start or e.ts >= q.end:
        return False
    if q.service and e.service != q.service:
        return False
    for prop, value in q.filters:
        attr = FILTER_FIELDS.get(prop)
        if not attr or getattr(e, attr) != value:
            return False
    return True


def _encode_cursor(ordinal: int, idx: int) -> str:
    return base64.urlsafe_b64encode(f"{ordinal}:{idx}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[int, int]:
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    ordinal, idx = raw.split(":")
    return int(ordinal), int(idx)


def event_to_wire(e: Event, org_id: str, user_name: Callable[[str], str] | None) -> dict:
    """AuditLogMessage as the API sends it (empty strings/objects included, like the real one)."""
    msg: dict = {"id": e.id, "userHomeOrgId": e.home_org_id or org_id}
    if e.user_id:
        user = {"id": e.user_id, "selfUri": "/api/v2/users/" + e.user_id}
        if user_name:
            name = user_name(e.user_id)
            if name:
                user["name"] = name
        msg["user"] = user
    msg.update(
        {
            "client": {"id": ""},
            "remoteIp": [e.remote_ip] if e.remote_ip else [],
            "serviceName": e.service,
            "level": "USER" if e.user_id else "SYSTEM",
            "eventDate": iso(e.ts),
            "action": e.action,
            "entity": {"id": e.entity_id, **({"name": e.entity_name} if e.entity_name else {})},
            "entityType": e.entity_type,
            "status": "SUCCESS",
            "application": "",
            "initiatingAction": {},
            "transactionInitiator": False,
            "propertyChanges": [
                {"property": p, "oldValues": list(o), "newValues": list(n)}
                for p, o, n in e.property_changes
            ],
            "context": {},
            "entityChanges": [],
        }
    )
    return msg
