"""The first dates of members in the record store, on SQLite and PostgreSQL: an upgrade from the schema
before them dates the members of the last generation from the store's best evidence (docs/new-titles.md),
rows are only ever added, and ``unicat migrate``'s copy keeps them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from unicat.clock import utc_now
from unicat.engines.postgresql import schema as pg_schema
from unicat.engines.postgresql.database import PostgresDatabase
from unicat.engines.sqlite import driver
from unicat.engines.sqlite import schema as sqlite_schema
from unicat.engines.sqlite.database import SqliteDatabase
from unicat.first_seen import SITES_UNKNOWN, NewDates
from unicat.oai_items import FeedCollector
from unicat.ports.database import Database
from unicat.records_copy import StoredRecords, copy_records
from unicat.settings import Settings
from unicat.stores.records import SqlRecordStore

# The evidence an older store holds: UVA was first harvested in May 2021 and its record's union item
# last changed in January 2022; BNF has no harvest, only its record's item (February 2023); OXF's
# member has neither, and gets the upgrade's own instant.
UVA_FIRST_HARVEST = "2021-05-01T09:00:00Z"
GENERATION_1 = "2022-01-01T00:00:00Z"
GENERATION_2 = "2023-02-02T00:00:00Z"
HARVEST = "INSERT INTO harvests (source, mode, started, status) VALUES ('UVA', 'full', '{}', 'ok')"
OLDER_ROWS = (
    HARVEST.format("2021-06-01T00:00:00Z"),
    HARVEST.format(UVA_FIRST_HARVEST),
    "INSERT INTO memberships (source, local_id, union_id) VALUES ('UVA', 'u1', 'pride')",
    "INSERT INTO memberships (source, local_id, union_id) VALUES ('BNF', 'b1', 'emma')",
    "INSERT INTO memberships (source, local_id, union_id) VALUES ('OXF', 'o1', 'ghost')",
    "INSERT INTO oai_items (id, generation, deleted, sets, fingerprint) VALUES ('pride', 1, 0, '', 'x')",
    "INSERT INTO oai_items (id, generation, deleted, sets, fingerprint) VALUES ('emma', 2, 0, '', 'y')",
    f"INSERT INTO oai_generations (generation, datestamp) VALUES (1, '{GENERATION_1}')",
    f"INSERT INTO oai_generations (generation, datestamp) VALUES (2, '{GENERATION_2}')",
)

OpenDatabase = Callable[[], Database]


@pytest.fixture(params=["sqlite", "postgresql"])
def older_database(request: pytest.FixtureRequest, tmp_path: Path) -> OpenDatabase:
    """A database at the schema before first dates (SQLite 18, PostgreSQL 8) holding OLDER_ROWS; the
    returned function opens it with this Unicat, which migrates it."""
    if request.param == "sqlite":
        path = tmp_path / "older.db"
        conn = driver.connect(path)
        assert sqlite_schema.migrate(conn, sqlite_schema.MIGRATIONS[:18]) == 18
        for statement in OLDER_ROWS:
            conn.execute(statement)
        conn.close()
        return lambda: SqliteDatabase(path, Settings())
    url = str(request.getfixturevalue("postgres_database_url"))
    with psycopg.connect(url, autocommit=True) as pg:
        assert pg_schema.migrate(pg, pg_schema.MIGRATIONS[:8]) == 8
        for statement in OLDER_ROWS:
            pg.execute(statement.encode())
    return lambda: PostgresDatabase(url, Settings())


def test_an_upgrade_dates_the_last_generations_members_from_the_best_evidence(
    older_database: OpenDatabase,
) -> None:
    before = utc_now()
    with older_database() as db:
        after = utc_now()
        store = SqlRecordStore(db)
        seen = {(source, local_id): date for source, local_id, date in store.iter_first_seen()}
        # The earliest of what the store knows: UVA's first harvest, before its item's generation.
        assert seen[("UVA", "u1")] == UVA_FIRST_HARVEST
        assert seen[("BNF", "b1")] == GENERATION_2
        assert before <= seen[("OXF", "o1")] <= after
        assert len(seen) == 3
        # Their libraries are not known yet: one row each stands for all of them, at the same date.
        held = {(s, lid, site): date for s, lid, site, date in store.iter_first_held()}
        assert held == {(s, lid, SITES_UNKNOWN): date for (s, lid), date in seen.items()}


def test_a_generation_adds_rows_but_never_moves_a_stored_date(store: SqlRecordStore) -> None:
    store.restore_first_dates([("UVA", "u1", "2021-01-01T00:00:00Z")], [])
    dates = NewDates(
        seen={"pride": [("UVA", "u1", "2026-01-01T00:00:00Z"), ("BNF", "b1", "2026-01-01T00:00:00Z")]},
        held={"pride": [("UVA", "u1", "UVA", "2026-01-01T00:00:00Z")]},
    )
    store.save_union_generation([("UVA", "u1", "pride"), ("BNF", "b1", "pride")], {}, FeedCollector(), dates)
    found = store.first_dates([("UVA", "u1"), ("BNF", "b1"), ("OXF", "none")])
    assert found.seen == {("UVA", "u1"): "2021-01-01T00:00:00Z", ("BNF", "b1"): "2026-01-01T00:00:00Z"}
    assert found.held == {("UVA", "u1"): {"UVA": "2026-01-01T00:00:00Z"}}


def test_a_copy_keeps_every_date(database: Database, tmp_path: Path) -> None:
    old = SqlRecordStore(database)
    seen = [(f"S{n % 3}", f"r{n:05d}", f"2020-01-{n % 28 + 1:02d}T00:00:00Z") for n in range(2_345)]
    held = [(s, lid, site, date) for s, lid, date in seen for site in (s, "SCPO")]
    assert old.restore_first_dates(seen, held) == len(seen)
    with SqliteDatabase(tmp_path / "copy.db", Settings()) as target:
        new = SqlRecordStore(target)
        copied = copy_records(StoredRecords(old), new)
        assert copied.first_seen == len(seen)
        assert list(new.iter_first_seen()) == sorted(seen)
        assert list(new.iter_first_held()) == sorted(held)
