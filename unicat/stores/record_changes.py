"""Which source records changed since the union index was built, in SQL (part of
:class:`unicat.ports.records.RecordStore`), on SQLite or PostgreSQL.

Every write of source records takes the next *change number* from ``store_marks`` (row ``changed``)
and gives it to each row it inserts, whose content it changes (raw bytes, syntax, datestamp) or which
it deletes; a row stored again unchanged keeps its number, so a full harvest that finds nothing new
changes nothing. The number is taken by an ``UPDATE`` of that one row, first thing in the write's
transaction: on PostgreSQL the row stays locked until the write commits, so writes commit in the
order of their numbers and a reader that saw the mark ``m`` has seen every row numbered ``m`` or
less. Row ``indexed`` is the mark the last generation of the union index was built up to, saved in
that generation's transaction (:mod:`unicat.stores.records`).

The incremental index pass reads :meth:`~SqlRecordChanges.change_mark` first, then the records
changed after :meth:`~SqlRecordChanges.indexed_mark` up to it, and saves its generation with that
mark: a record stored meanwhile has a higher number and waits for the next pass.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from unicat.model import SourceRecord
from unicat.ports.database import Connection, Database

CHANGED = "changed"
INDEXED = "indexed"
# Rows "inputs:CODE": per source, the fingerprint of its profile, mapping and libraries the last
# generation read its records with.
INPUTS_PREFIX = "inputs:"
# Records fetched per statement by key: two parameters each, far below either database's limit.
FETCH_BATCH = 400
RECORD_COLUMNS = "source, local_id, raw, syntax, datestamp, deleted"


def next_change(conn: Connection) -> int:
    """Within ``conn``'s transaction (a write of source records): the number of this write, one above
    every number given before. On PostgreSQL it holds the mark's row until the write commits."""
    row = conn.execute(
        "UPDATE store_marks SET value = value + 1 WHERE name = ? RETURNING value", (CHANGED,)
    ).fetchone()
    return int(row[0])


def mark_changed(conn: Connection, members: Sequence[tuple[str, str]]) -> None:
    """Within ``conn``'s transaction: these records count as changed by this write, though their bytes
    did not change: what decides their union record did (a librarian's merge decision about them), so
    the next incremental index pass reads them again."""
    number = next_change(conn)
    for source, local_id in dict.fromkeys(members):
        conn.execute(
            "UPDATE source_records SET change_seq = ? WHERE source = ? AND local_id = ?",
            (number, source, local_id),
        )


def save_indexed_mark(conn: Connection, mark: int) -> None:
    """Within ``conn``'s transaction (a generation's): the union index is now built up to ``mark``."""
    conn.execute("UPDATE store_marks SET value = ? WHERE name = ?", (mark, INDEXED))


def _mark(db: Database, name: str) -> int:
    with db.read() as conn:
        return int(conn.execute("SELECT value FROM store_marks WHERE name = ?", (name,)).fetchone()[0])


def _record(row: Any) -> SourceRecord:
    source, local_id, raw, syntax, datestamp, deleted = row
    return SourceRecord(source, local_id, bytes(raw), syntax, datestamp, bool(deleted))


class SqlRecordChanges:
    """Column ``source_records.change_seq`` (indexed) and table ``store_marks``."""

    db: Database

    def change_mark(self) -> int:
        return _mark(self.db, CHANGED)

    def indexed_mark(self) -> int:
        return _mark(self.db, INDEXED)

    def changed_keys(self, since: int, until: int | None = None) -> list[tuple[str, str]]:
        """The (source, local_id) of every record numbered after ``since`` (up to ``until``), sorted.

        Read through the change number's index alone and sorted here: asked to order by key, a
        planner may walk the whole table in key order instead, which at millions of records costs
        more than sorting a day's changes."""
        bound, params = ("AND change_seq <= ?", (since, until)) if until is not None else ("", (since,))
        with self.db.read() as conn:
            rows = conn.execute(
                f"SELECT source, local_id FROM source_records WHERE change_seq > ? {bound}", params
            ).fetchall()
        return sorted((str(source), str(local_id)) for source, local_id in rows)

    def indexed_inputs(self) -> dict[str, int]:
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT name, value FROM store_marks WHERE name LIKE ?", (INPUTS_PREFIX + "%",)
            ).fetchall()
        return {str(name)[len(INPUTS_PREFIX) :]: int(value) for name, value in rows}

    def save_indexed_inputs(self, fingerprints: Mapping[str, int]) -> None:
        with self.db.write() as conn:
            conn.execute("DELETE FROM store_marks WHERE name LIKE ?", (INPUTS_PREFIX + "%",))
            conn.executemany(
                "INSERT INTO store_marks (name, value) VALUES (?, ?)",
                [(INPUTS_PREFIX + source, value) for source, value in sorted(fingerprints.items())],
            )

    def iter_changed_source_records(self, since: int, until: int | None = None) -> Iterator[SourceRecord]:
        return self.iter_source_records_of(self.changed_keys(since, until))

    def iter_source_records_of(self, members: Sequence[tuple[str, str]]) -> Iterator[SourceRecord]:
        keys = iter(members)
        while batch := list(itertools.islice(keys, FETCH_BATCH)):
            pairs = ", ".join("(?, ?)" for _ in batch)
            with self.db.read() as conn:
                rows = conn.execute(
                    f"SELECT {RECORD_COLUMNS} FROM source_records "
                    f"WHERE (source, local_id) IN (VALUES {pairs})",
                    [value for key in batch for value in key],
                ).fetchall()
            found = {(str(row[0]), str(row[1])): row for row in rows}
            for key in batch:
                if key in found:
                    yield _record(found[key])

    def restore_indexed_mark(self, mark: int) -> None:
        with self.db.write() as conn:
            save_indexed_mark(conn, mark)
