"""Re-deriving the evidence from the stored API answers alone, as an auditor re-performs it.

Every answer a run received is in `evidence/responses/` (genesys/responses.py). This module
reads them back, checks each request line's digest against the stored bytes, and rebuilds each
dataset with the declared normalisers (datasets/) by the same rules the collectors follow:

- a page-number listing is the entities of the last answer read for each page, in page order;
- a one-answer endpoint is its last answer (an object, or its `entities`);
- users: the listing, where a later single read with both authorization expansions replaces
  the listing's copy (minus the listing's expansions); unused roles come from the same users;
- role grants: for each role of the roles listing, its subject grants, each with its role;
- group members: the members listing of every group holding a role (PC_GROUP), by group id;
- trunks: the listing, where a later single read replaces the listing's copy;
- role permissions: the roles listing; sensitive roles: the roles listing filtered by each
  sensitive permission; OAuth client usage: per summary query of an active client, the last
  poll of its execution, in the order of the clients listing;
- audit events: the results of every query of the period (the retention probe's transaction
  ids, in audit_retention_probe.json, are left out), each event once by id, ordered by
  eventDate and id; days copied from an earlier pack (audit_days.csv names it and its
  digest) re-derive from that pack's answers, not from these; audit queries: each submitted
  query, its last state, results and pages.

`differences(pack)` compares all of it with the CSVs and JSON documents of the pack and returns
one line per disagreement (none for an intact pack); `python -m gcevidence.rederive PACK_DIR`
prints them (exit 1) or what agreed (exit 0). It holds a dataset in memory at a time:
fine for an audit sample, slow for a million events (zstdcat and jq do those, see
lib/gcevidence/pack/README.md).
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from gcevidence.collect_audits import event_order
from gcevidence.collect_users import EXPANDED_KEYS
from gcevidence.csvsafe import guard
from gcevidence.datasets import SPECS
from gcevidence.endpoints import ENDPOINTS, Paging
from gcevidence.evidence_files import open_text
from gcevidence.genesys.responses import RESPONSES_DIR

REQUEST_LOG = "requests.jsonl"


@dataclass(frozen=True)
class StoredResponse:
    """One stored answer: the request line it belongs to (`seq`) and its body bytes."""

    seq: int
    method: str
    path: str
    status: int | None
    body: bytes

    @property
    def bare_path(self) -> str:
        return urlsplit(self.path).path

    @property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def stored_responses(root: Path, endpoint: str) -> Iterator[StoredResponse]:
    """The stored answers of one declared endpoint (by name), in the order of the calls."""
    path = Path(root) / RESPONSES_DIR / f"{endpoint}.jsonl.zst"
    if not path.is_file():
        return
    with open_text(path) as fh:
        for line in fh:
            rec = json.loads(line)
            body = (
                rec["body"].encode("utf-8")
                if "body" in rec
                else base64.b64decode(rec.get("body_base64", ""))
            )
            yield StoredResponse(rec["seq"], rec["method"], rec["path"], rec["status"], body)


def check_digests(root: Path) -> list[str]:
    """Every request line's sha256 against the stored answer of the same seq (and back)."""
    root = Path(root)
    stored: dict[int, str] = {}
    problems = []
    for file in sorted((root / RESPONSES_DIR).glob("*.jsonl.zst")):
        for resp in stored_responses(root, file.name.removesuffix(".jsonl.zst")):
            if resp.seq in stored:
                problems.append(f"{file.name}: answer of request {resp.seq} stored twice")
            stored[resp.seq] = hashlib.sha256(resp.body).hexdigest()
    with (root / REQUEST_LOG).open(encoding="utf-8") as fh:
        for line in fh:
            entry = json.loads(line)
            seq, digest = entry.get("seq"), entry.get("sha256")
            got = stored.pop(seq, None)
            if digest is None and got is not None:
                problems.append(f"request {seq}: an answer is stored but the log has no digest")
            elif digest is not None and got is None:
                problems.append(f"request {seq} {entry['path']}: no stored answer")
            elif digest != got:
                problems.append(f"request {seq} {entry['path']}: stored answer has sha256 {got}")
    problems += [f"answer of request {seq} stored, but not in {REQUEST_LOG}" for seq in stored]
    return problems


