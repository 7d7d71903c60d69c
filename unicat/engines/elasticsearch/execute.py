"""Running a search: one request for the first 10,000 hits, a point in time beyond.

``from``/``size`` cannot reach past the node's ``max_result_window`` (10,000). A deeper page opens a
point in time on the union index, so every request of the walk sees the same documents, and skips to
the page with ``search_after`` in steps of at most 10,000 sort values (no documents fetched), then
fetches the page itself. The total and the facets come from the first request of the walk.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from elasticsearch import Elasticsearch

from unicat.engines.elasticsearch.search import (
    HIT_SOURCE,
    facet_aggregations,
    read_facets,
    search_parts,
    sort_of,
)
from unicat.errors import EngineError, QueryTimeout
from unicat.model import UnionRecord
from unicat.query import SearchQuery, SearchResult

MAX_WINDOW = 10_000
# A search whose index was deleted under it by a rebuild is run again once, on the new generation.
SEARCH_ATTEMPTS = 2
PIT_KEEP_ALIVE = "1m"


class RetryableSearchError(EngineError):
    """The index a search ran on vanished under it (a rebuild deleted the old generation): retry."""


def checked(answer: dict[str, Any], timeout: float) -> dict[str, Any]:
    """``answer``, unless it timed out (:class:`QueryTimeout`) or a shard failed it (retryable)."""
    if answer.get("timed_out"):
        raise QueryTimeout(f"the search ran past its time limit of {timeout:g} s; narrow it down")
    shards = answer.get("_shards", {})
    if shards.get("failed"):
        reasons = [str(f.get("reason", {}).get("type", "")) for f in shards.get("failures", [])]
        raise RetryableSearchError(f"{shards['failed']} shard(s) failed the search: {', '.join(reasons)}")
    return answer


def run_search(
    client: Elasticsearch, index: str, query: SearchQuery, timeout: float, shards: int
) -> dict[str, Any]:
    """The answer (hits of the asked page, total, aggregations) of ``query`` on ``index``."""
    alone = one_request_body(query, timeout, shards)
    if alone is not None:
        return checked(client.search(index=index, body=alone).body, timeout)
    body = _body(query, timeout)
    aggregations = facet_aggregations(query, shards)
    if query.offset + query.page_size > MAX_WINDOW:
        if aggregations:
            body["aggs"] = aggregations
        return _deep_page(client, index, body, query, timeout)
    body.update({"from": query.offset, "size": query.page_size})
    with_hits = {name: agg for name, agg in aggregations.items() if name in WITH_HITS}
    apart = {name: agg for name, agg in aggregations.items() if name not in WITH_HITS}
    return _in_two_halves(client, index, {**body, "aggs": with_hits}, apart, timeout)


def one_request_body(query: SearchQuery, timeout: float, shards: int) -> dict[str, Any] | None:
    """The one ``_search`` body that answers ``query`` (a page within the first window, every facet
    counted with the hits), as :func:`run_search` sends it; ``None`` when it takes more requests."""
    if query.offset + query.page_size > MAX_WINDOW:
        return None
    aggregations = facet_aggregations(query, shards)
    if any(name not in WITH_HITS for name in aggregations):
        return None
    return {**_body(query, timeout), "from": query.offset, "size": query.page_size, "aggs": aggregations}


def _body(query: SearchQuery, timeout: float) -> dict[str, Any]:
    """The request of ``query``'s match, sort and hits, without paging or facets."""
    match, post_filter = search_parts(query)
    body: dict[str, Any] = {
        "query": match,
        "sort": sort_of(query),
        "track_total_hits": True,
        "timeout": f"{max(1, int(timeout * 1000))}ms",
        "_source": HIT_SOURCE,
    }
    if post_filter is not None:
        body["post_filter"] = post_filter
    return body


def in_one_request(query: SearchQuery) -> bool:
    """Whether :func:`run_searches` can answer ``query``: no facets, a page within the first window."""
    return not query.facets and query.offset + query.page_size <= MAX_WINDOW


def run_searches(
    client: Elasticsearch, index: str, queries: Sequence[SearchQuery], timeout: float
) -> list[dict[str, Any] | None]:
    """The answers of several searches without facets (:func:`in_one_request`) in one ``_msearch``
    request, each the request :func:`run_search` would send; ``None`` for a search the node refused
    or answered in part, which the caller runs alone to get its answer or its error."""
    searches: list[dict[str, Any]] = []
    for query in queries:
        searches += [
            {"index": index},
            {**_body(query, timeout), "from": query.offset, "size": query.page_size},
        ]
    answers = client.msearch(searches=searches).body["responses"]
    found: list[dict[str, Any] | None] = []
    for answer in answers:
        failed = "error" in answer or answer.get("timed_out") or answer.get("_shards", {}).get("failed")
        found.append(None if failed else answer)
    return found


