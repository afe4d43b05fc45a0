"""The users dataset: one state=any listing, then a single GET only for whom it must be sure of.

Expansions on the users listing are best effort: the API may silently leave one out of a page.
- `authorization` (roles, unusedRoles) is present for everyone whenever it is honoured, so a
  page missing it for anyone is read again, and users still without it are read one by one.
- `lastTokenIssued` is set for anyone who ever signed in, by any method: a page where nobody
  carries it lost the expansion and is read again (unless the org never returns it at all).
- `dateLastLogin` is legitimately absent for everyone who signs in through SSO, so its absence
  never triggers a re-read.
A *dormant suspect* is an active user whom the listing's dates make dormant (neither the last
password login nor the last token recent). Suspects are re-read one by one before the checks
call them dormant: the listing may have dropped the date that clears them.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections import defaultdict
from typing import Any

from gcevidence.datasets.directory import UNUSED_ROLES, USER_EXPANSIONS, USERS
from gcevidence.genesys.paging import list_endpoint
from gcevidence.signin import is_dormant, last_sign_in
from gcevidence.snapshot import SnapshotWriter

log = logging.getLogger(__name__)

LISTING, SINGLE = USERS.reads
EXPANDED_KEYS = ("authorization", "dateLastLogin", "dateWelcomeSent", "lastTokenIssued")
PAGE_TRIES = 3
SINGLE_TRIES = 3


def collect_users(
    client: Any, writer: SnapshotWriter, today: dt.date, dormant_days: int
) -> list[dict]:
    """Write `users` and `unused_roles`; returns the users as the API gave them."""
    check = _PageCheck()
    listing = list_endpoint(
        client, LISTING, dict(USERS.params), page_ok=check, page_tries=PAGE_TRIES
    )
    users = listing.entities
    incomplete = [i for i, u in enumerate(users) if not _authorization_complete(u)]
    skip = set(incomplete)  # re-read anyway, and judged on what the single GET returns
    suspects = [
        i
        for i, u in enumerate(users)
        if i not in skip and u.get("state") == "active" and _dormant_here(u, today, dormant_days)
    ]
    reread = _Rereader(client, users)
    client.map(reread, incomplete + suspects)
    unrecovered = [
        users[i].get("id", "") for i in incomplete if not _authorization_complete(users[i])
    ]
    cleared = sum(1 for i in suspects if not _dormant_here(users[i], today, dormant_days))
    log.info(
        "users: %d listed in %d pages; %d dormant suspects re-read (%d cleared); "
        "%d re-read for a missing authorization expansion",
        len(users),
        listing.pages,
        len(suspects),
        cleared,
        len(incomplete),
    )
    reason = ""
    if unrecovered:
        reason = (
            f"{LISTING}: expansion 'authorization' still missing for "
            f"{len(unrecovered)} users after re-reading them one by one "
            f"(e.g. {', '.join(unrecovered[:3])})"
        )
    status = writer.write_table(
        USERS.name,
        (USERS.row(u) for u in users),
        (USERS.stored(u) for u in users),
        complete=not unrecovered and listing.total in (None, len(users)),
        expected_rows=listing.total,
        requests=listing.requests + reread.requests,
        pages=listing.pages,
        page_rereads=listing.requests - listing.pages,
        state="any",
        expansions_recovered=len(incomplete) - len(unrecovered),
        dormant_suspects=len(suspects),
        dormant_suspects_cleared=cleared,
        dormant_days=dormant_days,
        last_token_absent=sum(1 for u in users if "lastTokenIssued" not in u),
    )
    unused = [row for u in users for row in UNUSED_ROLES.normalise(u)]
    unused_status = writer.write_table(
        UNUSED_ROLES.name,
        unused,
        unused,
        complete=not unrecovered,
        requests=0,
        derived_from=USERS.name,
    )
    if reason:
        status.reason = unused_status.reason = reason
    return users


class _PageCheck:
    """page_ok for the users listing: authorization for all, lastTokenIssued for someone.

    If the first page never carries lastTokenIssued after every try, this org does not return
    it at all (or not to this client): later pages are not read again for it.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.token_seen = False
        self.token_absent_everywhere = False
        self.misses: dict[Any, int] = defaultdict(int)

    def __call__(self, page: dict) -> bool:
        users = page.get("entities") or []
        if not users:
            return True
        if not all(_authorization_complete(u) for u in users):
            return False
        with self.lock:
            if any("lastTokenIssued" in u for u in users):
                self.token_seen = True
                return True
            if self.token_absent_everywhere:
                return True
            number = page.get("pageNumber")
            self.misses[number] += 1
            if self.misses[number] >= PAGE_TRIES and not self.token_seen and number == 1:
                self.token_absent_everywhere = True
            return False


class _Rereader:
    """The single-user read with the same expansions; the single GET is the truth."""

    def __init__(self, client: Any, users: list[dict]):
        self.client, self.users = client, users
        self.requests = 0
        self.lock = threading.Lock()

    def __call__(self, index: int) -> None:
        user = self.users[index]
        params: dict[str, Any] = {"expand": USER_EXPANSIONS}
        if user.get("state") == "deleted":
            params["state"] = "deleted"
        for _ in range(SINGLE_TRIES):
            fresh = self.client.get(SINGLE.url(userId=user["id"]), params) or {}
            with self.lock:
                self.requests += 1
            if _authorization_complete(fresh):
                # Drop the listing's copies of the expansions: absent now means absent.
                base = {k: v for k, v in user.items() if k not in EXPANDED_KEYS}
                self.users[index] = {**base, **fresh}
                return


def _dormant_here(user: dict, today: dt.date, dormant_days: int) -> bool:
    """Whether the dates this copy of the user carries make them dormant."""
    last = last_sign_in(
        user.get("dateLastLogin"),
        (user.get("lastTokenIssued") or {}).get("dateIssued"),
        user.get("dateWelcomeSent"),
    )
    return is_dormant(last, today, dormant_days)


def _authorization_complete(user: dict) -> bool:
    """Both authorization expansions came back (`roles`, and `unusedRoles` even when [])."""
    auth = user.get("authorization")
    return isinstance(auth, dict) and "roles" in auth and "unusedRoles" in auth
