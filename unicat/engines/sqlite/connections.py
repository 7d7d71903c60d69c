"""SQLite connections: one writer behind a lock, a pool of readers, every read under a time limit.

WAL mode lets readers keep reading their snapshot while the single writer works, so a long index
rebuild never blocks a search. Writes are serialised through one connection (SQLite allows one writer
anyway; waiting on a Python lock is cheaper and clearer than ``SQLITE_BUSY`` retries). This mirrors
datasette's design.
"""

from __future__ import annotations

import logging
import math
import queue
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from unicat.engines.sqlite import driver
from unicat.errors import EngineUnavailable, QueryTimeout

BUSY_TIMEOUT_MS = 10_000
# How many SQLite VM instructions run between two deadline checks: small enough to stop a query
# within a millisecond or so, large enough that the check costs nothing measurable.
PROGRESS_STEPS = 1_000

logger = logging.getLogger(__name__)


def connect(path: Path, *, read_only: bool) -> driver.Connection:
    """A connection in autocommit mode (transactions are explicit), usable from any thread."""
    try:
        conn = driver.connect(path, timeout=BUSY_TIMEOUT_MS / 1000)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = NORMAL")
        if read_only:
            conn.execute("PRAGMA query_only = ON")
        else:
            conn.execute("PRAGMA journal_mode = WAL")
    except driver.Error as exc:
        raise EngineUnavailable(f"cannot open SQLite database {path}: {exc}") from exc
    return conn


class TimedConnection:
    """A connection whose statements are interrupted once a deadline passes.

    SQLite calls the progress handler every :data:`PROGRESS_STEPS` instructions; returning non-zero
    aborts the running statement with :data:`~unicat.engines.sqlite.driver.InterruptError`, which
    :meth:`time_limit` turns into :class:`QueryTimeout`.
    """

    def __init__(self, conn: driver.Connection) -> None:
        self.conn = conn
        self._deadline = math.inf
        conn.set_progress_handler(self._past_deadline, PROGRESS_STEPS)

    def _past_deadline(self) -> int:
        return 1 if time.monotonic() > self._deadline else 0

    @contextmanager
    def time_limit(self, seconds: float, what: str = "query") -> Iterator[driver.Connection]:
        """Run the block's statements under a limit of ``seconds``; raises :class:`QueryTimeout`."""
        self._deadline = time.monotonic() + seconds
        try:
            yield self.conn
        except driver.InterruptError as exc:
            if time.monotonic() > self._deadline:
                raise QueryTimeout(
                    f"the {what} ran longer than its limit of {seconds:g} s; narrow the search"
                ) from exc
            raise
        finally:
            self._deadline = math.inf

    def close(self) -> None:
        self.conn.close()


class ConnectionPool:
    """The writer (guarded by a re-entrant lock) and ``size`` reader connections to one database file."""

    def __init__(self, path: Path, size: int) -> None:
        self.path = path
        self._writer = connect(path, read_only=False)
        # Re-entrant: a generator feeding a long write (an index rebuild) may itself write, e.g. to
        # quarantine a bad record; the nested write joins the outer transaction as a savepoint.
        self._write_lock = threading.RLock()
        self._write_depth = 0
        self._readers: queue.Queue[TimedConnection] = queue.Queue()
        self._all_readers: list[TimedConnection] = []
        self._size = max(1, size)
        self._closed = False

    def open_readers(self) -> None:
        """Open the readers (after the schema exists, so none caches an empty schema)."""
        for _ in range(self._size):
            reader = TimedConnection(connect(self.path, read_only=True))
            self._all_readers.append(reader)
            self._readers.put(reader)

    @property
    def writer(self) -> driver.Connection:
        """The writer connection, for schema migration before any other use."""
        return self._writer

    @contextmanager
    def write(self) -> Iterator[driver.Connection]:
        """One write transaction (``BEGIN IMMEDIATE``); a nested call becomes a savepoint."""
        with self._write_lock:
            self._check_open()
            conn = self._writer
            nested = self._write_depth > 0
            savepoint = f"nested_{self._write_depth}"
            conn.execute(f"SAVEPOINT {savepoint}" if nested else "BEGIN IMMEDIATE")
            self._write_depth += 1
            try:
                yield conn
            except BaseException:
                if nested:
                    conn.execute(f"ROLLBACK TO {savepoint}")
                    conn.execute(f"RELEASE {savepoint}")
                elif conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            else:
                try:
                    conn.execute(f"RELEASE {savepoint}" if nested else "COMMIT")
                except driver.Error:
                    # A failed COMMIT (disk full…) must not leave the writer stuck in a transaction.
                    if not nested and conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
            finally:
                self._write_depth -= 1

    @contextmanager
    def read(self) -> Iterator[TimedConnection]:
        """A reader for the block, inside one read transaction so that every statement sees one snapshot."""
        self._check_open()
        reader = self._readers.get()
        try:
            reader.conn.execute("BEGIN")
            yield reader
        finally:
            if reader.conn.in_transaction:
                reader.conn.execute("ROLLBACK")
            self._readers.put(reader)

    def _check_open(self) -> None:
        if self._closed:
            raise EngineUnavailable(f"the SQLite engine for {self.path} has been closed")

    def close(self) -> None:
        """Close every connection (once: closing again does nothing); later use raises
        :class:`EngineUnavailable`."""
        with self._write_lock:
            if self._closed:
                return
            self._closed = True
            for reader in self._all_readers:
                try:
                    reader.close()
                except driver.BusyElsewhereError:
                    # A thread the closer does not wait for is reading on it: the harvest schedule's
                    # round, which stopping the server cuts off by design. Its statement ends on its
                    # own and the connection with the process; nothing is written through a reader.
                    logger.debug("a reader of %s is busy in another thread; left open", self.path)
            self._all_readers.clear()
            self._writer.close()
