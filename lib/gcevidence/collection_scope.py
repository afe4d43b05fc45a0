"""Which divisions the collecting OAuth client sees, from its own grants (issue 12 §1).

Genesys shows a client only the objects of the divisions it holds a role in. A client limited
to some divisions silently misses the users, queues and other objects of the rest, while every
listing still reconciles with its own `total`; so a pack must say which divisions were out of
scope. The client's roleDivisions (endpoint `oauth_client`, read into the collector_client
dataset) name a division id per role grant, `*` for all divisions; compared with the divisions
dataset they give one of three states:

- `all`: a grant with division `*`, or a grant in every division of the org;
- `limited`: no `*` grant and some divisions without any grant: those are out of scope;
- `unknown`: the client's grants could not be read (a missing permission, no such client):
  "unknown — not verified", never "all divisions".

The collection records the scope in snapshot.json (`collector_scope`); the index, every
population table of the working papers (`division_scope_html`) and preflight show it.
"""

from __future__ import annotations

import html
from dataclasses import asdict, dataclass
from typing import Any

ALL_DIVISIONS = "*"
ALL, LIMITED, UNKNOWN = "all", "limited", "unknown"


@dataclass(frozen=True)
class DivisionScope:
    """The divisions the collecting client sees; `out_of_scope` lists every division it cannot."""

    state: str  # all | limited | unknown
    divisions: int = 0  # in the org
    in_scope: tuple[str, ...] = ()  # names of the divisions it holds a role in
    out_of_scope: tuple[str, ...] = ()  # "name (id)" of every division it holds no role in
    client: str = ""  # the client's name and id
    reason: str = ""  # how the state was established, or why it could not be

    @property
    def complete(self) -> bool:
        return self.state == ALL

    def summary(self) -> str:
        """One sentence for the index, the population tables and preflight."""
        who = f"the collecting OAuth client{f' {self.client}' if self.client else ''}"
        if self.state == ALL:
            return f"All {self.divisions} divisions: {who} {self.reason}."
        if self.state == LIMITED:
            return (
                f"LIMITED: {who} holds roles in {len(self.in_scope)} of {self.divisions} "
                f"divisions ({', '.join(self.in_scope) or 'none'}); out of scope: "
                f"{', '.join(self.out_of_scope)}. Users and other objects of those divisions "
                "may be missing from every population."
            )
        return (
            f"UNKNOWN — not verified: {self.reason}; every population may miss divisions the "
            "client cannot see."
        )

    def as_dict(self) -> dict[str, Any]:
        """As JSON records it (lists, and the summary sentence)."""
        doc = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}
        return {**doc, "summary": self.summary()}

    @classmethod
    def from_dict(cls, doc: dict[str, Any] | None) -> DivisionScope:
        if not isinstance(doc, dict) or doc.get("state") not in (ALL, LIMITED, UNKNOWN):
            return cls(UNKNOWN, reason="the pack does not record the collecting client's grants")
        return cls(
            doc["state"],
            int(doc.get("divisions") or 0),
            tuple(doc.get("in_scope") or ()),
            tuple(doc.get("out_of_scope") or ()),
            str(doc.get("client") or ""),
            str(doc.get("reason") or ""),
        )


def scope_of(
    client: dict[str, Any] | None, divisions: list[dict[str, Any]], unavailable: str = ""
) -> DivisionScope:
    """The scope from the client's document and the org's divisions (id, name).

    `unavailable` says why the client could not be read; the scope is then unknown.
    """
    if unavailable or not isinstance(client, dict) or not client:
        return DivisionScope(UNKNOWN, len(divisions), reason=unavailable or "no client document")
    if not divisions:
        return DivisionScope(UNKNOWN, reason="the org's divisions could not be read")
    who = f"{client.get('name', '')} ({client.get('id', '')})".strip()
    grants = client.get("roleDivisions")
    if not isinstance(grants, list):
        return DivisionScope(
            UNKNOWN, len(divisions), client=who, reason="the client document has no roleDivisions"
        )
    held = {str(g.get("divisionId", "")) for g in grants if isinstance(g, dict)}
    names = {str(d.get("id", "")): str(d.get("name", "")) for d in divisions}
    if ALL_DIVISIONS in held:
        return DivisionScope(
            ALL,
            len(names),
            tuple(sorted(names.values())),
            client=who,
            reason="holds a role with division * (all divisions)",
        )
    inside = sorted(names[d] for d in held if d in names)
    outside = sorted(f"{name} ({ident})" for ident, name in names.items() if ident not in held)
    if not outside:
        return DivisionScope(
            ALL, len(names), tuple(inside), client=who, reason="holds a role in each of them"
        )
    return DivisionScope(
        LIMITED,
        len(names),
        tuple(inside),
        tuple(outside),
        client=who,
        reason="no role with division * and none in the divisions out of scope",
    )


def scope_from(status: Any, client: dict | None, divisions: list[dict]) -> DivisionScope:
    """The scope from the collector_client dataset's status and document, and the divisions."""
    if status is None or not status.available:
        missing = getattr(status, "missing_permission", "")
        why = f"missing permission {missing}" if missing else getattr(status, "reason", "")
        return scope_of(
            None,
            divisions,
            f"the collecting client's grants were not read ({why or 'not collected'})",
        )
    return scope_of(client, divisions)


def scope_from_snapshot(snapshot: Any) -> DivisionScope:
    """The scope of a run folder: from its datasets (collector_client, divisions)."""
    status = snapshot.status("collector_client")
    divisions = snapshot.table("divisions").to_dict("records") if snapshot.has("divisions") else []
    client = snapshot.object("collector_client") if status.available else None
    return scope_from(status, client, divisions)


def division_scope(snapshot: Any) -> DivisionScope:
    """The scope a run folder records (snapshot.json `collector_scope`), else from its datasets."""
    recorded = snapshot.meta.get("collector_scope")
    return DivisionScope.from_dict(recorded) if recorded else scope_from_snapshot(snapshot)


def division_scope_html(snapshot: Any) -> str:
    """The line under every population table: the divisions the populations cover."""
    scope = division_scope(snapshot)
    style = "gce-note" if scope.complete else "gce-not_evaluable"  # amber, like a warning
    text = html.escape(scope.summary(), quote=True)
    return f'<p class="{style}"><strong>Division scope:</strong> {text}</p>'


__all__ = [
    "ALL",
    "LIMITED",
    "UNKNOWN",
    "DivisionScope",
    "division_scope",
    "division_scope_html",
    "scope_from",
    "scope_from_snapshot",
    "scope_of",
]
