"""Who holds each role: people granted it directly or through a group, OAuth clients, trustees.

A role granted to a group (PC_GROUP) is held by each of the group's members, "via group
<name>". OAuth clients and partners' trustee users or groups are holders of their own kind:
they are not users of the org and never matched against users or the HR roster.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from gcevidence.snapshot import records

# subject grant `type` (SDK enum) -> the holder type the checks and exceptions use
HOLDER_TYPES = {
    "PC_USER": "user",
    "PC_OAUTH_CLIENT": "oauth_client",
    "PC_TRUSTEE_USER": "trustee_user",
    "PC_TRUSTEE_GROUP": "trustee_group",
}
HOLDER_LABELS = {
    "user": "person",
    "oauth_client": "OAuth client",
    "trustee_user": "trustee user (partner organisation)",
    "trustee_group": "trustee group (partner organisation)",
    "unknown": "subject of unknown type",
}
COLUMNS = [
    "role_id",
    "role_name",
    "holder_type",
    "holder_id",
    "holder_name",
    "division_id",
    "division_name",
    "via_group_id",
    "via_group_name",
]


def role_holders(snapshot: Any, expand_groups: bool = True) -> pd.DataFrame:
    """One row per (role, holder, division, path): direct grants and group-derived ones.

    Group rows are replaced by one row per member of the group (via_group_* set); without
    the group_members dataset (or expand_groups False) group grants are left out. Built once
    per snapshot (half a dozen checks read it); each caller gets its own copy.
    """
    key = f"role_holders:{expand_groups}"
    return snapshot.derived(key, lambda: _role_holders(snapshot, expand_groups)).copy()


def _role_holders(snapshot: Any, expand_groups: bool) -> pd.DataFrame:
    grants = records(snapshot.table("role_grants"))
    members: dict[str, list[dict[str, str]]] = {}
    if expand_groups and snapshot.has("group_members"):
        for m in records(snapshot.table("group_members")):
            members.setdefault(m["group_id"], []).append(m)
    rows = []
    for g in grants:
        base = {
            "role_id": g["role_id"],
            "role_name": g["role_name"],
            "division_id": g["division_id"],
            "division_name": g["division_name"],
        }
        if g["subject_type"] == "PC_GROUP":
            for m in members.get(g["subject_id"], []):
                rows.append(
                    {
                        **base,
                        "holder_type": "user",
                        "holder_id": m["user_id"],
                        "holder_name": m["user_name"],
                        "via_group_id": g["subject_id"],
                        "via_group_name": g["subject_name"] or m["group_name"],
                    }
                )
            continue
        rows.append(
            {
                **base,
                "holder_type": HOLDER_TYPES.get(g["subject_type"], "unknown"),
                "holder_id": g["subject_id"],
                "holder_name": g["subject_name"],
                "via_group_id": "",
                "via_group_name": "",
            }
        )
    return pd.DataFrame(rows, columns=COLUMNS)


def held_by_active(holders: pd.DataFrame, active_user_ids: set[str]) -> pd.DataFrame:
    """The rows of active users and of every non-user holder (clients, trustees)."""
    keep = (holders["holder_type"] != "user") | holders["holder_id"].isin(active_user_ids)
    return holders[keep].reset_index(drop=True)


def path_text(via_groups: set[str] | list[str], direct: bool) -> str:
    """How a person holds a role: "directly", "via group X", or both."""
    parts = (["directly"] if direct else []) + [f"via group {g}" for g in sorted(via_groups)]
    return " and ".join(parts) if parts else "directly"
