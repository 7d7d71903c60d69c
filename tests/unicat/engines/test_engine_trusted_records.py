"""What issue 6 adds to the engines, on every engine: a source keeps its profile override, and a union
record keeps its contributors, other titles, format detail and named holdings, which search finds."""

from __future__ import annotations

from dataclasses import replace

from tests.conftest import build_union_record
from unicat.catalogue import Catalogue
from unicat.model import Contributor, Holding, Source
from unicat.ports.union_index import UnionIndex
from unicat.query import SearchQuery, parse_text_query

OVERRIDE = '[libraries]\n"751072303" = "Bibliothèque de Sciences Po"\n'


def test_a_source_keeps_its_profile_override(catalogue: Catalogue) -> None:
    store = catalogue.records
    store.save_source(Source("SCPO", "Sciences Po", profile="unimarc", mapping=OVERRIDE))
    store.save_source(Source("BNF", "BnF"))
    assert store.get_source("SCPO").mapping == OVERRIDE
    assert [source.mapping for source in store.list_sources()] == [None, OVERRIDE]


def test_a_union_record_keeps_the_new_fields_and_search_finds_them(engine: UnionIndex) -> None:
    record = replace(
        build_union_record("u-1", "Les misérables", authors=["Hugo, Victor"], libraries=["SCPO"]),
        contributors=[Contributor("Hugo, Victor", "author"), Contributor("Bayard, Émile", "illustrator")],
        other_titles=["Miserables (French)"],
        format_detail="large print",
        holdings=[
            Holding(
                "SCPO",
                "Sciences Po",
                "8°1234",
                branch="751072303",
                branch_name="Bibliothèque de Sciences Po",
                depositary="BIB01",
                depositary_name="ANX1",
            )
        ],
    )
    engine.replace_union_records([record])
    stored = engine.get_union_record("u-1")
    assert stored is not None and stored.to_json() == record.to_json()
    assert engine.search(SearchQuery(clauses=parse_text_query('author:"bayard"').clauses)).total == 1
    assert engine.search(SearchQuery(clauses=parse_text_query("title:french").clauses)).total == 1
