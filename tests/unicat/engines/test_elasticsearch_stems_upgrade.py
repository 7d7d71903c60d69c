"""An Elasticsearch catalogue of schema 10, indexed before stemming, opened by this Unicat: it keeps
answering with the words as written (never wrong answers), says that a rebuild is needed, and finds
words by their stems once rebuilt."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator

import pytest
from elasticsearch import Elasticsearch

from tests.conftest import build_union_record
from unicat.engines.elasticsearch import ElasticsearchEngine
from unicat.engines.elasticsearch.connection import parse_engine_url
from unicat.engines.elasticsearch.indices import SCHEMA_VERSION, IndexNames, definition
from unicat.engines.elasticsearch.union import union_document
from unicat.query import parse_search_params
from unicat.settings import Settings

STEMS = ("title_stems", "subject_stems")


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


def write_schema_10_catalogue(url: str) -> None:
    """One French record, *Histoires extraordinaires*, in a generation mapped and written as schema 10
    did: the union definition and documents without the stems fields."""
    names = IndexNames(parse_engine_url(url).prefix)
    record = build_union_record("poe", "Histoires extraordinaires", language="fre")
    properties = {name: body for name, body in definition("union")["properties"].items() if name not in STEMS}
    document = {name: value for name, value in union_document(record).items() if name not in STEMS}
    with Elasticsearch(parse_engine_url(url).node_url) as client:
        generation = names.union_generation(4)
        client.indices.create(index=generation, mappings={"dynamic": "strict", "properties": properties})
        client.indices.put_alias(index=generation, name=names.union)
        client.indices.create(index=names.meta, mappings={"dynamic": False})
        client.index(index=names.meta, id="schema", document={"version": 10})
        client.index(index=generation, id=record.id, document=document, refresh=True)


def found(engine: ElasticsearchEngine, q: str) -> list[str]:
    return [hit.id for hit in engine.search(parse_search_params({"q": [q]}, Settings())).hits]


def test_a_catalogue_indexed_before_stemming_answers_as_written_until_rebuilt(
    catalogue_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    write_schema_10_catalogue(catalogue_url)
    with (
        caplog.at_level(logging.WARNING),
        ElasticsearchEngine(catalogue_url, Settings(engine_url=catalogue_url)) as engine,
    ):
        assert "was built before stemming" in caplog.text
        assert "unicat index --rebuild" in caplog.text
        assert found(engine, "histoires") == ["poe"]
        assert found(engine, "histoire") == []
        engine.replace_union_records([build_union_record("poe", "Histoires extraordinaires", language="fre")])
        assert found(engine, "histoire") == ["poe"]
    with Elasticsearch(parse_engine_url(catalogue_url).node_url) as client:
        names = IndexNames(parse_engine_url(catalogue_url).prefix)
        assert client.get(index=names.meta, id="schema")["_source"] == {"version": SCHEMA_VERSION}
