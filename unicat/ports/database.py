"""The SQL execution core the stores run on: a read and a write, each with a connection, nothing more.

Like datasette's ``execute_fn``/``execute_write_fn``, the core does not grow when a feature is added:
a store brings its own SQL and runs it through :meth:`Database.read` and :meth:`Database.write`. The
SQL is written once, for both databases Unicat runs on (SQLite embedded, PostgreSQL at scale), in the
subset they share: ``?`` placeholders (the PostgreSQL adapter turns them into its own), ``INSERT …
ON CONFLICT``, ``RETURNING``, row-value comparisons, integers for booleans, ISO 8601 text for times.
What differs (table definitions, identity columns) is behind the adapters and their migrations.
"""

from __future__ import annotations

import abc
import itertools
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from typing import Any, Literal, Protocol

from unicat.closing import ClosedOnExit
from unicat.ports.hit_marks import HitMarks

Dialect = Literal["sqlite", "postgresql"]


class Cursor(Protocol):
    """The rows of one statement, and how many rows it changed."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class Connection(Protocol):
    """What a store's SQL runs through: one statement at a time (or one per row of a batch), ``?`` for
    each parameter."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor: ...

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement once per row of parameters: a bulk write in one round of the driver's."""


_UNLIMITED: ContextVar[bool] = ContextVar("unicat_without_query_limit", default=False)


@contextmanager
def without_query_limit() -> Iterator[None]:
    """Within the block, in this thread, every read and write of every :class:`Database` runs without
    the query time limit.

    The limit (``query_timeout``, 2 s) keeps a reader's request from holding the database; a batch
    job is no reader. An index run reads whole tables (it counts every source record, for one): at 5.4
    million source records on PostgreSQL, a statement of the incremental pass that followed a rebuild
    ran past 2 s and failed the pass. It runs as ``unicat index`` or in the web app's re-index after
    harvests, beside readers whose limit stays. Threads the block starts do not inherit it (each
    starts with a fresh context)."""
    token = _UNLIMITED.set(True)
    try:
        yield
    finally:
        _UNLIMITED.reset(token)


def query_limited() -> bool:
    """Whether statements run now fall under the query time limit (:func:`without_query_limit`)."""
    return not _UNLIMITED.get()


class Database(ClosedOnExit, abc.ABC):
    """One database: reads under the query time limit, writes as transactions.

    A write that breaks a uniqueness constraint raises :class:`~unicat.errors.DuplicateKey` whatever
    the database, so that a store can tell "taken" from a failure. Methods are safe to call from
    several threads at once; the web app calls them from its thread pool.
    """

    url: str
    dialect: Dialect

    @abc.abstractmethod
    def read(self) -> AbstractContextManager[Connection]:
        """A connection for the block's reading statements, each under the query time limit (but
        within :func:`without_query_limit`); raises :class:`~unicat.errors.QueryTimeout` past it."""

    @abc.abstractmethod
    def write(self, *, single: bool = False, bulk: bool = False) -> AbstractContextManager[Connection]:
        """A connection inside one transaction, committed when the block ends normally and rolled
        back when it raises. With ``single`` the block runs one statement, which is atomic by itself:
        the database may then skip the explicit transaction (on PostgreSQL, two of a post's round
        trips; there a second statement raises :class:`~unicat.errors.EngineError`). With ``bulk`` its
        statements run without the query time limit: a generation's save copies millions of rows in
        one statement and builds indexes over them, far past a limit meant for readers' queries; every
        write within :func:`without_query_limit` runs so too."""

    @abc.abstractmethod
    def numbered_after(self, conn: Connection, table: str) -> None:
        """After rows were inserted into ``table`` with ids of their own (a copied catalogue's), make
        the ids the database generates next come after the highest one stored."""

    @abc.abstractmethod
    def insert_rows(self, conn: Connection, table: str, columns: str, rows: Iterable[Sequence[Any]]) -> int:
        """Within ``conn``'s transaction: insert ``rows`` (a value per name in ``columns``) into
        ``table``, as fast as the database takes many rows; returns how many. A rebuild writes hundreds
        of thousands (memberships, the OAI-PMH feed's items and sets): PostgreSQL takes them by
        ``COPY``, as statements they cost it ten times more (most of it psycopg parsing each long
        statement's placeholders in Python). A key already stored is an error: delete first."""

    @abc.abstractmethod
    def secondary_indexes(self, conn: Connection, tables: Sequence[str]) -> list[tuple[str, str]]:
        """The indexes of ``tables`` that no key or uniqueness constraint stands on, as (name, the
        statement that creates it), read from the database's own catalogue."""

    @abc.abstractmethod
    def ping(self) -> None:
        """Raise :class:`~unicat.errors.EngineUnavailable` unless the database answers."""

    def hit_marks(self) -> HitMarks | None:
        """Marks of the ids a search's hits may carry readers' data on, kept fresh by the database's
        notices of other processes' writes (:mod:`unicat.ports.hit_marks`), for the caller to close;
        ``None`` where the database sends none (SQLite): then every search reads the stores."""
        return None

    @abc.abstractmethod
    def close(self) -> None:
        """Release the connections; the database is unusable afterwards."""


