"""Partial updates of the union index (``UnionIndex.update_union_records``), run against each engine of
``tests/conftest.py::ENGINES``: after some records are written, replaced and removed in place, the
engine answers every search, facet count, record, suggestion and the speller's vocabulary exactly as
it answers after a rebuild of the same final records; and searches keep answering meanwhile.

Expected answers of the first test are the rebuild's (the behaviour a rebuild already has, tested in
the other conformance suites), plus facts read off the records by hand.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from unicat.engines.sqlite.engine import SqliteEngine
from unicat.errors import EngineError
from unicat.model import UnionRecord
from unicat.ports.union_index import UnionIndex
from unicat.query import SearchQuery, parse_search_params
from unicat.settings import Settings

MakeRecord = Callable[..., UnionRecord]

QUERIES = (
    "pride",
    "prejudice",
    "title:emma",
    "austen",
    "subject:courtship",
    "whale",
    "melville",
    "etranger",
    "moby dick",
    "histoires",
)
SUGGESTED = ("p", "pr", "pri", "e", "em", "emm", "c", "co", "cou", "m", "mo", "moby", "h", "a", "au")


def _initial(make: MakeRecord) -> list[UnionRecord]:
    pride = make("pride", "Pride and Prejudice", authors=["Austen, Jane"], year=1813, language="eng",
                 libraries=["UVA"], subjects=["Courtship -- Fiction"])  # fmt: skip
    emma = make("emma", "Emma", authors=["Austen, Jane"], year=1815, language="eng", libraries=["UVA", "BNF"],
                subjects=["Courtship -- Fiction", "Matchmaking"])  # fmt: skip
    stranger = make("etranger", "L'Étranger", authors=["Camus, Albert"], year=1942, language="fre",
                    libraries=["BNF"], subjects=["Prix Nobel"])  # fmt: skip
    prince = make("prince", "Le Petit Prince", authors=["Saint-Exupéry, Antoine de"], year=1943,
                  language="fre", libraries=["BNF", "KB"])  # fmt: skip
    poe = make("poe", "Histoires extraordinaires", authors=["Poe, Edgar Allan"], year=1856, language="fre",
               libraries=["KB"], subjects=["Horror tales"])  # fmt: skip
    for record in (pride, emma, stranger, prince, poe):
        record.first_seen = "2026-01-01T00:00:00Z"
        record.held_since = {library: "2026-01-01T00:00:00Z" for library in record.libraries}
    return [emma, stranger, poe, pride, prince]


def _changes(make: MakeRecord) -> tuple[list[UnionRecord], list[str]]:
    """Emma's record changes (a new library, a subject gone, its title spelled out); Moby Dick is new;
    L'Étranger is withdrawn; the others stay as they were."""
    emma = make("emma", "Emma : a novel", authors=["Austen, Jane"], year=1816, language="eng",
                libraries=["UVA", "BNF", "KB"], subjects=["Courtship -- Fiction"])  # fmt: skip
    emma.first_seen = "2026-01-01T00:00:00Z"
    emma.held_since = {
        "UVA": "2026-01-01T00:00:00Z",
        "BNF": "2026-01-01T00:00:00Z",
        "KB": "2026-02-01T00:00:00Z",
    }
    moby = make("moby", "Moby Dick, or, The Whale", authors=["Melville, Herman"], year=1851, language="eng",
                libraries=["UVA"], subjects=["Whaling -- Fiction"])  # fmt: skip
    moby.first_seen = "2026-02-01T00:00:00Z"
    moby.held_since = {"UVA": "2026-02-01T00:00:00Z"}
    return [emma, moby], ["etranger"]


def _answers(engine: UnionIndex) -> dict[str, Any]:
    """Everything a reader can ask of the index, as plain values."""
    answers: dict[str, Any] = {"count": engine.union_count(), "vocabulary": engine.vocabulary()}
    for text in ("", *QUERIES):
        result = engine.search(parse_search_params({"q": [text]} if text else {}, Settings()))
        answers[f"search {text!r}"] = (
            result.total,
            [hit.to_json() for hit in result.hits],
            {facet: [(c.value, c.count) for c in counts] for facet, counts in result.facets.items()},
        )
    for params in ({"library": ["KB"]}, {"new_since": ["2026-01-15T00:00:00Z"]}, {"sort": ["newest"]}):
        result = engine.search(parse_search_params(params, Settings()))
        answers[f"search {params}"] = (result.total, [hit.id for hit in result.hits])
    for prefix in SUGGESTED:
        answers[f"suggest {prefix}"] = [(s.text, s.kind, s.count, s.key) for s in engine.suggest(prefix, 10)]
    answers["records"] = sorted((record.id, record.to_json()) for record in engine.iter_union_records())
    return answers


