"""The SQLite database as the stores' execution core (:class:`unicat.ports.database.Database`).

One file holds the stores and, by default, the union index: :class:`~unicat.engines.sqlite.SqliteEngine`
and the SQL stores share one :class:`SqliteDatabase`, so that they share its single writer (SQLite
allows one at a time) and its pool of readers.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from unicat.engines.sqlite import driver
from unicat.engines.sqlite.connections import ConnectionPool
from unicat.engines.sqlite.schema import migrate
from unicat.errors import DuplicateKey, EngineUnavailable
from unicat.ports.database import Connection, Database, query_limited
from unicat.settings import Settings

# Rows per executemany call of insert_rows: a batch in memory at a time, however many rows come.
INSERT_BATCH = 1_000


class SqliteDatabase(Database):
    """A SQLite file in WAL mode, migrated to the current schema when opened."""

    dialect = "sqlite"

    def __init__(self, path: Path, settings: Settings) -> None:
        self.path = path
        self.url = f"sqlite:///{path}"
        self.query_timeout = settings.query_timeout
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise EngineUnavailable(f"cannot create the directory of {path}: {exc.strerror}") from exc
        self.pool = ConnectionPool(path, settings.reader_pool_size)
        try:
            migrate(self.pool.writer)
            self.pool.open_readers()
        except BaseException:
            self.pool.close()
            raise

    @contextmanager
    def read(self) -> Iterator[driver.Connection]:
        limit = self.query_timeout if query_limited() else math.inf
        with self.pool.read() as reader, reader.time_limit(limit) as conn:
            yield conn

    @contextmanager
    def write(self, *, single: bool = False, bulk: bool = False) -> Iterator[driver.Connection]:
        # One writer, in a transaction either way: a single statement costs SQLite nothing more. Its
        # writes run without the time limit of reads, bulk or not.
        try:
            with self.pool.write() as conn:
                yield conn
        except driver.IntegrityError as exc:
            raise DuplicateKey(str(exc)) from exc

    def numbered_after(self, conn: object, table: str) -> None:
        """Nothing to do: an AUTOINCREMENT table numbers after the highest id it ever stored."""

    def insert_rows(self, conn: Connection, table: str, columns: str, rows: Iterable[Sequence[Any]]) -> int:
        marks = ", ".join("?" * (columns.count(",") + 1))
        statement = f"INSERT INTO {table} ({columns}) VALUES ({marks})"
        iterator = iter(rows)
        written = 0
        while batch := list(itertools.islice(iterator, INSERT_BATCH)):
            conn.executemany(statement, batch)
            written += len(batch)
        return written

    def secondary_indexes(self, conn: Connection, tables: Sequence[str]) -> list[tuple[str, str]]:
        # A constraint's index has no statement of its own (its ``sql`` is NULL).
        marks = ", ".join("?" * len(tables))
        rows = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            f"AND tbl_name IN ({marks}) ORDER BY name",
            list(tables),
        ).fetchall()
        return [(str(name), str(sql)) for name, sql in rows]

    def ping(self) -> None:
        try:
            with self.read() as conn:
                conn.execute("SELECT count(*) FROM schema_version").fetchall()
        except driver.Error as exc:
            raise EngineUnavailable(f"the SQLite database {self.path} does not answer: {exc}") from exc

    def close(self) -> None:
        self.pool.close()
