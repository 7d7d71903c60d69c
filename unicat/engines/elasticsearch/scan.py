"""Reading a whole index (or a filtered part) in key order, one bounded batch per request.

Each batch is its own ``search_after`` request on a unique sort key, like the SQLite engine's keyset
paging: no scroll or point in time stays open while a caller (an export, a re-index) works slowly.
Batches are large, since the node sorts the matching documents again for every request, and the next
batch is requested while the caller works through the current one, so reading a large index costs
the caller little more than its own work.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Iterator, Sequence
from typing import Any

from elasticsearch import Elasticsearch

BATCH = 2000

Hit = dict[str, Any]


def scan(
    client: Elasticsearch,
    index: str,
    query: dict[str, Any],
    sort: Sequence[str],
    source: Sequence[str] | bool = True,
    batch: int = BATCH,
) -> Iterator[dict[str, Any]]:
    """The ``_source`` of every matching document, ordered by the ``sort`` keyword fields (ascending,
    together unique)."""

    def fetch(after: list[Any] | None) -> list[Hit]:
        body: dict[str, Any] = {
            "query": query,
            "sort": [{name: "asc"} for name in sort],
            "size": batch,
            "_source": source if isinstance(source, bool) else list(source),
            "track_total_hits": False,
        }
        if after is not None:
            body["search_after"] = after
        hits: list[Hit] = client.search(index=index, body=body)["hits"]["hits"]
        return hits

    hits = fetch(None)
    if len(hits) < batch:
        yield from (hit.get("_source", {}) for hit in hits)
        return
    # More than one batch: from now on the next one is on its way while this one is consumed.
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="es-scan") as pool:
        while True:
            upcoming = pool.submit(fetch, hits[-1]["sort"]) if len(hits) == batch else None
            for hit in hits:
                yield hit.get("_source", {})
            if upcoming is None:
                return
            hits = upcoming.result()