def fetch_in(db: Database, select: str, column: str, values: Sequence[Any], batch: int = 500) -> list[Any]:
    """The rows of ``select`` whose ``column`` is one of ``values`` (each asked once), in statements of
    at most ``batch`` values: far below either database's limit on a statement's parameters."""
    wanted = list(dict.fromkeys(values))
    rows: list[Any] = []
    if not wanted:
        return rows
    with db.read() as conn:
        for start in range(0, len(wanted), batch):
            part = wanted[start : start + batch]
            marks = ", ".join("?" * len(part))
            rows.extend(conn.execute(f"{select} WHERE {column} IN ({marks})", part).fetchall())
    return rows


@contextmanager
def indexes_deferred(db: Database, conn: Connection, tables: Sequence[str]) -> Iterator[None]:
    """Within ``conn``'s transaction: the secondary indexes of ``tables`` dropped for the block and
    created again after it, from their stored definitions. A table refilled whole gets each index
    sorted once, several times faster than one kept up row by row in the keys' random order (a full
    index run writes millions of rows). If the block raises, the transaction's rollback restores
    them. Only for tables that no reader needs in the meantime: PostgreSQL locks a table against
    reads from ``DROP INDEX`` to the commit (SQLite's readers keep their snapshot)."""
    indexes = db.secondary_indexes(conn, tables)
    for name, _definition in indexes:
        conn.execute(f"DROP INDEX {name}")
    yield
    for _name, definition in indexes:
        conn.execute(definition)


def delete_in(conn: Connection, table: str, column: str, values: Iterable[Any], batch: int = 500) -> None:
    """Delete the rows of ``table`` whose ``column`` is one of ``values``, one ``IN (…)`` list of
    ``batch`` values per statement (not one statement per value)."""
    iterator = iter(values)
    while chunk := list(itertools.islice(iterator, batch)):
        conn.execute(f"DELETE FROM {table} WHERE {column} IN ({', '.join('?' * len(chunk))})", chunk)


def insert_numbered(
    db: Database,
    conn: Connection,
    table: str,
    columns: str,
    item_id: int | None,
    values: Sequence[Any],
    on_conflict: str = "",
    *,
    only_if: str = "",
    only_if_params: Sequence[Any] = (),
) -> int | None:
    """Insert one row of a table numbered by an ``id`` column (``columns`` begins with it): numbered by
    the database, or under the id the item came with (after which the database numbers past it).
    ``only_if`` is a condition (with ``only_if_params``) checked by the insert itself, in the same
    statement: nothing can change between the check and the row. Returns the row's id, or ``None``
    when ``on_conflict`` (e.g. ``ON CONFLICT … DO NOTHING``) or ``only_if`` kept it out."""
    names, row = (
        (columns.split(", ", 1)[1], tuple(values)) if item_id is None else (columns, (item_id, *values))
    )
    marks = ", ".join("?" * len(row))
    rows = f"SELECT {marks} WHERE {only_if}" if only_if else f"VALUES ({marks})"
    inserted = conn.execute(
        f"INSERT INTO {table} ({names}) {rows} {on_conflict} RETURNING id", (*row, *only_if_params)
    ).fetchone()
    if item_id is not None:
        db.numbered_after(conn, table)
    return int(inserted[0]) if inserted is not None else None


def iter_keyset(
    reader: Database | Connection,
    table: str,
    columns: str,
    key: str,
    batch: int = 500,
    *,
    where: str = "",
    params: Sequence[Any] = (),
) -> Iterator[Any]:
    """Every row of ``table`` (those matching ``where`` with its ``params``, when given) in the order of
    ``key`` (the leading columns of ``columns``), ``batch`` rows per statement. From a database each
    batch is a read of its own, so that a long copy never holds one connection or snapshot for its whole
    length; from a connection (a transaction's) every batch is read on it, no statement running long."""
    width = key.count(",") + 1
    marks = ", ".join("?" * width)
    last: tuple[Any, ...] | None = None
    while True:
        conditions = [f"({key}) > ({marks})"] if last is not None else []
        conditions += [where] if where else []
        clause = f"WHERE {' AND '.join(conditions)}" if conditions else ""
        sql = f"SELECT {columns} FROM {table} {clause} ORDER BY {key} LIMIT {batch}"
        with reader.read() if isinstance(reader, Database) else nullcontext(reader) as conn:
            rows = conn.execute(sql, (*(last or ()), *params)).fetchall()
        yield from rows
        if len(rows) < batch:
            return
        last = tuple(rows[-1][:width])
