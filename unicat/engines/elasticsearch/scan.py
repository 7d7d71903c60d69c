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
    body = {"_source": source if isinstance(source, bool) else list(source)}
    return (hit.get("_source", {}) for hit in _hits(client, index, query, sort, body, batch))


def scan_values(
    client: Elasticsearch,
    index: str,
    query: dict[str, Any],
    sort: Sequence[str],
    fields: Sequence[str],
    batch: int = BATCH,
) -> Iterator[dict[str, list[Any]]]:
    """The doc values of ``fields`` (field → values; an empty field is absent) of every matching
    document, in ``sort`` order. Much cheaper than ``_source`` for a few short keyword fields: no stored
    field is read (not even ``_id``, which shares its compressed block with ``_source``), nothing is
    parsed as JSON."""
    body = {"stored_fields": "_none_", "docvalue_fields": list(fields)}
    return (hit.get("fields", {}) for hit in _hits(client, index, query, sort, body, batch))


def _hits(
    client: Elasticsearch,
    index: str,
    query: dict[str, Any],
    sort: Sequence[str],
    what: dict[str, Any],
    batch: int,
) -> Iterator[Hit]:
    def fetch(after: list[Any] | None) -> list[Hit]:
        body: dict[str, Any] = {
            "query": query,
            "sort": [{name: "asc"} for name in sort],
            "size": batch,
            "track_total_hits": False,
            **what,
        }
        if after is not None:
            body["search_after"] = after
        hits: list[Hit] = client.search(index=index, body=body)["hits"]["hits"]
        return hits

    hits = fetch(None)
    if len(hits) < batch:
        yield from hits
        return
    # More than one batch: from now on the next one is on its way while this one is consumed.
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="es-scan") as pool:
        while True:
            upcoming = pool.submit(fetch, hits[-1]["sort"]) if len(hits) == batch else None
            yield from hits
            if upcoming is None:
                return
            hits = upcoming.result()
