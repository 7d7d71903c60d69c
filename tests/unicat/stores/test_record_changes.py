"""Which source records changed since the union index was built (``RecordChanges`` of
unicat/ports/records.py), over both databases (tests/unicat/stores/conftest.py): every write path of
source records numbers what it changes, a record stored again as it was keeps its number, and the
indexed mark is saved with a generation and copied by ``unicat migrate``.

Expected answers are the records each test writes and what it changed, listed by hand.
"""

from __future__ import annotations

from pathlib import Path

import psycopg

from unicat.engines.postgresql import schema as pg_schema
from unicat.engines.postgresql.database import PostgresDatabase
from unicat.engines.sqlite import driver
from unicat.engines.sqlite import schema as sqlite_schema
from unicat.engines.sqlite.database import SqliteDatabase
from unicat.model import HarvestCheckpoint, MergeDecision, Source, SourceRecord, SourceRef
from unicat.oai_items import FeedCollector
from unicat.ports.database import Database
from unicat.ports.records import RecordStore
from unicat.records_copy import StoredRecords, copy_records
from unicat.settings import Settings
from unicat.stores.records import SqlRecordStore


def _record(
    local_id: str, raw: bytes = b"raw", datestamp: str | None = "2026-01-01", source: str = "UVA"
) -> SourceRecord:
    return SourceRecord(source, local_id, raw, "iso2709", datestamp)


def _changed(store: RecordStore, since: int, until: int | None = None) -> list[tuple[str, str, bool]]:
    return [(r.source, r.local_id, r.deleted) for r in store.iter_changed_source_records(since, until)]


def test_an_empty_store_has_no_changes(store: RecordStore) -> None:
    assert (store.change_mark(), store.indexed_mark()) == (0, 0)
    assert _changed(store, 0) == []


def test_every_inserted_record_is_changed_after_the_mark_before_its_write(store: RecordStore) -> None:
    store.store_page("UVA", [_record("b"), _record("a")], None)
    first = store.change_mark()
    store.store_page("BNF", [_record("z", source="BNF")], None)
    second = store.change_mark()
    assert 0 < first < second
    # (source, local_id) order whatever order the pages came in.
    assert _changed(store, 0) == [("BNF", "z", False), ("UVA", "a", False), ("UVA", "b", False)]
    assert _changed(store, first) == [("BNF", "z", False)]
    assert _changed(store, 0, first) == [("UVA", "a", False), ("UVA", "b", False)]
    assert _changed(store, second) == []
    assert store.changed_keys(0, first) == [("UVA", "a"), ("UVA", "b")]


def test_a_record_stored_again_as_it_was_is_not_a_change(store: RecordStore) -> None:
    store.store_page("UVA", [_record("a"), _record("b"), _record("c"), _record("d")], None)
    mark = store.change_mark()
    # A full harvest finds a as it was, b with new bytes, c with a new datestamp, d deleted, e new.
    store.store_page(
        "UVA",
        [
            _record("a"),
            _record("b", raw=b"new raw"),
            _record("c", datestamp="2026-02-02"),
            SourceRecord("UVA", "d", b"", deleted=True),
            _record("e"),
        ],
        None,
    )
    assert _changed(store, mark) == [
        ("UVA", "b", False),
        ("UVA", "c", False),
        ("UVA", "d", True),
        ("UVA", "e", False),
    ]
    changed = {r.local_id: r for r in store.iter_changed_source_records(mark)}
    assert changed["b"].raw == b"new raw" and changed["c"].datestamp == "2026-02-02"
    assert changed["d"].raw == b""
    again = store.change_mark()
    # The same deletion harvested twice changes nothing the second time.
    store.store_page("UVA", [SourceRecord("UVA", "d", b"", deleted=True)], None)
    assert _changed(store, again) == []


def test_records_a_full_harvest_no_longer_saw_are_changed_when_marked_deleted(store: RecordStore) -> None:
    store.save_source(Source("UVA", "Amsterdam", "http://127.0.0.1:1/oai"))
    store.store_page("UVA", [_record("a"), _record("b"), _record("c")], None)
    run = store.start_harvest("UVA", "full")
    store.store_page("UVA", [_record("a")], HarvestCheckpoint(run.id, None, 1, 1, 0))
    mark = store.change_mark()
    assert store.delete_unseen("UVA", run.id) == 2
    assert store.change_mark() > mark
    assert _changed(store, mark) == [("UVA", "b", True), ("UVA", "c", True)]


def test_a_page_without_records_changes_nothing(store: RecordStore) -> None:
    store.save_source(Source("UVA", "Amsterdam", "http://127.0.0.1:1/oai"))
    run = store.start_harvest("UVA", "incremental")
    store.store_page("UVA", [], HarvestCheckpoint(run.id, "token", 1, 0, 0))
    assert store.change_mark() == 0


def test_a_generation_saves_the_mark_it_was_built_up_to(store: RecordStore) -> None:
    store.store_page("UVA", [_record("a")], None)
    built = store.change_mark()
    store.store_page("UVA", [_record("b")], None)
    store.save_union_generation([("UVA", "a", "u-a")], {}, FeedCollector(), mark=built)
    assert store.indexed_mark() == built
    assert _changed(store, store.indexed_mark()) == [("UVA", "b", False)]
    # A save without a mark (a caller that did not read the records) keeps the one there is.
    store.save_union_generation([("UVA", "a", "u-a")], {}, FeedCollector())
    assert store.indexed_mark() == built


