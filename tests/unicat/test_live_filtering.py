"""Live records filtered as the union index filters union records, and the facet counts they add."""

from __future__ import annotations

from unicat.live_filtering import can_match_live, live_facet_counts, matches_filters
from unicat.live_search import MergedHit
from unicat.model import Holding, UnionRecord
from unicat.query import SearchQuery


def _record(**fields: object) -> UnionRecord:
    values: dict[str, object] = {"id": "live:T:1", "title": "Emma", "format": "book", "language": "eng"}
    values.update(fields)
    return UnionRecord(**values)  # type: ignore[arg-type]


def _copy(library: str, status: str | None = None) -> Holding:
    return Holding(library=library, library_name=library, status=status, site=library)


def test_no_filter_keeps_every_record() -> None:
    assert matches_filters(_record(), SearchQuery())


def test_a_value_filter_keeps_records_with_one_of_its_values() -> None:
    query = SearchQuery(filters={"language": ("fre", "eng")})
    assert matches_filters(_record(language="eng"), query)
    assert not matches_filters(_record(language="dut"), query)
    assert not matches_filters(_record(language=None), query)


def test_filters_of_two_facets_must_both_hold() -> None:
    query = SearchQuery(filters={"language": ("eng",), "format": ("serial",)})
    assert not matches_filters(_record(language="eng", format="book"), query)
    assert matches_filters(_record(language="eng", format="serial"), query)


def test_language_values_compare_folded_as_the_index_folds_them() -> None:
    # The language facet is folded (unicat/fields.py): a filter typed in capitals still matches.
    assert matches_filters(_record(language="eng"), SearchQuery(filters={"language": ("ENG",)}))


def test_an_exclusion_leaves_out_records_with_its_value() -> None:
    query = SearchQuery(exclusions={"language": ("eng",)})
    assert not matches_filters(_record(language="eng"), query)
    assert matches_filters(_record(language="fre"), query)


def test_the_year_range_is_inclusive_and_a_record_without_a_year_is_in_none() -> None:
    query = SearchQuery(year_from=1990, year_to=1999)
    assert matches_filters(_record(year=1990), query)
    assert matches_filters(_record(year=1999), query)
    assert not matches_filters(_record(year=2000), query)
    assert not matches_filters(_record(year=None), query)
    assert matches_filters(_record(year=1200), SearchQuery(year_to=1800))


def test_library_filters_see_the_copies_the_target_stands_for() -> None:
    record = _record(holdings=[_copy("NAMUR", "available")])
    assert matches_filters(record, SearchQuery(filters={"held_at": ("NAMUR",)}))
    assert matches_filters(record, SearchQuery(filters={"available_at": ("NAMUR",)}))
    assert not matches_filters(record, SearchQuery(filters={"held_at": ("LIEGE",)}))
    assert not matches_filters(record, SearchQuery(exclusions={"library": ("NAMUR",)}))


def test_searches_of_the_unions_own_sets_cannot_match_a_live_record() -> None:
    assert can_match_live(SearchQuery())
    assert not can_match_live(SearchQuery(ids=("abc",)))
    assert not can_match_live(SearchQuery(new_since="2026-12-01T00:00:00Z"))
    assert not can_match_live(SearchQuery(filters={"tag": ("classic",)}))


def test_live_facets_count_live_only_editions_and_the_libraries_live_copies_add() -> None:
    hits = [
        MergedHit(_record(id="u1", holdings=[_copy("LIEGE")]), True, live_holdings=[_copy("NAMUR")]),
        # A live copy at a library that holds the union record already adds nothing to its counts.
        MergedHit(_record(id="u2", holdings=[_copy("NAMUR")]), True, live_holdings=[_copy("NAMUR")]),
        MergedHit(_record(id="live:T:1", language="fre", holdings=[_copy("NAMUR")]), False),
        MergedHit(_record(id="live:T:2", language="fre", holdings=[_copy("NAMUR")]), False),
        MergedHit(_record(id="u3", language="dut"), True),
    ]
    counts = live_facet_counts(hits, SearchQuery())
    assert [(c.value, c.count) for c in counts["language"]] == [("fre", 2)]
    assert [(c.value, c.count) for c in counts["held_at"]] == [("NAMUR", 3)]
    assert [(c.value, c.count) for c in counts["library"]] == [("NAMUR", 3)]
    assert "format" in counts and [(c.value, c.count) for c in counts["format"]] == [("book", 2)]


def test_live_facets_list_no_more_values_than_the_search_asks() -> None:
    hits = [MergedHit(_record(id=f"live:T:{n}", language=f"l{n:02}"), False) for n in range(15)]
    assert len(live_facet_counts(hits, SearchQuery(facet_size=10))["language"]) == 10
