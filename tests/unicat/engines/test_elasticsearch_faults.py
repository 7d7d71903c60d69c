"""The Elasticsearch engine when the node fails: down at start, gone in the middle of a rebuild, too slow,
overloaded.

The shared node must keep running, so most of its failures are played by an HTTP proxy in front of it
(:mod:`tests.support.fault_proxy`): stopped, it refuses new connections and resets open ones; with a delay, it
holds every answer back; told to, it answers bulk requests with the node's own overload errors (429, 503)
or refuses chosen bulk items with 429. A rejection of items that the real node makes itself (an index
with the flood-stage ``read_only_allow_delete`` block answers every write with a 429 item) is used too.
Everything behind the proxy is the real node.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import closing
from itertools import pairwise
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from aiohttp.test_utils import TestClient
from aiohttp.web import Application
from elasticsearch import Elasticsearch

from search_app.app import make_app
from tests.conftest import EngineContext, build_union_record, stores_beside
from tests.support.fault_proxy import Exchange, FaultProxy, overloaded_ids
from unicat.engines.elasticsearch import ElasticsearchEngine
from unicat.errors import EngineUnavailable, QueryTimeout
from unicat.model import UnionRecord
from unicat.ports.union_index import UnionWrite
from unicat.query import SearchQuery
from unicat.settings import Settings

ClientFactory = Callable[[Application], Awaitable[TestClient[Any, Any]]]
REPO_ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def proxy(elasticsearch_url: str) -> Iterator[FaultProxy]:
    node = urlsplit(elasticsearch_url)
    with FaultProxy(node.hostname or "127.0.0.1", node.port or 9200) as running:
        yield running


@pytest.fixture
def open_through(proxy: FaultProxy) -> Iterator[Callable[..., ElasticsearchEngine]]:
    """Opens engines on one fresh catalogue through the proxy; the catalogue is deleted afterwards."""
    prefix = f"test-faults-{uuid.uuid4().hex[:12]}"
    opened: list[ElasticsearchEngine] = []

    def opener(**changes: Any) -> ElasticsearchEngine:
        url = f"{proxy.url}/{prefix}"
        engine = ElasticsearchEngine(url, Settings(engine_url=url).replace(**changes))
        opened.append(engine)
        return engine

    yield opener
    proxy.delay = 0.0
    if not proxy.listening:
        proxy.start()
    opened[0].delete_catalogue()
    for engine in opened:
        engine.close()


def _records(count: int, tag: str) -> list[UnionRecord]:
    return [
        build_union_record(f"{tag}-{n:05d}", f"Volume {n} of the {tag} series", year=1900)
        for n in range(count)
    ]


def _unicat(engine_url: str, store_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "unicat_cli.cli", "--engine", engine_url, "--store", store_url, *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO_ROOT,
        env={**os.environ, "UNICAT_LOG_LEVEL": "WARNING"},
    )


# -- the node is down when a command starts ---------------------------------------------------------


@pytest.mark.parametrize("command", [["status"], ["index"]])
def test_a_command_against_a_stopped_node_exits_with_one_clear_line(
    proxy: FaultProxy, postgres_database_url: str, command: list[str]
) -> None:
    proxy.stop()
    result = _unicat(f"{proxy.url}/test-faults-down", postgres_database_url, *command)
    assert result.returncode != 0
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    reason = "connection refused; start it or check --engine"
    assert lines == [f"unicat: error: cannot reach Elasticsearch at {proxy.url}: {reason}"]


# -- the node goes away in the middle of a rebuild --------------------------------------------------


def test_a_node_lost_mid_rebuild_fails_clearly_keeps_the_old_index_and_a_rerun_finishes(
    proxy: FaultProxy, open_through: Callable[..., ElasticsearchEngine], elasticsearch_url: str
) -> None:
    retries = 2
    engine = open_through(es_bulk_chunk=100, es_bulk_retries=retries)
    old = _records(30, "old")
    assert engine.replace_union_records(old).written == 30
    new = _records(2_000, "new")
    stop_at = 700

    def feed() -> Iterator[UnionRecord]:
        for n, record in enumerate(new):
            if n == stop_at:
                proxy.stop()
            yield record

    began = time.monotonic()
    with pytest.raises(EngineUnavailable, match=r"cannot reach Elasticsearch .* connection refused"):
        engine.replace_union_records(feed())
    # Each request was tried again after 0.5 s and 1 s before the rebuild gave up.
    assert time.monotonic() - began >= sum(0.5 * 2**attempt for attempt in range(retries))

    proxy.start()
    assert engine.union_count() == 30
    found = engine.search(SearchQuery(page_size=100))
    assert sorted(hit.id for hit in found.hits) == [record.id for record in old]

    assert engine.replace_union_records(new).written == 2_000
    ids = [record.id for record in engine.iter_union_records()]
    assert ids == sorted(record.id for record in new)
    assert engine.union_count() == 2_000
    assert engine.search(SearchQuery(page_size=1)).total == 2_000
    # The generation the failed rebuild left behind is gone: only the served one remains.
    with Elasticsearch(elasticsearch_url) as node:
        generations = node.indices.get(index=f"{engine.names.union}-*").body
        assert list(generations) == list(node.indices.get_alias(name=engine.names.union).body)


# -- the node answers too slowly --------------------------------------------------------------------


def test_a_slow_node_makes_search_raise_query_timeout(
    proxy: FaultProxy, open_through: Callable[..., ElasticsearchEngine]
) -> None:
    engine = open_through(query_timeout=0.3)
    engine.replace_union_records(_records(5, "slow"))
    proxy.delay = 1.0
    began = time.monotonic()
    with pytest.raises(QueryTimeout, match="did not answer the search in time"):
        engine.search(SearchQuery())
    assert time.monotonic() - began < 1.0
    proxy.delay = 0.0
    assert engine.search(SearchQuery()).total == 5


async def test_a_slow_node_makes_the_web_app_answer_503(
    proxy: FaultProxy,
    open_through: Callable[..., ElasticsearchEngine],
    aiohttp_client: ClientFactory,
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> None:
    engine = open_through(query_timeout=0.3)
    engine.replace_union_records(_records(5, "web"))
    catalogue = stores_beside(engine, EngineContext(request, tmp_path))  # the stores in PostgreSQL
    with closing(catalogue.database):
        client = await aiohttp_client(make_app(catalogue, engine.settings))
        assert (await client.get("/api/search?q=volume")).status == 200
        proxy.delay = 1.0
        began = time.monotonic()
        response = await client.get("/api/search?q=volume")
        assert response.status == 503
        assert (await response.json())["error"]["message"] == "the search took too long, try a narrower query"
        assert time.monotonic() - began < 1.0


# -- the node is overloaded -------------------------------------------------------------------------
# Chunks of 100 records: a rebuild of 250 posts three bulk requests, two at a time.
CHUNK = 100


def _rebuild_over_old(
    proxy: FaultProxy, open_through: Callable[..., ElasticsearchEngine], retries: int
) -> tuple[ElasticsearchEngine, list[UnionRecord]]:
    """An engine whose served index holds 30 "old" records; the proxy's log starts after them."""
    engine = open_through(es_bulk_chunk=CHUNK, es_bulk_retries=retries)
    old = _records(30, "old")
    assert engine.replace_union_records(old).written == 30
    proxy.exchanges.clear()
    return engine, old


