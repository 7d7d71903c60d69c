"""`unicat index` into a three-node cluster (1 shard, 1 replica) while the node holding the new
generation's primary is killed (SIGKILL) part way through the write: the run still ends with the index
holding exactly the union records a run without the kill gives, none lost, none twice.

The catalogue is grown from real records (``bench/corpus.py``), large enough that the write lasts
seconds, and imported into one record store. The expected union records come from the same store
indexed into SQLite first: the Elasticsearch run that follows reads the same memberships, so it must
give every record the same id and the same members.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench.corpus import union_records, write_marc
from harvester.importer import import_files
from indexer import IndexReport, run_index
from tests.support.es_cluster import ClusterNode, EsCluster
from unicat.catalogue import Catalogue
from unicat.engines.elasticsearch import ElasticsearchEngine
from unicat.model import Source
from unicat.settings import Settings
from unicat_cli.wiring import open_catalogue

# Three nodes to start, a corpus to grow, import and index twice: 3-4 minutes on 2 shared cores, near
# the suite's 300 s per test.
pytestmark = pytest.mark.timeout(900)

# Enough records that the write lasts several seconds on the test machine, so the kill lands in it.
CORPUS_RECORDS = 40_000
CORPUS_SEED = 1
SOURCE = Source("BIG", "A network's worth of real records, recombined")
# The kill waits until the node has indexed this share of the records (the write is well under way).
KILL_AFTER_SHARE = 0.25
RUN_TIMEOUT = 300.0


@dataclass(frozen=True)
class Expected:
    """What a run without the kill gives: each union id with its members; and the stored records'
    keys, which those members must partition."""

    members: dict[str, frozenset[tuple[str, str]]]
    stored: frozenset[tuple[str, str]]


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Expected]]:
    """The record store holding the corpus, and the union records it gives in SQLite."""
    folder = tmp_path_factory.mktemp("node-killed")
    marc = folder / "corpus.mrc"
    write_marc(CORPUS_RECORDS, CORPUS_SEED, marc)
    settings = Settings(
        engine_url=f"sqlite:///{folder / 'expected-index.db'}", store_url=f"sqlite:///{folder / 'stores.db'}"
    )
    with open_catalogue(settings) as catalogue:
        catalogue.records.save_source(SOURCE)
        import_files(catalogue.records, SOURCE, [marc])
        run_index(catalogue.records, catalogue.index)
        stored = frozenset((r.source, r.local_id) for r in catalogue.records.iter_source_records())
        expected = Expected(_members(catalogue), stored)
    yield folder / "stores.db", expected


def _members(catalogue: Catalogue) -> dict[str, frozenset[tuple[str, str]]]:
    members: dict[str, frozenset[tuple[str, str]]] = {}
    for record in catalogue.index.iter_union_records():
        assert record.id not in members, f"{record.id} read twice"
        members[record.id] = frozenset((ref.source, ref.local_id) for ref in record.sources)
    return members


def test_an_index_run_survives_the_primary_s_node_killed_mid_write(
    elasticsearch_cluster: EsCluster, stores: tuple[Path, Expected], caplog: pytest.LogCaptureFixture
) -> None:
    store_file, expected = stores
    # The run without the kill is itself checked against the store: each stored record is a member of
    # exactly one union record (some of the corpus' recombined records merge as one edition).
    assert sum(len(members) for members in expected.members.values()) == len(expected.stored)
    assert frozenset().union(*expected.members.values()) == expected.stored == _corpus_keys()
    prefix = f"test-killed-{uuid.uuid4().hex[:12]}"
    settings = Settings(
        engine_url=elasticsearch_cluster.engine_url(prefix),
        store_url=f"sqlite:///{store_file}",
        es_shards=1,
        es_replicas=1,
    )
    catalogue = open_catalogue(settings)
    assert isinstance(catalogue.index, ElasticsearchEngine)
    outcome: list[IndexReport | BaseException] = []

    def index() -> None:
        try:
            outcome.append(run_index(catalogue.records, catalogue.index))
        except BaseException as exc:  # the test reports it below
            outcome.append(exc)

    run = threading.Thread(target=index)
    victim: ClusterNode | None = None
    try:
        with caplog.at_level(logging.INFO, logger="unicat.engines.elasticsearch"):
            started_at = time.monotonic()
            run.start()
            victim, indexed_at_kill = _kill_mid_write(
                elasticsearch_cluster, prefix, run, len(expected.members)
            )
            killed_at = time.monotonic()
            run.join(RUN_TIMEOUT)
            finished_at = time.monotonic()
        assert not run.is_alive(), f"the index run did not end within {RUN_TIMEOUT:.0f} s of the kill"
        result = outcome[0]
        if isinstance(result, BaseException):
            raise AssertionError(f"the index run failed after {victim.name} was killed: {result}") from result
        assert result.union_records == len(expected.members)
        assert catalogue.index.union_count() == len(expected.members)
        found = _members(catalogue)
        assert found.keys() == expected.members.keys()
        assert found == expected.members
        retried = [r.getMessage() for r in caplog.records if "sent again" in r.getMessage()]
        print(
            f"\nkilled {victim.name} (the new generation's primary) {killed_at - started_at:.1f} s into "
            f"the run, after {indexed_at_kill:,} of {len(expected.members):,} documents; the run ended "
            f"{finished_at - killed_at:.1f} s later with every record (write phase "
            f"{result.seconds['write']:.1f} s); {'; '.join(retried) or 'no bulk request sent again'}"
        )
    finally:
        run.join(RUN_TIMEOUT)
        catalogue.index.delete_catalogue()
        catalogue.close()
        if victim is not None:
            elasticsearch_cluster.restart(victim)  # whole again, for whatever runs next on it


def _corpus_keys() -> frozenset[tuple[str, str]]:
    """The keys of the corpus' records: its MARC records carry their union ids in 001, which the
    import keeps as local ids."""
    return frozenset((SOURCE.code, record.id) for record in union_records(CORPUS_RECORDS, CORPUS_SEED))


def _kill_mid_write(
    cluster: EsCluster, prefix: str, run: threading.Thread, total: int
) -> tuple[ClusterNode, int]:
    """Wait until the new generation's primary has indexed a good share of the records, then SIGKILL
    the node holding it; the victim and how many documents it had indexed."""
    deadline = time.monotonic() + RUN_TIMEOUT
    while time.monotonic() < deadline and run.is_alive():
        building = _building_generation(cluster, prefix)
        if building is not None:
            index, node_name = building
            indexed = _indexed(cluster, index)
            if indexed >= total * KILL_AFTER_SHARE:
                assert indexed < total, "the write was over before the kill: use a larger corpus"
                victim = next(node for node in cluster.nodes if node.name == node_name)
                cluster.kill(victim)
                return victim, indexed
        time.sleep(0.05)
    raise AssertionError("the index run never wrote a share of its records to a new generation")


def _building_generation(cluster: EsCluster, prefix: str) -> tuple[str, str] | None:
    """The union generation being written (generation 0 is the empty one the catalogue opened with)
    and the node holding its primary, once it has one."""
    rows = _cat_shards(cluster, f"{prefix}-union-*")
    started = [row for row in rows if row["prirep"] == "p" and row["state"] == "STARTED"]
    building = [row for row in started if not row["index"].endswith("-0")]
    if not building:
        return None
    newest = max(building, key=lambda row: int(row["index"].rsplit("-", 1)[1]))
    return newest["index"], newest["node"]


def _indexed(cluster: EsCluster, index: str) -> int:
    """Documents the index's primaries have taken (counted before any refresh makes them visible)."""
    stats = json.loads(_get(cluster, f"/{index}/_stats/indexing"))
    return int(stats["_all"]["primaries"]["indexing"]["index_total"])


def _cat_shards(cluster: EsCluster, pattern: str) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = json.loads(
        _get(cluster, f"/_cat/shards/{pattern}?format=json&h=index,prirep,state,node")
    )
    return rows


def _get(cluster: EsCluster, path: str) -> bytes:
    """The body of a GET answered by whichever node still answers."""
    for node in cluster.nodes:
        try:
            with urllib.request.urlopen(f"{node.url}{path}", timeout=10) as response:
                body: bytes = response.read()
                return body
        except OSError:
            continue
    raise AssertionError("no node of the cluster answers")
