"""The record store's part of a rebuild and of the OAI-PMH feed (unicat/ports/records.py), over both
databases (tests/unicat/stores/conftest.py): what ``save_union_generation`` leaves behind, the feed's
items listed page by page within a set or not, counted and copied.

Expected answers come from the records each test gives and from ``unicat/oai_items.py``'s rules (a
record's sets, what counts as a change), never from running the store itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import pytest

from unicat.model import UnionRecord
from unicat.oai_items import FeedCollector, OaiItem, OaiSelection, feed_record, seconds_of
from unicat.ports.records import RecordStore

MakeRecord = Callable[..., UnionRecord]
EVERYTHING = OaiSelection(0, 2**62)


def feed_of(records: Sequence[UnionRecord]) -> FeedCollector:
    feed = FeedCollector()
    for record in records:
        feed.add(record)
    return feed


def members_of(records: Sequence[UnionRecord]) -> list[tuple[str, str, str]]:
    return [(ref.source, ref.local_id, record.id) for record in records for ref in record.sources]


def save(store: RecordStore, records: Sequence[UnionRecord], redirects: dict[str, str] | None = None) -> int:
    return store.save_union_generation(members_of(records), redirects or {}, feed_of(records))


def item(record: UnionRecord, generation: int, deleted: bool = False) -> OaiItem:
    """The item the feed must hold for ``record`` as last served, changed by ``generation``."""
    served = feed_record(record)
    return OaiItem(record.id, generation, deleted, served.sets, served.fingerprint)


def test_a_first_generation_stamps_every_record_and_registers_its_datestamp(
    store: RecordStore, make_union_record: MakeRecord
) -> None:
    etranger = make_union_record("etranger", "L'Étranger", libraries=["BNF", "SCPO"])
    carte = make_union_record("carte", "Carte de la France", format="map", libraries=["BNF"])
    before = datetime.now(UTC)
    assert save(store, [etranger, carte]) == 2
    after = datetime.now(UTC)

    [(generation, datestamp)] = store.oai_generations()
    assert generation == 1
    # Read from the clock during the save, rounded up to the second.
    assert int(before.timestamp()) <= seconds_of(datestamp) <= int(after.timestamp()) + 1
    assert store.oai_item("etranger") == OaiItem(
        "etranger",
        1,
        False,
        ("format", "format:book", "library", "library:BNF", "library:SCPO"),
        feed_record(etranger).fingerprint,
    )
    assert store.oai_item("carte") == item(carte, 1)
    assert store.oai_item("never") is None
    assert store.oai_sets() == {
        "format": "Material type",
        "format:book": "Material type: book",
        "format:map": "Material type: map",
        "library": "Holding library",
        "library:BNF": "Bibliothèque nationale de France",
        "library:SCPO": "Bibliothèque de Sciences Po",
    }
    assert store.memberships() == {
        ("BNF", "bnf-etranger"): "etranger",
        ("SCPO", "scpo-etranger"): "etranger",
        ("BNF", "bnf-carte"): "carte",
    }


def test_later_generations_stamp_only_what_changed(store: RecordStore, make_union_record: MakeRecord) -> None:
    etranger = make_union_record("etranger", "L'Étranger", libraries=["BNF", "SCPO"])
    peste = make_union_record("peste", "La Peste", libraries=["SCPO"])
    carte = make_union_record("carte", "Carte de la France", format="map", libraries=["BNF"])
    assert save(store, [etranger, peste, carte]) == 3

    # The second: La Peste retitled, the map merged into L'Étranger (its library's record now belongs
    # to it), a new record. L'Étranger's served content is unchanged: it keeps its generation.
    retitled = make_union_record("peste", "La Peste (roman)", libraries=["SCPO"])
    oeuvres = make_union_record("oeuvres", "Œuvres complètes", libraries=["UVA"])
    second = [etranger, retitled, oeuvres]
    members = [*members_of(second), ("BNF", "bnf-carte", "etranger")]
    feed = feed_of(second)
    redirects = {"carte": "etranger", "etranger": "etranger"}
    assert store.save_union_generation(members, redirects, feed) == 3
    assert [generation for generation, _ in store.oai_generations()] == [1, 2]
    assert store.oai_item("etranger") == item(etranger, 1)
    assert store.oai_item("peste") == item(retitled, 2)
    assert store.oai_item("oeuvres") == item(oeuvres, 2)
    # The vanished id is kept as deleted, in the sets it was last in: a harvester of a set learns of it.
    assert store.oai_item("carte") == item(carte, 2, deleted=True)
    assert store.oai_items(OaiSelection(2, 2, "format:map"), None, 10) == [item(carte, 2, deleted=True)]
    assert store.memberships() == {(source, local_id): union_id for source, local_id, union_id in members}
    assert list(store.iter_redirects()) == [("carte", "etranger")]  # an id merged into itself is none
    assert store.resolve_redirect("carte") == "etranger"

    # The third: the merge undone. The map lives again and must not redirect any more.
    third = [*second, carte]
    assert save(store, third) == 1
    assert store.oai_item("carte") == item(carte, 3)
    assert list(store.iter_redirects()) == []
    assert store.resolve_redirect("carte") is None

    # Nothing changed: no generation registered, every item as it was.
    generations = store.oai_generations()
    items = list(store.iter_oai_items())
    assert save(store, third) == 0
    assert store.oai_generations() == generations
    assert list(store.iter_oai_items()) == items

    # The next change is numbered after every generation stored, and never dated before the last.
    assert save(store, [etranger, retitled, oeuvres]) == 1
    assert [generation for generation, _ in store.oai_generations()] == [1, 2, 3, 4]
    datestamps = [datestamp for _, datestamp in store.oai_generations()]
    assert datestamps == sorted(datestamps)
    assert store.oai_item("carte") == item(carte, 4, deleted=True)


def test_a_large_generation_compares_with_every_previous_item(
    store: RecordStore, make_union_record: MakeRecord
) -> None:
    # More records than one batch of the reads and writes, so that they cross batch boundaries.
    records = [make_union_record(f"r{n:05d}", f"Title {n}") for n in range(2_345)]
    assert save(store, records) == 2_345
    changed = [*records[:1_500], make_union_record("r01500", "Retitled"), *records[1_502:]]
    assert save(store, changed) == 2  # one retitled, one gone
    assert store.oai_count(OaiSelection(1, 1)) == 2_343
    assert store.oai_count(OaiSelection(2, 2)) == 2
    assert store.oai_item("r01501") == item(records[1_501], 2, deleted=True)
    assert len(store.memberships()) == 2_344


def _items() -> list[OaiItem]:
    """Items over three generations, in two sets and none; ids whose byte order differs from a
    dictionary's ("Zola" before "alpha"), so that both databases must order them alike."""
    ids = ["Zola", "alpha", "b", "b2", "camus", "Émile", "zeta", "A", "m", "n"]
    return [
        OaiItem(
            union_id,
            1 + n % 3,
            n % 4 == 3,
            tuple(spec for spec, wanted in (("set:a", n % 2 == 0), ("set:b", n % 3 != 1)) if wanted),
            f"print-{n}",
        )
        for n, union_id in enumerate(ids)
    ]