# Facets counted in the request of the hits; the others in a second request run beside it.
WITH_HITS = frozenset({"subject"})


def _in_two_halves(
    client: Elasticsearch, index: str, body: dict[str, Any], apart: dict[str, Any], timeout: float
) -> dict[str, Any]:
    """The hits with some facets, and the other facets, as two searches the node runs at once.

    A shard runs one search's aggregations one after the other on one thread: at 80,000 matches the
    five facets took 26 ms of a 46 ms search. ``_msearch`` hands both searches to the node's search
    threads together. Both name the union alias; should a rebuild swap it between them, their first
    hits come from two generations, and the facets are counted again with the hits; so they are when
    a half is refused.
    """
    facets = {
        "query": body["query"],
        "size": 1,
        "sort": ["_doc"],
        "_source": False,
        "track_total_hits": False,
        "timeout": body["timeout"],
        "aggs": apart,
    }
    answers = client.msearch(searches=[{"index": index}, body, {"index": index}, facets]).body["responses"]
    if not any("error" in answer for answer in answers):
        main, other = (checked(answer, timeout) for answer in answers)
        hits, other_hits = main["hits"]["hits"], other["hits"]["hits"]
        if not (hits and other_hits and hits[0]["_index"] != other_hits[0]["_index"]):
            main.setdefault("aggregations", {}).update(other.get("aggregations", {}))
            return main
    # A half refused (its error comes back as an answer, not as the client's exception) or the two
    # halves saw two generations: one plain search, whose errors the engine reports as any search's.
    merged = {**body["aggs"], **apart}
    return checked(client.search(index=index, body={**body, "aggs": merged}).body, timeout)


def _deep_page(
    client: Elasticsearch, index: str, body: dict[str, Any], query: SearchQuery, timeout: float
) -> dict[str, Any]:
    pit = client.open_point_in_time(index=index, keep_alive=PIT_KEEP_ALIVE)["id"]
    try:
        to_skip = query.offset
        step = min(to_skip, MAX_WINDOW)
        first = {**body, "size": step, "_source": False, "pit": {"id": pit, "keep_alive": PIT_KEEP_ALIVE}}
        answer = checked(client.search(body=first).body, timeout)
        summary = {"hits": {"total": answer["hits"]["total"]}, "aggregations": answer.get("aggregations", {})}
        hits = answer["hits"]["hits"]
        to_skip -= len(hits)
        rest = {key: value for key, value in first.items() if key != "aggs"}
        rest["track_total_hits"] = False
        while to_skip > 0 and len(hits) == step:
            pit = answer.get("pit_id", pit)
            step = min(to_skip, MAX_WINDOW)
            after = hits[-1]["sort"]
            rest.update(size=step, search_after=after, pit={"id": pit, "keep_alive": PIT_KEEP_ALIVE})
            answer = checked(client.search(body=rest).body, timeout)
            hits = answer["hits"]["hits"]
            to_skip -= len(hits)
        page: list[dict[str, Any]] = []
        if to_skip == 0:
            pit = answer.get("pit_id", pit)
            if hits:
                rest["search_after"] = hits[-1]["sort"]
            rest.update(
                size=query.page_size, _source=HIT_SOURCE, pit={"id": pit, "keep_alive": PIT_KEEP_ALIVE}
            )
            page = checked(client.search(body=rest).body, timeout)["hits"]["hits"]
        summary["hits"]["hits"] = page
        return summary
    finally:
        client.close_point_in_time(id=pit)


def vanished(exc: BaseException) -> bool:
    """Whether a search failed because its index (or point in time) disappeared under it."""
    if isinstance(exc, RetryableSearchError):
        return True
    text = str(exc)
    return any(
        marker in text
        for marker in (
            "index_not_found",
            "search_context_missing",
            "no_shard_available",
            "search_phase_execution",
        )
    )


def search_result(
    answer: dict[str, Any], query: SearchQuery, began: float, *, documents: bool = False
) -> SearchResult:
    """The engine's result of ``query`` from the node's ``answer``; ``began`` (``time.perf_counter()``)
    when the search started; with ``documents``, the hits as the stored documents."""
    stored = [hit["_source"]["doc"] for hit in answer["hits"]["hits"]]
    total = int(answer["hits"]["total"]["value"])
    if documents:
        result = SearchResult(total=total, hits=[], documents=stored)
    else:
        result = SearchResult(total=total, hits=[UnionRecord.from_json(doc) for doc in stored])
    if query.facets and total:
        result.facets = read_facets(answer.get("aggregations", {}))
    result.took_ms = (time.perf_counter() - began) * 1000
    return result
