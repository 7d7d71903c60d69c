"""Stemming on every engine: a word finds the words that share its Snowball stem, exact words rank first.

Expected answers follow the Snowball algorithms' documented rules (snowballstem.org), cited per case:
French deletes a plural ``s`` and a final ``e`` in the residual suffix steps ("histoires", "histoire"
→ "histoir"); English step 1a turns ``ies`` into ``i`` and step 1c a final ``y`` after a consonant into
``i`` ("stories", "story" → "stori"); Dutch step 1 deletes ``en`` after a non-vowel ("boeken" →
"boek"), an ending French does not know ("boeken" stays "boeken").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from unicat.model import UnionRecord
from unicat.ports.union_index import UnionIndex
from unicat.query import SearchQuery, SearchResult, parse_search_params
from unicat.settings import Settings

MakeRecord = Callable[..., UnionRecord]


def query(q: str, settings: Settings | None = None) -> SearchQuery:
    """A search as the web app builds it from ``q``."""
    return parse_search_params({"q": [q]}, settings or Settings())


def ranked(engine: UnionIndex, q: str, settings: Settings | None = None) -> list[str]:
    return [hit.id for hit in engine.search(query(q, settings)).hits]


def found(result: SearchResult) -> set[str]:
    return {hit.id for hit in result.hits}


@pytest.fixture
def stemmed(engine: UnionIndex, make_union_record: MakeRecord) -> UnionIndex:
    records = [
        make_union_record("histoire", "Histoire de France", language="fre"),
        make_union_record("histoires", "Histoires extraordinaires", language="fre"),
        make_union_record(
            "sujet", "Les rois de France", language="fre", subjects=["France -- Histoire -- 1515-1547"]
        ),
        make_union_record("story", "The story of my life", language="eng"),
        make_union_record("stories", "Ghost stories of an antiquary", language="eng"),
        make_union_record("boek", "Het grote boek van de natuur", language="dut"),
        make_union_record("boeken", "Oude boeken", language="dut"),
        # The same word in a French record: French rules leave "boeken" whole.
        make_union_record("boeken-fre", "Boeken", language="fre"),
        # No language: stemmed with every language Unicat stems.
        make_union_record("boeken-und", "Boeken en prenten"),
        # Another language: not stemmed, its exact words only.
        make_union_record("stories-ger", "Stories aus Berlin", language="ger"),
    ]
    assert engine.replace_union_records(records).written == len(records)
    return engine


def test_french_plural_and_singular_find_each_other(stemmed: UnionIndex) -> None:
    assert set(ranked(stemmed, "histoires")) == {"histoire", "histoires", "sujet"}
    assert set(ranked(stemmed, "histoire")) == {"histoire", "histoires", "sujet"}


def test_english_plural_and_singular_find_each_other(stemmed: UnionIndex) -> None:
    assert set(ranked(stemmed, "story")) == {"story", "stories"}
    assert set(ranked(stemmed, "stories")) == {"story", "stories", "stories-ger"}


def test_a_dutch_record_is_stemmed_with_dutch_rules(stemmed: UnionIndex) -> None:
    # "boek" finds the Dutch "boeken" and the untagged one; the French record's "boeken" is its own stem.
    assert set(ranked(stemmed, "boek")) == {"boek", "boeken", "boeken-und"}
    assert set(ranked(stemmed, "boeken")) == {"boek", "boeken", "boeken-fre", "boeken-und"}


def test_exact_words_rank_above_matches_by_stem(stemmed: UnionIndex) -> None:
    # Each of these titles is two or more words long with the searched word once: the exact word wins.
    assert ranked(stemmed, "histoires")[0] == "histoires"
    assert ranked(stemmed, "histoire")[0] == "histoire"
    assert ranked(stemmed, "story")[0] == "story"
    assert ranked(stemmed, "stories")[0] in {"stories", "stories-ger"}
    assert ranked(stemmed, "stories")[-1] == "story"
    assert ranked(stemmed, "boek")[0] == "boek"


def test_a_field_clause_matches_stems_of_that_field_only(stemmed: UnionIndex) -> None:
    assert set(ranked(stemmed, "title:histoires")) == {"histoire", "histoires"}
    assert set(ranked(stemmed, "subject:histoires")) == {"sujet"}
    # Names are not stemmed.
    assert ranked(stemmed, "author:histoires") == []


def test_phrases_and_prefixes_are_not_stemmed(stemmed: UnionIndex) -> None:
    assert ranked(stemmed, '"histoire extraordinaire"') == []
    assert ranked(stemmed, '"histoires extraordinaires"') == ["histoires"]
    assert ranked(stemmed, "histoire extraordinaire") == ["histoires"]
    # One quoted word is matched as written too.
    assert set(ranked(stemmed, '"histoire"')) == {"histoire", "sujet"}
    assert ranked(stemmed, 'title:"histoires"') == ["histoires"]
    # A prefix matches the exact words that begin so: "storie*" finds "stories", English or German.
    assert set(ranked(stemmed, "storie*")) == {"stories", "stories-ger"}


def test_searches_stem_only_for_the_languages_they_name(stemmed: UnionIndex) -> None:
    unstemmed = Settings(network_languages=())
    assert ranked(stemmed, "histoires", unstemmed) == ["histoires"]
    # Dutch rules alone: "boek" still meets the Dutch records' stems.
    dutch = replace(query("boek"), stem_languages=("nl",))
    assert found(stemmed.search(dutch)) == {"boek", "boeken", "boeken-und"}