def test_a_partial_update_answers_as_a_rebuild_of_the_same_records(
    engine: UnionIndex, make_union_record: MakeRecord
) -> None:
    initial = _initial(make_union_record)
    upserts, deletes = _changes(make_union_record)
    engine.replace_union_records(initial)
    written = engine.update_union_records(upserts, deletes)
    assert (written.written, dict(written.refused)) == (2, {})
    updated = _answers(engine)

    final = [record for record in initial if record.id not in {"emma", *deletes}] + upserts
    engine.replace_union_records(sorted(final, key=lambda record: record.id))
    rebuilt = _answers(engine)
    for question, answer in rebuilt.items():
        assert updated[question] == answer, question

    # Facts read off the records: L'Étranger and its words are gone, Matchmaking too (Emma was its only
    # record), the whale came, Emma is now at KB too and spelled out.
    assert updated["count"] == 5
    assert engine.get_union_record("etranger") is None
    assert updated["search 'etranger'"][0] == 0 and "etranger" not in updated["vocabulary"]
    assert "matchmaking" not in updated["vocabulary"] and updated["vocabulary"]["whale"] == 1
    assert updated["vocabulary"]["austen"] == 2 and updated["vocabulary"]["novel"] == 1
    assert updated["search {'library': ['KB']}"] == (3, updated["search {'library': ['KB']}"][1])
    assert sorted(updated["search {'library': ['KB']}"][1]) == ["emma", "poe", "prince"]
    assert sorted(updated["search {'new_since': ['2026-01-15T00:00:00Z']}"][1]) == ["moby"]
    assert ("Emma : a novel", "title", 1, "emma a novel") in updated["suggest e"]
    assert not [entry for entry in updated["suggest em"] if entry[0] == "Emma"]


def test_a_record_removed_and_written_again_comes_back_whole(
    engine: UnionIndex, make_union_record: MakeRecord
) -> None:
    initial = _initial(make_union_record)
    engine.replace_union_records(initial)
    engine.update_union_records([], ["pride", "emma", "not-there"])
    assert engine.union_count() == 3
    assert engine.search(parse_search_params({"q": ["austen"]}, Settings())).total == 0
    assert "austen" not in engine.vocabulary() and engine.suggest("prid", 10) == []
    engine.update_union_records([record for record in initial if record.id in ("pride", "emma")])
    engine_answers = _answers(engine)
    engine.replace_union_records(initial)
    assert engine_answers == _answers(engine)


def test_the_records_written_are_shown_to_the_observer(
    engine: UnionIndex, make_union_record: MakeRecord
) -> None:
    engine.replace_union_records(_initial(make_union_record))
    upserts, deletes = _changes(make_union_record)
    seen: list[tuple[str, dict[str, Any]]] = []
    engine.update_union_records(
        upserts, deletes, lambda record, document: seen.append((record.id, dict(document)))
    )
    assert seen == [(record.id, record.to_json()) for record in upserts]


@pytest.mark.parametrize("deletes", [["moby"], []])
def test_a_union_id_given_twice_is_refused(
    engine: UnionIndex, make_union_record: MakeRecord, deletes: list[str]
) -> None:
    initial = _initial(make_union_record)
    engine.replace_union_records(initial)
    moby = _changes(make_union_record)[0][1]
    upserts = [moby] if deletes else [moby, moby]
    with pytest.raises(EngineError, match="moby"):
        engine.update_union_records(upserts, deletes)
    if isinstance(engine, SqliteEngine):
        # One transaction: nothing of it stays.
        assert engine.union_count() == len(initial) and engine.get_union_record("moby") is None


def test_searches_keep_answering_during_an_update(engine: UnionIndex, make_union_record: MakeRecord) -> None:
    many = [
        make_union_record(
            f"r{n:04}",
            f"Record number {n} of the catalogue",
            authors=[f"Author {n % 50}"],
            year=1900 + n % 100,
        )
        for n in range(3_000)
    ]
    engine.replace_union_records(many)
    changed = [
        make_union_record(f"r{n:04}", f"Changed record {n}", authors=[f"Author {n % 40}"], year=2000 + n % 20)
        for n in range(0, 3_000, 2)
    ]
    totals: list[int] = []
    failures: list[BaseException] = []
    done = threading.Event()

    def search() -> None:
        while not done.is_set():
            try:
                totals.append(engine.search(SearchQuery()).total)
            except BaseException as exc:
                failures.append(exc)
                return

    reader = threading.Thread(target=search)
    reader.start()
    try:
        engine.update_union_records(changed, [f"r{n:04}" for n in range(1, 3_000, 6)])
    finally:
        done.set()
        reader.join()
    assert failures == [] and totals
    after = 3_000 - len(range(1, 3_000, 6))
    assert engine.search(SearchQuery()).total == after
    if isinstance(engine, SqliteEngine):
        assert set(totals) <= {3_000, after}  # one transaction: the old index or the new
    assert engine.search(parse_search_params({"q": ["changed"]}, Settings())).total == 1_500


def test_only_a_generation_written_by_this_schema_may_be_updated_in_place(
    engine: UnionIndex, make_union_record: MakeRecord
) -> None:
    # A fresh catalogue has no generation to update (Elasticsearch's is an empty first one).
    assert engine.rebuild_reason() in {"the union index was never built", "the union index holds no record"}
    engine.replace_union_records(_initial(make_union_record))
    assert engine.rebuild_reason() is None
    engine.update_union_records([], [record.id for record in _initial(make_union_record)])
    assert engine.rebuild_reason() == "the union index holds no record"
