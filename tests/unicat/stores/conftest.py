"""The record store over both databases it runs on: SQLite in a file of the test's own, and a fresh
database of the session's PostgreSQL cluster (tests/support/postgres.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from unicat.engines.postgresql.database import PostgresDatabase
from unicat.engines.sqlite.database import SqliteDatabase
from unicat.ports.database import Database
from unicat.settings import Settings
from unicat.stores.records import SqlRecordStore


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """An empty database of either kind, closed after the test."""
    settings = Settings()
    db: Database
    if request.param == "sqlite":
        db = SqliteDatabase(tmp_path / "records.db", settings)
    else:
        db = PostgresDatabase(str(request.getfixturevalue("postgres_database_url")), settings)
    with db:
        yield db


@pytest.fixture
def store(database: Database) -> SqlRecordStore:
    """An empty record store."""
    return SqlRecordStore(database)
