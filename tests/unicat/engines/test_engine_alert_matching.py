"""Saved searches matched against a day's new records (unicat/alert_matching.py), on every engine of
``tests/conftest.py::ENGINES``.

Expected answers are read from the records below (their words, years, languages, libraries), and
compared with the search page's own answer (the engine's search limited to the candidates); the
prefilter must never change an answer, checked over a generated set of searches.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

import pytest

from unicat.alert_matching import (
    SavedSearch,
    SearchMatches,
    load_candidates,
    match_saved_searches,
)
from unicat.analysis import tokens
from unicat.model import UnionRecord
from unicat.ports.union_index import UnionIndex
from unicat.query import parse_search_params
from unicat.settings import Settings

MakeRecord = Callable[..., UnionRecord]
# Every record but "hunting" is new today; "hunting" has the word "whale" too, and must not be found.
CANDIDATES = ("moby", "road", "whales", "ocean", "garden", "jardin")


@pytest.fixture
def records(make_union_record: MakeRecord) -> list[UnionRecord]:
    return [
        make_union_record(
            "moby",
            "Moby Dick, or the whale",
            authors=["Melville, Herman"],
            year=1851,
            language="eng",
            libraries=["UVA"],
        ),
        make_union_record("road", "The whale road", authors=["Smith, Ann"], year=1990, language="fre"),
        make_union_record("whales", "Whales of the world", year=2001, language="eng", subjects=["Cetacea"]),
        make_union_record(
            "ocean", "Ocean tales", authors=["Melville, Herman"], year=1855, language="eng", libraries=["UVA"]
        ),
        make_union_record(
            "garden", "The secret garden", authors=["Burnett, Frances"], year=1911, language="eng"
        ),
        make_union_record(
            "jardin", "Le jardin secret", authors=["Burnett, Frances"], year=1920, language="fre"
        ),
        make_union_record("hunting", "Whale hunting", year=1950, language="eng"),
    ]


@pytest.fixture
def indexed(engine: UnionIndex, records: list[UnionRecord]) -> UnionIndex:
    assert engine.replace_union_records(records).written == len(records)
    return engine


def saved(key: str, params: Mapping[str, Sequence[str]]) -> SavedSearch:
    return SavedSearch(key, parse_search_params(params, Settings()))


def match_all(
    index: UnionIndex, searches: Sequence[SavedSearch], ids: Sequence[str] = CANDIDATES, **options: object
) -> dict[str, SearchMatches]:
    candidates = load_candidates(index, ids)
    found = match_saved_searches(index, searches, candidates, **options)  # type: ignore[arg-type]
    return {answer.key: answer for batch in found for answer in batch}


def page_answer(index: UnionIndex, search: SavedSearch, first: int) -> tuple[int, tuple[str, ...]]:
    """What the search page finds of the search among the candidates: the reference answer."""
    result = index.search(replace(search.query, ids=CANDIDATES, page_size=first))
    return result.total, tuple(hit.id for hit in result.hits)


# (key, parameters, the candidates it finds, in the search's order where it has one)
CASES: tuple[tuple[str, dict[str, list[str]], tuple[str, ...]], ...] = (
    # "whales" finds "whale" by its stem; "hunting" has the word but is not new.
    ("word", {"q": ["whale"], "sort": ["year_desc"]}, ("whales", "road", "moby")),
    ("filter", {"q": ["whale"], "language": ["fre"]}, ("road",)),
    ("held_at", {"q": ["whale"], "held_at": ["UVA"]}, ("moby",)),
    ("year", {"q": ["melville"], "year": ["1853-1860"]}, ("ocean",)),
    ("not", {"q": ["whale -dick"], "sort": ["year_asc"]}, ("road", "whales")),
    ("or", {"q": ["garden OR jardin"], "sort": ["year_asc"]}, ("garden", "jardin")),
    ("prefix", {"q": ["gard*"]}, ("garden",)),
    ("field", {"q": ["au:melville"], "sort": ["year_asc"]}, ("moby", "ocean")),
    ("phrase", {"q": ['"secret garden"']}, ("garden",)),
    ("nothing", {"q": ["zebra"]}, ()),
    ("not-new", {"q": ["hunting"]}, ()),
)


def test_each_search_finds_its_new_records_in_its_own_order(indexed: UnionIndex) -> None:
    answers = match_all(indexed, [saved(key, params) for key, params, _ in CASES])
    for key, _, expected in CASES:
        assert answers[key].total == len(expected), key
        assert answers[key].first == expected, key


def test_answers_are_the_search_pages(indexed: UnionIndex) -> None:
    searches = [saved(key, params) for key, params, _ in CASES]
    answers = match_all(indexed, searches, first=2)
    for search in searches:
        assert (answers[search.key].total, answers[search.key].first) == page_answer(indexed, search, 2)


def test_first_caps_the_ids_not_the_total(indexed: UnionIndex) -> None:
    answer = match_all(indexed, [saved("w", {"q": ["whale"], "sort": ["year_desc"]})], first=1)["w"]
    assert (answer.total, answer.first) == (3, ("whales",))


def test_searches_that_cannot_match_are_answered_without_a_query(indexed: UnionIndex) -> None:
    answers = match_all(indexed, [saved(key, params) for key, params, _ in CASES])
    assert not answers["nothing"].queried and not answers["not-new"].queried
    assert answers["word"].queried


def test_no_candidates_match_nothing(indexed: UnionIndex) -> None:
    answers = match_all(indexed, [saved(key, params) for key, params, _ in CASES], ids=())
    assert {(a.total, a.first) for a in answers.values()} == {(0, ())}
    assert len(answers) == len(CASES)


def test_a_candidate_no_longer_in_the_index_is_not_matched(indexed: UnionIndex) -> None:
    answers = match_all(indexed, [saved("w", {"q": ["whale"]})], ids=("moby", "deleted-since"))
    assert (answers["w"].total, answers["w"].first) == (1, ("moby",))


def test_no_searches_no_batches(indexed: UnionIndex) -> None:
    assert list(match_saved_searches(indexed, [], load_candidates(indexed, CANDIDATES))) == []


def test_searches_stream_in_batches_in_order(indexed: UnionIndex) -> None:
    searches = [saved(key, params) for key, params, _ in CASES[:5]]
    batches = list(
        match_saved_searches(indexed, iter(searches), load_candidates(indexed, CANDIDATES), batch=2)
    )
    assert [[answer.key for answer in batch] for batch in batches] == [
        [search.key for search in searches[i : i + 2]] for i in range(0, 5, 2)
    ]


def generated_searches(records: Sequence[UnionRecord], count: int) -> list[SavedSearch]:
    """Searches of the records' own words, as readers combine them: words, pairs, OR, NOT, ``word*``,
    field prefixes, filters of the records' values, and words of none of them."""
    rng = random.Random(24)
    words = sorted(
        {word for r in records for text in (r.title, *r.authors, *r.subjects) for word in tokens(text)}
    )
    words += ["zebra", "whal", "historie"]
    languages = [*sorted({r.language for r in records if r.language}), "ger"]
    shapes: tuple[Callable[[], dict[str, list[str]]], ...] = (
        lambda: {"q": [rng.choice(words)]},
        lambda: {"q": [f"{rng.choice(words)} {rng.choice(words)}"]},
        lambda: {"q": [f"{rng.choice(words)} OR {rng.choice(words)}"]},
        lambda: {"q": [f"{rng.choice(words)} -{rng.choice(words)}"]},
        lambda: {"q": [f"-{rng.choice(words)}"]},
        lambda: {"q": [f"{rng.choice(words)[:3]}*"]},
        lambda: {"q": [f"{rng.choice(('ti', 'au', 'su'))}:{rng.choice(words)}"]},
        lambda: {"q": [rng.choice(words)], "language": [rng.choice(languages)]},
        lambda: {"q": [rng.choice(words)], "held_at": [rng.choice(("UVA", "BNF", "XYZ"))]},
        lambda: {
            "q": [rng.choice(words)],
            "year": [f"{(low := rng.randrange(1840, 2010))}-{low + rng.randrange(40)}"],
        },
        lambda: {"language": [rng.choice(languages)], "not_language": [rng.choice(languages)]},
    )
    found: list[SavedSearch] = []
    for number in range(count):
        params = rng.choice(shapes)()
        params["sort"] = [rng.choice(("relevance", "year_desc", "title"))]
        found.append(saved(f"g{number}", params))
    return found


