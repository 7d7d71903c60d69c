"""The blocking keys of each source record (``BlockingKeys`` of unicat/ports/records.py) and the
memberships found by union id, over both databases (tests/unicat/stores/conftest.py): written whole
with a generation, replaced record by record, found by key, by work and by record, copied.

The keys are made-up 64-bit numbers: the store keeps hashes, whatever they hash.
"""

from __future__ import annotations

from pathlib import Path

from unicat.engines.sqlite.database import SqliteDatabase
from unicat.member_keys import MemberKeys
from unicat.oai_items import FeedCollector
from unicat.ports.records import RecordStore
from unicat.records_copy import StoredRecords, copy_records
from unicat.settings import Settings
from unicat.stores.records import SqlRecordStore

BIG = 2**63 - 1  # the widest hash there is, and the most negative one: both must round-trip
RECORDS = [
    MemberKeys("BNF", "b1", (11, 12), 100),
    MemberKeys("UVA", "a1", (11, -BIG - 1), 100),
    MemberKeys("UVA", "a2", (BIG, 12, 12), 0),  # a key hashed twice is kept once
    MemberKeys("UVA", "a3", (), 200),  # no merge key at all: still a parsed record
]


def _generation(store: RecordStore, keys: list[MemberKeys]) -> None:
    store.save_union_generation([], {}, FeedCollector(), keys=iter(keys))


def test_a_generation_writes_every_records_keys(store: RecordStore) -> None:
    _generation(store, RECORDS)
    assert store.members_with_keys([11, 12, BIG, -BIG - 1, 999]) == {
        11: [("BNF", "b1"), ("UVA", "a1")],
        12: [("BNF", "b1"), ("UVA", "a2")],
        BIG: [("UVA", "a2")],
        -BIG - 1: [("UVA", "a1")],
    }
    assert store.members_with_works([100, 200, 0, 300]) == {
        100: [("BNF", "b1"), ("UVA", "a1")],
        200: [("UVA", "a3")],
    }
    assert store.keys_of([("UVA", "a2"), ("UVA", "a3"), ("UVA", "zz")]) == {
        ("UVA", "a2"): MemberKeys("UVA", "a2", (12, BIG), 0),
        ("UVA", "a3"): MemberKeys("UVA", "a3", (), 200),
    }


def test_the_next_generation_replaces_them_all(store: RecordStore) -> None:
    _generation(store, RECORDS)
    _generation(store, [MemberKeys("UVA", "a1", (13,), 300)])
    assert store.members_with_keys([11, 12, 13]) == {13: [("UVA", "a1")]}
    assert store.keys_of([key.member for key in RECORDS]) == {
        ("UVA", "a1"): MemberKeys("UVA", "a1", (13,), 300)
    }
    # A generation that gives no keys (a caller that did not parse) keeps those stored.
    store.save_union_generation([], {}, FeedCollector())
    assert list(store.iter_record_keys()) == [MemberKeys("UVA", "a1", (13,), 300)]


def test_an_incremental_pass_replaces_the_keys_of_the_records_it_read(store: RecordStore) -> None:
    _generation(store, RECORDS)
    # b1 lost key 11 and gained 14; a3 was deleted; a1 and a2 untouched.
    written = store.replace_record_keys([MemberKeys("BNF", "b1", (12, 14), 100)], removed=[("UVA", "a3")])
    assert written == 1
    assert store.members_with_keys([11, 12, 14]) == {
        11: [("UVA", "a1")],
        12: [("BNF", "b1"), ("UVA", "a2")],
        14: [("BNF", "b1")],
    }
    assert store.members_with_works([200]) == {}
    assert list(store.iter_record_keys()) == [
        MemberKeys("BNF", "b1", (12, 14), 100),
        MemberKeys("UVA", "a1", (-BIG - 1, 11), 100),
        MemberKeys("UVA", "a2", (12, BIG), 0),
    ]


def test_lookups_of_many_keys_and_members_are_batched(store: RecordStore) -> None:
    many = [MemberKeys("UVA", f"r{n:04}", (n, n + 10_000), n % 7 + 1) for n in range(1, 1_201)]
    _generation(store, many)
    found = store.members_with_keys(list(range(1, 1_201)))
    assert len(found) == 1_200 and found[1_000] == [("UVA", "r1000")]
    assert len(store.keys_of([record.member for record in many])) == 1_200
    assert sum(len(members) for members in store.members_with_works(list(range(1, 8))).values()) == 1_200


def test_members_are_found_by_union_id_and_union_ids_by_member(store: RecordStore) -> None:
    memberships = [("BNF", "b1", "u-pride"), ("UVA", "a1", "u-pride"), ("UVA", "a2", "u-emma")]
    store.save_union_generation(memberships, {}, FeedCollector())
    assert store.members_of(["u-pride", "u-emma", "u-gone"]) == {
        "u-pride": [("BNF", "b1"), ("UVA", "a1")],
        "u-emma": [("UVA", "a2")],
    }
    assert store.union_ids_of([("UVA", "a1"), ("UVA", "a2"), ("UVA", "zz")]) == {
        ("UVA", "a1"): "u-pride",
        ("UVA", "a2"): "u-emma",
    }


def test_unicat_migrate_copies_the_keys(store: RecordStore, tmp_path: Path) -> None:
    _generation(store, RECORDS)
    with SqliteDatabase(tmp_path / "copy.db", Settings()) as db:
        copy = SqlRecordStore(db)
        assert copy_records(StoredRecords(store), copy).record_keys == len(RECORDS)
        assert list(copy.iter_record_keys()) == list(store.iter_record_keys())
    assert list(store.iter_record_keys()) == [
        MemberKeys("BNF", "b1", (11, 12), 100),
        MemberKeys("UVA", "a1", (-BIG - 1, 11), 100),
        MemberKeys("UVA", "a2", (12, BIG), 0),
        MemberKeys("UVA", "a3", (), 200),
    ]
