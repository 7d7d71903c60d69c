"""The refreshes the Elasticsearch engine's writers share (unicat/engines/elasticsearch/refreshes.py), on a
real node: a write made without a refresh is found by a search as soon as ``after_write`` returns, from
one thread or many at once; writers at the same moment share refreshes (the node's own refresh count
says so); a refresh the node refuses fails its caller and leaves the next writers free to go on.

The indices here have periodic refreshes turned off (``refresh_interval: -1``), so nothing but
``after_write`` can make a write searchable: a test that passed by the node's own timer would prove
nothing. (The engine's use of it is tested through what readers add: test_engine_readers.py.)
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from elasticsearch import Elasticsearch, NotFoundError

from tests.at_once import all_at_once
from unicat.engines.elasticsearch.refreshes import SharedRefresh


@pytest.fixture
def client(elasticsearch_url: str) -> Iterator[Elasticsearch]:
    node = Elasticsearch(elasticsearch_url)
    yield node
    node.close()


@pytest.fixture
def index(client: Elasticsearch) -> Iterator[str]:
    name = f"test-refreshes-{uuid.uuid4().hex[:12]}"
    client.indices.create(
        index=name, settings={"number_of_shards": 1, "number_of_replicas": 0, "refresh_interval": "-1"}
    )
    yield name
    client.indices.delete(index=name, ignore_unavailable=True)


def refreshes(client: Elasticsearch, index: str) -> int:
    """Refreshes the node has made of ``index`` so far (its primaries' ``refresh.total``)."""
    stats = client.indices.stats(index=index, metric="refresh")
    return int(stats["indices"][index]["primaries"]["refresh"]["total"])


def found(client: Elasticsearch, index: str, doc_id: str) -> bool:
    answer = client.search(index=index, query={"ids": {"values": [doc_id]}}, size=0, track_total_hits=True)
    return int(answer["hits"]["total"]["value"]) == 1


def test_a_write_is_searchable_once_after_write_returns(client: Elasticsearch, index: str) -> None:
    shared = SharedRefresh(client)
    for number in range(3):
        client.create(index=index, id=str(number), document={"n": number})
        # Not searchable yet: the node refreshes on its own never, here.
        assert not found(client, index, str(number))
        shared.after_write(index)
        assert found(client, index, str(number))


def test_writers_at_once_each_see_their_write_and_share_refreshes(client: Elasticsearch, index: str) -> None:
    shared = SharedRefresh(client)
    threads, writes = 10, 10
    before = refreshes(client, index)

    def writer(number: int) -> list[str]:
        unseen = []
        for write in range(writes):
            doc_id = f"{number}-{write}"
            client.create(index=index, id=doc_id, document={"writer": number})
            shared.after_write(index)
            if not found(client, index, doc_id):
                unseen.append(doc_id)
        return unseen

    assert [doc_id for unseen in all_at_once(threads, writer) for doc_id in unseen] == []
    made = refreshes(client, index) - before
    # At least one, and fewer than one a write: writers arriving during a refresh share the next.
    assert 1 <= made < threads * writes


def test_indices_are_refreshed_apart(client: Elasticsearch, index: str) -> None:
    other = f"{index}-other"
    client.indices.create(index=other, settings={"number_of_replicas": 0, "refresh_interval": "-1"})
    try:
        shared = SharedRefresh(client)
        client.create(index=index, id="a", document={})
        client.create(index=other, id="b", document={})
        shared.after_write(other)
        assert found(client, other, "b")
        assert not found(client, index, "a")
        shared.after_write(index)
        assert found(client, index, "a")
    finally:
        client.indices.delete(index=other, ignore_unavailable=True)


def test_a_refused_refresh_fails_its_writer_and_the_next_go_on(client: Elasticsearch, index: str) -> None:
    shared = SharedRefresh(client)
    missing = f"{index}-never-created"
    with pytest.raises(NotFoundError):
        shared.after_write(missing)
    # Nothing stays marked as running: the next writers of that index are not left waiting.
    client.indices.create(index=missing, settings={"number_of_replicas": 0, "refresh_interval": "-1"})
    try:
        client.create(index=missing, id="late", document={})
        shared.after_write(missing)
        assert found(client, missing, "late")
    finally:
        client.indices.delete(index=missing, ignore_unavailable=True)
