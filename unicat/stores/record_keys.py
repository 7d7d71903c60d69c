"""The blocking keys of each source record in SQL (``unicat/member_keys.py`` says what and why; part
of :class:`unicat.ports.records.RecordStore`), on SQLite or PostgreSQL.

Tables ``record_keys`` (one row per record and merge key, found by record and by key) and
``record_works`` (one row per parsed record with its work key's hash, 0 for none; found by record
and by work). A full index run replaces both in its generation's transaction, streamed
(:func:`replace_all_keys`); an incremental pass replaces the rows of the records it read again
(:func:`replace_keys_of`), in its own generation's transaction.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from unicat.member_keys import MemberKeys
from unicat.ports.database import Connection, Database, fetch_in, indexes_deferred, iter_keyset

Member = tuple[str, str]
# Members per lookup statement (two parameters each), keys per lookup statement, rows per batch.
LOOKUP = 400
BATCH = 2_000


def _key_rows(records: Iterable[MemberKeys]) -> Iterator[tuple[str, str, int]]:
    for record in records:
        for key in dict.fromkeys(record.keys):
            yield record.source, record.local_id, key


def _insert(db: Database, conn: Connection, records: Iterable[MemberKeys]) -> int:
    """Insert the rows of ``records`` (none stored yet), a batch at a time; returns how many records."""
    written = 0
    iterator = iter(records)
    while batch := list(itertools.islice(iterator, BATCH)):
        db.insert_rows(
            conn, "record_works", "source, local_id, work", ((r.source, r.local_id, r.work) for r in batch)
        )
        db.insert_rows(conn, "record_keys", "source, local_id, key", _key_rows(batch))
        written += len(batch)
    return written


def replace_all_keys(db: Database, conn: Connection, records: Iterable[MemberKeys]) -> int:
    """Within ``conn``'s transaction (a full run's generation): ``records`` in place of every stored
    row; returns how many records."""
    conn.execute("DELETE FROM record_keys")
    conn.execute("DELETE FROM record_works")
    # Only the incremental pass reads these tables: their lookup indexes may wait for the rows.
    with indexes_deferred(db, conn, ("record_keys", "record_works")):
        return _insert(db, conn, records)


def _delete_members(conn: Connection, members: Iterable[Member]) -> None:
    iterator = iter(members)
    while batch := list(itertools.islice(iterator, LOOKUP)):
        pairs = ", ".join("(?, ?)" for _ in batch)
        params = [value for member in batch for value in member]
        for table in ("record_keys", "record_works"):
            conn.execute(f"DELETE FROM {table} WHERE (source, local_id) IN (VALUES {pairs})", params)


def replace_keys_of(
    db: Database, conn: Connection, records: Sequence[MemberKeys], removed: Sequence[Member] = ()
) -> int:
    """Within ``conn``'s transaction: the rows of ``records`` in place of what their members had, and
    those of ``removed`` (deleted, or no longer parsed) gone; returns how many records were written."""
    _delete_members(conn, itertools.chain((r.member for r in records), removed))
    return _insert(db, conn, records)


def _members_by(rows: Iterable[Sequence[Any]]) -> dict[int, list[Member]]:
    found: dict[int, list[Member]] = {}
    for value, source, local_id in rows:
        found.setdefault(int(value), []).append((str(source), str(local_id)))
    return {value: sorted(members) for value, members in found.items()}


class SqlRecordKeys:
    """Tables ``record_keys`` and ``record_works``."""

    db: Database

    def keys_of(self, members: Sequence[Member]) -> dict[Member, MemberKeys]:
        wanted = list(dict.fromkeys(members))
        works: dict[Member, int] = {}
        keys: dict[Member, list[int]] = {}
        with self.db.read() as conn:
            for start in range(0, len(wanted), LOOKUP):
                part = wanted[start : start + LOOKUP]
                where = f"WHERE (source, local_id) IN (VALUES {', '.join('(?, ?)' for _ in part)})"
                params = [value for member in part for value in member]
                for source, local_id, work in conn.execute(
                    f"SELECT source, local_id, work FROM record_works {where}", params
                ).fetchall():
                    works[(str(source), str(local_id))] = int(work)
                for source, local_id, key in conn.execute(
                    f"SELECT source, local_id, key FROM record_keys {where}", params
                ).fetchall():
                    keys.setdefault((str(source), str(local_id)), []).append(int(key))
        return {
            member: MemberKeys(*member, tuple(sorted(keys.get(member, ()))), work)
            for member, work in works.items()
        }

    def members_with_keys(self, keys: Sequence[int]) -> dict[int, list[Member]]:
        return _members_by(
            fetch_in(self.db, "SELECT key, source, local_id FROM record_keys", "key", keys, LOOKUP)
        )

    def members_with_works(self, works: Sequence[int]) -> dict[int, list[Member]]:
        wanted = [work for work in works if work != 0]
        return _members_by(
            fetch_in(self.db, "SELECT work, source, local_id FROM record_works", "work", wanted, LOOKUP)
        )

    def replace_record_keys(self, records: Sequence[MemberKeys], removed: Sequence[Member] = ()) -> int:
        with self.db.write() as conn:
            return replace_keys_of(self.db, conn, records, removed)

    def iter_record_keys(self) -> Iterator[MemberKeys]:
        works = iter_keyset(self.db, "record_works", "source, local_id, work", "source, local_id", BATCH)
        keys = iter_keyset(self.db, "record_keys", "source, local_id, key", "source, local_id, key", BATCH)
        grouped = itertools.groupby(keys, key=lambda row: (str(row[0]), str(row[1])))
        pending = next(grouped, None)
        for source, local_id, work in works:
            member = (str(source), str(local_id))
            own: tuple[int, ...] = ()
            # Keys without a works row cannot be written by the writers above; skip them if found.
            while pending is not None and pending[0] < member:
                pending = next(grouped, None)
            if pending is not None and pending[0] == member:
                own = tuple(int(row[2]) for row in pending[1])
                pending = next(grouped, None)
            yield MemberKeys(*member, own, int(work))

    def restore_record_keys(self, records: Iterable[MemberKeys]) -> int:
        with self.db.write(bulk=True) as conn:
            return replace_all_keys(self.db, conn, records)
