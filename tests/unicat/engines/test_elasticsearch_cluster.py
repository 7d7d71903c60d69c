"""A catalogue on a three-node cluster (1 shard, 1 replica: docs/scaling-out.md says why): it answers as
on one node, and searches go on answering when a node holding its primary is killed (SIGKILL) under a
steady search load: the engine's own (threads of the synchronous client) and the web app's (searches
awaited over its session, unicat/engines/elasticsearch/search_session.py).

Real records (tests/support/shared_data.py) go through the real import and index into both the cluster
and the single test node; the engine is named by the cluster's three URLs, so its client fails over.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import statistics
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from harvester.importer import import_files
from indexer import run_index
from tests.support.es_cluster import ClusterNode, EsCluster
from tests.support.shared_data import SHARED_DATA
from unicat.catalogue import Catalogue
from unicat.engines.elasticsearch import ElasticsearchEngine
from unicat.errors import UnicatError
from unicat.model import Source
from unicat.query import SearchQuery, parse_search_params
from unicat.settings import Settings
from unicat_cli.wiring import open_catalogue

SOURCES = [
    (Source("UVA", "University of Virginia"), "marc21/uva_001_2000.mrc"),
    (Source("PPF", "Pride and Prejudice libraries"), "dedup/pride-and-prejudice-fixed.mrc"),
    (Source("SCPO", "Sciences Po", profile="unimarc"), "unimarc/cotes8.mrc"),
]
# Broad and selective, words and fields, with and without matches in each source.
QUERIES = ["", "history", "pride prejudice", "austen", "united states", "title:war", "virginia", "droit"]
LOAD_THREADS = 3
BEFORE_KILL = 2.0
AFTER_NOTICED = 4.0
NOTICE_TIMEOUT = 60.0


def _query(text: str, **params: str) -> SearchQuery:
    return parse_search_params({"q": [text], **{name: [value] for name, value in params.items()}}, Settings())


def _build(tmp_path: Path, index_url: str, **settings: int) -> Catalogue:
    """Import the sources' files and index them, as `unicat import` and `unicat index` do."""
    catalogue = open_catalogue(
        Settings(engine_url=index_url, store_url=f"sqlite:///{tmp_path / 'stores.db'}").replace(**settings)
    )
    for source, relative in SOURCES:
        catalogue.records.save_source(source)
        import_files(catalogue.records, source, [SHARED_DATA / relative])
    run_index(catalogue.records, catalogue.index)
    return catalogue


def _closed(catalogue: Catalogue) -> None:
    assert isinstance(catalogue.index, ElasticsearchEngine)
    catalogue.index.delete_catalogue()
    catalogue.close()


@pytest.fixture(scope="module")
def on_cluster(
    elasticsearch_cluster: EsCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Catalogue]:
    url = elasticsearch_cluster.engine_url(f"test-cluster-{uuid.uuid4().hex[:12]}")
    catalogue = _build(tmp_path_factory.mktemp("cluster"), url, es_shards=1, es_replicas=1)
    elasticsearch_cluster.wait_ready()  # every replica copied: any one node may now die
    yield catalogue
    _closed(catalogue)


@pytest.fixture(scope="module")
def on_one_node(elasticsearch_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Catalogue]:
    url = f"{elasticsearch_url}/test-one-node-{uuid.uuid4().hex[:12]}"
    catalogue = _build(tmp_path_factory.mktemp("one-node"), url)
    yield catalogue
    _closed(catalogue)


def test_the_union_indices_have_the_configured_shards_and_replicas(
    elasticsearch_cluster: EsCluster, on_cluster: Catalogue
) -> None:
    assert isinstance(on_cluster.index, ElasticsearchEngine)
    prefix = on_cluster.index.names.prefix
    # The balancer may still be moving a shard between nodes after the build: let it settle.
    elasticsearch_cluster.wait_ready()
    shards = _get(
        elasticsearch_cluster.urls[0], f"/_cat/shards/{prefix}-*?format=json&h=index,prirep,state,node"
    )
    indices = {row["index"] for row in shards}
    assert any("-union-" in index for index in indices) and f"{prefix}-meta" in indices
    for index in indices:
        rows = [row for row in shards if row["index"] == index]
        assert sorted(row["prirep"] for row in rows) == ["p", "r"], index
        assert {row["state"] for row in rows} == {"STARTED"}
        assert len({row["node"] for row in rows}) == 2  # a replica never shares its primary's node


@pytest.mark.parametrize("text", QUERIES)
def test_the_cluster_answers_as_one_node(text: str, on_cluster: Catalogue, on_one_node: Catalogue) -> None:
    query = _query(text, page_size="100")
    here, there = on_one_node.index.search(query), on_cluster.index.search(query)
    assert there.total == here.total
    for name, counts in here.facets.items():
        assert there.facets.get(name) == counts, name
    assert there.facets.keys() == here.facets.keys()
    if here.total <= query.page_size:
        # The order of equally relevant hits may differ (each copy of a shard has its own statistics).
        assert sorted(hit.id for hit in there.hits) == sorted(hit.id for hit in here.hits)
    by_title = _query(text, sort="title", page_size="100")
    assert on_cluster.index.search(by_title).total == here.total