GENERATIONS = [(1, "2024-01-01T00:00:00Z"), (2, "2024-02-01T00:00:00Z"), (3, "2024-03-01T00:00:00Z")]


def _listed(store: RecordStore, selection: OaiSelection, limit: int) -> list[OaiItem]:
    """Every item of ``selection``, page by page as a harvester resumes its list."""
    pages: list[OaiItem] = []
    after: tuple[int, str] | None = None
    while page := store.oai_items(selection, after, limit):
        assert len(page) <= limit
        pages.extend(page)
        after = (page[-1].generation, page[-1].id)
    return pages


@pytest.mark.parametrize(
    "selection",
    [
        EVERYTHING,
        OaiSelection(1, 3),
        OaiSelection(2, 3),
        OaiSelection(2, 2),
        OaiSelection(4, 9),
        OaiSelection(1, 3, "set:a"),
        OaiSelection(2, 3, "set:b"),
        OaiSelection(1, 3, "set:none"),
    ],
    ids=str,
)
def test_a_selection_is_listed_page_by_page_in_generation_and_id_order(
    store: RecordStore, selection: OaiSelection
) -> None:
    items = _items()
    assert store.restore_oai_feed(iter(items), GENERATIONS, {"set:a": "A", "set:b": "B"}) == len(items)
    expected = sorted(
        (
            i
            for i in items
            if selection.low <= i.generation <= selection.high
            and (selection.set_spec is None or selection.set_spec in i.sets)
        ),
        key=lambda i: (i.generation, i.id.encode()),
    )
    for limit in (1, 3, 100):
        assert _listed(store, selection, limit) == expected
    assert store.oai_count(selection) == len(expected)


def test_a_position_before_the_selection_starts_it_from_its_beginning(store: RecordStore) -> None:
    items = _items()
    store.restore_oai_feed(items, GENERATIONS, {})
    second = sorted((i for i in items if i.generation == 2), key=lambda i: i.id.encode())
    assert store.oai_items(OaiSelection(2, 2), (1, "zzz"), 100) == second
    assert store.oai_items(OaiSelection(2, 2), (second[0].generation, second[0].id), 100) == second[1:]


def test_every_item_is_iterated_across_batches(store: RecordStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("unicat.ports.records.OAI_COPY_BATCH", 3)
    items = _items()
    store.restore_oai_feed(items, GENERATIONS, {})
    assert list(store.iter_oai_items()) == sorted(items, key=lambda i: (i.generation, i.id.encode()))


def test_a_restored_feed_replaces_the_stored_one_and_later_generations_follow_it(
    store: RecordStore, make_union_record: MakeRecord
) -> None:
    before = make_union_record("before", "Replaced by the copy")
    save(store, [before])
    copy = [
        OaiItem("kept", 3, False, ("format", "format:book"), "print-kept"),
        OaiItem("merged", 7, True, ("format", "format:map"), "print-merged"),
    ]
    generations = [(3, "2024-03-01T00:00:00Z"), (7, "2024-07-01T00:00:00Z")]
    names = {"format": "Material type", "format:book": "Books", "format:map": "Maps"}
    assert store.restore_oai_feed(iter(copy), generations, names) == 2
    assert store.oai_generations() == generations
    assert store.oai_item("before") is None
    assert list(store.iter_oai_items()) == copy
    assert store.oai_sets() == names
    assert store.oai_count(OaiSelection(0, 7, "format:map")) == 1

    kept = make_union_record("kept", "Kept")
    assert save(store, [kept]) == 1  # its fingerprint is the copy's made-up one: it changes
    (last, datestamp) = store.oai_generations()[-1]
    assert last == 8
    assert datestamp > "2024-07-01T00:00:00Z"
    assert store.oai_item("kept") == item(kept, 8)
    assert store.oai_item("merged") == copy[1]  # deleted already: unchanged
