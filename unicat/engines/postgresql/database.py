"""PostgreSQL as the stores' execution core (:class:`unicat.ports.database.Database`).

A pool of connections (psycopg-pool) serves reads and writes alike: PostgreSQL has no single-writer
rule, so each write is its own transaction on whichever connection is free. Every statement runs under
the query time limit (the connections' ``statement_timeout``), but those of a bulk write (a
generation's save); past it PostgreSQL cancels the statement and the caller gets
:class:`~unicat.errors.QueryTimeout`. Reads run in autocommit: each statement sees
what was committed when it started.

The stores write their SQL with ``?`` placeholders, which both databases' SQL subsets share in spirit
but psycopg spells ``%s``: :func:`to_psycopg` rewrites a statement once and caches it.
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
import psycopg_pool

from unicat.engines.postgresql.hit_marks import APPLICATION_NAME, PostgresHitMarks
from unicat.engines.postgresql.schema import migrate
from unicat.errors import DuplicateKey, EngineError, EngineUnavailable, QueryTimeout
from unicat.ports.database import Connection, Database, query_limited
from unicat.ports.hit_marks import HitMarks
from unicat.settings import Settings

# How long opening the pool waits for its first connection, and a caller for a free connection.
CONNECT_TIMEOUT = 10.0


@functools.lru_cache(maxsize=1024)
def to_psycopg(sql: str) -> bytes:
    """``sql`` with each ``?`` as ``%s`` and each literal ``%`` doubled (psycopg's escape), encoded as
    psycopg sends it. The stores' SQL has no ``?`` inside string literals, so a plain rewrite is exact."""
    return sql.replace("%", "%%").replace("?", "%s").encode()


class _Connection:
    """A psycopg connection behind the core's ``execute(sql, params)`` with ``?`` placeholders."""

    __slots__ = ("raw",)

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.raw = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> psycopg.Cursor[Any]:
        return self.raw.execute(to_psycopg(sql), tuple(params) if params else None)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        # psycopg sends the rows in one pipeline: no round trip per row.
        with self.raw.cursor() as cursor:
            cursor.executemany(to_psycopg(sql), [tuple(row) for row in rows])


class _OneStatement(_Connection):
    """A connection outside a transaction that refuses a second statement: a single-statement write."""

    __slots__ = ("ran",)

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        super().__init__(conn)
        self.ran = False

    def execute(self, sql: str, params: Sequence[Any] = ()) -> psycopg.Cursor[Any]:
        if self.ran:
            raise EngineError("a second statement in a single-statement write: open a transaction instead")
        self.ran = True
        return super().execute(sql, params)


def _masked(url: str) -> str:
    """The URL without its password, for messages and logs."""
    return re.sub(r"(://[^:/@]+):[^@/]*@", r"\1:***@", url)


class PostgresDatabase(Database):
    """A PostgreSQL database named by a ``postgresql://user[:password]@host:port/db`` URL, migrated to
    the current schema when opened."""

    dialect = "postgresql"

    def __init__(self, url: str, settings: Settings) -> None:
        self.url = _masked(url)
        self._conninfo = url
        timeout_ms = self._timeout_ms = max(1, round(settings.query_timeout * 1000))
        self._pool = psycopg_pool.ConnectionPool(
            url,
            min_size=1,
            max_size=max(2, settings.reader_pool_size + 1),
            kwargs={"autocommit": True, "options": f"-c statement_timeout={timeout_ms}"},
            timeout=CONNECT_TIMEOUT,
            open=False,
            name="unicat",
        )
        try:
            self._pool.open(wait=True, timeout=CONNECT_TIMEOUT)
        except psycopg_pool.PoolTimeout as exc:
            self._pool.close()
            raise EngineUnavailable(
                f"cannot connect to PostgreSQL at {self.url}: is it running, and does the database exist?"
            ) from exc
        try:
            with self._connection() as conn:
                migrate(conn)
        except BaseException:
            self._pool.close()
            raise

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        """A connection from the pool, with the database's errors turned into Unicat's."""
        try:
            with self._pool.connection() as conn:
                yield conn
        except psycopg.errors.UniqueViolation as exc:
            raise DuplicateKey(str(exc).strip()) from exc
        except psycopg.errors.QueryCanceled as exc:
            raise QueryTimeout(f"a query ran longer than its limit and was stopped ({exc})") from exc
        except (psycopg.OperationalError, psycopg_pool.PoolTimeout) as exc:
            # libpq's message may run on over indented lines ("server closed the connection
            # unexpectedly / This probably means..."): the first says it.
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise EngineUnavailable(f"PostgreSQL at {self.url} does not answer: {reason}") from exc

    @contextmanager
    def read(self) -> Iterator[_Connection]:
        with self._connection() as conn:
            if query_limited():
                yield _Connection(conn)
                return
            # Autocommit: no transaction to scope a SET LOCAL to. The connection gets its limit back
            # before the pool hands it to anyone else (a broken one is discarded by the pool).
            conn.execute("SET statement_timeout = 0")
            try:
                yield _Connection(conn)
            finally:
                with contextlib.suppress(psycopg.Error):
                    conn.execute(f"SET statement_timeout = {self._timeout_ms}")

    @contextmanager
    def write(self, *, single: bool = False, bulk: bool = False) -> Iterator[_Connection]:
        if single:
            # The pool's connections are in autocommit: one statement commits, or fails, by itself.
            with self._connection() as conn:
                yield _OneStatement(conn)
            return
        with self._connection() as conn, conn.transaction():
            if bulk or not query_limited():
                # For this transaction only: the connection keeps its limit for whoever takes it next.
                conn.execute("SET LOCAL statement_timeout = 0")
            yield _Connection(conn)

    def numbered_after(self, conn: Any, table: str) -> None:
        # Never backwards: past the highest id stored and past every id the sequence handed out (a
        # deleted row's id is not given again, as SQLite's AUTOINCREMENT never gives it again).
        conn.execute(
            f"SELECT setval(seq, greatest((SELECT coalesce(max(id), 0) FROM {table}), "
            "coalesce(pg_sequence_last_value(seq), 0)) + 1, false) "
            f"FROM (SELECT pg_get_serial_sequence('{table}', 'id')::regclass AS seq) AS named"
        )

    def insert_rows(self, conn: Connection, table: str, columns: str, rows: Iterable[Sequence[Any]]) -> int:
        assert isinstance(conn, _Connection)
        written = 0
        with (
            conn.raw.cursor() as cursor,
            cursor.copy(f"COPY {table} ({columns}) FROM STDIN".encode()) as copy,
        ):
            for row in rows:
                copy.write_row(row)
                written += 1
        return written

    def secondary_indexes(self, conn: Connection, tables: Sequence[str]) -> list[tuple[str, str]]:
        # Unique indexes are left alone: a primary key or a UNIQUE constraint stands on each of ours.
        marks = ", ".join("?" * len(tables))
        rows = conn.execute(
            "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
            "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
            "WHERE NOT x.indisunique AND t.relnamespace = current_schema()::regnamespace "
            f"AND t.relname IN ({marks}) ORDER BY i.relname",
            list(tables),
        ).fetchall()
        return [(str(name), str(definition)) for name, definition in rows]

    def ping(self) -> None:
        with self.read() as conn:
            conn.execute("SELECT 1").fetchall()

    def hit_marks(self) -> HitMarks:
        return PostgresHitMarks(
            lambda: psycopg.connect(self._conninfo, autocommit=True, application_name=APPLICATION_NAME)
        )

    def close(self) -> None:
        self._pool.close()
