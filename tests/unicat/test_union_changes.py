"""A partial generation over both ports (``write_union_changes`` of unicat/union_generation.py), on each
setup (SQLite alone; PostgreSQL stores + Elasticsearch): the index updated in place, then the store
keeps the memberships, redirects, feed items, first dates, blocking keys and mark of what changed, and
leaves the rest as the last generation left it.

The expected state is written out by hand from the records each test gives.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from unicat.catalogue import Catalogue
from unicat.member_keys import MemberKeys
from unicat.model import SourceRecord, SourceRef, UnionRecord
from unicat.oai_items import OaiItem
from unicat.union_generation import write_union_changes, write_union_generation

MakeRecord = Callable[..., UnionRecord]


def _first(catalogue: Catalogue, make: MakeRecord) -> dict[str, OaiItem]:
    """The full generation the partial one follows: four records, one redirect of an id that comes
    back later, every member's keys."""
    records = [
        make("emma", "Emma", libraries=["UVA"]),
        make("etranger", "L'Étranger", libraries=["BNF", "SCPO"]),
        make("pride-1813", "Pride and prejudice", libraries=["UVA"]),
        make("pride-2003", "Pride and prejudice", year=2003, libraries=["OXF"]),
    ]
    store = catalogue.records
    store.store_page("UVA", [SourceRecord("UVA", "uva-emma", b"raw")], None)
    keys = [
        MemberKeys(ref.source, ref.local_id, (len(ref.local_id),), 7) for r in records for ref in r.sources
    ]
    write_union_generation(
        store, catalogue.index, records, {"moby": "emma"}, mark=store.change_mark(), keys=keys
    )
    return {item.id: item for item in store.iter_oai_items()}


