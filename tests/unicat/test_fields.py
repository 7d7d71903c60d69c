"""The field registry (unicat/fields.py) is consistent, and every place that lists a union record's fields
holds exactly the registry's: each test fails when a place lists a field the registry lacks, or misses one
it declares."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

from indexer.extract import ExtractedRecord
from indexer.profiles import builtin_profile
from search_app.catalogue.live import LIVE_PARAMETERS
from search_app.catalogue.present import hit_json
from search_app.labels import Labels, load_labels
from search_app.openapi import openapi_document
from search_app.sru.cql_search import INDEXES, Index, resolve_index
from search_app.sru.request import FACET_INDEXES, FACET_NAMES
from unicat.documents import INDEXED_FIELDS, TEXT_WEIGHTS, IndexFields, index_fields
from unicat.engines.elasticsearch.indices import DEFINITIONS_DIR, definition
from unicat.engines.elasticsearch.union import union_document
from unicat.engines.sqlite import driver
from unicat.engines.sqlite.facets import FACET_VALUES_TABLE, MULTI_VALUED, SINGLE_VALUED
from unicat.engines.sqlite.schema import V3_TEXT_COLUMNS, V15_TEXT_COLUMNS, migrate
from unicat.fields import CODED_FIELDS, FACET, FACETS, RECORD_FIELD, RECORD_FIELDS, TEXT_FIELDS
from unicat.model import PROFILES, UnionRecord
from unicat.query import (
    FACET_FIELDS,
    FIELD_ALIASES,
    FILTER_FIELDS,
    PARAM_FILTERS,
    SEARCH_FIELDS,
    SEARCH_PARAMETERS,
)
from unicat.settings import Settings

# What each JSON type of a record field looks like filled, and a filled value for each field of objects.
FILLED: dict[str, Any] = {
    "string": "text",
    "string?": "text",
    "integer?": 1999,
    "strings": ["one", "two"],
    "object": {"BNF": "2026-12-01T08:00:00Z"},
}
OBJECTS: dict[str, list[dict[str, Any]]] = {
    "contributors": [{"name": "Austen, Jane", "role": "author"}],
    "holdings": [
        {
            "library": "BNF",
            "library_name": "Bibliothèque nationale",
            "call_number": "8-Y2-1",
            "status": "available",
        }
    ],
    "sources": [{"source": "BNF", "local_id": "b1"}],
    "merge": [{"rule": "isbn", "key": "9780141439518"}],
    "kept_apart": [
        {
            "other": {"source": "UVA", "local_id": "u7"},
            "rule": "lccn",
            "key": "81010777",
            "reason": "the years differ (1813 / 1894)",
        }
    ],
}
# Fields of a union record the indexer makes itself rather than read from a source record: its id and
# what it derives from its members (libraries, provenance, merge rules and refusals, date, work and
# editions).
UNION_OWN = {
    "id", "libraries", "sources", "merge", "kept_apart", "updated", "work", "editions", "first_seen",
    "held_since",
}  # fmt: skip
# What extraction reads for deduplication and provenance only, never part of a union record.
EXTRACTION_OWN = {
    "source", "local_id", "datestamp", "eans", "lccns", "warnings", "title_proper", "parts",
    "flavour_corrected",
}  # fmt: skip


def filled_record() -> dict[str, Any]:
    """A union record's JSON with every registry field holding a value."""
    data = {
        field.name: OBJECTS[field.name] if field.json == "objects" else FILLED[field.json]
        for field in RECORD_FIELDS
    }
    data["libraries"] = ["BNF"]  # what the holdings say
    return data


# -- the registry ------------------------------------------------------------------------------


def test_names_are_unique_and_plain() -> None:
    """Names reach SQL, URLs and index documents: plain, and never one name for two things."""
    groups = {
        "record fields": [field.name for field in RECORD_FIELDS],
        "text fields": [field.name for field in TEXT_FIELDS],
        "facets": [facet.name for facet in FACETS],
        "index document fields": [field.name for field in TEXT_FIELDS] + [f.index_key for f in FACETS],
        "CQL indexes": [name.name.lower() for item in (*TEXT_FIELDS, *FACETS) for name in item.cql],
        "query prefixes": [prefix for field in TEXT_FIELDS for prefix in field.prefixes],
    }
    for group, names in groups.items():
        assert len(names) == len(set(names)), group
        assert all(re.fullmatch(r"[a-z][a-z_]*(\.[a-z][a-zA-Z]*)?", name) for name in names), group


def test_every_facet_counts_a_record_field_and_says_how_it_filters() -> None:
    for facet in FACETS:
        assert facet.source in RECORD_FIELD, facet.name
        assert facet.filter == "years" or facet.description, facet.name


