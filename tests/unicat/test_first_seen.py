"""What counts as new (unicat/first_seen.py), on each setup (SQLite alone; PostgreSQL + Elasticsearch):
the dates a generation gives union records, kept by member through re-indexing, merges and splits,
and the ``new_since`` / ``new_at`` filters and ``newest`` sort that read them.

Earlier history is given to the store as dates of its own (``restore_first_dates``, what ``unicat
migrate`` writes), so the expected dates are those given; a date the run itself assigns is checked
against instants read on the clock around the run.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from tests.conftest import build_union_record
from unicat.catalogue import Catalogue
from unicat.clock import utc_now
from unicat.first_seen import SITES_UNKNOWN
from unicat.model import Holding, SourceRef, UnionRecord
from unicat.query import SearchQuery
from unicat.union_generation import write_union_generation

OLD = "2020-03-01T10:00:00Z"
OLDER = "2019-06-15T08:30:00Z"
LATER = "2024-01-10T12:00:00Z"


def _index(catalogue: Catalogue, records: Sequence[UnionRecord]) -> tuple[str, str]:
    """Write ``records`` as a generation; returns the clock's instants just before and after."""
    before = utc_now()
    write_union_generation(catalogue.records, catalogue.index, list(records), {})
    return before, utc_now()


def _after(moment: str) -> None:
    """Wait for the clock's next second: a later run's instant differs from an earlier one's."""
    while utc_now() <= moment:
        time.sleep(0.05)


def _stored(catalogue: Catalogue, union_id: str) -> UnionRecord:
    record = catalogue.index.get_union_record(union_id)
    assert record is not None, union_id
    return record


def _ids(catalogue: Catalogue, query: SearchQuery) -> list[str]:
    return [hit.id for hit in catalogue.index.search(query).hits]


def _merged(union_id: str, title: str, *members: tuple[str, str]) -> UnionRecord:
    """A union record of ``members`` (source, local_id), each with one copy at its source."""
    record = build_union_record(union_id, title, libraries=[])
    record.sources = [SourceRef(source, local_id) for source, local_id in members]
    record.holdings = [Holding(library=source, library_name=source) for source, _ in members]
    return record


def test_a_new_catalogue_dates_everything_at_its_first_index_and_a_reindex_changes_nothing(
    catalogue: Catalogue,
) -> None:
    records = [
        build_union_record("pride", "Pride", libraries=["BNF", "UVA"]),
        build_union_record("emma", "Emma"),
    ]
    before, after = _index(catalogue, records)
    first = _stored(catalogue, "pride")
    assert first.first_seen is not None and before <= first.first_seen <= after
    assert first.held_since == {"BNF": first.first_seen, "UVA": first.first_seen}
    _after(after)
    # Indexed again (a re-index, or a rebuild: every run writes a whole generation): nothing moves.
    _index(catalogue, [build_union_record("pride", "Pride", libraries=["BNF", "UVA"]), records[1]])
    again = _stored(catalogue, "pride")
    assert (again.first_seen, again.held_since) == (first.first_seen, first.held_since)
    assert _stored(catalogue, "emma").to_json()["first_seen"] == first.first_seen


def test_a_merge_keeps_the_earliest_date_and_a_split_each_parts_own(catalogue: Catalogue) -> None:
    catalogue.records.restore_first_dates(
        [("BNF", "b1", LATER), ("UVA", "u1", OLD)],
        [("BNF", "b1", "BNF", LATER), ("UVA", "u1", "UVA", OLD)],
    )
    _index(catalogue, [_merged("pride", "Pride", ("BNF", "b1"), ("UVA", "u1"))])
    merged = _stored(catalogue, "pride")
    assert merged.first_seen == OLD
    assert merged.held_since == {"BNF": LATER, "UVA": OLD}
    # A librarian splits them: each part keeps its own member's dates.
    _index(catalogue, [_merged("pride", "Pride", ("UVA", "u1")), _merged("pride-b", "Pride", ("BNF", "b1"))])
    assert (_stored(catalogue, "pride").first_seen, _stored(catalogue, "pride-b").first_seen) == (OLD, LATER)
    assert _stored(catalogue, "pride-b").held_since == {"BNF": LATER}


def test_a_new_librarys_copy_of_an_old_title_is_new_at_that_library_only(catalogue: Catalogue) -> None:
    catalogue.records.restore_first_dates([("BNF", "b1", OLD)], [("BNF", "b1", "BNF", OLD)])
    before, after = _index(catalogue, [_merged("pride", "Pride", ("BNF", "b1"), ("OXF", "o1"))])
    record = _stored(catalogue, "pride")
    assert record.first_seen == OLD
    assert record.held_since["BNF"] == OLD
    assert before <= record.held_since["OXF"] <= after
    assert _ids(catalogue, SearchQuery(new_since=before)) == []
    assert _ids(catalogue, SearchQuery(new_since=before, new_at="OXF")) == ["pride"]
    assert _ids(catalogue, SearchQuery(new_since=before, new_at="BNF")) == []
    assert _ids(catalogue, SearchQuery(new_since=OLD)) == ["pride"]


