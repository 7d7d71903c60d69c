"""What a rebuild leaves behind on a real node: a generation with the settings of a served index (the
build-time ones undone before the alias moved), and documents whose stored ``_source`` is the public
JSON only."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from elasticsearch import Elasticsearch

from tests.conftest import build_union_record
from unicat.engines.elasticsearch import ElasticsearchEngine
from unicat.engines.elasticsearch.union import check_complete
from unicat.errors import EngineError
from unicat.settings import Settings


@pytest.fixture
def es(elasticsearch_url: str) -> Iterator[ElasticsearchEngine]:
    url = f"{elasticsearch_url}/test-rebuild-{uuid.uuid4().hex[:12]}"
    engine = ElasticsearchEngine(url, Settings(engine_url=url, es_bulk_chunk=7))
    yield engine
    engine.delete_catalogue()
    engine.close()


def test_a_rebuilt_generation_is_served_with_the_settings_of_a_served_index(
    es: ElasticsearchEngine, elasticsearch_url: str
) -> None:
    records = [build_union_record(f"r{n:03d}", f"Les misérables, tome {n}", year=1862) for n in range(50)]
    assert es.replace_union_records(records).written == 50
    with Elasticsearch(elasticsearch_url) as node:
        (served,) = node.indices.get_alias(name=es.names.union).body
        index = node.indices.get_settings(index=served, flat_settings=True).body[served]["settings"]
        # Build settings were refresh_interval -1, translog async: both must be back to the defaults.
        assert "index.refresh_interval" not in index
        assert index["index.translog.durability"] == "request"
        assert index["index.number_of_replicas"] == "0"
        stored = node.get(index=served, id="r007")["_source"]
    # The public JSON as given, beside the analysed text (folded by hand: é → e, comma dropped).
    assert stored["doc"] == records[7].to_json()
    assert stored["title"] == "les miserables tome 7"
    # Written in chunks of 7 by two senders: every record is there once, searchable at once.
    assert [record.id for record in es.iter_union_records()] == [record.id for record in records]
    assert es.union_count() == 50


def test_a_generation_with_fewer_documents_than_acknowledged_is_refused(elasticsearch_url: str) -> None:
    # What a shard that lost every copy mid-build leaves: fewer documents than the nodes acknowledged.
    # The count check runs on a real index of 5 documents, told 5 and then 6 were written.
    index = f"test-complete-{uuid.uuid4().hex[:12]}"
    with Elasticsearch(elasticsearch_url) as node:
        try:
            for n in range(5):
                node.index(index=index, id=f"r{n}", document={"id": f"r{n}"})
            node.indices.refresh(index=index)
            check_complete(node, index, 5)
            with pytest.raises(EngineError, match=f"the new generation {index} holds 5 of the 6 records"):
                check_complete(node, index, 6)
        finally:
            node.indices.delete(index=index, ignore_unavailable=True)