@dataclass(frozen=True)
class Attempt:
    began: float
    seconds: float
    failure: str | None  # None: answered, with the total the catalogue has


def test_searches_survive_a_node_killed_under_load(
    elasticsearch_cluster: EsCluster, on_cluster: Catalogue
) -> None:
    queries = [_query(text) for text in QUERIES]
    expected = [on_cluster.index.search(query).total for query in queries]
    assert isinstance(on_cluster.index, ElasticsearchEngine)
    victim = _node_holding_primaries(elasticsearch_cluster, on_cluster.index.names.prefix)
    attempts: list[Attempt] = []
    awaited: list[Attempt] = []
    stop = threading.Event()

    def search_steadily(offset: int) -> None:
        turn = offset
        while not stop.is_set():
            position = turn % len(queries)
            turn += 1
            began = time.monotonic()
            failure = None
            try:
                total = on_cluster.index.search(queries[position]).total
                if total != expected[position]:
                    failure = f"answered {total} records instead of {expected[position]}"
            except UnicatError as exc:
                failure = str(exc)
            attempts.append(Attempt(began, time.monotonic() - began, failure))

    async def await_steadily() -> None:
        """The web app's way: the searches one request answers (no facets), awaited in a loop."""
        searcher = on_cluster.index.async_searcher()
        assert searcher is not None
        plain = [dataclasses.replace(query, facets=False) for query in queries]
        turn = 0
        try:
            while not stop.is_set():
                position = turn % len(plain)
                turn += 1
                began = time.monotonic()
                failure = None
                try:
                    found = await searcher.search(plain[position])
                    total = None if found is None else found.total
                    if total != expected[position]:
                        failure = f"answered {total} records instead of {expected[position]}"
                except UnicatError as exc:
                    failure = str(exc)
                awaited.append(Attempt(began, time.monotonic() - began, failure))
        finally:
            await searcher.close()

    threads = [threading.Thread(target=search_steadily, args=(n,)) for n in range(LOAD_THREADS)]
    threads.append(threading.Thread(target=asyncio.run, args=(await_steadily(),)))
    for thread in threads:
        thread.start()
    try:
        time.sleep(BEFORE_KILL)
        killed_at = time.monotonic()
        elasticsearch_cluster.kill(victim)
        noticed_at = _wait_noticed(elasticsearch_cluster, victim)
        time.sleep(AFTER_NOTICED)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    print(
        f"\nkilled {victim.name} (primaries of the union); "
        f"the cluster noticed after {noticed_at - killed_at:.1f} s."
    )
    assert noticed_at - killed_at < NOTICE_TIMEOUT
    for name, made in (("engine's", attempts), ("awaited", awaited)):
        before = [a for a in made if a.began < killed_at]
        during = [a for a in made if killed_at <= a.began < noticed_at]
        after = [a for a in made if a.began >= noticed_at]
        failed_during = [a.failure for a in during if a.failure]
        print(
            f"The {name} searches before: {len(before)}; during: {len(during)}, {len(failed_during)} failed, "
            f"p95 {_p95(during):.0f} ms; after: {len(after)}, p95 {_p95(after):.0f} ms"
        )
        assert before and all(a.failure is None for a in before), name
        # The window itself is bounded (the cluster notices), and so are the failures in it: at most
        # the searches that were in it.
        assert len(failed_during) <= len(during), name
        assert after, f"none of the {name} searches ran once the cluster had noticed"
        assert [a.failure for a in after if a.failure] == [], name
    elasticsearch_cluster.restart(victim)  # whole again, for whatever runs next on it


def _get(url: str, path: str) -> list[dict[str, str]]:
    with urllib.request.urlopen(f"{url}{path}", timeout=10) as response:
        answer: list[dict[str, str]] = json.load(response)
        return answer


def _node_holding_primaries(cluster: EsCluster, prefix: str) -> ClusterNode:
    """The node holding the most primaries of the union generation (a primary of it, in any case)."""
    shards = _get(cluster.urls[0], f"/_cat/shards/{prefix}-union-*?format=json&h=prirep,node")
    holders = [row["node"] for row in shards if row["prirep"] == "p"]
    name = max(set(holders), key=holders.count)
    return next(node for node in cluster.nodes if node.name == name)


def _wait_noticed(cluster: EsCluster, victim: ClusterNode) -> float:
    """When the cluster, asked through a live node, counts two nodes and has every primary active."""
    deadline = time.monotonic() + NOTICE_TIMEOUT
    while time.monotonic() < deadline:
        health = cluster.health()
        if health is not None and health.get("number_of_nodes") == 2 and health.get("status") != "red":
            return time.monotonic()
        time.sleep(0.1)
    raise AssertionError(f"the cluster did not notice {victim.name} was gone within {NOTICE_TIMEOUT:.0f} s")


def _p95(attempts: list[Attempt]) -> float:
    if len(attempts) < 2:
        return attempts[0].seconds * 1000 if attempts else 0.0
    return statistics.quantiles([a.seconds * 1000 for a in attempts], n=20)[-1]
