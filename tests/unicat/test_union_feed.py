"""The OAI-PMH feed's items on every catalogue: datestamps that move only when a record changes,
persistent deletes, sets, and keyset lists (unicat/oai_items.py)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from unicat.catalogue import Catalogue
from unicat.clock import parse_time
from unicat.model import KeptApart, SourceRef, UnionRecord
from unicat.oai_items import OaiSelection, format_set, library_set, next_datestamp, set_spec_part
from unicat.union_generation import write_union_generation

Make = Callable[..., UnionRecord]


def _write(catalogue: Catalogue, records: list[UnionRecord], redirects: dict[str, str]) -> int:
    """A rebuild, as ``unicat index`` writes it: the index, then what the store keeps of it."""
    return write_union_generation(catalogue.records, catalogue.index, records, redirects)


EVERYTHING = OaiSelection(0, 2**62)


def _catalogue(make: Make) -> list[UnionRecord]:
    return [
        make("u1", "Pride and prejudice", libraries=("BNF", "SCPO")),
        make("u2", "Emma", libraries=("BNF",)),
        make("u3", "Persuasion", libraries=("UVA",), format="sound recording"),
    ]


def _items(
    catalogue: Catalogue, selection: OaiSelection = EVERYTHING
) -> dict[str, tuple[int, bool, tuple[str, ...]]]:
    return {
        e.item.id: (e.item.generation, e.item.deleted, e.item.sets)
        for e in catalogue.feed.oai_list(selection, None, 100, False)
    }


def test_first_index_stamps_every_record_with_one_registered_generation(
    catalogue: Catalogue, make_union_record: Make
) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    _write(catalogue, _catalogue(make_union_record), {})
    after = datetime.now(UTC)
    (generation, datestamp), *others = catalogue.feed.oai_generations()
    assert others == []
    moment = parse_time(datestamp)
    assert moment is not None and before <= moment and moment.timestamp() <= after.timestamp() + 1
    items = _items(catalogue)
    assert items == {
        "u1": (generation, False, ("format", "format:book", "library", "library:BNF", "library:SCPO")),
        "u2": (generation, False, ("format", "format:book", "library", "library:BNF")),
        "u3": (generation, False, ("format", "format:sound-recording", "library", "library:UVA")),
    }
    assert catalogue.feed.oai_count(EVERYTHING) == 3
    sets = catalogue.feed.oai_sets()
    assert sets["library:BNF"] == "Bibliothèque nationale de France"
    assert sets["library:UVA"] == "University of Virginia Library"
    assert {"library", "format", "format:book", "format:sound-recording", "library:SCPO"} <= set(sets)


def test_an_unchanged_record_keeps_its_datestamp_and_changes_are_stamped_anew(
    catalogue: Catalogue, make_union_record: Make
) -> None:
    records = _catalogue(make_union_record)
    _write(catalogue, records, {})
    [(first, _)] = catalogue.feed.oai_generations()
    # The same records again, with only what no feed serves changed (harvest datestamps, editions,
    # the records kept apart from them).
    kept_apart = [KeptApart(SourceRef("OXF", "o1"), "lccn", "81010777", "the years differ (1981 / 1990)")]
    _write(
        catalogue,
        [
            dataclasses.replace(r, updated="2030-01-01T00:00:00Z", editions=["x"], kept_apart=kept_apart)
            for r in records
        ],
        {},
    )
    assert catalogue.feed.oai_generations() == [(first, catalogue.feed.oai_generations()[0][1])]
    assert {g for g, _, _ in _items(catalogue).values()} == {first}

    # u1 changes its title, u2 vanishes (withdrawn or merged away), u4 is new; u3 is untouched.
    changed = [
        dataclasses.replace(records[0], title="Pride and prejudice : a novel"),
        records[2],
        make_union_record("u4", "Sanditon", libraries=("OXF",)),
    ]
    _write(catalogue, changed, {"u2": "u1"})
    (g1, d1), (g2, d2) = catalogue.feed.oai_generations()
    assert g1 == first and g2 > g1 and d2 >= d1
    items = _items(catalogue)
    assert items["u3"] == (first, False, ("format", "format:sound-recording", "library", "library:UVA"))
    assert items["u1"][:2] == (g2, False)
    assert items["u4"][:2] == (g2, False)
    # The deleted record keeps its last sets: a harvester of library:BNF learns it is gone.
    assert items["u2"] == (g2, True, ("format", "format:book", "library", "library:BNF"))
    gone = catalogue.feed.oai_entry("u2", with_record=True)
    assert gone is not None and gone.item.deleted and gone.record is None
    live = catalogue.feed.oai_entry("u1", with_record=True)
    assert (
        live is not None and live.record is not None and live.record.title == "Pride and prejudice : a novel"
    )
    assert catalogue.feed.oai_entry("never-was", with_record=True) is None

    # u2 comes back (a split undone): live again, with a newer generation still.
    _write(catalogue, [*changed, records[1]], {})
    (_, _), (_, _), (g3, _) = catalogue.feed.oai_generations()
    assert _items(catalogue)["u2"][:2] == (g3, False)


def test_lists_page_by_keyset_in_generation_then_id_order(
    catalogue: Catalogue, make_union_record: Make
) -> None:
    first = [
        make_union_record(f"a{n:02d}", f"Title {n}", libraries=("BNF",) if n % 2 else ("UVA",))
        for n in range(7)
    ]
    _write(catalogue, first, {})
    second = [*first[1:], make_union_record("b00", "Late", libraries=("BNF",))]
    _write(catalogue, second, {})
    (g1, _), (g2, _) = catalogue.feed.oai_generations()
    expected = [(g1, f"a{n:02d}") for n in range(1, 7)] + [(g2, "a00"), (g2, "b00")]

    pages: list[tuple[int, str]] = []
    after: tuple[int, str] | None = None
    while True:
        page = catalogue.feed.oai_list(EVERYTHING, after, 3, with_records=True)
        pages.extend((e.item.generation, e.item.id) for e in page)
        assert all((e.record is None) == e.item.deleted for e in page)
        if len(page) < 3:
            break
        after = (page[-1].item.generation, page[-1].item.id)
    assert pages == expected

    bnf = OaiSelection(0, 2**62, library_set("BNF"))
    assert [e.item.id for e in catalogue.feed.oai_list(bnf, None, 100, False)] == ["a01", "a03", "a05", "b00"]
    assert catalogue.feed.oai_count(bnf) == 4
    assert [e.item.id for e in catalogue.feed.oai_list(bnf, (g1, "a03"), 100, False)] == ["a05", "b00"]
    # a00 was deleted in g2: it is in the UVA set, as a deleted item of generation g2.
    uva_late = OaiSelection(g2, g2, library_set("UVA"))
    [deleted] = catalogue.feed.oai_list(uva_late, None, 100, True)
    assert (deleted.item.id, deleted.item.deleted, deleted.record) == ("a00", True, None)
    assert catalogue.feed.oai_count(OaiSelection(g1, g1)) == 6
    assert catalogue.feed.oai_list(OaiSelection(g2 + 1, 2**62), None, 10, False) == []


def test_set_specs_escape_what_the_protocol_does_not_allow() -> None:
    assert set_spec_part("BNF") == "BNF"
    assert set_spec_part("BR 1") == "BR~20~1"
    assert set_spec_part("a~b") == "a~7e~b"
    assert set_spec_part("Liège") == "Li~e8~ge"
    assert format_set("music score") == "format:music-score"
    assert len({set_spec_part(code) for code in ("A B", "A~20~B", "A_B")}) == 3


@pytest.mark.parametrize(
    ("previous", "now", "expected"),
    [
        (None, datetime(2026, 12, 2, 10, 0, 0, tzinfo=UTC), "2026-12-02T10:00:00Z"),
        (None, datetime(2026, 12, 2, 10, 0, 0, 400_000, tzinfo=UTC), "2026-12-02T10:00:01Z"),
        # A clock stepped back never orders a generation before the previous one.
        ("2026-12-02T11:00:00Z", datetime(2026, 12, 2, 10, 0, 0, tzinfo=UTC), "2026-12-02T11:00:00Z"),
    ],
)
def test_a_generation_datestamp_rounds_up_and_never_goes_back(
    previous: str | None, now: datetime, expected: str
) -> None:
    assert next_datestamp(previous, now) == expected