def test_a_partial_generation_keeps_what_changed_and_leaves_the_rest(
    catalogue: Catalogue, make_union_record: MakeRecord
) -> None:
    store, index = catalogue.records, catalogue.index
    before = _first(catalogue, make_union_record)
    first_dates = store.first_dates([("BNF", "bnf-etranger"), ("UVA", "uva-emma")])
    store.store_page("UVA", [SourceRecord("UVA", "uva-moby", b"raw")], None)
    mark = store.change_mark()

    # The day's region: UVA's Pride of 1813 turns out to be the 2003 edition (merged, its id redirects);
    # Emma's title changed; Moby Dick is new at UVA (its id lived once, redirected: it lives again);
    # SCPO withdrew its L'Étranger; Pride 2003 and Emma are written again whatever changed.
    merged = replace(
        make_union_record("pride-2003", "Pride and prejudice", year=2003, libraries=["OXF", "UVA"]),
        sources=[SourceRef("OXF", "oxf-pride-2003"), SourceRef("UVA", "uva-pride-1813")],
    )
    upserts = [
        make_union_record("emma", "Emma : a novel", libraries=["UVA"]),
        make_union_record("etranger", "L'Étranger", libraries=["BNF"]),
        make_union_record("moby", "Moby Dick", libraries=["UVA"]),
        merged,
    ]
    written = write_union_changes(
        store,
        index,
        upserts,
        ["pride-1813"],
        {"pride-1813": "pride-2003"},
        removed=[("SCPO", "scpo-etranger")],
        mark=mark,
        keys=[MemberKeys("UVA", "uva-moby", (99,), 8), MemberKeys("UVA", "uva-pride-1813", (42,), 7)],
        unkeyed=[("SCPO", "scpo-etranger")],
    )
    assert (written.written, dict(written.refused)) == (4, {})

    # The index holds the region's new records and no longer the merged-away one.
    assert index.union_count() == 4 and index.get_union_record("pride-1813") is None
    assert index.get_union_record("emma").title == "Emma : a novel"  # type: ignore[union-attr]
    assert store.memberships() == {
        ("BNF", "bnf-etranger"): "etranger",
        ("OXF", "oxf-pride-2003"): "pride-2003",
        ("UVA", "uva-emma"): "emma",
        ("UVA", "uva-moby"): "moby",
        ("UVA", "uva-pride-1813"): "pride-2003",
    }
    assert store.members_of(["pride-2003", "pride-1813"]) == {
        "pride-2003": [("OXF", "oxf-pride-2003"), ("UVA", "uva-pride-1813")]
    }
    # Redirects: the merged id points at its new record; moby lives again and redirects no more.
    assert dict(store.iter_redirects()) == {"pride-1813": "pride-2003"}
    assert store.live_union_id("pride-1813") == "pride-2003" and store.live_union_id("moby") == "moby"

    # The feed: one new generation; the changed, new and deleted items carry it, L'Étranger too (its
    # holdings changed), and nothing else moved.
    generations = store.oai_generations()
    assert len(generations) == 2
    new = generations[-1][0]
    after = {item.id: item for item in store.iter_oai_items()}
    assert {union_id for union_id, item in after.items() if item.generation == new} == {
        "emma",
        "etranger",
        "moby",
        "pride-1813",
        "pride-2003",
    }
    assert after["pride-1813"].deleted and not after["moby"].deleted
    assert after["pride-1813"].sets == before["pride-1813"].sets

    # First dates: the new member got the generation's instant, the others kept theirs.
    moby = index.get_union_record("moby")
    assert moby is not None and moby.first_seen is not None
    assert store.first_dates([("UVA", "uva-moby")]).seen == {("UVA", "uva-moby"): moby.first_seen}
    assert store.first_dates([("BNF", "bnf-etranger"), ("UVA", "uva-emma")]) == first_dates
    assert moby.first_seen >= first_dates.seen[("UVA", "uva-emma")]  # times to the second

    # Keys of the records parsed again replaced, the withdrawn one's dropped, the rest kept; the mark.
    assert store.keys_of(
        [("UVA", "uva-moby"), ("UVA", "uva-pride-1813"), ("SCPO", "scpo-etranger"), ("UVA", "uva-emma")]
    ) == {
        ("UVA", "uva-moby"): MemberKeys("UVA", "uva-moby", (99,), 8),
        ("UVA", "uva-pride-1813"): MemberKeys("UVA", "uva-pride-1813", (42,), 7),
        ("UVA", "uva-emma"): MemberKeys("UVA", "uva-emma", (len("uva-emma"),), 7),
    }
    assert store.indexed_mark() == mark
    assert [r.local_id for r in store.iter_changed_source_records(store.indexed_mark())] == []


def test_the_same_partial_generation_twice_changes_nothing_the_second_time(
    catalogue: Catalogue, make_union_record: MakeRecord
) -> None:
    """What the next pass does after a crash between the index's update and the store's transaction."""
    store = catalogue.records
    _first(catalogue, make_union_record)
    upserts = [make_union_record("moby", "Moby Dick", libraries=["UVA"])]
    write_union_changes(store, catalogue.index, upserts, ["pride-1813"], {})
    state = (store.memberships(), list(store.iter_oai_items()), store.oai_generations())
    again = write_union_changes(store, catalogue.index, upserts, ["pride-1813"], {})
    assert again.written == 1
    assert (store.memberships(), list(store.iter_oai_items()), store.oai_generations()) == state
    assert catalogue.index.union_count() == 4


def test_a_union_id_given_twice_leaves_the_store_as_it_was(
    catalogue: Catalogue, make_union_record: MakeRecord
) -> None:
    store = catalogue.records
    _first(catalogue, make_union_record)
    state = (store.memberships(), list(store.iter_oai_items()), store.indexed_mark())
    moby = make_union_record("moby", "Moby Dick", libraries=["UVA"])
    with pytest.raises(Exception, match="moby"):
        write_union_changes(store, catalogue.index, [moby, moby], [], {}, mark=store.change_mark() + 5)
    assert (store.memberships(), list(store.iter_oai_items()), store.indexed_mark()) == state
