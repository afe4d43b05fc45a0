"""When a user last signed in, and which recorded date says so.

`dateLastLogin` is the last login with a Genesys username and password only; people who sign
in through an identity provider (SSO) never get one. `lastTokenIssued.dateIssued` is the last
token issued to the user by any sign-in method. The last sign-in is the later of the two; a
user with neither has been idle since the invitation (`dateWelcomeSent`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

# Which recorded date a verdict rests on (the words the working paper shows).
BASIS_TOKEN = "token"  # noqa: S105 - a label, not a secret
BASIS_PASSWORD = "password login"  # noqa: S105 - a label, not a secret
BASIS_INVITATION = "invitation"
BASIS_NONE = "undated"
BASES = (BASIS_TOKEN, BASIS_PASSWORD, BASIS_INVITATION, BASIS_NONE)


@dataclass(frozen=True)
class LastSignIn:
    """The moment a dormancy verdict rests on, and which recorded date it is."""

    at: dt.datetime | None
    basis: str  # BASIS_TOKEN | BASIS_PASSWORD | BASIS_INVITATION | BASIS_NONE
    password_login: dt.datetime | None = None
    token_issued: dt.datetime | None = None

    def idle_days(self, period_end: dt.date) -> int | None:
        """Whole days idle as of the end of `period_end` (the midnight after it), never < 0."""
        if self.at is None:
            return None
        as_of = dt.datetime.combine(period_end + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
        return max(0, (as_of - self.at).days)


def parse_date(value: object) -> dt.datetime | None:
    """An ISO-8601 timestamp as aware UTC, or None when empty or unreadable."""
    text = str(value or "").strip()
    if not text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def last_sign_in(date_last_login: object, last_token: object, welcome_sent: object) -> LastSignIn:
    """The later of the password login and the token; else the invitation; else undated."""
    login, token = parse_date(date_last_login), parse_date(last_token)
    if token is not None and (login is None or token >= login):
        return LastSignIn(token, BASIS_TOKEN, login, token)
    if login is not None:
        return LastSignIn(login, BASIS_PASSWORD, login, token)
    welcome = parse_date(welcome_sent)
    return LastSignIn(welcome, BASIS_INVITATION if welcome else BASIS_NONE, None, None)


def is_dormant(last: LastSignIn, period_end: dt.date, dormant_days: int) -> bool:
    """Idle for longer than dormant_days as of the end of period_end, or with no date at all."""
    days = last.idle_days(period_end)
    return days is None or days > dormant_days