def test_a_copy_is_indexed_in_full_when_its_original_was(tmp_path: Path) -> None:
    settings = Settings()
    with (
        SqliteDatabase(tmp_path / "old.db", settings) as old_db,
        SqliteDatabase(tmp_path / "new.db", settings) as new_db,
        SqliteDatabase(tmp_path / "pending.db", settings) as pending_db,
    ):
        old = SqlRecordStore(old_db)
        old.save_source(Source("UVA", "Amsterdam", "http://127.0.0.1:1/oai"))
        old.store_page("UVA", [_record("a"), _record("b")], None)
        old.save_union_generation(
            [("UVA", "a", "u-a"), ("UVA", "b", "u-b")], {}, FeedCollector(), mark=old.change_mark()
        )
        new = SqlRecordStore(new_db)
        copy_records(StoredRecords(old), new)
        assert new.change_mark() > 0 and new.indexed_mark() == new.change_mark()
        assert _changed(new, new.indexed_mark()) == []
        # One record changed after the original's last index: the copy's index counts as built from none.
        old.store_page("UVA", [_record("a", raw=b"changed")], None)
        pending = SqlRecordStore(pending_db)
        copy_records(StoredRecords(old), pending)
        assert pending.indexed_mark() == 0
        assert _changed(pending, pending.indexed_mark()) == [("UVA", "a", False), ("UVA", "b", False)]


_OLD_ROWS = [("UVA", "a", b"raw a"), ("UVA", "b", b"raw b")]


def _check_upgraded(store: RecordStore) -> None:
    """Records stored before the upgrade count as one write, and the index as built from none of them."""
    assert (store.change_mark(), store.indexed_mark()) == (1, 0)
    assert _changed(store, 0) == [("UVA", "a", False), ("UVA", "b", False)]
    assert _changed(store, 1) == []
    store.store_page("UVA", [_record("a", raw=b"raw a2")], None)
    assert store.change_mark() == 2
    assert _changed(store, 1) == [("UVA", "a", False)]


def test_an_upgraded_sqlite_store_numbers_its_stored_records(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = driver.connect(path)
    assert sqlite_schema.migrate(conn, sqlite_schema.MIGRATIONS[:23]) == 23
    conn.executemany(
        "INSERT INTO source_records (source, local_id, syntax, deleted, raw) VALUES (?, ?, 'iso2709', 0, ?)",
        _OLD_ROWS,
    )
    conn.close()
    with SqliteDatabase(path, Settings()) as db:
        _check_upgraded(SqlRecordStore(db))


def test_an_upgraded_postgresql_store_numbers_its_stored_records(postgres_database_url: str) -> None:
    with psycopg.connect(postgres_database_url, autocommit=True) as conn:
        assert pg_schema.migrate(conn, pg_schema.MIGRATIONS[:13]) == 13
        with conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO source_records (source, local_id, syntax, deleted, raw) "
                "VALUES (%s, %s, 'iso2709', 0, %s)",
                _OLD_ROWS,
            )
    db: Database
    with PostgresDatabase(postgres_database_url, Settings()) as db:
        _check_upgraded(SqlRecordStore(db))


def test_an_upgraded_empty_store_starts_at_zero(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = driver.connect(path)
    sqlite_schema.migrate(conn, sqlite_schema.MIGRATIONS[:23])
    conn.close()
    with SqliteDatabase(path, Settings()) as db:
        assert SqlRecordStore(db).change_mark() == 0


def test_records_are_read_by_key_in_the_order_asked_those_not_stored_left_out(store: RecordStore) -> None:
    store.store_page("UVA", [_record(f"r{n:04}") for n in range(900)], None)
    store.store_page("UVA", [SourceRecord("UVA", "r0005", b"", "iso2709", "2026-01-02", deleted=True)], None)
    asked = (
        [("UVA", f"r{n:04}") for n in (899, 5, 0, 450)]
        + [("BNF", "r0001")]
        + [("UVA", f"r{n:04}") for n in range(100, 500)]
    )
    found = list(store.iter_source_records_of(asked))
    assert [(r.source, r.local_id) for r in found] == [m for m in asked if m != ("BNF", "r0001")]
    assert [r.deleted for r in found[:4]] == [False, True, False, False]


def test_a_merge_decision_made_or_forgotten_changes_its_two_records(store: RecordStore) -> None:
    store.store_page("UVA", [_record("a"), _record("b"), _record("c")], None)
    mark = store.change_mark()
    decision = store.save_merge_decision(MergeDecision("force", SourceRef("UVA", "b"), SourceRef("UVA", "a")))
    assert _changed(store, mark) == [("UVA", "a", False), ("UVA", "b", False)]
    mark = store.change_mark()
    assert decision.id is not None and store.remove_merge_decision(decision.id)
    assert _changed(store, mark) == [("UVA", "a", False), ("UVA", "b", False)]
    assert not store.remove_merge_decision(decision.id)
    assert _changed(store, store.change_mark()) == []
