"""Who holds each role: people granted it directly or through a group, OAuth clients, trustees.

A role granted to a group (PC_GROUP) is held by each of the group's members, "via group
<name>". OAuth clients and partners' trustee users or groups are holders of their own kind:
they are not users of the org and never matched against users or the HR roster.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

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
    """Column by column (a large org has hundreds of thousands of grants): the grants in
    their order, each group grant replaced in place by its members in theirs."""
    grants = snapshot.table("role_grants").reset_index(drop=True)
    grants = grants.assign(_grant=range(len(grants)))
    is_group = grants["subject_type"] == "PC_GROUP"
    direct = grants[~is_group]
    parts = [
        pd.DataFrame(
            {
                "_grant": direct["_grant"],
                "role_id": direct["role_id"],
                "role_name": direct["role_name"],
                "holder_type": direct["subject_type"].map(HOLDER_TYPES).fillna("unknown"),
                "holder_id": direct["subject_id"],
                "holder_name": direct["subject_name"],
                "division_id": direct["division_id"],
                "division_name": direct["division_name"],
                "via_group_id": "",
                "via_group_name": "",
            }
        )
    ]
    if expand_groups and snapshot.has("group_members"):
        members = snapshot.table("group_members")[
            ["group_id", "user_id", "user_name", "group_name"]
        ]
        # An inner merge keeps the grants' order, and each group's members in theirs.
        via = grants[is_group].merge(members, left_on="subject_id", right_on="group_id")
        parts.append(
            pd.DataFrame(
                {
                    "_grant": via["_grant"],
                    "role_id": via["role_id"],
                    "role_name": via["role_name"],
                    "holder_type": "user",
                    "holder_id": via["user_id"],
                    "holder_name": via["user_name"],
                    "division_id": via["division_id"],
                    "division_name": via["division_name"],
                    "via_group_id": via["subject_id"],
                    "via_group_name": via["subject_name"].where(
                        via["subject_name"] != "", via["group_name"]
                    ),
                }
            )
        )
    rows = pd.concat(parts, ignore_index=True).sort_values("_grant", kind="stable")
    return rows[COLUMNS].reset_index(drop=True)


def held_by_active(holders: pd.DataFrame, active_user_ids: set[str]) -> pd.DataFrame:
    """The rows of active users and of every non-user holder (clients, trustees)."""
    keep = (holders["holder_type"] != "user") | holders["holder_id"].isin(active_user_ids)
    return holders[keep].reset_index(drop=True)


def path_text(via_groups: set[str] | list[str], direct: bool) -> str:
    """How a person holds a role: "directly", "via group X", or both."""
    parts = (["directly"] if direct else []) + [f"via group {g}" for g in sorted(via_groups)]
    return " and ".join(parts) if parts else "directly"