def test_the_prefilter_never_changes_an_answer(indexed: UnionIndex, records: list[UnionRecord]) -> None:
    searches = generated_searches(records, 300)
    prefiltered = match_all(indexed, searches, first=3)
    unfiltered = match_all(indexed, searches, first=3, prefilter=False)
    assert len(prefiltered) == len(searches) > 250
    for search in searches:
        a, b = prefiltered[search.key], unfiltered[search.key]
        assert (a.total, a.first) == (b.total, b.first), search.query.text
    # The prefilter did spare queries, and the set did find records: the comparison means something.
    assert sum(not a.queried for a in prefiltered.values()) > 30
    assert sum(a.total > 0 for a in prefiltered.values()) > 30


def test_too_many_candidates_name_the_limit(indexed: UnionIndex) -> None:
    with pytest.raises(ValueError, match="MAX_ID_FILTER"):
        load_candidates(indexed, [f"r{n}" for n in range(10_001)])


def test_candidates_are_read_from_the_index(indexed: UnionIndex) -> None:
    assert len(load_candidates(indexed, ["moby", "moby", "nowhere"])) == 1


def test_searches_run_at_once_answer_as_one_at_a_time(
    indexed: UnionIndex, records: list[UnionRecord]
) -> None:
    searches = generated_searches(records, 60)
    alone = match_all(indexed, searches, first=3)
    together = match_all(indexed, searches, first=3, workers=3, batch=7)
    assert list(together) == [search.key for search in searches]
    assert {key: (a.total, a.first) for key, a in together.items()} == {
        key: (a.total, a.first) for key, a in alone.items()
    }


def test_search_many_answers_each_search_as_search_does(indexed: UnionIndex) -> None:
    queries = [
        parse_search_params({"q": ["whale"], "facets": ["0"], "sort": ["year_desc"]}, Settings()),
        parse_search_params(
            {"q": ["melville"], "facets": ["0"], "page_size": ["1"], "page": ["2"]}, Settings()
        ),
        # With facets: answered alone, facets and all.
        parse_search_params({"q": ["secret"]}, Settings()),
        parse_search_params({"q": ["zebra"], "facets": ["0"]}, Settings()),
    ]
    together = indexed.search_many(queries)
    alone = [indexed.search(query) for query in queries]
    assert [(r.total, [h.id for h in r.hits], r.facets) for r in together] == [
        (r.total, [h.id for h in r.hits], r.facets) for r in alone
    ]
    assert [r.total for r in together] == [4, 2, 2, 0]
    assert indexed.search_many([]) == []