# -- reading answers as the collectors do --------------------------------------------------------


def _pages(
    root: Path, endpoint: str, path: str | None = None, permission: str | None = None
) -> list[dict]:
    """Entities of a page-number listing: the last answer of each page, in page order.

    The roles listing is read twice over: in full, and filtered by each sensitive permission
    (`permission` names the filter; None is the unfiltered listing).
    """
    pages: dict[int, StoredResponse] = {}
    for resp in stored_responses(root, endpoint):
        if (
            resp.ok
            and (path is None or resp.bare_path == path)
            and resp.query.get("permission") == permission
        ):
            pages[int(resp.query.get("pageNumber", "1"))] = resp
    return [
        e for _, resp in sorted(pages.items()) for e in (resp.json() or {}).get("entities") or []
    ]


def _last(root: Path, endpoint: str) -> Any:
    found = None
    for resp in stored_responses(root, endpoint):
        if resp.ok:
            found = resp
    return found.json() if found is not None else None


def _read(root: Path, endpoint: str) -> list[dict]:
    if ENDPOINTS[endpoint].paging is Paging.PAGES:
        return _pages(root, endpoint)
    return list((_last(root, endpoint) or {}).get("entities") or [])


def _users(root: Path) -> list[dict]:
    users = _pages(root, "users")
    where = {u.get("id"): i for i, u in enumerate(users)}
    for resp in stored_responses(root, "user"):
        fresh = resp.json() if resp.ok else None
        auth = (fresh or {}).get("authorization")
        complete = isinstance(auth, dict) and "roles" in auth and "unusedRoles" in auth
        index = where.get(resp.bare_path.rsplit("/", 1)[-1])
        if complete and index is not None:
            base = {k: v for k, v in users[index].items() if k not in EXPANDED_KEYS}
            users[index] = {**base, **fresh}
    return users


def _grants(root: Path) -> list[dict]:
    grants = []
    for role in _pages(root, "roles"):
        path = ENDPOINTS["role_subject_grants"].url(roleId=role["id"])
        for subject in _pages(root, "role_subject_grants", path):
            grants.append({"role": {"id": role.get("id"), "name": role.get("name")}, **subject})
    return grants


def _members(root: Path) -> list[dict]:
    groups: dict[str, str] = {}
    for g in _grants(root):
        if g.get("type") == "PC_GROUP" and g.get("id"):
            groups.setdefault(str(g["id"]), str(g.get("name", "")))
    members = []
    for group_id in sorted(groups):
        path = ENDPOINTS["group_members"].url(groupId=group_id)
        group = {"id": group_id, "name": groups[group_id]}
        members += [{**m, "group": group} for m in _pages(root, "group_members", path)]
    return members


def _trunks(root: Path) -> list[dict]:
    trunks = _pages(root, "trunk_base_settings")
    where = {t.get("id"): i for i, t in enumerate(trunks)}
    for resp in stored_responses(root, "trunk_base_setting"):
        index = where.get(resp.bare_path.rsplit("/", 1)[-1])
        if resp.ok and index is not None:
            trunks[index] = resp.json() or trunks[index]
    return trunks


def _sensitive_roles(root: Path) -> list[dict]:
    filters = sorted(
        {
            resp.query["permission"]
            for resp in stored_responses(root, "roles")
            if resp.ok and "permission" in resp.query
        }
    )
    return [
        {"permission": permission, "role": {"id": r.get("id"), "name": r.get("name")}}
        for permission in filters
        for r in _pages(root, "roles", permission=permission)
    ]


