"""Records of the simulated org: users, roles, grants, groups and HR roster rows."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from dataclasses import dataclass, field


def new_id(rng: random.Random) -> str:
    """A version-4 UUID drawn from `rng`, so ids are deterministic per seed."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def iso(ts: dt.datetime) -> str:
    """ISO-8601 UTC with milliseconds and `Z`, as Genesys writes timestamps."""
    if ts.utcoffset():
        ts = ts.astimezone(dt.UTC)
    return ts.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


@dataclass(slots=True)
class SimUser:
    id: str
    name: str
    email: str
    # agent | supervisor | evaluator | qa_lead | admin | telephony | hr | contractor | service
    kind: str
    department: str
    title: str
    division_id: str
    manager_id: str | None
    state: str  # active | inactive | deleted
    date_last_login: dt.datetime | None  # last username/password login (never for SSO)
    date_welcome_sent: dt.datetime | None
    version: int = 1
    phone: str = ""
    last_token_issued: dt.datetime | None = None  # last sign-in by any method (SSO included)

    def last_activity(self) -> dt.datetime | None:
        """The later of the last password login and the last token issued."""
        dates = [d for d in (self.date_last_login, self.last_token_issued) if d is not None]
        return max(dates) if dates else None


@dataclass(frozen=True, slots=True)
class SimRole:
    id: str
    name: str
    description: str
    default_role_id: str  # "" for custom roles
    permissions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Grant:
    role_id: str
    division_id: str
    made_at: dt.datetime


@dataclass(frozen=True, slots=True)
class Division:
    id: str
    name: str
    description: str
    home: bool


@dataclass(slots=True)
class SimGroup:
    id: str
    name: str
    member_ids: list[str] = field(default_factory=list)


@dataclass(slots=True)
class RosterRow:
    employee_id: str
    email: str
    status: str  # active | terminated
    termination_date: dt.date | None
    department: str
    groups: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TrunkBase:
    id: str
    name: str
    state: str
    trunk_type: str
    metabase_id: str
    transport: str
    srtp: tuple[str, ...]
    created: dt.datetime
    modified: dt.datetime
    managed: bool = False  # operated by Genesys (Genesys Cloud Voice): properties not returned


@dataclass(frozen=True, slots=True)
class Subject:
    """A role grantee that is not a user of the org: an OAuth client or a trustee."""

    id: str
    name: str
    kind: str  # PC_OAUTH_CLIENT | PC_TRUSTEE_USER | PC_TRUSTEE_GROUP
    self_uri: str
