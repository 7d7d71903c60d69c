"""The searches the web app awaits in its event loop (unicat/engines/elasticsearch/async_search.py),
against a real node: the answers of the SQLite engine on the same records, ``None`` for the searches
they leave to the synchronous search, and the synchronous search's errors."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from tests.conftest import build_union_record
from tests.support.loopback import free_port
from unicat.engines.elasticsearch import ElasticsearchEngine
from unicat.engines.elasticsearch.async_search import ElasticsearchAsyncSearcher
from unicat.engines.elasticsearch.connection import parse_engine_url
from unicat.engines.elasticsearch.indices import IndexNames
from unicat.engines.sqlite import SqliteEngine
from unicat.errors import EngineUnavailable
from unicat.model import UnionRecord
from unicat.query import SearchQuery, parse_search_params
from unicat.settings import Settings

WORDS = ["histoire", "guerre", "paix", "roman", "atlas", "poesie"]
REQUESTS: list[dict[str, list[str]]] = [
    {"q": ["guerre"]},
    {"q": ["hist*"], "sort": ["year_desc"]},
    {"q": ['"guerre paix"'], "sort": ["title"]},
    {"q": ["author:auteur3"], "library": ["OXF", "SCPO"], "sort": ["year_asc"]},
    {"language": ["eng"], "format": ["map"], "year": ["1850-1950"], "sort": ["title"], "page": ["2"]},
    {"q": ["nowhere"]},
]


def records() -> list[UnionRecord]:
    return [
        build_union_record(
            f"e{n:03d}",
            f"{WORDS[n % 6]} {WORDS[(n * 2) % 6]} volume {n % 13}",
            authors=[f"Auteur{n % 5}, Nom"],
            year=None if n % 11 == 0 else 1800 + (n * 37) % 220,
            language=["fre", "eng", "ger"][n % 3],
            format=["book", "serial", "map"][n % 4 % 3],
            libraries=[["BNF"], ["UVA", "OXF"], ["SCPO", "BNF"]][n % 3],
        )
        for n in range(240)
    ]


@pytest.fixture
def es(elasticsearch_url: str) -> Iterator[ElasticsearchEngine]:
    url = f"{elasticsearch_url}/test-{uuid.uuid4().hex[:16]}"
    engine = ElasticsearchEngine(url, Settings(engine_url=url))
    yield engine
    engine.close()
    address = parse_engine_url(url)
    with Elasticsearch(address.node_url) as client:
        for pattern in IndexNames(address.prefix).all_patterns():
            client.indices.delete(index=pattern, ignore_unavailable=True)


async def test_searches_without_facets_answer_as_the_sqlite_engine(
    es: ElasticsearchEngine, tmp_path: Path
) -> None:
    written = records()
    es.replace_union_records(written)
    sqlite = SqliteEngine(tmp_path / "u.db", Settings())
    searcher = es.async_searcher()
    try:
        sqlite.replace_union_records(written)
        for request in REQUESTS:
            query = parse_search_params({**request, "facets": ["0"]}, Settings())
            ours, theirs = await searcher.search(query), sqlite.search(query)
            assert ours is not None, request
            assert ours.total == theirs.total, request
            assert ours.facets == theirs.facets == {}, request
            if query.sort != "relevance":
                assert [hit.id for hit in ours.hits] == [hit.id for hit in theirs.hits], request
            else:
                assert sorted(hit.id for hit in ours.hits) == sorted(hit.id for hit in theirs.hits), request
            assert all(hit == next(r for r in written if r.id == hit.id) for hit in ours.hits), request
    finally:
        await searcher.close()
        sqlite.close()


async def test_hits_asked_as_documents_are_the_stored_records(es: ElasticsearchEngine) -> None:
    """With ``documents``, the same page comes as the records' stored JSON (for the API to write),
    the records themselves left unbuilt."""
    written = {record.id: record for record in records()}
    es.replace_union_records(list(written.values()))
    searcher = es.async_searcher()
    try:
        for request in REQUESTS:
            query = parse_search_params({**request, "facets": ["0"]}, Settings())
            as_records = await searcher.search(query)
            as_documents = await searcher.search(query, documents=True)
            assert as_records is not None and as_documents is not None
            assert as_documents.hits == [] and as_documents.documents is not None
            assert as_documents.total == as_records.total, request
            assert as_documents.hit_ids == as_records.hit_ids == [hit.id for hit in as_records.hits]
            assert as_documents.documents == [written[hit.id].to_json() for hit in as_records.hits]
            assert as_documents.with_records().hits == as_records.hits
    finally:
        await searcher.close()


async def test_facets_counted_apart_and_deep_pages_are_left_to_the_synchronous_search(
    es: ElasticsearchEngine,
) -> None:
    es.replace_union_records(records())
    searcher = es.async_searcher()
    try:
        with_facets = parse_search_params({"q": ["guerre"]}, Settings())
        assert with_facets.facets
        assert await searcher.search(with_facets) is None
        deep = dataclasses.replace(SearchQuery(facets=False, page_size=100), page=101)
        assert await searcher.search(deep) is None
    finally:
        await searcher.close()


async def test_a_node_that_is_not_there_is_unavailable() -> None:
    url = f"http://127.0.0.1:{free_port()}/nothing"
    searcher = ElasticsearchAsyncSearcher(parse_engine_url(url), "nothing-union", Settings(es_bulk_retries=0))
    try:
        with pytest.raises(EngineUnavailable, match="cannot reach Elasticsearch"):
            await searcher.search(SearchQuery(facets=False))
    finally:
        await searcher.close()
