"""The hit marks of a PostgreSQL store (unicat/engines/postgresql/hit_marks.py), on a real database.

The writes come from a second pool of connections, as another process's would: the marks must see
what was stored before they started, then each rating, redirect and generation committed after, and
must not claim to know anything while their connection is lost. Notices arrive at commit, a little
later in this process: each test waits for what it expects, up to a bound, and fails past it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from unicat.engines.postgresql.database import PostgresDatabase
from unicat.engines.postgresql.hit_marks import APPLICATION_NAME
from unicat.engines.sqlite.database import SqliteDatabase
from unicat.ports.hit_marks import HitMarks
from unicat.readers import Rating
from unicat.settings import Settings
from unicat.stores.contributions import SqlContributionStore
from unicat.stores.memberships import add_redirects
from unicat.stores.records import SqlRecordStore

AT = "2024-05-01T10:00:00Z"
FIRST, SECOND = "2024-05-01T10:00:00Z", "2024-05-02T10:00:00Z"
BOUND = 10.0
"""Seconds a notice may take to be seen before a test fails (it takes milliseconds)."""


def eventually(condition: Callable[[], bool], show: Callable[[], object] = lambda: None) -> None:
    deadline = time.monotonic() + BOUND
    while not condition():
        assert time.monotonic() < deadline, f"the marks did not follow the database in time: {show()}"
        time.sleep(0.01)


@pytest.fixture
def writer(postgres_database_url: str) -> Iterator[PostgresDatabase]:
    """The database as another process writes it: a pool of its own."""
    with PostgresDatabase(postgres_database_url, Settings()) as db:
        yield db


@pytest.fixture
def reader(postgres_database_url: str) -> Iterator[PostgresDatabase]:
    with PostgresDatabase(postgres_database_url, Settings()) as db:
        yield db


def redirect(db: PostgresDatabase, old: str, new: str) -> None:
    with db.write() as conn:
        add_redirects(db, conn, [(old, new)])


def live(marks: HitMarks) -> bool:
    return marks.latest_generation()[0]


def marked(marks: HitMarks, union_id: str) -> bool:
    """Whether the live marks say ``union_id`` may carry something (not live: they say nothing)."""
    return live(marks) and not marks.unmarked([union_id])


def test_marks_hold_what_was_stored_then_what_others_commit(
    writer: PostgresDatabase, reader: PostgresDatabase
) -> None:
    ratings = SqlContributionStore(writer)
    ratings.set_rating(Rating("rated", 1, 4, AT))
    redirect(writer, "old", "merged")
    SqlRecordStore(writer).restore_oai_feed([], [(1, FIRST)], {})
    marks = reader.hit_marks()
    try:
        eventually(lambda: live(marks))
        assert marks.unmarked(["plain", "old"])  # "old" points elsewhere: nothing is shown on it
        assert marked(marks, "rated")
        assert marked(marks, "merged")
        assert marks.latest_generation() == (True, (1, FIRST))

        ratings.set_rating(Rating("later", 2, 5, AT))
        eventually(lambda: marked(marks, "later"))
        redirect(writer, "gone", "kept")
        eventually(lambda: marked(marks, "kept"))
        SqlRecordStore(writer).restore_oai_feed([], [(1, FIRST), (2, SECOND)], {})
        eventually(lambda: marks.latest_generation() == (True, (2, SECOND)), marks.latest_generation)
        # A rating taken back leaves its id marked: the stores are read for it, and find nothing.
        assert ratings.delete_rating("later", 2)
        assert marked(marks, "later")
        assert marks.unmarked(["plain", "other"])
    finally:
        marks.close()
    assert not marks.unmarked(["plain"])
    assert marks.latest_generation()[0] is False


def test_marks_are_not_live_without_their_connection_and_load_again(
    writer: PostgresDatabase, reader: PostgresDatabase, postgres_database_url: str
) -> None:
    marks = reader.hit_marks()
    try:
        eventually(lambda: live(marks))
        assert marks.unmarked(["during"])
        with psycopg.connect(postgres_database_url, autocommit=True) as admin:
            cut = admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = %s AND datname = current_database()",
                (APPLICATION_NAME,),
            ).fetchall()
        assert cut == [(True,)]
        eventually(lambda: not live(marks))
        assert not marks.unmarked(["other"])  # not live: nothing is known unmarked
        # Written while the listener is cut off: its notice is lost, the new connection's load finds it.
        SqlContributionStore(writer).set_rating(Rating("during", 1, 3, AT))
        eventually(lambda: live(marks))
        assert marked(marks, "during")
        assert marks.unmarked(["other"])
    finally:
        marks.close()


def test_sqlite_keeps_no_marks(tmp_path: Path) -> None:
    with SqliteDatabase(tmp_path / "unicat.db", Settings()) as db:
        assert db.hit_marks() is None
