"""What only the Elasticsearch union index has to prove: its failure modes, its atomic alias swap, deep
paging, rejected documents and the upgrade of older catalogues, all against a real node."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import pytest
from elasticsearch import Elasticsearch

from tests.conftest import build_union_record
from tests.support.loopback import free_port
from unicat.accounts import User
from unicat.engines.elasticsearch import ElasticsearchEngine
from unicat.engines.elasticsearch.connection import parse_engine_url
from unicat.engines.elasticsearch.indices import SCHEMA_VERSION, IndexNames, definition
from unicat.engines.elasticsearch.union import union_document
from unicat.engines.sqlite import SqliteEngine
from unicat.errors import ConfigError, EngineError, EngineUnavailable, SchemaError
from unicat.model import UnionRecord
from unicat.query import Clause, SearchQuery, parse_search_params
from unicat.readers import Comment, ListEntry, ModerationAction, Rating, ReadingList, Report, Tag
from unicat.settings import Settings
from unicat_cli.wiring import open_catalogue, open_index

OpenEngine = Callable[[], ElasticsearchEngine]


@pytest.fixture
def catalogue_url(elasticsearch_url: str) -> Iterator[str]:
    """A URL naming a fresh catalogue (index prefix) on the test node; its indices go afterwards."""
    url = f"{elasticsearch_url}/test-{uuid.uuid4().hex[:16]}"
    yield url
    # A raw client, not an engine: a test may leave a catalogue that the engine refuses to open.
    client = node(url)
    patterns = IndexNames(parse_engine_url(url).prefix).all_patterns()
    for index in client.indices.get(index=patterns, ignore_unavailable=True).body:
        client.indices.delete(index=index)
    client.close()


@pytest.fixture
def open_es(catalogue_url: str) -> Iterator[OpenEngine]:
    opened: list[ElasticsearchEngine] = []

    def opener() -> ElasticsearchEngine:
        engine = ElasticsearchEngine(catalogue_url, Settings(engine_url=catalogue_url))
        opened.append(engine)
        return engine

    yield opener
    for engine in opened:
        engine.close()


@pytest.fixture
def es(open_es: OpenEngine) -> ElasticsearchEngine:
    return open_es()


def node(url: str) -> Elasticsearch:
    return Elasticsearch(parse_engine_url(url).node_url)


# -- opening ---------------------------------------------------------------------------------------


def test_an_unreachable_node_is_unavailable_with_a_clear_message() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(EngineUnavailable) as caught:
        ElasticsearchEngine(url, Settings(engine_url=url, es_bulk_retries=0))
    message = str(caught.value)
    assert f"cannot reach Elasticsearch at {url}" in message
    assert "connection refused" in message
    assert "--engine" in message


def test_the_url_path_is_the_index_prefix() -> None:
    assert parse_engine_url("http://127.0.0.1:9200").prefix == "unicat"
    assert parse_engine_url("http://127.0.0.1:9200/").prefix == "unicat"
    address = parse_engine_url("https://search.example:9243/network-b")
    assert (address.node_url, address.prefix) == ("https://search.example:9243", "network-b")
    for bad in (
        "http://127.0.0.1:9200/Upper",
        "http://127.0.0.1:9200/a/b",
        "ftp://x/y",
        "http://h:9200/p?x=1",
    ):
        with pytest.raises(ConfigError):
            parse_engine_url(bad)


def test_a_cluster_is_named_by_its_nodes_comma_separated_with_one_prefix() -> None:
    address = parse_engine_url("http://es01:9200, http://es02:9200,http://es03:9200/network-b")
    assert address.node_urls == ("http://es01:9200", "http://es02:9200", "http://es03:9200")
    assert address.prefix == "network-b"
    assert address.node_url == "http://es01:9200,http://es02:9200,http://es03:9200"  # as messages say it
    assert parse_engine_url("http://a:9200/p,http://b:9200/p").prefix == "p"
    assert parse_engine_url("http://a:9200,http://b:9200").prefix == "unicat"
    with pytest.raises(ConfigError, match="different index prefixes"):
        parse_engine_url("http://a:9200/p,http://b:9200/q")
    for bad in ("http://a:9200,", "http://a:9200,b:9200", "http://a:9200,,http://b:9200"):
        with pytest.raises(ConfigError, match="several nodes comma-separated"):
            parse_engine_url(bad)


def test_open_index_picks_elasticsearch_for_http_urls(catalogue_url: str) -> None:
    with open_index(Settings(engine_url=catalogue_url)) as engine:
        assert isinstance(engine, ElasticsearchEngine)
        assert engine.union_count() == 0


def test_a_catalogue_from_a_newer_unicat_is_refused(es: ElasticsearchEngine, catalogue_url: str) -> None:
    client = node(catalogue_url)
    client.index(index=es.names.meta, id="schema", document={"version": 999}, refresh=True)
    client.close()
    with pytest.raises(SchemaError, match="999"):
        ElasticsearchEngine(catalogue_url, Settings(engine_url=catalogue_url))


def test_reopening_keeps_the_union_index(open_es: OpenEngine) -> None:
    first = open_es()
    record = build_union_record("a", "La Peste")
    first.replace_union_records([record])
    first.close()
    again = open_es()
    assert again.union_count() == 1
    assert again.get_union_record("a") == record


# -- union index -----------------------------------------------------------------------------------


def test_rebuilds_leave_one_generation_behind_the_alias(es: ElasticsearchEngine, catalogue_url: str) -> None:
    # Searches during rebuilds are the conformance suite's concurrency test, which runs on this engine
    # too; what only Elasticsearch has to show is that the swapped-out generations are gone.
    old = [build_union_record(f"old-{n:04d}", f"Madame Bovary {n}", year=1857) for n in range(300)]
    new = [build_union_record(f"new-{n:04d}", f"Madame Bovary {n}", year=1857) for n in range(500)]
    for _ in range(4):
        es.replace_union_records(new)
        es.replace_union_records(old)
    assert es.union_count() == len(old)
    client = node(catalogue_url)
    generations = sorted(client.indices.get(index=f"{es.names.union}-*").body)
    aliased = sorted(client.indices.get_alias(name=es.names.union).body)
    client.close()
    assert generations == aliased and len(generations) == 1


def test_deep_pages_equal_walking_every_page(es: ElasticsearchEngine) -> None:
    count = 10_150
    records = (build_union_record(f"r{n:05d}", "Atlas", year=1900 + n % 100) for n in range(count))
    assert es.replace_union_records(records).written == count
    # Same title everywhere: the title order is the id order, known without the engine.
    expected = [f"r{n:05d}" for n in range(count)]
    seen: list[str] = []
    page = 1
    while True:
        result = es.search(SearchQuery(sort="title", page=page, page_size=100, facets=page in (1, 102)))
        assert result.total == count
        if page == 102:
            assert sum(f.count for f in result.facets["year"]) == count
        if not result.hits:
            break
        seen.extend(hit.id for hit in result.hits)
        page += 1
    assert page == 103
    assert seen == expected
    by_year = es.search(SearchQuery(sort="year_desc", page=101, page_size=100, facets=False))
    # Years 1999 down to 1900, 101 or 102 records each (n % 100), ties by id.
    ordered = sorted(range(count), key=lambda n: (-(1900 + n % 100), n))
    assert [hit.id for hit in by_year.hits] == [f"r{n:05d}" for n in ordered[10_000:10_100]]


def test_a_document_the_node_rejects_is_refused_with_why_and_the_rest_written(
    es: ElasticsearchEngine,
) -> None:
    good = [build_union_record(f"good-{n}", "Salammbô", year=1862) for n in range(5)]
    # 10**12 fits a Python int but not the mapping's integer year: the node refuses the document.
    bad = build_union_record("bad", "Salammbô", year=10**12, libraries=["SCPO", "BNF"])
    seen: list[str] = []
    written = es.replace_union_records(
        [*good[:2], bad, *good[2:]], lambda record, _doc: seen.append(record.id)
    )
    assert written.written == 5
    # The observer saw every record given, the refused one too: the caller drops what was refused.
    assert seen == ["good-0", "good-1", "bad", "good-2", "good-3", "good-4"]
    assert es.union_count() == 5
    assert es.get_union_record("bad") is None
    assert list(written.refused) == ["bad"]
    entry = written.refused["bad"]
    assert (entry.stage, entry.source, entry.local_id) == ("index", "SCPO", "scpo-bad")
    assert "bad" in entry.reason and "year" in entry.reason
    assert json.loads(entry.raw)["id"] == "bad"
    assert json.loads(entry.raw) == bad.to_json()


def test_a_union_id_given_twice_keeps_the_previous_index(es: ElasticsearchEngine, catalogue_url: str) -> None:
    es.replace_union_records([build_union_record("a", "Nana")])
    twice: list[UnionRecord] = [
        build_union_record("b", "Germinal", libraries=["BNF"]),
        build_union_record("b", "Germinal", libraries=["UVA"]),
    ]
    with pytest.raises(EngineError, match="twice"):
        es.replace_union_records(twice)
    assert [r.id for r in es.iter_union_records()] == ["a"]
    # The generation the failed rebuild began is gone: only the served one remains.
    client = node(catalogue_url)
    generations = sorted(client.indices.get(index=f"{es.names.union}-*").body)
    aliased = sorted(client.indices.get_alias(name=es.names.union).body)
    client.close()
    assert generations == aliased and len(generations) == 1


def test_an_observer_that_raises_keeps_the_previous_index(es: ElasticsearchEngine) -> None:
    es.replace_union_records([build_union_record("a", "Nana")])

    def refuse(record: UnionRecord, _document: Any) -> None:
        if record.id == "c":
            raise EngineError("source record ('BNF', 'bnf-c') is a member of two union records")

    with pytest.raises(EngineError, match="member of two union records"):
        es.replace_union_records(
            [build_union_record("b", "Germinal"), build_union_record("c", "Nana")], refuse
        )
    assert [r.id for r in es.iter_union_records()] == ["a"]


# -- same answers as the embedded engine -----------------------------------------------------------


def test_totals_facets_and_orders_equal_the_sqlite_engine(es: ElasticsearchEngine, tmp_path: Path) -> None:
    words = ["histoire", "guerre", "paix", "roman", "atlas", "poesie"]
    records = [
        build_union_record(
            f"e{n:03d}",
            f"{words[n % 6]} {words[(n * 2) % 6]} volume {n % 13}",
            authors=[f"Auteur{n % 5}, Nom"],
            year=None if n % 11 == 0 else 1800 + (n * 37) % 220,
            language=["fre", "eng", "ger"][n % 3],
            format=["book", "serial", "map"][n % 4 % 3],
            libraries=[["BNF"], ["UVA", "OXF"], ["SCPO", "BNF"]][n % 3],
            subjects=[f"{words[(n * 5) % 6].title()} -- Sujet {n % 4}"],
        )
        for n in range(240)
    ]
    sqlite = SqliteEngine(tmp_path / "u.db", Settings())
    try:
        sqlite.replace_union_records(records)
        es.replace_union_records(records)
        requests: list[dict[str, list[str]]] = [
            {},
            {"q": ["guerre"]},
            {"q": ["hist*"], "sort": ["year_desc"]},
            {"q": ['"guerre paix"'], "sort": ["title"]},
            {"q": ["author:auteur3"], "library": ["OXF", "SCPO"], "sort": ["year_asc"]},
            {"language": ["eng"], "format": ["map"], "year": ["1850-1950"], "sort": ["title"], "page": ["2"]},
            {"subject": ["Roman"], "sort": ["year_desc"], "page": ["3"]},
        ]
        for request in requests:
            query = parse_search_params(request, Settings())
            ours, theirs = es.search(query), sqlite.search(query)
            assert ours.total == theirs.total > 0, request
            assert ours.facets == theirs.facets, request
            if query.sort != "relevance":
                assert [h.id for h in ours.hits] == [h.id for h in theirs.hits], request
            else:
                assert len(ours.hits) == len(theirs.hits), request
    finally:
        sqlite.close()


def test_a_version_8_catalogue_gains_the_target_audience_on_open(catalogue_url: str) -> None:
    """The union generation a version-8 catalogue searches (mapped without the target audience) gets
    the field on open: a search filtering on it finds nothing until the next rebuild fills it."""
    client = node(catalogue_url)
    names = IndexNames(parse_engine_url(catalogue_url).prefix)
    version_8 = {name: body for name, body in definition("union")["properties"].items() if name != "audience"}
    generation = names.union_generation(0)
    client.indices.create(index=generation, mappings={"dynamic": "strict", "properties": version_8})
    client.indices.put_alias(index=generation, name=names.union)
    client.indices.create(index=names.meta, mappings={"dynamic": False})
    client.index(index=names.meta, id="schema", document={"version": 8}, refresh=True)
    children = SearchQuery(filters={"audience": ("children",)})
    with ElasticsearchEngine(catalogue_url, Settings(engine_url=catalogue_url)) as engine:
        mapped = client.indices.get_mapping(index=generation)[generation]["mappings"]["properties"]
        assert mapped["audience"] == {"type": "keyword", "eager_global_ordinals": True}
        assert engine.search(children).total == 0
        record = build_union_record("u1", "The hobbit")
        engine.replace_union_records([replace(record, audience=["children"])])
        assert [hit.id for hit in engine.search(children).hits] == ["u1"]
    assert client.get(index=names.meta, id="schema")["_source"]["version"] == SCHEMA_VERSION
    client.close()


def test_a_version_10_catalogue_gains_the_library_count_on_open(catalogue_url: str) -> None:
    """The union generation of a version-10 catalogue (documents without ``library_count``) gets the
    field on open: its documents still rank, and a rebuild orders equal scores by holdings."""
    client = node(catalogue_url)
    names = IndexNames(parse_engine_url(catalogue_url).prefix)
    version_10 = {
        name: body for name, body in definition("union")["properties"].items() if name != "library_count"
    }
    generation = names.union_generation(0)
    client.indices.create(index=generation, mappings={"dynamic": "strict", "properties": version_10})
    client.indices.put_alias(index=generation, name=names.union)
    client.indices.create(index=names.meta, mappings={"dynamic": False})
    client.index(index=names.meta, id="schema", document={"version": 10}, refresh=True)
    one = build_union_record("a-one", "Emma", libraries=["BNF"])
    three = build_union_record("b-three", "Emma", libraries=["BNF", "OXF", "UVA"])
    for record in (one, three):
        document = union_document(record)
        del document["library_count"]
        client.index(index=generation, id=record.id, document=document, refresh=True)
    emma = SearchQuery(clauses=(Clause("any", ("emma",)),))
    with ElasticsearchEngine(catalogue_url, Settings(engine_url=catalogue_url)) as engine:
        mapped = client.indices.get_mapping(index=generation)[generation]["mappings"]["properties"]
        assert mapped["library_count"] == {"type": "integer", "index": False}
        assert [hit.id for hit in engine.search(emma).hits] == ["a-one", "b-three"]
        engine.replace_union_records([one, three])
        assert [hit.id for hit in engine.search(emma).hits] == ["b-three", "a-one"]
    assert client.get(index=names.meta, id="schema")["_source"]["version"] == SCHEMA_VERSION
    client.close()


def test_a_version_7_catalogue_keeps_its_readers_indices_untouched_on_open(catalogue_url: str) -> None:
    """Since schema 8 accounts and what readers add live in the stores' database: a catalogue written
    before it opens as version 8 and leaves the indices that held them as they were, documents and
    all, for whatever copies them out."""
    with ElasticsearchEngine(catalogue_url, Settings(engine_url=catalogue_url)) as engine:
        engine.replace_union_records([build_union_record("u1", "Emma")])
    client = node(catalogue_url)
    names = IndexNames(parse_engine_url(catalogue_url).prefix)
    legacy = [names.plain(name) for name in ("users", "comments", "list_entries")]
    try:
        for index in legacy:
            client.index(index=index, id="1", document={"written_by": "version 7"}, refresh=True)
        client.index(index=names.meta, id="schema", document={"version": 7}, refresh=True)
        with ElasticsearchEngine(catalogue_url, Settings(engine_url=catalogue_url)) as engine:
            assert engine.get_union_record("u1") is not None
        assert client.get(index=names.meta, id="schema")["_source"]["version"] == SCHEMA_VERSION == 14
        for index in legacy:
            assert client.count(index=index)["count"] == 1
            assert client.get(index=index, id="1")["_source"] == {"written_by": "version 7"}
    finally:
        client.indices.delete(index=legacy, ignore_unavailable=True)
        client.close()


KEYWORD, LONG, BOOLEAN = {"type": "keyword"}, {"type": "long"}, {"type": "boolean"}
STORED, TEXT = {"type": "keyword", "index": False}, {"type": "text", "index": False}
VERSION_7_READERS: dict[str, dict[str, Any]] = {
    # The fields and types of the index definitions schema 7 created (strict mappings).
    "users": {
        **{"id": LONG, "email": KEYWORD, "display_name": STORED, "password_hash": STORED},
        **{"role": KEYWORD, "library": KEYWORD, "created": KEYWORD},
    },
    "sessions": {"user_id": LONG, "created": KEYWORD, "expires": KEYWORD, "csrf": STORED},
    "comments": {
        **{"id": LONG, "record": KEYWORD, "user_id": LONG, "body": TEXT, "created": KEYWORD},
        **{"edited": STORED, "hidden": BOOLEAN, "hidden_reason": TEXT},
    },
    "ratings": {"record": KEYWORD, "user_id": LONG, "stars": {"type": "byte"}, "at": STORED},
    "tags": {"record": KEYWORD, "user_id": LONG, "tag": KEYWORD, "at": STORED},
    "reports": {
        **{"id": LONG, "comment_id": LONG, "user_id": LONG, "reason": TEXT},
        **{"created": KEYWORD, "resolution": LONG},
    },
    "moderation": {
        **{"id": LONG, "comment_id": LONG, "verb": KEYWORD, "reason": TEXT},
        **{"user_id": LONG, "at": KEYWORD},
    },
    "lists": {
        **{"id": LONG, "user_id": LONG, "name": STORED, "description": TEXT},
        **{"public": BOOLEAN, "created": STORED, "updated": KEYWORD},
    },
    "list_entries": {"list_id": LONG, "record": KEYWORD, "added": KEYWORD},
}


def write_version_7_readers(client: Elasticsearch, names: IndexNames) -> None:
    """Accounts and readers' items as schema 7 stored them: one index each, every document the item's
    own JSON (``to_json``, or its fields where it has none) under its id, and a session that is not
    handed over."""
    secret = "scrypt$1$8$1$AA==$AA=="
    jane = User("jane@example.org", "Jane", secret, "patron", None, 3, "2024-05-01T09:00:00Z")
    anne = User("anne@example.org", "Anne", secret, "librarian", "BRK", 9, "2024-05-01T09:30:00Z")
    day, later = "2024-05-02T10:00:00Z", "2024-05-03T10:00:00Z"
    session = {"user_id": 3, "created": day, "expires": later, "csrf": "z"}
    hidden = Comment("u1", 9, "Hidden.", 42, "2024-05-02T11:00:00Z", None, True, "spoils")
    items: list[tuple[str, str, Any]] = [
        ("users", "jane@example.org", {**jane.to_json(), "password_hash": secret}),
        ("users", "anne@example.org", {**anne.to_json(), "password_hash": secret}),
        ("sessions", "feed", session),
        ("comments", "41", Comment("u1", 3, "A delight.", 41, day).to_json()),
        ("comments", "42", hidden.to_json()),
        ("ratings", '["u1",3]', asdict(Rating("u1", 3, 5, day))),
        ("tags", '["u1",3,"classic"]', asdict(Tag("u1", 3, "classic", day))),
        ("reports", "7", Report(42, 3, "spoils the end", 7, "2024-05-02T12:00:00Z", 8).to_json()),
        ("moderation", "8", ModerationAction(42, "hide", "spoils", 9, 8, "2024-05-02T12:30:00Z").to_json()),
        ("lists", "5", ReadingList(3, "Austen", "All of her", True, 5, later, later).to_json()),
        ("list_entries", '[5,"u1"]', asdict(ListEntry(5, "u1", later))),
    ]
    for index, properties in VERSION_7_READERS.items():
        client.indices.create(
            index=names.plain(index), mappings={"dynamic": "strict", "properties": properties}
        )
    for index, doc_id, document in items:
        client.index(index=names.plain(index), id=doc_id, document=document, refresh=True)
    client.index(index=names.meta, id="schema", document={"version": 7}, refresh=True)


def test_a_version_7_catalogue_hands_its_readers_data_to_the_store_once(
    catalogue_url: str, postgres_database_url: str
) -> None:
    settings = Settings(engine_url=catalogue_url, store_url=postgres_database_url)
    with ElasticsearchEngine(catalogue_url, settings) as engine:
        engine.replace_union_records([build_union_record("u1", "Emma")])
    client = node(catalogue_url)
    names = IndexNames(parse_engine_url(catalogue_url).prefix)
    try:
        write_version_7_readers(client, names)
        with open_catalogue(settings) as catalogue:
            users = catalogue.accounts.list_users()
            assert [(user.id, user.email, user.role, user.library) for user in users] == [
                (3, "jane@example.org", "patron", None),
                (9, "anne@example.org", "librarian", "BRK"),
            ]
            assert catalogue.accounts.get_session("feed") is None  # readers sign in again
            store = catalogue.contributions
            comments = store.comments_for(["u1"])
            assert [(c.id, c.user_id, c.hidden, c.hidden_reason) for c in comments] == [
                (42, 9, True, "spoils"),
                (41, 3, False, None),
            ]
            assert [(r.stars, r.at) for r in store.ratings_for(["u1"])] == [(5, "2024-05-02T10:00:00Z")]
            assert [t.tag for t in store.tags_for(["u1"])] == ["classic"]
            assert [(r.id, r.resolution) for r in store.reports_for([42])] == [(7, 8)]
            assert [(a.id, a.verb) for a in store.moderation_log(42)] == [(8, "hide")]
            assert [(lst.id, lst.name, lst.public) for lst in store.lists_of(3)] == [(5, "Austen", True)]
            assert [e.record for e in store.list_entries(5)] == ["u1"]
            # What is written next is numbered after what came over.
            later = store.add_comment(Comment("u1", 3, "Again."))
            assert later.id is not None and later.id > 42
        assert client.get(index=names.meta, id="readers-handed-over")["_source"] == {"value": 2}
        # Opened again, nothing is copied twice; the old indices stay as they were.
        with open_catalogue(settings) as catalogue:
            assert len(catalogue.accounts.list_users()) == 2
            assert len(catalogue.contributions.comments_for(["u1"])) == 3
        assert client.count(index=names.plain("comments"))["count"] == 2
    finally:
        client.close()


def test_a_store_with_accounts_already_is_not_given_a_second_set(
    catalogue_url: str, postgres_database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(engine_url=catalogue_url, store_url=postgres_database_url)
    with open_catalogue(settings) as catalogue:
        catalogue.accounts.create_user(User("jo@example.org", "Jo", "scrypt$1$8$1$AA==$AA=="))
    client = node(catalogue_url)
    try:
        write_version_7_readers(client, IndexNames(parse_engine_url(catalogue_url).prefix))
        with open_catalogue(settings) as catalogue:
            assert [user.email for user in catalogue.accounts.list_users()] == ["jo@example.org"]
            assert catalogue.contributions.comments_for(["u1"]) == []
        assert "has accounts already: they were not copied" in caplog.text
    finally:
        client.close()