def _client_usage(root: Path) -> list[dict]:
    """Each active client's usage: its summary query's execution id, then the last poll."""
    names = {c.get("id"): c.get("name", "") for c in _read(root, "oauth_clients")}
    results: dict[str, Any] = {}
    for resp in stored_responses(root, "oauth_client_usage_result"):
        if resp.ok:
            results[resp.bare_path.rsplit("/", 1)[-1]] = resp.json() or {}
    usages = []
    for resp in stored_responses(root, "oauth_client_usage_summary"):
        started = (resp.json() if resp.ok else None) or {}
        client_id = resp.bare_path.split("/")[5]
        execution = str(started.get("executionId", ""))
        usage: dict[str, Any] = {
            "client": {"id": client_id, "name": names.get(client_id, "")},
            "days": int(resp.query.get("days", "0") or 0),
            "executionId": execution,
        }
        if execution in results:
            usage.update(
                queryStatus=str(results[execution].get("queryStatus", "")),
                results=results[execution].get("results") or [],
            )
        usages.append(usage)
    order = {c_id: i for i, c_id in enumerate(names)}
    return sorted(usages, key=lambda u: order.get(u["client"]["id"], len(order)))


def _probe_transactions(root: Path) -> set[str]:
    path = Path(root) / "evidence" / "audit_retention_probe.json"
    if not path.is_file():
        return set()
    return set(json.loads(path.read_text(encoding="utf-8")).get("transaction_ids") or [])


def _transaction(resp: StoredResponse) -> str:
    """The transaction id in the path of an audit query's status or results call."""
    parts = resp.bare_path.split("/")
    return parts[5] if len(parts) > 5 else ""


def raw_entities(root: Path, name: str) -> Iterator[dict]:
    """The raw entities of a dataset whose raw lives in the stored answers (audit events)."""
    if name != "audit_events":
        raise KeyError(f"{name}: its raw entities are in evidence/raw/, not in the answers")
    probe = _probe_transactions(root)
    seen: set[str] = set()
    events = []
    for resp in stored_responses(root, "audit_query_results"):
        if not resp.ok or _transaction(resp) in probe:
            continue
        for event in (resp.json() or {}).get("entities") or []:
            key = str(event.get("id", ""))
            if key not in seen:
                seen.add(key)
                events.append(event)
    events.sort(key=event_order)
    yield from events


def _audit_queries(root: Path) -> list[dict]:
    queries: dict[str, dict[str, Any]] = {}
    for resp in stored_responses(root, "audit_query"):
        doc = resp.json() if resp.ok else None
        if isinstance(doc, dict) and doc.get("id"):
            start, _, end = str(doc.get("interval", "")).partition("/")
            queries[str(doc["id"])] = {
                "transaction_id": str(doc["id"]),
                "service_name": str(doc.get("serviceName", "")),
                "interval_start": start,
                "interval_end": end,
                "state": str(doc.get("state", "")),
                "result_count": 0,
                "pages": 0,
            }
    for resp in stored_responses(root, "audit_query_status"):
        query = queries.get(_transaction(resp))
        doc = resp.json() if resp.ok else None
        if query is not None and isinstance(doc, dict):
            query["state"] = str(doc.get("state", query["state"]))
    for resp in stored_responses(root, "audit_query_results"):
        query = queries.get(_transaction(resp))
        if query is not None and resp.ok:
            query["pages"] += 1
            query["result_count"] += len((resp.json() or {}).get("entities") or [])
    return sorted(queries.values(), key=lambda q: q["transaction_id"])


# The entities of the datasets a special collector writes, read as that collector reads them.
_SPECIAL = {
    "users": _users,
    "unused_roles": _users,
    "roles": lambda root: _pages(root, "roles"),
    "role_permissions": lambda root: _pages(root, "roles"),
    "sensitive_roles": _sensitive_roles,
    "oauth_clients": lambda root: _read(root, "oauth_clients"),
    "oauth_client_usage": _client_usage,
    "role_grants": _grants,
    "group_members": _members,
    "trunks": _trunks,
    "audit_events": lambda root: raw_entities(root, "audit_events"),
}
# Special only in how the path is built (the client's own id): one answer, like a declared one.
_ONE_ANSWER = {"collector_client"}
# Datasets that are not API answers, with the reason.
NOT_FROM_ANSWERS = {
    "hr_roster": "a file the organisation supplies",
    "audit_retention_probe": "a summary of the retention probe's queries",
    "audit_days": "where each day's audit events came from (the API or an earlier pack)",
}
REDERIVED = tuple(name for name in SPECS if name not in NOT_FROM_ANSWERS)


