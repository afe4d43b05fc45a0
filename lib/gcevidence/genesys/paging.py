"""Reading whole listings: page-number listings (concurrently) and cursor listings.

Every listing is reconciled against the API's own count: a duplicate or a missing id is an
IncompletePagination naming the endpoint and the numbers, never a silently short dataset.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from gcevidence.endpoints import Endpoint
from gcevidence.errors import IncompletePagination

log = logging.getLogger(__name__)

# For a listing called by path alone; declared endpoints carry their own (endpoints.py).
DEFAULT_PAGE_SIZE = 100


@dataclass(frozen=True)
class Listing:
    """A fully read page-number listing."""

    path: str
    entities: list[dict]
    total: int | None
    pages: int
    requests: int


def list_all(
    client: Any,
    path: str,
    params: dict[str, Any] | None = None,
    *,
    page_size: int | None = None,
    id_key: str = "id",
    reconcile: bool = True,
    page_ok: Callable[[dict], bool] | None = None,
    page_tries: int = 3,
) -> Listing:
    """Every entity of a page-number listing (EntityListing or UserReference listing).

    Page 1 tells how many pages there are (`pageCount`, else `total`/`pageSize`); pages
    2..N are fetched concurrently. When the API gives neither, `nextUri` is followed, and as
    a last resort pages are read until an empty one. A page failing `page_ok` (e.g. a
    best-effort expansion silently dropped) is read again, up to `page_tries` times.
    """
    size = page_size or DEFAULT_PAGE_SIZE
    base = dict(params or {})

    lock = threading.Lock()
    extra_reads = 0

    def page(number: int) -> dict:
        nonlocal extra_reads
        for attempt in range(1, page_tries + 1):
            body = client.get(path, {**base, "pageSize": size, "pageNumber": number})
            body = body if isinstance(body, dict) else {}
            if page_ok is None or page_ok(body) or attempt == page_tries:
                return body
            with lock:
                extra_reads += 1
            log.debug("%s page %d failed its check; reading it again", path, number)
        return body

    first = page(1)
    pages = [first]
    total = _int(first.get("total"))
    actual_size = _int(first.get("pageSize")) or size
    page_count = _int(first.get("pageCount"))
    if page_count is None and total is not None:
        page_count = max(1, math.ceil(total / actual_size)) if actual_size else 1
    requests = 1
    if page_count is not None:
        if page_count > 1:
            pages += client.map(page, range(2, page_count + 1))
            requests += page_count - 1
        # The org may have grown while we read: keep following nextUri past the counted end.
        last = pages[-1]
        while last.get("nextUri") and last.get("entities"):
            number = len(pages) + 1
            last = page(number)
            requests += 1
            pages.append(last)
    else:
        last = first
        while last.get("entities") and (last.get("nextUri") or "nextUri" not in last):
            number = len(pages) + 1
            last = page(number)
            requests += 1
            pages.append(last)
    entities = [e for p in pages for e in (p.get("entities") or [])]
    if reconcile:
        reconcile_ids(path, entities, total, id_key)
    log.debug("%s: %d entities in %d pages", path, len(entities), len(pages))
    return Listing(path, entities, total, len(pages), requests + extra_reads)


def list_endpoint(
    client: Any,
    endpoint: Endpoint,
    params: dict[str, Any] | None = None,
    ids: dict[str, str] | None = None,
    **options: Any,
) -> Listing:
    """Every entity of a declared page-number listing, at its declared page size."""
    return list_all(
        client,
        endpoint.url(**(ids or {})),
        endpoint.query(params),
        page_size=endpoint.page_size,
        **options,
    )


def reconcile_ids(
    endpoint: str, entities: list[dict], total: int | None, id_key: str = "id"
) -> None:
    """Raise IncompletePagination unless the ids are unique and as many as `total`."""
    ids = [e.get(id_key) for e in entities]
    unique = set(ids)
    duplicates = len(ids) - len(unique)
    without_id = sum(1 for i in ids if not i)
    if duplicates or without_id or (total is not None and len(unique) != total):
        missing = max(0, (total or 0) - len(unique))
        raise IncompletePagination(
            f"{endpoint}: the API reports total {total} but paging returned {len(ids)} "
            f"entities ({len(unique)} distinct, {duplicates} duplicates, {missing} missing"
            f"{f', {without_id} without id' if without_id else ''}); re-run the collection"
        )


def cursor_pages(client: Any, path: str, params: dict[str, Any] | None = None) -> Iterator[dict]:
    """Pages of a cursor listing: loop while the response carries a `cursor`."""
    base = dict(params or {})
    cursor: str | None = None
    seen: set[str] = set()
    while True:
        query = {**base, **({"cursor": cursor} if cursor else {})}
        body = client.get(path, query) or {}
        yield body
        cursor = body.get("cursor") or None
        if not cursor:
            return
        if cursor in seen:
            raise IncompletePagination(f"{path}: the API returned cursor {cursor!r} twice")
        seen.add(cursor)


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
