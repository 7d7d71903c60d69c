"""The words and headings every engine keeps with a generation: the speller's vocabulary and the
suggestions offered as a reader types. Run against each engine of ``tests/conftest.py::ENGINES``.

Expected answers are counted from the records each test writes, never from the engine.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from unicat.analysis import tokens
from unicat.model import UnionRecord
from unicat.ports.union_index import UnionIndex
from unicat.query import parse_search_params
from unicat.settings import Settings
from unicat.speller import Speller

MakeRecord = Callable[..., UnionRecord]


@pytest.fixture
def catalogue(make_union_record: MakeRecord) -> list[UnionRecord]:
    return [
        make_union_record(
            "pp1", "Pride and Prejudice", authors=["Austen, Jane"], subjects=["Courtship -- Fiction"]
        ),
        make_union_record("pp2", "Pride and prejudice", authors=["Austen, Jane"], libraries=["UVA", "BNF"]),
        make_union_record("emma", "Emma", authors=["Austen, Jane"], subjects=["Courtship -- Fiction"]),
        make_union_record("prince", "Le Petit Prince", authors=["Saint-Exupéry, Antoine de"]),
        make_union_record("prisons", "Prisons et châtiments", authors=["Priestley, J. B."]),
        make_union_record("etranger", "L'Étranger", authors=["Camus, Albert"], subjects=["Prix Nobel"]),
    ]


@pytest.fixture
def indexed(engine: UnionIndex, catalogue: list[UnionRecord]) -> UnionIndex:
    engine.replace_union_records(catalogue)
    return engine


def records_with_word(records: list[UnionRecord], word: str) -> int:
    return sum(
        1
        for record in records
        if any(word in tokens(text) for text in [record.title, *record.authors, *record.subjects])
    )


def test_vocabulary_counts_records_per_word(indexed: UnionIndex, catalogue: list[UnionRecord]) -> None:
    vocabulary = indexed.vocabulary()
    for word in ("pride", "prejudice", "austen", "courtship", "etranger", "exupery", "camus"):
        assert vocabulary[word] == records_with_word(catalogue, word), word
    # Folded as the records are indexed: no accents, no case, no elided article.
    assert "Étranger" not in vocabulary and "l" not in vocabulary


def test_vocabulary_is_replaced_with_the_generation(
    indexed: UnionIndex, make_union_record: MakeRecord
) -> None:
    indexed.replace_union_records([make_union_record("moby", "Moby Dick", authors=["Melville, Herman"])])
    assert indexed.vocabulary() == {"moby": 1, "dick": 1, "melville": 1, "herman": 1}
    assert [entry.text for entry in indexed.suggest("pri", 10)] == []


def test_speller_from_the_engine_corrects_to_a_word_of_the_records(indexed: UnionIndex) -> None:
    speller = Speller(indexed.vocabulary())
    assert speller.correct_text("pride and predjudice") == "pride and prejudice"
    assert speller.correct_text("title:predjudice AND austn") == "title:prejudice AND austen"
    # Words of the catalogue are left alone: nothing to correct.
    assert speller.correct_text("pride and prejudice") is None


def test_a_correction_finds_records(indexed: UnionIndex) -> None:
    speller = Speller(indexed.vocabulary())
    corrected = speller.correct_text("pride and predjudice")
    assert corrected is not None
    found = indexed.search(parse_search_params({"q": [corrected]}, Settings()))
    assert {hit.id for hit in found.hits} == {"pp1", "pp2"}


def test_suggestions_match_the_folded_prefix_most_used_first(
    indexed: UnionIndex, catalogue: list[UnionRecord]
) -> None:
    found = indexed.suggest("pri", 10)
    # Every heading of the records whose analysed form starts with "pri", counted by records.
    expected: dict[tuple[str, str], int] = {}
    for record in catalogue:
        for kind, texts in (
            ("title", [record.title]),
            ("author", record.authors),
            ("subject", record.subjects),
        ):
            for text in texts:
                if " ".join(tokens(text)).startswith("pri"):
                    key = (kind, " ".join(tokens(text)))
                    expected[key] = expected.get(key, 0) + 1
    assert {(entry.kind, entry.key): entry.count for entry in found} == expected
    assert [entry.count for entry in found] == sorted((entry.count for entry in found), reverse=True)
    assert found[0].key == "pride and prejudice" and found[0].count == 2


def test_suggestions_previous_words_complete_and_limit(indexed: UnionIndex) -> None:
    assert [(entry.text, entry.kind) for entry in indexed.suggest("pride and pre", 10)] == [
        ("Pride and Prejudice", "title")
    ]
    assert [entry.text for entry in indexed.suggest("etr", 10)] == ["L'Étranger"]
    assert [entry.text for entry in indexed.suggest("saint exu", 10)] == ["Saint-Exupéry, Antoine de"]
    assert len(indexed.suggest("p", 2)) == 2
    assert indexed.suggest("zzz", 10) == []


@pytest.mark.parametrize("prefix", ["p", "pr", "pri", "pride and"])
def test_short_and_long_prefixes_rank_alike(
    indexed: UnionIndex, catalogue: list[UnionRecord], prefix: str
) -> None:
    # Engines may rank the headings of short prefixes at rebuild: the answer is the same.
    counted: dict[tuple[str, str], int] = {}
    for record in catalogue:
        for kind, texts in (
            ("title", [record.title]),
            ("author", record.authors),
            ("subject", record.subjects),
        ):
            for text in dict.fromkeys(texts):
                key = " ".join(tokens(text))
                if key.startswith(prefix):
                    counted[(key, kind)] = counted.get((key, kind), 0) + 1
    expected = sorted(counted.items(), key=lambda item: (-item[1], item[0][0], item[0][1]))
    found = indexed.suggest(prefix, 100)
    assert [((entry.key, entry.kind), entry.count) for entry in found] == expected
    assert len(indexed.suggest(prefix, 1)) == min(1, len(expected))
