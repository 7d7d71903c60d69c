"""The SQLite engine's fast paths give the answers of the plain ones: facets counted with bitsets and
pruning (or per record, or from the whole index's counts), relevance pages ranked by score first.

Expected answers come from the records themselves, never from the engine: which records match is
known by construction (a marker word in their titles), so the facet counts are a Counter over them.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from tests.conftest import build_union_record
from unicat.engines.sqlite import SqliteEngine
from unicat.engines.sqlite.facets import BITSET_VALUES
from unicat.engines.sqlite.search import SCORED_MARGIN
from unicat.model import UnionRecord
from unicat.query import Clause, FacetCount, SearchQuery, decade_label, subject_facet_values
from unicat.settings import Settings

LIBRARIES = [f"L{n:02d}" for n in range(30)]
LANGUAGES = ["fre", "eng", "ger", "spa", "ita", None]
AUDIENCES = ["children", "young_adults", "adults", "general", "specialized"]


def catalogue(count: int, subjects: int, skewed: bool, seed: int) -> list[UnionRecord]:
    """Records with random facet values; ``subjects`` distinct headings, few frequent ones if
    ``skewed``; about half carry the word "marker", a tenth "rare"."""
    rng = random.Random(seed)
    weights = [1 / (n + 1) if skewed else 1.0 for n in range(subjects)]
    records = []
    for n in range(count):
        words = ["marker"] * (rng.random() < 0.5) + ["rare"] * (rng.random() < 0.1)
        headings = rng.choices(range(subjects), weights, k=rng.randint(0, 4))
        record = build_union_record(
            f"r{n:05d}",
            " ".join(["Livre", *words, f"numero {n}"]),
            year=rng.choice([None, *range(1850, 2025)]),
            language=rng.choice(LANGUAGES),
            format=rng.choice(["book", "serial", "map", "score"]),
            libraries=rng.sample(LIBRARIES, rng.randint(1, 3)),
            subjects=[f"Sujet {h:04d} -- Histoire" for h in headings],
        )
        # A facet kept in the registry's shared table (union_facet_values): none, one or two values.
        records.append(replace(record, audience=rng.sample(AUDIENCES, rng.randint(0, 2))))
    return records


def expected_facets(records: list[UnionRecord], size: int) -> dict[str, list[FacetCount]]:
    """Every facet over ``records``, straight from their fields: count descending, then value."""
    values = {
        "library": [library for r in records for library in r.libraries],
        "format": [r.format for r in records],
        "language": [r.language for r in records if r.language is not None],
        "year": [decade_label(r.year) for r in records if r.year is not None],
        "subject": [s for r in records for s in subject_facet_values(r.subjects)],
        "audience": [value for r in records for value in r.audience],
        # The copies' libraries (their directory library, else their source), those with a copy
        # available, and the statuses of the copies ("unknown" for a copy without one), once a record.
        "held_at": [code for r in records for code in {h.site or h.library for h in r.holdings}],
        "available_at": [
            code
            for r in records
            for code in {h.site or h.library for h in r.holdings if h.status == "available"}
        ],
        "availability": [status for r in records for status in {h.status or "unknown" for h in r.holdings}],
    }
    return {
        name: [
            FacetCount(value, count)
            for value, count in sorted(Counter(found).items(), key=lambda item: (-item[1], item[0]))[:size]
        ]
        for name, found in values.items()
    }


def has_word(record: UnionRecord, word: str) -> bool:
    return word in record.title.lower().split()


@pytest.fixture(scope="module", params=[(400, False), (400, True), (60, True)], ids=["flat", "skewed", "few"])
def indexed(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[SqliteEngine, list[UnionRecord]]]:
    subjects, skewed = request.param
    records = catalogue(3_000, subjects, skewed, seed=subjects + skewed)
    path = tmp_path_factory.mktemp("paths") / "unicat.db"
    engine = SqliteEngine(path, Settings())
    with engine:
        engine.replace_union_records(records)
        yield engine, records


def test_more_subjects_than_bitsets_are_exercised() -> None:
    # The flat catalogue has more headings than get a bitset: its counts need the per-record way.
    assert BITSET_VALUES < 400


@pytest.mark.parametrize("size", [1, 10, 50])
def test_facets_of_broad_rare_and_every_match_set(
    indexed: tuple[SqliteEngine, list[UnionRecord]], size: int
) -> None:
    engine, records = indexed
    for clauses, matching in (
        ((Clause("any", ("marker",)),), [r for r in records if has_word(r, "marker")]),
        ((Clause("any", ("rare",)),), [r for r in records if has_word(r, "rare")]),
        ((), records),
    ):
        result = engine.search(SearchQuery(clauses=clauses, facet_size=size))
        assert result.total == len(matching)
        assert result.facets == expected_facets(matching, size)


@pytest.mark.parametrize("wanted", [{"L03"}, {f"L{n:02d}" for n in range(1, 11)}], ids=["narrow", "wide"])
def test_facets_of_filtered_match_sets(
    indexed: tuple[SqliteEngine, list[UnionRecord]], wanted: set[str]
) -> None:
    engine, records = indexed
    for clauses, word in (((Clause("any", ("marker",)),), "marker"), ((), "")):
        for audiences in ((), ("children", "adults")):
            filters = {"library": tuple(sorted(wanted)), "language": ("fre", "eng")}
            if audiences:
                filters["audience"] = audiences
            query = SearchQuery(clauses=clauses, filters=filters)

            def matching(
                skip: str = "", word: str = word, audiences: tuple[str, ...] = audiences
            ) -> list[UnionRecord]:
                """The matches, without the choice of the facet ``skip`` (how that facet counts)."""
                return [
                    r
                    for r in records
                    if (not word or has_word(r, word))
                    and (skip == "library" or wanted & set(r.libraries))
                    and (skip == "language" or r.language in ("fre", "eng"))
                    and (skip == "audience" or not audiences or set(audiences) & set(r.audience))
                ]

            result = engine.search(query)
            assert result.total == len(matching())
            expected = expected_facets(matching(), query.facet_size)
            for chosen in filters:
                expected[chosen] = expected_facets(matching(chosen), query.facet_size)[chosen]
            assert result.facets == expected


def tied_catalogue() -> tuple[list[UnionRecord], list[str]]:
    """Groups of records with the same title, so the same score; the shorter the title, the better
    its score. The expected relevance order: group by group, then by id (same title_sort)."""
    groups = [
        ("Common", 5),
        ("Common words", 30),
        ("Common words here", SCORED_MARGIN + 50),
        ("Common and more words", 40),
    ]
    records: list[UnionRecord] = []
    order: list[str] = []
    rng = random.Random(7)
    for number, (title, size) in enumerate(groups):
        ids = [f"g{number}-{n:04d}" for n in range(size)]
        order.extend(sorted(ids))
        rng.shuffle(ids)  # indexed in another order than the expected one
        records.extend(build_union_record(record_id, title) for record_id in ids)
    rng.shuffle(records)
    return records, order


@pytest.mark.parametrize("page_size", [1, 7, 20, 100])
def test_relevance_pages_follow_score_then_title_then_id(tmp_path: Path, page_size: int) -> None:
    records, order = tied_catalogue()
    with SqliteEngine(tmp_path / "unicat.db", Settings()) as engine:
        engine.replace_union_records(records)
        seen: list[str] = []
        for page in range(1, len(order) // page_size + 2):
            query = SearchQuery(
                clauses=(Clause("any", ("common",)),), page=page, page_size=page_size, facets=False
            )
            result = engine.search(query)
            assert result.total == len(order)
            seen.extend(hit.id for hit in result.hits)
    # Pages inside a group larger than the margin take the full sort; the others the scored path.
    assert seen == order