def rederive(root: Path, name: str) -> Any:
    """A dataset rebuilt from the stored answers: its rows (a table) or its document (object)."""
    root = Path(root)
    spec = SPECS[name]
    if name in NOT_FROM_ANSWERS:
        raise KeyError(f"{name} is not derived from API answers: {NOT_FROM_ANSWERS[name]}")
    if name == "audit_queries":
        return _audit_queries(root)
    if name in _SPECIAL:
        entities = _SPECIAL[name](root)
    elif spec.collector and name not in _ONE_ANSWER:
        raise KeyError(f"{name}: no rule to re-derive what collector {spec.collector} writes")
    elif spec.kind == "object":
        doc = _last(root, spec.reads[0].name)
        return spec.stored(doc) if doc is not None else {}
    else:
        entities = _read(root, spec.reads[0].name)
    return [row for entity in entities for row in spec.normalise(entity)]


def _as_written(rows: list[dict], columns: tuple[str, ...]) -> list[list[str]]:
    """Rows as the CSV holds them: every value a string, guarded against formulas."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([guard(row.get(col, "")) for col in columns])
    return list(csv.reader(io.StringIO(buffer.getvalue())))


def differences(root: Path) -> list[str]:
    """Every way the pack's datasets differ from what its stored answers re-derive."""
    from gcevidence.snapshot import Snapshot

    root = Path(root)
    snap = Snapshot(root)
    problems = check_digests(root)
    for name in REDERIVED:
        status = snap.status(name)
        if not status.available:
            continue
        spec = SPECS[name]
        derived = rederive(root, name)
        if spec.kind == "object":
            if derived != snap.object(name):
                problems.append(f"{status.path}: differs from the stored answers")
            continue
        with open_text(root / status.path) as fh:
            written = list(csv.reader(fh))[1:]
        if name == "audit_events":  # days copied from an earlier pack re-derive from its answers
            written = _queried_days(written, status.extra.get("from_pack") or {})
        expected = _as_written(derived, spec.columns)
        if name == "audit_queries":  # submitted concurrently: compared in id order
            written, expected = sorted(written), sorted(expected)
        if written != expected:
            first = next(
                (i for i, (a, b) in enumerate(zip(written, expected, strict=False)) if a != b),
                min(len(written), len(expected)),
            )
            problems.append(
                f"{status.path}: {len(written)} rows, {len(expected)} re-derived from the "
                f"stored answers; first difference at row {first + 1}"
            )
    return problems


def _queried_days(rows: list[list[str]], from_pack: dict[str, Any]) -> list[list[str]]:
    """The audit_events rows of the days this run queried (not those copied from a pack)."""
    first, last = from_pack.get("first_day"), from_pack.get("last_day")
    if not first or not last:
        return rows
    column = SPECS["audit_events"].columns.index("event_date")
    return [r for r in rows if not first <= r[column][:10] <= last]


def main(argv: list[str] | None = None) -> int:
    """`python -m gcevidence.rederive PACK_DIR`: what disagrees (exit 1), or what agreed."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not (Path(args[0]) / REQUEST_LOG).is_file():
        print("usage: python -m gcevidence.rederive PACK_DIR (a pack or run folder)")
        return 2
    problems = differences(Path(args[0]))
    for problem in problems:
        print(problem)
    if not problems:
        from gcevidence.snapshot import Snapshot

        with (Path(args[0]) / REQUEST_LOG).open(encoding="utf-8") as fh:
            tied = sum(1 for line in fh if json.loads(line).get("sha256"))
        compared = sum(1 for name in REDERIVED if Snapshot(Path(args[0])).has(name))
        print(
            f"{tied} stored answers tie to their request digests; "
            f"{compared} datasets re-derive from them exactly"
        )
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = [
    "NOT_FROM_ANSWERS",
    "REDERIVED",
    "StoredResponse",
    "check_digests",
    "differences",
    "main",
    "raw_entities",
    "rederive",
    "stored_responses",
]
