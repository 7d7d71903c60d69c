"""An Elasticsearch catalogue of schema 12, indexed before availability per copy, opened by this
Unicat: the availability facets get mapped (empty), it keeps answering every other search, says that a
rebuild is needed, and counts and filters by availability once rebuilt."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from dataclasses import replace

import pytest
from elasticsearch import Elasticsearch

from tests.conftest import build_union_record
from unicat.engines.elasticsearch import ElasticsearchEngine
from unicat.engines.elasticsearch.connection import parse_engine_url
from unicat.engines.elasticsearch.indices import SCHEMA_VERSION, IndexNames, definition
from unicat.engines.elasticsearch.union import union_document
from unicat.model import Holding, UnionRecord
from unicat.query import parse_search_params
from unicat.settings import Settings

AVAILABILITY_FACETS = ("held_at", "available_at", "availability")


@pytest.fixture
def catalogue_url(elasticsearch_url: str) -> Iterator[str]:
    """A URL naming a fresh catalogue (index prefix) on the test node; its indices go afterwards."""
    url = f"{elasticsearch_url}/test-{uuid.uuid4().hex[:16]}"
    yield url
    with Elasticsearch(parse_engine_url(url).node_url) as client:
        for index in client.indices.get(
            index=IndexNames(parse_engine_url(url).prefix).all_patterns(), ignore_unavailable=True
        ).body:
            client.indices.delete(index=index)


def emma() -> UnionRecord:
    """*Emma*, with a copy available at BNF."""
    record = build_union_record("emma", "Emma", libraries=["BNF"])
    return replace(record, holdings=[Holding(library="BNF", library_name="BNF", status="available")])


def write_schema_12_catalogue(url: str) -> None:
    """*Emma* in a generation mapped and written as schema 12 did: without the availability facets."""
    names = IndexNames(parse_engine_url(url).prefix)
    properties = {
        name: body
        for name, body in definition("union")["properties"].items()
        if name not in AVAILABILITY_FACETS
    }
    document = {
        name: value for name, value in union_document(emma()).items() if name not in AVAILABILITY_FACETS
    }
    with Elasticsearch(parse_engine_url(url).node_url) as client:
        generation = names.union_generation(4)
        client.indices.create(index=generation, mappings={"dynamic": "strict", "properties": properties})
        client.indices.put_alias(index=generation, name=names.union)
        client.indices.create(index=names.meta, mappings={"dynamic": False})
        client.index(index=names.meta, id="schema", document={"version": 12})
        client.index(index=generation, id="emma", document=document, refresh=True)


def found(engine: ElasticsearchEngine, **params: str) -> list[str]:
    request = {name: [value] for name, value in params.items()}
    return [hit.id for hit in engine.search(parse_search_params(request, Settings())).hits]


def test_a_catalogue_indexed_before_availability_answers_and_counts_it_once_rebuilt(
    catalogue_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    write_schema_12_catalogue(catalogue_url)
    with (
        caplog.at_level(logging.WARNING),
        ElasticsearchEngine(catalogue_url, Settings(engine_url=catalogue_url)) as engine,
    ):
        assert "before availability per copy" in caplog.text
        assert "unicat index --rebuild" in caplog.text
        assert found(engine, q="emma") == ["emma"]
        assert found(engine, availability="available") == []
        engine.replace_union_records([emma()])
        assert found(engine, availability="available") == ["emma"]
        assert found(engine, available_at="BNF") == ["emma"]
    with Elasticsearch(parse_engine_url(catalogue_url).node_url) as client:
        names = IndexNames(parse_engine_url(catalogue_url).prefix)
        assert client.get(index=names.meta, id="schema")["_source"] == {"version": SCHEMA_VERSION}
