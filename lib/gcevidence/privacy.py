"""Personal data the evidence does not need, named once (issue 12 §7: data minimisation).

A Genesys user carries contact details no check and no auditor uses: phone numbers and postal
or e-mail contacts (`addresses`, `primaryContactInfo`), the chat id (`chat.jabberId`), profile
images, biography and employer details. The normalised evidence never keeps them (the users
dataset's `drops`); with `privacy.minimize` (the default) they are also removed from the
stored API responses before they are written, wherever a user appears in an answer (each
endpoint's `personal` paths in endpoints.py).

Audit events may record a change of one of those fields (a Directory/User update of
`addresses`, say; Genesys' property names there are UNCONFIRMED, so the same names are used):
the change is kept as evidence, its old and new values are not (`contact_change_values`).

What stays is what identifies a person and their access: id, name, e-mail and username (the HR
roster is matched by e-mail), state, department, title, division, manager and sign-in dates.
Source IPs of audit events stay too: they are evidence of who acted from where.
"""

from __future__ import annotations

USER_CONTACT_FIELDS = (
    "addresses",
    "primaryContactInfo",
    "chat",
    "images",
    "biography",
    "employerInfo",
    "geolocation",
    "locations",
    "station",
)


def user_fields(at: str = "") -> tuple[str, ...]:
    """The contact fields of a user found at `at` in an answer ("" the root, "entities[]")."""
    prefix = f"{at}." if at else ""
    return tuple(prefix + name for name in USER_CONTACT_FIELDS)


def contact_change_values(at: str = "") -> tuple[str, ...]:
    """The old and new values of audit property changes of a contact field, in an event at `at`."""
    prefix = f"{at}." if at else ""
    changes = f"{prefix}propertyChanges[property={'|'.join(USER_CONTACT_FIELDS)}]"
    return (f"{changes}.oldValues", f"{changes}.newValues")


__all__ = ["USER_CONTACT_FIELDS", "contact_change_values", "user_fields"]
