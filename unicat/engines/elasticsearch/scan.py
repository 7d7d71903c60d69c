"""Reading a whole index (or a filtered part) in key order, one bounded batch per request.

Each batch is its own ``search_after`` request on a unique sort key, like the SQLite engine's keyset
paging: no scroll or point in time stays open while a caller (an export, a re-index) works slowly.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from elasticsearch import Elasticsearch

BATCH = 500


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
    after: list[Any] | None = None
    while True:
        body: dict[str, Any] = {
            "query": query,
            "sort": [{name: "asc"} for name in sort],
            "size": batch,
            "_source": source if isinstance(source, bool) else list(source),
            "track_total_hits": False,
        }
        if after is not None:
            body["search_after"] = after
        hits = client.search(index=index, body=body)["hits"]["hits"]
        for hit in hits:
            yield hit.get("_source", {})
        if len(hits) < batch:
            return
        after = hits[-1]["sort"]
