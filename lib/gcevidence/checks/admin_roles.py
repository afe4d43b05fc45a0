"""access.undeclared_privileged_roles: roles with administrative permissions that the params
leave out of `privileged_roles`, listed with their holders.

The privileged-access checks test only the roles the params declare; an administrative role
left out escapes them all. What counts as administrative is catalog data
(catalog/admin_permissions.yaml): wildcard grants, `admin`, role and grant management, user,
group and OAuth client management, telephony and trunk administration, recording deletion,
audit configuration.
"""

from __future__ import annotations

from typing import Any

from gcevidence.catalog.permissions import admin_permissions
from gcevidence.checks.access import _holders
from gcevidence.checks.common import records
from gcevidence.checks.registry import CheckContext, Outcome, register_check
from gcevidence.findings import ExceptionItem
from gcevidence.role_holders import HOLDER_LABELS, path_text

SHOWN_PERMISSIONS = 4  # in the exception's text; every one is in `extra`


def _holder_text(kind: str, h: dict[str, Any]) -> str:
    label = "person" if kind == "user" else HOLDER_LABELS.get(kind, kind)
    how = f" ({path_text(h['via'], h['direct'])})" if kind == "user" else ""
    return f"{label} {h['name']}{how}"


@register_check("access.undeclared_privileged_roles")
def undeclared_privileged_roles(ctx: CheckContext) -> Outcome:
    roles = records(ctx.snapshot.table("roles"))
    if roles and "permissions" not in roles[0]:
        return Outcome(
            status="not_evaluable",
            reason="the roles dataset records no permissions (collected by an older version)",
        )
    declared = set(ctx.params.privileged_roles)
    holders = _holders(ctx)
    found, exceptions = [], []
    for role in sorted(roles, key=lambda r: (r["name"].casefold(), r["id"])):
        matches = admin_permissions(role["permissions"].split(";"))
        if not matches or role["name"] in declared:
            continue
        held = holders.get(role["name"], {})
        listed = [
            {"type": kind, "id": hid, "name": h["name"], "text": _holder_text(kind, h)}
            for (kind, hid), h in sorted(held.items(), key=lambda kv: (kv[1]["name"], kv[0]))
        ]
        found.append(
            {
                "role_id": role["id"],
                "role_name": role["name"],
                "admin_permissions": [
                    {"permission": m.permission, "pattern": m.pattern, "means": m.means}
                    for m in matches
                ],
                "holders": listed,
            }
        )
        if not listed:
            continue
        shown = ", ".join(m.permission for m in matches[:SHOWN_PERMISSIONS])
        more = (
            f" and {len(matches) - SHOWN_PERMISSIONS} more"
            if len(matches) > SHOWN_PERMISSIONS
            else ""
        )
        exceptions.append(
            ExceptionItem(
                "role",
                role["name"],
                role["name"],
                f"carries administrative permissions ({shown}{more}: {matches[0].means}) but is "
                f"not declared in params privileged_roles; held by {len(listed)}: "
                + "; ".join(h["text"] for h in listed),
            )
        )
    unheld = [r["role_name"] for r in found if not r["holders"]]
    reason = (
        f"{len(exceptions)} of {len(found)} roles with administrative permissions that params "
        f"privileged_roles does not declare have holders (active people directly or through a "
        f"group, OAuth clients, trustees); declared: {', '.join(sorted(declared)) or 'none'}"
    )
    if unheld:
        reason += f"; held by nobody: {', '.join(unheld)}"
    return Outcome(
        exceptions,
        population=len(found),
        reason=reason,
        extra={"undeclared_roles": found, "declared_roles": sorted(declared)},
    )
