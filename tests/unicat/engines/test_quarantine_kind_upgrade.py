"""A store written before quarantine entries had a kind upgrades on open: its entries read with no
kind, and entries written since keep theirs."""

from __future__ import annotations

from pathlib import Path

import psycopg

from unicat.engines.postgresql import schema as postgresql_schema
from unicat.engines.postgresql.database import PostgresDatabase
from unicat.engines.sqlite import driver
from unicat.engines.sqlite import schema as sqlite_schema
from unicat.engines.sqlite.database import SqliteDatabase
from unicat.model import QuarantineEntry
from unicat.ports.database import Database
from unicat.settings import Settings
from unicat.stores.records import SqlRecordStore

OLD_ENTRY = (
    "INSERT INTO quarantine (source, local_id, stage, reason, created, raw) "
    "VALUES ('ZDB', 'h1', 'index', 'no 245 field', '2026-01-01T00:00:00Z', ?)"
)


# The schema versions just before quarantine entries had a kind (SQLite migration 12, PostgreSQL 4).
SQLITE_BEFORE_KINDS, POSTGRESQL_BEFORE_KINDS = 11, 3


def _entries_after_upgrade(db: Database) -> None:
    with db:
        store = SqlRecordStore(db)
        [old] = store.list_quarantine()
        assert (old.local_id, old.reason, old.kind) == ("h1", "no 245 field", "")
        store.add_quarantine(
            [QuarantineEntry("ZDB", "h2", "index", "holdings record", b"y", kind="holdings")]
        )
        assert store.quarantine_kind_counts() == {("ZDB", "holdings"): 1}
        assert [e.local_id for e in store.list_quarantine(kind="holdings")] == ["h2"]


def test_a_sqlite_store_before_kinds_upgrades(tmp_path: Path) -> None:
    path = tmp_path / "unicat.db"
    conn = driver.connect(path)
    before = SQLITE_BEFORE_KINDS
    assert sqlite_schema.migrate(conn, sqlite_schema.MIGRATIONS[:before]) == before
    conn.execute(OLD_ENTRY, (b"x",))
    conn.close()
    _entries_after_upgrade(SqliteDatabase(path, Settings()))


def test_a_postgresql_store_before_kinds_upgrades(postgres_database_url: str) -> None:
    before = POSTGRESQL_BEFORE_KINDS
    with psycopg.connect(postgres_database_url, autocommit=True) as conn:
        assert postgresql_schema.migrate(conn, postgresql_schema.MIGRATIONS[:before]) == before
        conn.execute(OLD_ENTRY.replace("?", "%s"), (b"x",))
    _entries_after_upgrade(PostgresDatabase(postgres_database_url, Settings()))
