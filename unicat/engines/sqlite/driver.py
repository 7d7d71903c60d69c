"""The SQLite library the embedded engine runs on: APSW's bundled, current SQLite, behind the few calls
the engine makes.

Python's ``sqlite3`` links the system's SQLite, which can be years old (Debian 12: 3.40.1, 2022) and
is much slower at ranking: bm25 over the 78,757 matches of ``q=de`` in the 200,000-edition scale
catalogue took 99 ms on 3.40.1 and 54 ms on APSW's 3.54.1 (the same file and query, the best of 25
runs taken in turns; medians 114 and 62 ms). A newer
SQLite through ``pysqlite3-binary`` (3.51.1) was as fast but answered one of the engine's queries
wrongly (an ``EXISTS`` over ``union_libraries`` gave a record once per matching library: caught by
``test_sqlite_search_paths``; 3.40.1 and 3.54.1 answer right), and ``sqlean.py`` (3.50.4) was slower
than 3.40.1. APSW ships its SQLite inside its wheels for every platform, so every install runs the
same library.

This module is the one place that knows APSW: the engine calls ``connect`` and the connection and
cursor methods below, which keep the DB-API names it was written against (``execute``, ``fetchone``,
``rowcount``…). Every module that opens the engine's files goes through it, tests included: two copies
of the SQLite library in one process must never open the same database, since neither sees the
other's POSIX locks (https://www.sqlite.org/howtocorrupt.html, "multiple copies of SQLite").
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, cast

import apsw

Error = apsw.Error
"""Any error of the library."""
IntegrityError = apsw.ConstraintError
"""A constraint (primary key, unique, foreign key, NOT NULL) refused a write."""
InterruptError = apsw.InterruptError
"""A statement stopped by the progress handler (its time limit)."""
BusyElsewhereError = apsw.ThreadingViolationError
"""A connection used by one thread while another runs a statement on it (e.g. closing it)."""

sqlite_version: str = apsw.sqlite_lib_version()

Params = Sequence[Any]


class Cursor:
    """The rows of one statement, with what the statement changed (``rowcount``, ``lastrowid``)."""

    __slots__ = ("_rows", "lastrowid", "rowcount")

    def __init__(self, rows: apsw.Cursor, rowcount: int, lastrowid: int) -> None:
        self._rows = rows
        self.rowcount = rowcount
        self.lastrowid = lastrowid

    def fetchone(self) -> Any:
        return self._rows.fetchone()

    def fetchall(self) -> list[Any]:
        return list(self._rows.fetchall())

    def fetchmany(self, size: int) -> list[Any]:
        return list(itertools.islice(self._rows, size))

    def __iter__(self) -> Iterator[Any]:
        return iter(self._rows)


class Connection:
    """One database connection in autocommit mode: transactions are the explicit ``BEGIN`` statements
    of the caller (as ``sqlite3`` does with ``isolation_level=None``). Usable from any thread, one at
    a time (the engine's pool hands each connection to one thread)."""

    __slots__ = ("_db",)

    def __init__(self, db: apsw.Connection) -> None:
        self._db = db

    def execute(self, sql: str, params: Params = ()) -> Cursor:
        """Run one statement; its rows are read from the returned cursor."""
        db = self._db
        before = db.total_changes()
        rows = db.execute(sql, tuple(params))
        changed = db.total_changes() - before
        return Cursor(rows, db.changes() if changed else 0, db.last_insert_rowid())

    def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        """Run one statement for each parameter row."""
        for _ in self._db.executemany(sql, rows):
            pass

    def set_progress_handler(self, handler: Callable[[], int] | None, steps: int) -> None:
        """Call ``handler`` every ``steps`` VM instructions; a true answer interrupts the statement."""
        # APSW reads the answer's truth, so an int handler goes in as it is (no wrapper per call).
        self._db.set_progress_handler(cast("Callable[[], bool] | None", handler), steps)

    @property
    def in_transaction(self) -> bool:
        return bool(self._db.in_transaction)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def connect(path: Path | str, *, timeout: float = 5.0) -> Connection:
    """Open (creating if need be) the database at ``path``, waiting up to ``timeout`` s on a lock."""
    db = apsw.Connection(str(path))
    db.set_busy_timeout(int(timeout * 1000))
    return Connection(db)