# -- the record classes ------------------------------------------------------------------------


def test_a_union_records_json_has_exactly_the_registrys_fields_in_its_order() -> None:
    data = filled_record()
    record = UnionRecord.from_json(data)
    assert list(record.to_json()) == [field.name for field in RECORD_FIELDS]
    assert record.to_json() == data, "from_json or to_json drops a field"


def test_the_union_record_class_has_an_attribute_per_record_field() -> None:
    attributes = {item.name for item in dataclasses.fields(UnionRecord)} | {"libraries"}
    assert attributes == set(RECORD_FIELD)


def test_extraction_gives_every_record_field_a_source_record_has() -> None:
    extracted = {item.name for item in dataclasses.fields(ExtractedRecord)}
    assert extracted - EXTRACTION_OWN == set(RECORD_FIELD) - UNION_OWN


def test_index_fields_hold_the_text_fields_and_every_facet() -> None:
    fields = index_fields(UnionRecord.from_json(filled_record()))
    text = [item.name for item in dataclasses.fields(IndexFields)][: len(TEXT_FIELDS)]
    assert text == [field.name for field in TEXT_FIELDS]
    stems = [field.stems for field in TEXT_FIELDS if field.stems]
    assert stems == ["title_stems", "subject_stems"]
    assert [item.name for item in dataclasses.fields(IndexFields)][len(TEXT_FIELDS) :][:2] == stems
    assert list(fields.text_fields()) == [*text, *stems] == list(INDEXED_FIELDS)
    assert {field.name: field.weight for field in TEXT_FIELDS} == TEXT_WEIGHTS
    assert list(fields.facets) == list(FACET_FIELDS)
    assert all(fields.facets.values()), "a filled record has a value for every facet"


# -- the query model ---------------------------------------------------------------------------


def test_the_query_model_lists_the_registrys_facets_filters_and_prefixes() -> None:
    assert tuple(FACET) == FACET_FIELDS
    assert tuple(facet.name for facet in FACETS if facet.filter == "values") == FILTER_FIELDS
    assert set(PARAM_FILTERS) - {"tag", "editions_of"} == set(FILTER_FIELDS)
    assert SEARCH_FIELDS == ("any", "title", "author", "subject", "ident", "publisher", "series")
    assert {FIELD_ALIASES[prefix] for field in TEXT_FIELDS for prefix in field.prefixes} <= set(SEARCH_FIELDS)


# -- SQLite ------------------------------------------------------------------------------------


def test_sqlite_stores_every_facet_once(tmp_path: Path) -> None:
    assert set(SINGLE_VALUED) | set(MULTI_VALUED) == set(FACET_FIELDS)
    assert not set(SINGLE_VALUED) & set(MULTI_VALUED)
    conn = driver.connect(tmp_path / "fresh.db")
    migrate(conn)
    columns = {row[1] for row in conn.execute("PRAGMA table_info(union_records)")}
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    conn.close()
    assert set(SINGLE_VALUED.values()) <= columns
    assert {rows.table for rows in MULTI_VALUED.values()} <= tables
    assert FACET_VALUES_TABLE in tables
    # The text index's columns are migration 3's and 14's stems: a text field added to the registry
    # needs a migration.
    assert tuple(field.name for field in TEXT_FIELDS) == V3_TEXT_COLUMNS
    assert V15_TEXT_COLUMNS == INDEXED_FIELDS


# -- Elasticsearch -----------------------------------------------------------------------------


def test_the_union_mapping_is_the_files_plus_the_registrys_fields() -> None:
    written = (DEFINITIONS_DIR / "union.json").read_text(encoding="utf-8")
    properties = definition("union")["properties"]
    for field in TEXT_FIELDS:
        assert properties[field.name] == {"type": "text", "analyzer": "whitespace"}
        assert f'"{field.name}":' not in written, "the registry's fields are not written twice"
        if field.stems:
            # Stems are matched word by word, never as phrases: no positions.
            assert properties[field.stems] == {
                "type": "text",
                "analyzer": "whitespace",
                "index_options": "freqs",
            }
    for facet in FACETS:
        assert properties[facet.index_key]["type"] == "keyword"
        assert f'"{facet.index_key}":' not in written


def test_a_union_document_has_exactly_the_mapped_fields() -> None:
    """The mapping is strict: a document field it lacks would be refused, one it has unused is a leftover."""
    document = union_document(UnionRecord.from_json(filled_record()))
    assert set(document) == set(definition("union")["properties"])


# -- CQL and SRU -------------------------------------------------------------------------------

PROTOCOL_INDEXES = {
    ("cql", "serverchoice"),
    ("cql", "anywhere"),
    ("cql", "allindexes"),
    ("cql", "keywords"),
    ("cql", "allrecords"),
    ("bath", "any"),
}


