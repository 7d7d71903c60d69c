"""The web app's awaited searches when nodes fail (unicat/engines/elasticsearch/search_session.py): the
session's node rotation, setting aside and retries, against the real node behind fault proxies
(:mod:`tests.support.fault_proxy`: stopped, a proxy refuses new connections and resets open ones, as a
node that died; told to, it answers with the node's own overload errors; with a delay, it holds the
answers back). The errors are those of the synchronous search
(tests/unicat/engines/test_elasticsearch_faults.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from urllib.parse import urlsplit

import pytest

from tests.conftest import build_union_record
from tests.support.fault_proxy import FaultProxy
from unicat.engines.elasticsearch import ElasticsearchEngine
from unicat.engines.elasticsearch.async_search import ElasticsearchAsyncSearcher
from unicat.engines.elasticsearch.connection import parse_engine_url
from unicat.engines.elasticsearch.indices import IndexNames
from unicat.engines.elasticsearch.search_session import FIRST_REST
from unicat.errors import EngineError, EngineUnavailable, QueryTimeout
from unicat.query import SearchQuery
from unicat.settings import Settings

RECORDS = 5
QUERY = SearchQuery(facets=False)


@pytest.fixture
def prefix(elasticsearch_url: str) -> Iterator[str]:
    """A catalogue of five union records written to the node itself, deleted afterwards."""
    name = f"test-session-{uuid.uuid4().hex[:12]}"
    url = f"{elasticsearch_url}/{name}"
    engine = ElasticsearchEngine(url, Settings(engine_url=url))
    try:
        engine.replace_union_records(
            [build_union_record(f"s-{n}", f"Volume {n} of the series", year=1900) for n in range(RECORDS)]
        )
        yield name
        engine.delete_catalogue()
    finally:
        engine.close()


@pytest.fixture
def proxies(elasticsearch_url: str) -> Iterator[tuple[FaultProxy, FaultProxy]]:
    """Two proxies to the one real node: two nodes of a cluster, as the session sees them."""
    node = urlsplit(elasticsearch_url)
    with (
        FaultProxy(node.hostname or "127.0.0.1", node.port or 9200) as first,
        FaultProxy(node.hostname or "127.0.0.1", node.port or 9200) as second,
    ):
        yield first, second


@contextlib.asynccontextmanager
async def searching(
    prefix: str, *nodes: FaultProxy, **settings: float
) -> AsyncIterator[ElasticsearchAsyncSearcher]:
    """A searcher of ``prefix``'s union over ``nodes``, closed after the block."""
    url = ",".join(node.url for node in nodes) + f"/{prefix}"
    searcher = ElasticsearchAsyncSearcher(
        parse_engine_url(url), IndexNames(prefix).union, Settings(engine_url=url).replace(**settings)
    )
    try:
        yield searcher
    finally:
        await searcher.close()


async def answers(session: ElasticsearchAsyncSearcher, times: int = 1) -> None:
    """Search ``times`` times, each answered with every record."""
    for _ in range(times):
        found = await session.search(QUERY)
        assert found is not None and found.total == RECORDS


def searches(proxy: FaultProxy) -> list[int]:
    """The statuses of the searches that reached ``proxy``, in order."""
    return [exchange.status for exchange in list(proxy.exchanges) if exchange.path.endswith("/_search")]


async def test_searches_take_the_nodes_in_turn_and_a_dead_one_is_set_aside_until_it_is_back(
    prefix: str, proxies: tuple[FaultProxy, FaultProxy]
) -> None:
    first, second = proxies
    async with searching(prefix, first, second, es_bulk_retries=1) as session:
        await answers(session, 4)
        assert len(searches(first)) == len(searches(second)) == 2
        first.stop()
        # Its open connection is reset and new ones refused: the search that meets it is sent to the
        # other node, and the searches after it go there alone while it rests.
        await answers(session, 6)
        assert len(searches(first)) == 2 and len(searches(second)) == 8
        first.start()
        await asyncio.sleep(FIRST_REST + 0.2)
        await answers(session, 4)
        assert len(searches(first)) == 4 and len(searches(second)) == 10


async def test_overload_answers_are_sent_again_and_past_the_retries_the_search_is_unavailable(
    prefix: str, proxies: tuple[FaultProxy, FaultProxy]
) -> None:
    node = proxies[0]
    async with searching(prefix, node, es_bulk_retries=2) as session:
        node.overload("/_search", 2, 429)
        await answers(session)
        assert searches(node) == [429, 429, 200]
        node.overload("/_search", 3, 503)
        with pytest.raises(EngineUnavailable) as raised:
            await session.search(QUERY)
        assert str(raised.value) == (
            f"Elasticsearch at {node.url} is overloaded and refused the search (cluster_block_exception: "
            "blocked by: [SERVICE_UNAVAILABLE/1/state not recovered / initialized];); try again later"
        )
        assert searches(node) == [429, 429, 200, 503, 503, 503]


async def test_a_slow_node_is_a_query_timeout_and_is_not_asked_again(
    prefix: str, proxies: tuple[FaultProxy, FaultProxy]
) -> None:
    first, second = proxies
    async with searching(prefix, first, second, query_timeout=0.3) as session:
        first.delay = second.delay = 1.0
        began = time.monotonic()
        with pytest.raises(QueryTimeout, match="did not answer the search in time"):
            await session.search(QUERY)
        assert time.monotonic() - began < 0.9
        first.delay = second.delay = 0.0
        await answers(session)
        assert len(searches(first)) + len(searches(second)) == 2


async def test_every_node_gone_is_one_clear_error_naming_them(
    prefix: str, proxies: tuple[FaultProxy, FaultProxy]
) -> None:
    first, second = proxies
    async with searching(prefix, first, second, es_bulk_retries=3) as session:
        first.stop()
        second.stop()
        with pytest.raises(EngineUnavailable) as raised:
            await session.search(QUERY)
        assert str(raised.value) == (
            f"cannot reach Elasticsearch at {first.url},{second.url}: connection refused; "
            "start it or check --engine"
        )


async def test_a_refused_search_names_the_nodes_reason(
    prefix: str, proxies: tuple[FaultProxy, FaultProxy]
) -> None:
    node = proxies[0]
    async with searching(f"{prefix}-nothing", node) as session:
        with pytest.raises(EngineError, match="refused the search: index_not_found_exception: no such index"):
            await session.search(QUERY)
        # The index may have vanished under a rebuild: asked once more, then given up.
        assert searches(node) == [404, 404]
