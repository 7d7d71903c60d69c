"""The redirects of merged union ids, read both ways: where an id went (by id, real time) and which ids
point at a record (a record page gathers what readers wrote on every id merged into it)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from elasticsearch import Elasticsearch

from unicat.engines.elasticsearch.indices import IndexNames

MAX_TERMS = 10_000
"""Values in one ``terms`` query or ``mget`` (the node refuses more than ``index.max_terms_count``,
65,536 by default); longer lists are asked in several."""
PAGE = 1_000
"""Hits read per request."""


def _chunks(values: Sequence[str]) -> list[list[str]]:
    unique = list(dict.fromkeys(values))
    return [unique[start : start + MAX_TERMS] for start in range(0, len(unique), MAX_TERMS)]


def redirects_from(client: Elasticsearch, names: IndexNames, union_ids: Sequence[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for chunk in _chunks(union_ids):
        # By id, real time: a redirect saved by a rebuild is seen before any refresh.
        answer = client.mget(index=names.redirects, ids=chunk)
        found.update({doc["_id"]: doc["_source"]["new_id"] for doc in answer["docs"] if doc.get("found")})
    return found


def redirects_to(client: Elasticsearch, names: IndexNames, union_ids: Sequence[str]) -> dict[str, list[str]]:
    # new_id has doc values but no index (redirects.json): the node answers a terms query on it from
    # them, which for a few ids is fast enough, and older catalogues need no new field.
    found: dict[str, list[str]] = {}
    for chunk in _chunks(union_ids):
        after: list[Any] | None = None
        while True:
            request: dict[str, Any] = {
                "query": {"terms": {"new_id": chunk}},
                "sort": [{"old_id": "asc"}],
                "size": PAGE,
                "track_total_hits": False,
            }
            if after is not None:
                request["search_after"] = after
            hits = client.search(index=names.redirects, **request)["hits"]["hits"]
            for hit in hits:
                found.setdefault(hit["_source"]["new_id"], []).append(hit["_source"]["old_id"])
            if len(hits) < PAGE:
                break
            after = hits[-1]["sort"]
    return {new: sorted(olds) for new, olds in found.items()}
