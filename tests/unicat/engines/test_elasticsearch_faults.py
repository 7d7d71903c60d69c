"""The Elasticsearch engine when the node fails: down at start, gone in the middle of a rebuild, too slow.

The shared node must keep running, so its failures are played by a TCP proxy in front of it
(:mod:`tests.fault_proxy`): stopped, it refuses new connections and resets open ones; with a delay, it
holds every answer back. Everything behind the proxy is the real node.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from aiohttp.test_utils import TestClient
from aiohttp.web import Application
from elasticsearch import Elasticsearch

from search_app.app import make_app
from tests.conftest import build_union_record
from tests.fault_proxy import FaultProxy
from unicat.engines.elasticsearch import ElasticsearchEngine
from unicat.errors import EngineUnavailable, QueryTimeout
from unicat.model import UnionRecord
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


def _unicat(engine_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "unicat.cli", "--engine", engine_url, *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO_ROOT,
        env={**os.environ, "UNICAT_LOG_LEVEL": "WARNING"},
    )


# -- the node is down when a command starts ---------------------------------------------------------


@pytest.mark.parametrize("command", [["status"], ["index"]])
def test_a_command_against_a_stopped_node_exits_with_one_clear_line(
    proxy: FaultProxy, command: list[str]
) -> None:
    proxy.stop()
    result = _unicat(f"{proxy.url}/test-faults-down", *command)
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
    assert engine.replace_union_records(old, {}) == 30
    new = _records(2_000, "new")
    stop_at = 700

    def feed() -> Iterator[UnionRecord]:
        for n, record in enumerate(new):
            if n == stop_at:
                proxy.stop()
            yield record

    began = time.monotonic()
    with pytest.raises(EngineUnavailable, match=r"cannot reach Elasticsearch .* connection refused"):
        engine.replace_union_records(feed(), {})
    # Each request was tried again after 0.5 s and 1 s before the rebuild gave up.
    assert time.monotonic() - began >= sum(0.5 * 2**attempt for attempt in range(retries))

    proxy.start()
    assert engine.union_count() == 30
    found = engine.search(SearchQuery(page_size=100))
    assert sorted(hit.id for hit in found.hits) == [record.id for record in old]

    assert engine.replace_union_records(new, {}) == 2_000
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
    engine.replace_union_records(_records(5, "slow"), {})
    proxy.delay = 1.0
    began = time.monotonic()
    with pytest.raises(QueryTimeout, match="did not answer the search in time"):
        engine.search(SearchQuery())
    assert time.monotonic() - began < 1.0
    proxy.delay = 0.0
    assert engine.search(SearchQuery()).total == 5


async def test_a_slow_node_makes_the_web_app_answer_503(
    proxy: FaultProxy, open_through: Callable[..., ElasticsearchEngine], aiohttp_client: ClientFactory
) -> None:
    engine = open_through(query_timeout=0.3)
    engine.replace_union_records(_records(5, "web"), {})
    client = await aiohttp_client(make_app(engine, engine.settings))
    assert (await client.get("/api/search?q=volume")).status == 200
    proxy.delay = 1.0
    began = time.monotonic()
    response = await client.get("/api/search?q=volume")
    assert response.status == 503
    assert (await response.json())["error"]["message"] == "the search took too long, try a narrower query"
    assert time.monotonic() - began < 1.0