def _assert_backoff(times: Sequence[float]) -> None:
    """Each retry came at least 0.5 s, 1 s, 2 s… after the attempt before it (the engine's promise)."""
    for attempt, (before, after) in enumerate(pairwise(times)):
        assert after - before >= 0.5 * 2**attempt - 0.02, f"retry {attempt + 1} after {after - before:.3f} s"


def _attempts(exchanges: Sequence[Exchange]) -> dict[tuple[str, ...], list[Exchange]]:
    """Bulk requests grouped by the documents they carry: one group per chunk and its resendings."""
    grouped: dict[tuple[str, ...], list[Exchange]] = {}
    for exchange in exchanges:
        grouped.setdefault(tuple(exchange.bulk_ids()), []).append(exchange)
    return grouped


def _assert_stored_exactly(engine: ElasticsearchEngine, records: Sequence[UnionRecord]) -> None:
    """The served index holds these records, each once and as given: nothing lost, doubled or mixed."""
    assert engine.union_count() == len(records)
    assert list(engine.iter_union_records()) == sorted(records, key=lambda record: record.id)
    assert engine.search(SearchQuery(page_size=1)).total == len(records)


def _assert_old_index_serves(
    engine: ElasticsearchEngine, old: Sequence[UnionRecord], elasticsearch_url: str
) -> None:
    """The index served before a failed rebuild still answers, and the failed generation is gone."""
    assert engine.union_count() == len(old)
    found = engine.search(SearchQuery(page_size=100))
    assert sorted(hit.id for hit in found.hits) == [record.id for record in old]
    with Elasticsearch(elasticsearch_url) as node:
        generations = node.indices.get(index=f"{engine.names.union}-*").body
        assert list(generations) == list(node.indices.get_alias(name=engine.names.union).body)


