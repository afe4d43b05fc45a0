"""OAuth clients and how much each active one used the API: the listing, then usage queries.

A usage summary only starts a query (`executionId`); its result is polled until the query is
Complete. Each query costs at least two requests, so only active clients are asked about (a
disabled or inactive client cannot obtain tokens), all of them at once within the shared rate
budget, and polls wait longer each time. A query that ends Failed or never completes leaves
the usage incomplete, which stops the run rather than calling a client unused on no evidence.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from gcevidence.datasets.api_access import OAUTH_CLIENT_USAGE, OAUTH_CLIENTS
from gcevidence.genesys.paging import reconcile_ids
from gcevidence.snapshot import SnapshotWriter

log = logging.getLogger(__name__)

(LISTING,) = OAUTH_CLIENTS.reads
SUMMARY, RESULT = OAUTH_CLIENT_USAGE.reads
# queryStatus values (SDK ApiUsageQueryResult): Running until Complete or Failed.
COMPLETE, FAILED = "Complete", "Failed"
POLL_FIRST_SECONDS = 0.5
POLL_GROWTH = 1.5
POLL_MAX_SECONDS = 10.0
TIMEOUT_SECONDS = 120.0


def collect_oauth_clients(
    client: Any,
    writer: SnapshotWriter,
    days: int,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Write `oauth_clients` (secrets withheld) and `oauth_client_usage` (active clients)."""
    doc = client.get(LISTING.path) or {}
    clients = doc.get("entities") or []
    total = doc.get("total") if isinstance(doc.get("total"), int) else len(clients)
    reconcile_ids(LISTING.path, clients, total)
    writer.write_table(
        OAUTH_CLIENTS.name,
        [OAUTH_CLIENTS.row(c) for c in clients],
        [writer.store(OAUTH_CLIENTS, c) for c in clients],
        expected_rows=total,
        requests=1,
        **OAUTH_CLIENTS.summary(clients),
    )
    active = [c for c in clients if c.get("state") == "active"]
    usages = client.map(lambda c: _usage(client, c, days, sleep), active)
    unfinished = [u for u in usages if u.get("queryStatus") != COMPLETE]
    requests = sum(u.pop("_requests") for u in usages)
    status = writer.write_table(
        OAUTH_CLIENT_USAGE.name,
        [OAUTH_CLIENT_USAGE.row(u) for u in usages],
        usages,
        expected_rows=len(active),
        requests=requests,
        complete=not unfinished,
        days=days,
        not_queried=len(clients) - len(active),
    )
    if unfinished:
        status.reason = "usage queries not Complete: " + "; ".join(
            f"client {u['client']['name']} ({u['client']['id']}) query {u.get('executionId')} "
            f"ended {u.get('queryStatus') or 'unanswered'}; re-run later"
            for u in unfinished[:5]
        )


def _usage(client: Any, oauth_client: dict, days: int, sleep: Callable[[float], None]) -> dict:
    """One client's usage over the last `days` days: the summary query, polled to its end."""
    cid = str(oauth_client.get("id", ""))
    started = client.get(SUMMARY.url(clientId=cid), {"days": str(days)}) or {}
    execution = str(started.get("executionId", ""))
    out: dict = {
        "client": {"id": cid, "name": oauth_client.get("name", "")},
        "days": days,
        "executionId": execution,
        "_requests": 1,
    }
    if not execution:
        return out
    pause, waited = POLL_FIRST_SECONDS, 0.0
    while True:
        sleep(pause)
        waited += pause
        result = client.get(RESULT.url(clientId=cid, executionId=execution)) or {}
        out["_requests"] += 1
        status = str(result.get("queryStatus", ""))
        if status in (COMPLETE, FAILED) or waited >= TIMEOUT_SECONDS:
            out.update(queryStatus=status, results=result.get("results") or [])
            if status != COMPLETE:
                log.warning("OAuth client %s: usage query %s is %s", cid, execution, status)
            return out
        pause = min(pause * POLL_GROWTH, POLL_MAX_SECONDS)