def test_a_record_deleted_then_harvested_again_keeps_its_first_date(catalogue: Catalogue) -> None:
    catalogue.records.restore_first_dates([("BNF", "b1", OLD)], [("BNF", "b1", "BNF", OLD)])
    _index(catalogue, [_merged("pride", "Pride", ("BNF", "b1"))])
    _index(catalogue, [build_union_record("emma", "Emma", libraries=["UVA"])])  # pride is gone
    _index(catalogue, [_merged("pride", "Pride", ("BNF", "b1"))])  # and back
    assert _stored(catalogue, "pride").first_seen == OLD


def test_an_upgraded_catalogues_first_generation_dates_its_copies_by_their_members(
    catalogue: Catalogue,
) -> None:
    # What the migration leaves (tests/unicat/stores/test_first_dates.py): a date, and the site "".
    catalogue.records.restore_first_dates([("UVA", "u1", OLD)], [("UVA", "u1", SITES_UNKNOWN, OLD)])
    before, after = _index(catalogue, [_merged("pride", "Pride", ("UVA", "u1"))])
    assert (_stored(catalogue, "pride").first_seen, _stored(catalogue, "pride").held_since) == (
        OLD,
        {"UVA": OLD},
    )
    assert _ids(catalogue, SearchQuery(new_since=before, new_at="UVA")) == []
    # Its sites known now, a copy the same member gains later at another library is new there.
    _after(after)
    record = _merged("pride", "Pride", ("UVA", "u1"))
    record.holdings.append(Holding(library="UVA", library_name="UVA", branch="law", site="LAW"))
    later, _ = _index(catalogue, [record])
    held_since = _stored(catalogue, "pride").held_since
    assert held_since["UVA"] == OLD and held_since["LAW"] >= later > OLD


# Four titles first seen (and first held at each library) on dates of their own; the expected orders
# below are read off this table.
DATED = {
    "a-emma": ("BNF", OLD, {"BNF": OLD, "UVA": LATER}),
    "b-pride": ("UVA", LATER, {"UVA": LATER, "OXF": OLDER}),
    "c-persuasion": ("OXF", OLDER, {"OXF": OLDER}),
    "d-sense": ("SCPO", LATER, {"SCPO": LATER}),
}


def _dated(catalogue: Catalogue) -> None:
    seen, held, records = [], [], []
    for union_id, (_source, _first, sites) in DATED.items():
        members = [(site, f"{site.lower()}-{union_id}") for site in sites]
        records.append(_merged(union_id, union_id.split("-")[1].title(), *members))
        seen += [(site, local_id, sites[site]) for site, local_id in members]
        held += [(site, local_id, site, sites[site]) for site, local_id in members]
    catalogue.records.restore_first_dates(seen, held)
    _index(catalogue, records)


def test_new_since_and_the_newest_sort_answer_from_the_dates(catalogue: Catalogue) -> None:
    _dated(catalogue)
    for union_id, (_source, first, sites) in DATED.items():
        record = _stored(catalogue, union_id)
        assert record.first_seen == min(sites.values()) and record.held_since == sites, union_id
        assert first == min(sites.values()) or union_id == "b-pride"
    # first_seen: a-emma OLD, b-pride OLDER (its OXF copy), c-persuasion OLDER, d-sense LATER.
    assert _ids(catalogue, SearchQuery(sort="newest")) == ["d-sense", "a-emma", "b-pride", "c-persuasion"]
    assert _ids(catalogue, SearchQuery(new_since=OLD, sort="newest")) == ["d-sense", "a-emma"]
    assert _ids(catalogue, SearchQuery(new_since=LATER, sort="newest")) == ["d-sense"]
    assert catalogue.index.search(SearchQuery(new_since="2030-01-01T00:00:00Z")).total == 0
    # At UVA: emma and pride arrived LATER, nothing else is held there.
    assert _ids(catalogue, SearchQuery(new_since=OLD, new_at="UVA", sort="newest")) == ["a-emma", "b-pride"]
    # At OXF since OLDER: pride and persuasion, tied, by id.
    assert _ids(catalogue, SearchQuery(new_since=OLDER, new_at="OXF", sort="newest")) == [
        "b-pride",
        "c-persuasion",
    ]
    assert _ids(catalogue, SearchQuery(new_since=OLD, new_at="OXF")) == []
    # Beside text and facets, as any filter: the facet counts are those of the new records.
    result = catalogue.index.search(SearchQuery(new_since=OLD, facets=True))
    assert result.total == 2
    held_at = {count.value: count.count for count in result.facets["held_at"]}
    assert held_at == {"BNF": 1, "UVA": 1, "SCPO": 1}
