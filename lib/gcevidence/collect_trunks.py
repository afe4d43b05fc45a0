"""The trunks dataset: one listing with the `properties` expansion, re-reads where it is missing.

`properties` is an expansion, and expansions are best effort: a trunk that came back without
it is read again on its own. A trunk managed by Genesys (Genesys Cloud Voice) never shows its
properties to customers ("managed properties will not be returned unless the user is assigned
the internal:trunk:edit permission", SDK docs): re-reading it would change nothing.
"""

from __future__ import annotations

from typing import Any

from gcevidence.datasets.telephony import TRUNKS
from gcevidence.genesys.paging import list_endpoint
from gcevidence.snapshot import SnapshotWriter

LISTING, SINGLE = TRUNKS.reads


def collect_trunks(client: Any, writer: SnapshotWriter) -> None:
    """Write `trunks`; incomplete when a customer trunk's properties stay missing."""
    listing = list_endpoint(client, LISTING, dict(TRUNKS.params))
    trunks = listing.entities

    def lacks_properties(trunk: dict) -> bool:
        return "properties" not in trunk and trunk.get("managed") is not True

    refetch = [i for i, t in enumerate(trunks) if lacks_properties(t)]

    def reread(index: int) -> None:
        fresh = client.get(SINGLE.url(trunkBaseSettingsId=trunks[index]["id"]))
        trunks[index] = fresh or trunks[index]

    client.map(reread, refetch)
    still = [t.get("id", "") for t in trunks if lacks_properties(t)]
    status = writer.write_table(
        TRUNKS.name,
        (TRUNKS.row(t) for t in trunks),
        [writer.store(TRUNKS, t) for t in trunks],
        expected_rows=listing.total,
        requests=listing.requests + len(refetch),
        complete=not still and len(trunks) == listing.total,
        properties_recovered=len(refetch) - len(still),
        managed=sorted(str(t.get("name", "")) for t in trunks if t.get("managed") is True),
    )
    if still:
        status.reason = f"{LISTING.path}: properties missing for trunks {', '.join(still[:5])}"