@pytest.mark.parametrize("status", [429, 503])
def test_whole_bulk_requests_refused_for_overload_are_resent_with_backoff_until_the_node_recovers(
    proxy: FaultProxy, open_through: Callable[..., ElasticsearchEngine], status: int
) -> None:
    engine, _ = _rebuild_over_old(proxy, open_through, retries=3)
    new = _records(250, "new")
    proxy.overload("/_bulk", times=3, status=status)

    assert engine.replace_union_records(new) == UnionWrite(250)

    _assert_stored_exactly(engine, new)
    bulks = proxy.bulk_exchanges()
    assert [exchange.status for exchange in bulks].count(status) == 3
    assert len(bulks) == 3 + 3  # three chunks, three refusals each answered by one resending
    written = [doc_id for exchange in bulks if exchange.status == 200 for doc_id in exchange.bulk_ids()]
    assert sorted(written) == [record.id for record in new]  # each document reached the node once
    for attempts in _attempts(bulks).values():
        assert [exchange.status for exchange in attempts[:-1]] == [status] * (len(attempts) - 1)
        assert attempts[-1].status == 200
        _assert_backoff([exchange.at for exchange in attempts])


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (429, "es_rejected_execution_exception: rejected execution of coordinating operation"),
        (503, r"cluster_block_exception: blocked by: \[SERVICE_UNAVAILABLE/1/state not recovered"),
    ],
)
def test_overload_past_the_retry_budget_fails_the_rebuild_clearly_and_the_old_index_still_serves(
    proxy: FaultProxy,
    open_through: Callable[..., ElasticsearchEngine],
    elasticsearch_url: str,
    status: int,
    reason: str,
) -> None:
    retries = 2
    engine, old = _rebuild_over_old(proxy, open_through, retries=retries)
    new = _records(250, "new")
    proxy.overload("/_bulk", times=10_000, status=status)

    with pytest.raises(
        EngineUnavailable,
        match=(
            f"Elasticsearch at {proxy.url} is overloaded and refused the union rebuild "
            f"\\({reason}.*try again later"
        ),
    ):
        engine.replace_union_records(new)

    bulks = proxy.bulk_exchanges()
    assert {exchange.status for exchange in bulks} == {status}
    attempts = _attempts(bulks)
    # Each request is sent at most 1 + retries times, after the promised pauses; the one that ends the
    # write exactly so (another may see the write abandoned and skip its last attempt).
    assert max(len(sent) for sent in attempts.values()) == 1 + retries
    for sent in attempts.values():
        _assert_backoff([exchange.at for exchange in sent])

    proxy.heal()
    _assert_old_index_serves(engine, old, elasticsearch_url)
    assert engine.replace_union_records(new).written == 250
    _assert_stored_exactly(engine, new)