def test_every_cql_index_is_the_protocols_or_a_registry_fields() -> None:
    declared: dict[tuple[str, str], Index] = {}
    for text in TEXT_FIELDS:
        for name in text.cql:
            declared[(name.context, name.index)] = Index(
                "ident" if text.identifiers else "text", text.name, name.title
            )
    for facet in FACETS:
        for name in facet.cql:
            declared[(name.context, name.index)] = Index(
                "year" if facet.filter == "years" else "code", facet.name, name.title
            )
    listed = {
        (context, name): index for context, indexes in INDEXES.items() for name, index in indexes.items()
    }
    assert set(listed) - PROTOCOL_INDEXES == set(declared)
    assert {key: listed[key] for key in declared} == declared


def test_sru_answers_every_facet_under_an_index_that_counts_it() -> None:
    assert set(FACET_NAMES) == set(FACET_FIELDS)
    for facet in FACETS:
        context, name, _ = resolve_index(FACET_NAMES[facet.name], {})
        assert FACET_INDEXES[(context, name)] == facet.name
        for cql in facet.cql:
            assert FACET_INDEXES[(cql.context, cql.index)] == facet.name


# -- the web app -------------------------------------------------------------------------------


def test_hits_carry_the_fields_marked_for_them() -> None:
    hit = hit_json(UnionRecord.from_json(filled_record()), {}, barcodes=False)
    # And when each library holding it was last read (as_of), which is no field of the record.
    assert set(hit) == {field.name for field in RECORD_FIELDS if field.hit} | {"holdings", "as_of"}


def test_the_openapi_document_has_a_filter_per_facet_filter_and_every_field() -> None:
    document = openapi_document(Settings())
    parameters = document["components"]["parameters"]
    for path in ("/api/search", "/search"):
        listed = document["paths"][path]["get"]["parameters"]
        names = {parameters[item["$ref"].rpartition("/")[2]]["name"] for item in listed}
        # Every parameter the query parser reads is documented (and ``lang``, which every page reads, and
        # the live search's, search_app/catalogue/live.py).
        assert names == SEARCH_PARAMETERS | {"lang"} | LIVE_PARAMETERS
        value_filters = set(FILTER_FIELDS) | {f"not_{name}" for name in FILTER_FIELDS}
        # Each facet that filters by value has its parameter and its exclusion (not_<facet>).
        assert value_filters <= names
    for name in FILTER_FIELDS:
        assert parameters[f"search.{name}"]["description"] == FACET[name].description
    schemas = document["components"]["schemas"]
    assert schemas["SearchResult"]["properties"]["facets"]["propertyNames"]["enum"] == list(FACET_FIELDS)
    assert set(schemas["UnionRecord"]["properties"]) == set(RECORD_FIELD)
    sru = document["paths"]["/sru"]["get"]["parameters"]
    (facet_limit,) = [parameter for parameter in sru if parameter.get("name") == "facetLimit"]
    assert all(name in facet_limit["description"] for name in FACET_NAMES.values())


def test_the_shipped_facet_file_shows_every_facet() -> None:
    # But the harvested sources (the sidebar's "Library" is held_at, the directory's libraries) and
    # the libraries with a copy available now (the search page's "Available at my library" filters by
    # it); the facet file says so.
    assert set(load_labels().facet_order) == set(FACET_FIELDS) - {"library", "available_at"}


def test_a_facet_the_file_does_not_title_has_the_registrys_title() -> None:
    assert [Labels().facet_title(name) for name in FACET_FIELDS] == [facet.title for facet in FACETS]


def test_coded_fields_are_coded_by_both_profiles_and_labelled() -> None:
    """Every value a coded field may take has a label, and both built-in profiles fill the field."""
    labels = load_labels()
    for name in CODED_FIELDS:
        vocabulary = RECORD_FIELD[name].vocabulary
        assert set(labels.values[name]) == set(vocabulary), name
        for profile in PROFILES:
            coded = [entry for entry in builtin_profile(profile).coded if entry.field == name]
            assert coded and {value for entry in coded for value in entry.values.values()} <= set(vocabulary)


def test_the_openapi_document_enumerates_the_values_of_coded_fields() -> None:
    document = openapi_document(Settings())
    for facet in FACETS:
        vocabulary = RECORD_FIELD[facet.source].vocabulary
        if vocabulary and facet.filter == "values":
            schema = document["components"]["parameters"][f"search.{facet.name}"]["schema"]
            assert schema["items"]["enum"] == list(vocabulary)
    properties = document["components"]["schemas"]["UnionRecord"]["properties"]
    for name in CODED_FIELDS:
        assert properties[name]["items"]["enum"] == list(RECORD_FIELD[name].vocabulary)
