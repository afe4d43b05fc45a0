"""Partner organisations trusted with access to the org (trustees), and what their users did.

The partner whose support engineer holds Master Admin (org.py) is the first trustee; its
user's actions in the audit trail carry the partner's organisation as `userHomeOrgId`.
"""

from __future__ import annotations

import datetime as dt
import random

from gcevidence.simulator.audit import Event
from gcevidence.simulator.model import iso, new_id

# (story key, partner name, enabled, full access, expires in days from now or None, created
# days ago): the planted cases of access.trustees (PLANTED.md).
TRUSTEE_SPECS = (
    ("trustee_full_access", "Genesys Professional Services", True, True, 30, 60),
    ("trustee_ok", "Quality Audit Firm", True, False, 45, 20),
    ("trustee_disabled", "Old BPO Partner", False, False, None, 800),
    ("trustee_long", "Implementation Partner", True, False, 200, 100),
)
# What the partner's support engineer did in the org, days ago (service, entity type, action).
TRUSTEE_ACTIVITY = (
    (5, "PeoplePermissions", "AuthUser", "Authenticate"),
    (5, "Routing", "Queue", "Update"),
    (19, "PeoplePermissions", "AuthUser", "Authenticate"),
    (19, "Architect", "Flow", "Publish"),
)


def build_trustees(org, rng: random.Random) -> list[dict]:
    """Trustee entities as the org stores them; the partner with the trustee user first."""
    admin = org.named["platform_admin_1"]
    partner = org.partner_org_id
    trustees = [_trustee(org, partner, "Contoso Support Partners", True, False, None, 180, admin)]
    org.named["trustee_no_expiry"] = partner
    for key, name, enabled, full, expires, created in TRUSTEE_SPECS:
        org_id = new_id(rng)
        trustees.append(_trustee(org, org_id, name, enabled, full, expires, created, admin))
        org.named[key] = org_id
    return trustees


def _trustee(org, org_id, name, enabled, full, expires, created, admin) -> dict:
    user = org.users[admin]
    return {
        "id": org_id,
        "enabled": enabled,
        "usesDefaultRole": not full,
        "hasFullAccess": full,
        "isTrustedUser": False,
        "dateCreated": iso(org.at(created, 10)),
        "dateExpired": iso(org.now + dt.timedelta(days=expires)) if expires else None,
        "createdBy": {"id": user.id, "name": user.name, "selfUri": f"/api/v2/users/{user.id}"},
        "organization": {"id": org_id, "name": name, "selfUri": f"/api/v2/organizations/{org_id}"},
        "selfUri": f"/api/v2/orgauthorization/trustees/{org_id}",
    }


def plant_trustee_activity(org, rng: random.Random) -> list[str]:
    """The trustee user's events (never on the gap day); returns their ids."""
    user_id = org.named["master_admin_trustee"]
    ids = []
    for days, service, etype, action in TRUSTEE_ACTIVITY:
        when = org.at(days, 15, rng.randrange(60))
        if when.date() == org.gap_day:
            when += dt.timedelta(days=1)
        entity = user_id if etype == "AuthUser" else new_id(rng)
        event = Event(
            when,
            new_id(rng),
            service,
            etype,
            action,
            entity,
            "",
            user_id,
            (),
            f"203.0.113.{rng.randrange(1, 255)}",
            home_org_id=org.partner_org_id,
        )
        org.audit.add(event)
        ids.append(event.id)
    return ids
