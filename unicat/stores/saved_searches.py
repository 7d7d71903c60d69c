"""Readers' kept searches in SQL (:class:`unicat.ports.saved_searches.SavedSearchStore`), on SQLite or
PostgreSQL.

``search_history`` holds one row per (owner, canonical query), newest first by the time it last ran and
then by id: a search run again is deleted and inserted anew in one transaction, so that of two searches
within one second (times are stored to the second) the later one comes first. ``saved_searches`` holds
one row per saved search, its name unique per reader (a unique index: two tabs saving one name at once
cannot both win).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from unicat.clock import format_time, utc_now
from unicat.errors import BadParameter, DuplicateKey, EngineError, ItemNotFound, LimitReached
from unicat.ports.database import Connection, Database, insert_numbered, iter_keyset
from unicat.ports.saved_searches import SavedSearchStore
from unicat.saved_searches import HistoryEntry, SavedSearch

HISTORY_COLUMNS = "id, owner, query, total, at"
SEARCH_COLUMNS = "id, user_id, name, query, created, updated"
_DROP_QUERY = "DELETE FROM search_history WHERE owner = ? AND query = ?"
_EXPIRED = "DELETE FROM search_history WHERE at < ? AND owner LIKE ?"


def _entry(row: Sequence[Any]) -> HistoryEntry:
    entry_id, owner, query, total, at = row
    return HistoryEntry(owner, query, int(total), int(entry_id), at)


def _search(row: Sequence[Any]) -> SavedSearch:
    search_id, user_id, name, query, created, updated = row
    return SavedSearch(int(user_id), name, query, int(search_id), created, updated)


def _name_taken(name: str) -> BadParameter:
    return BadParameter("name", f"you have a saved search named {name[:100]!r} already: choose another name")


def _keep_newest(conn: Connection, owner: str, keep: int) -> None:
    """Forget the owner's entries past the ``keep`` newest (a few rows: the owner's, by the index)."""
    conn.execute(
        "DELETE FROM search_history WHERE owner = ? AND id NOT IN ("
        "SELECT id FROM search_history WHERE owner = ? ORDER BY at DESC, id DESC LIMIT ?)",
        (owner, owner, max(1, keep)),
    )


class SqlSavedSearchStore(SavedSearchStore):
    """Tables ``search_history`` and ``saved_searches``."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self.db.read() as conn:
            return conn.execute(sql, params).fetchall()

    # -- history ---------------------------------------------------------------------------------
    def record_search(
        self, entry: HistoryEntry, keep: int, account_since: datetime, visitor_since: datetime
    ) -> None:
        with self.db.write() as conn:
            conn.execute(_DROP_QUERY, (entry.owner, entry.query))
            # Two tabs may run one search at once: on PostgreSQL both delete, then the second insert
            # meets the first's row, which it updates rather than fail the search.
            conn.execute(
                "INSERT INTO search_history (owner, query, total, at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (owner, query) DO UPDATE SET total = excluded.total, at = excluded.at",
                (entry.owner, entry.query, entry.total, entry.at or utc_now()),
            )
            _keep_newest(conn, entry.owner, keep)
            # Expired entries are few at each write (those that aged out since the last one), and
            # found by the index on ``at``: the purge costs no scan of the table.
            conn.execute(_EXPIRED, (format_time(visitor_since), "visitor:%"))
            conn.execute(_EXPIRED, (format_time(account_since), "user:%"))

    def history(self, owner: str, limit: int) -> list[HistoryEntry]:
        rows = self._rows(
            f"SELECT {HISTORY_COLUMNS} FROM search_history WHERE owner = ? ORDER BY at DESC, id DESC LIMIT ?",
            (owner, max(0, limit)),
        )
        return [_entry(row) for row in rows]

    def get_history_entry(self, owner: str, entry_id: int) -> HistoryEntry | None:
        rows = self._rows(
            f"SELECT {HISTORY_COLUMNS} FROM search_history WHERE owner = ? AND id = ?", (owner, entry_id)
        )
        return _entry(rows[0]) if rows else None

    def delete_history(self, owner: str, entry_id: int | None = None) -> int:
        with self.db.write(single=True) as conn:
            if entry_id is None:
                return conn.execute("DELETE FROM search_history WHERE owner = ?", (owner,)).rowcount
            cursor = conn.execute("DELETE FROM search_history WHERE owner = ? AND id = ?", (owner, entry_id))
            return cursor.rowcount

    def join_history(self, visitor: str, account: str, keep: int) -> int:
        with self.db.write() as conn:
            moved = conn.execute(
                f"SELECT {HISTORY_COLUMNS} FROM search_history WHERE owner = ? ORDER BY id", (visitor,)
            ).fetchall()
            for row in moved:
                entry = _entry(row)
                latest = conn.execute(
                    "SELECT at FROM search_history WHERE owner = ? AND query = ?", (account, entry.query)
                ).fetchone()
                if latest is not None and latest[0] > entry.at:
                    continue  # the account ran it later: its entry stays as it is
                conn.execute(_DROP_QUERY, (account, entry.query))
                conn.execute(
                    "INSERT INTO search_history (owner, query, total, at) VALUES (?, ?, ?, ?)",
                    (account, entry.query, entry.total, entry.at),
                )
            conn.execute("DELETE FROM search_history WHERE owner = ?", (visitor,))
            _keep_newest(conn, account, keep)
        return len(moved)

    def copy_history_entry(self, entry: HistoryEntry) -> None:
        try:
            with self.db.write() as conn:
                insert_numbered(
                    self.db,
                    conn,
                    "search_history",
                    HISTORY_COLUMNS,
                    entry.id,
                    (entry.owner, entry.query, entry.total, entry.at or utc_now()),
                )
        except DuplicateKey as exc:
            raise EngineError(
                f"history entry #{entry.id} was not stored: its id or query is taken ({exc}); "
                "copy a catalogue into an empty store"
            ) from exc

    def iter_history(self) -> Iterator[HistoryEntry]:
        return map(_entry, iter_keyset(self.db, "search_history", HISTORY_COLUMNS, "id"))

    # -- saved searches --------------------------------------------------------------------------
    def add_search(self, search: SavedSearch, limit: int) -> SavedSearch:
        created = search.created or utc_now()
        updated = search.updated or created
        values = (search.user_id, search.name, search.query, created, updated)
        # A copied search (with its id) is taken whatever the limit: the catalogue it comes from held it.
        only_if, params = (
            ("(SELECT count(*) FROM saved_searches WHERE user_id = ?) < ?", (search.user_id, limit))
            if search.id is None
            else ("", ())
        )
        try:
            with self.db.write(single=search.id is None) as conn:
                search_id = insert_numbered(
                    self.db,
                    conn,
                    "saved_searches",
                    SEARCH_COLUMNS,
                    search.id,
                    values,
                    only_if=only_if,
                    only_if_params=params,
                )
        except DuplicateKey as exc:
            if search.id is not None:
                raise EngineError(
                    f"saved search #{search.id} was not stored: its id or name is taken ({exc}); "
                    "copy a catalogue into an empty store"
                ) from exc
            raise _name_taken(search.name) from exc
        if search_id is None:
            raise LimitReached(
                f"you have {limit} saved searches, as many as a reader may keep (setting "
                "saved_searches_max): delete one you no longer need first",
                "saved_searches_max",
            )
        return search.with_changes(id=search_id, created=created, updated=updated)

    def get_search(self, user_id: int, search_id: int) -> SavedSearch | None:
        rows = self._rows(
            f"SELECT {SEARCH_COLUMNS} FROM saved_searches WHERE user_id = ? AND id = ?", (user_id, search_id)
        )
        return _search(rows[0]) if rows else None

    def rename_search(self, search: SavedSearch) -> None:
        try:
            with self.db.write(single=True) as conn:
                cursor = conn.execute(
                    "UPDATE saved_searches SET name = ?, updated = ? WHERE id = ? AND user_id = ?",
                    (search.name, search.updated or utc_now(), search.id, search.user_id),
                )
                if cursor.rowcount != 1:
                    raise ItemNotFound(f"saved search #{search.id}")
        except DuplicateKey as exc:
            raise _name_taken(search.name) from exc

    def delete_search(self, user_id: int, search_id: int) -> bool:
        with self.db.write(single=True) as conn:
            cursor = conn.execute(
                "DELETE FROM saved_searches WHERE user_id = ? AND id = ?", (user_id, search_id)
            )
            return cursor.rowcount > 0

    def searches_of(self, user_id: int) -> list[SavedSearch]:
        rows = self._rows(
            f"SELECT {SEARCH_COLUMNS} FROM saved_searches WHERE user_id = ? ORDER BY name, id", (user_id,)
        )
        return [_search(row) for row in rows]

    def iter_searches(self) -> Iterator[SavedSearch]:
        return map(_search, iter_keyset(self.db, "saved_searches", SEARCH_COLUMNS, "id"))
