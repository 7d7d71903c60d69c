"""The first dates of members in SQL (``unicat/first_seen.py`` says what they are; part of
:class:`unicat.ports.records.RecordStore`), on SQLite or PostgreSQL.

Tables ``first_seen`` (by (source, local_id)) and ``first_held`` (by (source, local_id, site)). Rows are
only ever added: a generation inserts with ``ON CONFLICT DO NOTHING``, so a row another run wrote in
the meantime keeps its (earlier) date, and nothing but a copy (``unicat migrate``) replaces them.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence

from unicat.first_seen import Member, MemberDates, NewDates
from unicat.ports.database import Connection, Database, iter_keyset

# Members per lookup statement (two parameters each), and rows per keyset read or insert batch.
LOOKUP = 400
BATCH = 1_000
_INSERT_SEEN = (
    "INSERT INTO first_seen (source, local_id, first_seen) VALUES (?, ?, ?) "
    "ON CONFLICT (source, local_id) DO NOTHING"
)
_INSERT_HELD = (
    "INSERT INTO first_held (source, local_id, site, first_held) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (source, local_id, site) DO NOTHING"
)


def _insert(conn: Connection, statement: str, rows: Iterable[Sequence[str]]) -> None:
    iterator = iter(rows)
    while batch := list(itertools.islice(iterator, BATCH)):
        conn.executemany(statement, batch)


def add_first_dates(conn: Connection, dates: NewDates) -> None:
    """Within ``conn``'s transaction (the generation's): the rows ``dates`` adds, none replacing one."""
    _insert(conn, _INSERT_SEEN, dates.seen_rows())
    _insert(conn, _INSERT_HELD, dates.held_rows())


class SqlFirstDates:
    """Tables ``first_seen`` and ``first_held``."""

    db: Database

    def first_dates(self, members: Sequence[Member]) -> MemberDates:
        found = MemberDates()
        wanted = list(dict.fromkeys(members))
        with self.db.read() as conn:
            for start in range(0, len(wanted), LOOKUP):
                part = wanted[start : start + LOOKUP]
                pairs = ", ".join("(?, ?)" for _ in part)
                params = [value for member in part for value in member]
                where = f"WHERE (source, local_id) IN (VALUES {pairs})"
                for source, local_id, seen in conn.execute(
                    f"SELECT source, local_id, first_seen FROM first_seen {where}", params
                ).fetchall():
                    found.seen[(str(source), str(local_id))] = str(seen)
                for source, local_id, site, held in conn.execute(
                    f"SELECT source, local_id, site, first_held FROM first_held {where}", params
                ).fetchall():
                    found.held.setdefault((str(source), str(local_id)), {})[str(site)] = str(held)
        return found

    def iter_first_seen(self) -> Iterator[tuple[str, str, str]]:
        for source, local_id, seen in iter_keyset(
            self.db, "first_seen", "source, local_id, first_seen", "source, local_id", BATCH
        ):
            yield str(source), str(local_id), str(seen)

    def iter_first_held(self) -> Iterator[tuple[str, str, str, str]]:
        for source, local_id, site, held in iter_keyset(
            self.db, "first_held", "source, local_id, site, first_held", "source, local_id, site", BATCH
        ):
            yield str(source), str(local_id), str(site), str(held)

    def restore_first_dates(
        self, seen: Iterable[tuple[str, str, str]], held: Iterable[tuple[str, str, str, str]]
    ) -> int:
        with self.db.write(bulk=True) as conn:
            conn.execute("DELETE FROM first_seen")
            conn.execute("DELETE FROM first_held")
            written = self.db.insert_rows(conn, "first_seen", "source, local_id, first_seen", seen)
            self.db.insert_rows(conn, "first_held", "source, local_id, site, first_held", held)
        return written