def test_bulk_items_the_real_node_refuses_with_429_are_resent_until_stored(
    proxy: FaultProxy, open_through: Callable[..., ElasticsearchEngine], elasticsearch_url: str
) -> None:
    """The node itself refuses every write to an index under the flood-stage block with a 429 item;
    the block is lifted once the proxy has seen such an answer pass, and the items must then be stored."""
    engine, _ = _rebuild_over_old(proxy, open_through, retries=5)
    new = _records(250, "new")
    blocked = {"index.blocks.read_only_allow_delete": True}
    with Elasticsearch(elasticsearch_url) as node:

        def lift_once_refused(index: str) -> None:
            deadline = time.monotonic() + 20
            while not overloaded_ids(proxy.bulk_exchanges()) and time.monotonic() < deadline:
                time.sleep(0.01)
            node.indices.put_settings(index=index, settings={"index.blocks.read_only_allow_delete": None})

        lifter: list[threading.Thread] = []

        def feed() -> Iterator[UnionRecord]:
            # The new generation exists once the first record is asked for, before any bulk request.
            served = set(node.indices.get_alias(name=engine.names.union).body)
            (building,) = set(node.indices.get(index=f"{engine.names.union}-*").body) - served
            node.indices.put_settings(index=building, settings=blocked)
            lifter.append(threading.Thread(target=lift_once_refused, args=(building,)))
            lifter[0].start()
            yield from new

        try:
            written = engine.replace_union_records(feed())
        finally:
            for thread in lifter:
                thread.join()

    bulks = proxy.bulk_exchanges()
    refused = overloaded_ids(bulks)
    assert refused, "the node never refused an item"
    assert not any(exchange.injected for exchange in bulks)
    assert written == UnionWrite(250)
    _assert_stored_exactly(engine, new)
    # Each chunk was sent once; then only refused documents were sent again, each after a pause.
    last_sent: dict[str, float] = {}
    first_sends = []
    for exchange in bulks:
        ids = exchange.bulk_ids()
        again = [doc_id for doc_id in ids if doc_id in last_sent]
        if not again:
            first_sends.append(ids)
        else:
            assert again == ids and set(ids) <= refused
            assert all(exchange.at - last_sent[doc_id] >= 0.5 - 0.02 for doc_id in ids)
        last_sent.update(dict.fromkeys(ids, exchange.at))
    assert sorted(first_sends) == [
        [record.id for record in new[at : at + CHUNK]] for at in range(0, 250, CHUNK)
    ]


def test_bulk_items_refused_with_429_are_resent_alone_with_backoff_and_nothing_is_doubled(
    proxy: FaultProxy, open_through: Callable[..., ElasticsearchEngine]
) -> None:
    engine, _ = _rebuild_over_old(proxy, open_through, retries=3)
    new = _records(250, "new")
    chosen = ["new-00003", "new-00117", "new-00118"]  # one in the first chunk, two in the second
    proxy.reject_items(chosen, times=2)

    assert engine.replace_union_records(new) == UnionWrite(250)

    _assert_stored_exactly(engine, new)
    bulks = proxy.bulk_exchanges()
    assert overloaded_ids(bulks) == set(chosen)
    assert sum(len(exchange.bulk_ids()) for exchange in bulks) == 250 + 2 * len(chosen)
    for doc_id in chosen:
        sent = [exchange for exchange in bulks if doc_id in exchange.bulk_ids()]
        assert [exchange.item_statuses()[doc_id] for exchange in sent][:2] == [429, 429]
        assert sent[-1].item_statuses()[doc_id] in (200, 201)
        assert all(set(exchange.bulk_ids()) <= set(chosen) for exchange in sent[1:])
        _assert_backoff([exchange.at for exchange in sent])
    # The refused items of one chunk are resent together, in one request.
    assert [exchange.bulk_ids() for exchange in bulks].count(["new-00117", "new-00118"]) == 2


def test_a_bulk_item_refused_past_the_retry_budget_is_refused_with_why_and_the_rest_is_served(
    proxy: FaultProxy, open_through: Callable[..., ElasticsearchEngine]
) -> None:
    retries = 2
    engine, _ = _rebuild_over_old(proxy, open_through, retries=retries)
    new = _records(250, "new")
    proxy.reject_items(["new-00042"], times=10_000)

    written = engine.replace_union_records(new)

    assert written.written == 249
    kept = [record for record in new if record.id != "new-00042"]
    _assert_stored_exactly(engine, kept)
    assert engine.get_union_record("new-00042") is None
    assert list(written.refused) == ["new-00042"]
    entry = written.refused["new-00042"]
    assert (entry.source, entry.local_id, entry.stage) == ("BNF", "bnf-new-00042", "index")
    assert entry.reason.startswith(
        "Elasticsearch refused union record 'new-00042': es_rejected_execution_exception: "
        "rejected execution of primary operation"
    )
    sent = [exchange for exchange in proxy.bulk_exchanges() if "new-00042" in exchange.bulk_ids()]
    # In its chunk, then with the other refused items after each pause, then once on its own.
    assert len(sent) == 1 + retries + 1
    assert sent[-1].bulk_ids() == ["new-00042"]
    _assert_backoff([exchange.at for exchange in sent[: 1 + retries]])
