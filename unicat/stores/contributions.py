"""What readers add, in SQL (:class:`unicat.ports.contributions.ContributionStore`), on SQLite or
PostgreSQL.

Each table's columns are listed with its keyset key first (``id``, or the primary key's columns), so
that the streaming iterators read the next position from the front of the last row. Nothing points at
the union index: items keep the union id a reader saw, through every rebuild. Reports and list entries
go with their comment or list by explicit deletes in the same transaction, not by foreign keys: an
item is accepted for any id.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from unicat.clock import utc_now
from unicat.errors import DuplicateKey, EngineError, ItemNotFound
from unicat.ports.contributions import ContributionStore
from unicat.ports.database import Connection, Database, fetch_in, insert_numbered, iter_keyset
from unicat.readers import (
    Comment,
    ListEntry,
    ModerationAction,
    Rating,
    ReadingList,
    Report,
    Tag,
    check_verb,
)
from unicat.stores.memberships import LIVE_ITEM

COMMENT_COLUMNS = "id, record, user_id, body, created, edited, hidden, hidden_reason"
RATING_COLUMNS = "record, user_id, stars, at"
TAG_COLUMNS = "record, user_id, tag, at"
REPORT_COLUMNS = "id, comment_id, user_id, reason, created, resolution"
MODERATION_COLUMNS = "id, comment_id, verb, reason, user_id, at"
LIST_COLUMNS = "id, user_id, name, description, public, created, updated"
ENTRY_COLUMNS = "list_id, record, added"


def _comment(row: Sequence[Any]) -> Comment:
    comment_id, record, user_id, body, created, edited, hidden, hidden_reason = row
    return Comment(record, int(user_id), body, int(comment_id), created, edited, bool(hidden), hidden_reason)


def _rating(row: Sequence[Any]) -> Rating:
    record, user_id, stars, at = row
    return Rating(record, int(user_id), int(stars), at)


def _tag(row: Sequence[Any]) -> Tag:
    record, user_id, name, at = row
    return Tag(record, int(user_id), name, at)


def _report(row: Sequence[Any]) -> Report:
    report_id, comment_id, user_id, reason, created, resolution = row
    return Report(
        int(comment_id),
        int(user_id),
        reason,
        int(report_id),
        created,
        int(resolution) if resolution is not None else None,
    )


def _moderation(row: Sequence[Any]) -> ModerationAction:
    action_id, comment_id, verb, reason, user_id, at = row
    return ModerationAction(int(comment_id), check_verb(verb), reason, int(user_id), int(action_id), at)


def _reading_list(row: Sequence[Any]) -> ReadingList:
    list_id, user_id, name, description, public, created, updated = row
    return ReadingList(int(user_id), name, description, bool(public), int(list_id), created, updated)


def _entry(row: Sequence[Any]) -> ListEntry:
    list_id, record, added = row
    return ListEntry(int(list_id), record, added)


class SqlContributionStore(ContributionStore):
    """Tables ``comments``, ``ratings``, ``tags``, ``reports``, ``moderation_log``, ``reading_lists``
    and ``list_entries``."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- helpers ---------------------------------------------------------------------------------
    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self.db.read() as conn:
            return conn.execute(sql, params).fetchall()

    def _row(self, sql: str, params: Sequence[Any] = ()) -> Any:
        rows = self._rows(sql, params)
        return rows[0] if rows else None

    @contextmanager
    def _adding(self, what: str, *, single: bool = False) -> Iterator[Connection]:
        """A write that stores a new item (``single``: in one statement, which an item that came with
        its own id never is: the database is then told to number past it); only a given id can collide."""
        try:
            with self.db.write(single=single) as conn:
                yield conn
        except DuplicateKey as exc:
            raise EngineError(
                f"{what} was not stored: its id is taken ({exc}); copy a catalogue into an empty store"
            ) from exc

    # -- comments --------------------------------------------------------------------------------
    def add_comment(self, comment: Comment) -> Comment:
        stored = self._insert_comment(comment)
        assert stored is not None  # no condition: the row is stored or the insert raised
        return stored

    def add_comment_on_live(self, comment: Comment) -> Comment | None:
        return self._insert_comment(comment, only_if=f"EXISTS ({LIVE_ITEM})", params=(comment.record,))

    def _insert_comment(
        self, comment: Comment, only_if: str = "", params: Sequence[Any] = ()
    ) -> Comment | None:
        created = comment.created or utc_now()
        values = (
            comment.record,
            comment.user_id,
            comment.body,
            created,
            comment.edited,
            int(comment.hidden),
            comment.hidden_reason,
        )
        with self._adding(f"comment #{comment.id}", single=comment.id is None) as conn:
            comment_id = insert_numbered(
                self.db,
                conn,
                "comments",
                COMMENT_COLUMNS,
                comment.id,
                values,
                only_if=only_if,
                only_if_params=params,
            )
        return comment.with_changes(id=comment_id, created=created) if comment_id is not None else None

    def get_comment(self, comment_id: int) -> Comment | None:
        row = self._row(f"SELECT {COMMENT_COLUMNS} FROM comments WHERE id = ?", (comment_id,))
        return _comment(row) if row is not None else None

    def update_comment(self, comment: Comment) -> None:
        with self.db.write(single=True) as conn:
            cursor = conn.execute(
                "UPDATE comments SET body = ?, edited = ?, hidden = ?, hidden_reason = ? WHERE id = ?",
                (comment.body, comment.edited, int(comment.hidden), comment.hidden_reason, comment.id),
            )
            if cursor.rowcount != 1:
                raise ItemNotFound(f"comment #{comment.id}")

    def delete_comment(self, comment_id: int) -> bool:
        with self.db.write() as conn:
            conn.execute("DELETE FROM reports WHERE comment_id = ?", (comment_id,))
            return conn.execute("DELETE FROM comments WHERE id = ?", (comment_id,)).rowcount > 0

    def comments_for(self, records: Sequence[str]) -> list[Comment]:
        rows = fetch_in(self.db, f"SELECT {COMMENT_COLUMNS} FROM comments", "record", records)
        # Several IN batches each come in their own order: the newest first is decided here.
        return sorted(map(_comment, rows), key=lambda c: (c.created, c.id), reverse=True)

    def comments_by(self, user_id: int) -> list[Comment]:
        rows = self._rows(
            f"SELECT {COMMENT_COLUMNS} FROM comments WHERE user_id = ? ORDER BY created DESC, id DESC",
            (user_id,),
        )
        return [_comment(row) for row in rows]

    def iter_comments(self) -> Iterator[Comment]:
        return map(_comment, iter_keyset(self.db, "comments", COMMENT_COLUMNS, "id"))

    # -- ratings ---------------------------------------------------------------------------------
    def set_rating(self, rating: Rating) -> Rating:
        at = rating.at or utc_now()
        with self.db.write(single=True) as conn:
            conn.execute(
                f"INSERT INTO ratings ({RATING_COLUMNS}) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (record, user_id) DO UPDATE SET stars = excluded.stars, at = excluded.at",
                (rating.record, rating.user_id, rating.stars, at),
            )
        return dataclasses.replace(rating, at=at)

    def delete_rating(self, record: str, user_id: int) -> bool:
        with self.db.write(single=True) as conn:
            cursor = conn.execute("DELETE FROM ratings WHERE record = ? AND user_id = ?", (record, user_id))
            return cursor.rowcount > 0

    def ratings_for(self, records: Sequence[str]) -> list[Rating]:
        rows = fetch_in(self.db, f"SELECT {RATING_COLUMNS} FROM ratings", "record", records)
        return [_rating(row) for row in rows]

    def iter_ratings(self) -> Iterator[Rating]:
        return map(_rating, iter_keyset(self.db, "ratings", RATING_COLUMNS, "record, user_id"))

    # -- tags ------------------------------------------------------------------------------------
    def add_tag(self, tag: Tag) -> Tag:
        with self.db.write() as conn:
            conn.execute(
                f"INSERT INTO tags ({TAG_COLUMNS}) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (tag.record, tag.user_id, tag.tag, tag.at or utc_now()),
            )
            row = conn.execute(
                f"SELECT {TAG_COLUMNS} FROM tags WHERE record = ? AND user_id = ? AND tag = ?",
                (tag.record, tag.user_id, tag.tag),
            ).fetchone()
        return _tag(row)

    def remove_tag(self, record: str, user_id: int, tag: str) -> bool:
        with self.db.write() as conn:
            cursor = conn.execute(
                "DELETE FROM tags WHERE record = ? AND user_id = ? AND tag = ?", (record, user_id, tag)
            )
            return cursor.rowcount > 0

    def tags_for(self, records: Sequence[str]) -> list[Tag]:
        rows = fetch_in(self.db, f"SELECT {TAG_COLUMNS} FROM tags", "record", records)
        return [_tag(row) for row in rows]

    def tag_counts(self, limit: int = 1_000) -> list[tuple[str, int]]:
        rows = self._rows(
            "SELECT tag, count(DISTINCT record) AS records FROM tags GROUP BY tag "
            "ORDER BY records DESC, tag LIMIT ?",
            (max(0, limit),),
        )
        return [(str(name), int(count)) for name, count in rows]

    def tagged_records(self, tag: str, limit: int = 10_000) -> list[str]:
        rows = self._rows(
            "SELECT DISTINCT record FROM tags WHERE tag = ? ORDER BY record LIMIT ?", (tag, max(0, limit))
        )
        return [str(record) for (record,) in rows]

    def iter_tags(self) -> Iterator[Tag]:
        return map(_tag, iter_keyset(self.db, "tags", TAG_COLUMNS, "record, user_id, tag"))

    # -- reports and moderation ------------------------------------------------------------------
    def add_report(self, report: Report) -> Report:
        values = (
            report.comment_id,
            report.user_id,
            report.reason,
            report.created or utc_now(),
            report.resolution,
        )
        with self._adding(f"report #{report.id}") as conn:
            # A second report by the same reader is dropped here, and the first one is read back.
            insert_numbered(
                self.db,
                conn,
                "reports",
                REPORT_COLUMNS,
                report.id,
                values,
                "ON CONFLICT (comment_id, user_id) DO NOTHING",
            )
            row = conn.execute(
                f"SELECT {REPORT_COLUMNS} FROM reports WHERE comment_id = ? AND user_id = ?",
                (report.comment_id, report.user_id),
            ).fetchone()
        return _report(row)

    def reports_for(self, comment_ids: Sequence[int]) -> list[Report]:
        rows = fetch_in(self.db, f"SELECT {REPORT_COLUMNS} FROM reports", "comment_id", comment_ids)
        return sorted(map(_report, rows), key=lambda r: (r.created, r.id))

    def open_reports(self, limit: int = 1_000) -> list[Report]:
        rows = self._rows(
            f"SELECT {REPORT_COLUMNS} FROM reports WHERE resolution IS NULL ORDER BY created, id LIMIT ?",
            (max(0, limit),),
        )
        return [_report(row) for row in rows]

    def resolve_reports(self, comment_id: int, action_id: int) -> int:
        with self.db.write() as conn:
            cursor = conn.execute(
                "UPDATE reports SET resolution = ? WHERE comment_id = ? AND resolution IS NULL",
                (action_id, comment_id),
            )
            return cursor.rowcount

    def iter_reports(self) -> Iterator[Report]:
        return map(_report, iter_keyset(self.db, "reports", REPORT_COLUMNS, "id"))

    def log_moderation(self, action: ModerationAction) -> ModerationAction:
        at = action.at or utc_now()
        values = (action.comment_id, action.verb, action.reason, action.user_id, at)
        with self._adding(f"moderation action #{action.id}", single=action.id is None) as conn:
            action_id = insert_numbered(
                self.db, conn, "moderation_log", MODERATION_COLUMNS, action.id, values
            )
        return dataclasses.replace(action, id=action_id, at=at)

    def moderation_log(self, comment_id: int | None = None, limit: int = 200) -> list[ModerationAction]:
        where, params = ("WHERE comment_id = ?", (comment_id,)) if comment_id is not None else ("", ())
        rows = self._rows(
            f"SELECT {MODERATION_COLUMNS} FROM moderation_log {where} ORDER BY at DESC, id DESC LIMIT ?",
            (*params, max(0, limit)),
        )
        return [_moderation(row) for row in rows]

    def iter_moderation(self) -> Iterator[ModerationAction]:
        return map(_moderation, iter_keyset(self.db, "moderation_log", MODERATION_COLUMNS, "id"))

    # -- reading lists ---------------------------------------------------------------------------
    def add_list(self, reading_list: ReadingList) -> ReadingList:
        created = reading_list.created or utc_now()
        updated = reading_list.updated or created
        values = (
            reading_list.user_id,
            reading_list.name,
            reading_list.description,
            int(reading_list.public),
            created,
            updated,
        )
        with self._adding(f"list #{reading_list.id}", single=reading_list.id is None) as conn:
            list_id = insert_numbered(self.db, conn, "reading_lists", LIST_COLUMNS, reading_list.id, values)
        return reading_list.with_changes(id=list_id, created=created, updated=updated)

    def get_list(self, list_id: int) -> ReadingList | None:
        row = self._row(f"SELECT {LIST_COLUMNS} FROM reading_lists WHERE id = ?", (list_id,))
        return _reading_list(row) if row is not None else None

    def update_list(self, reading_list: ReadingList) -> None:
        with self.db.write() as conn:
            cursor = conn.execute(
                "UPDATE reading_lists SET name = ?, description = ?, public = ?, updated = ? WHERE id = ?",
                (
                    reading_list.name,
                    reading_list.description,
                    int(reading_list.public),
                    reading_list.updated or utc_now(),
                    reading_list.id,
                ),
            )
            if cursor.rowcount != 1:
                raise ItemNotFound(f"list #{reading_list.id}")

    def delete_list(self, list_id: int) -> bool:
        with self.db.write() as conn:
            conn.execute("DELETE FROM list_entries WHERE list_id = ?", (list_id,))
            return conn.execute("DELETE FROM reading_lists WHERE id = ?", (list_id,)).rowcount > 0

    def lists_of(self, user_id: int) -> list[ReadingList]:
        rows = self._rows(
            f"SELECT {LIST_COLUMNS} FROM reading_lists WHERE user_id = ? ORDER BY updated DESC, id DESC",
            (user_id,),
        )
        return [_reading_list(row) for row in rows]

    def iter_lists(self) -> Iterator[ReadingList]:
        return map(_reading_list, iter_keyset(self.db, "reading_lists", LIST_COLUMNS, "id"))

    def add_list_entry(self, entry: ListEntry) -> ListEntry:
        with self.db.write() as conn:
            conn.execute(
                f"INSERT INTO list_entries ({ENTRY_COLUMNS}) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                (entry.list_id, entry.record, entry.added or utc_now()),
            )
            row = conn.execute(
                f"SELECT {ENTRY_COLUMNS} FROM list_entries WHERE list_id = ? AND record = ?",
                (entry.list_id, entry.record),
            ).fetchone()
        return _entry(row)

    def remove_list_entry(self, list_id: int, record: str) -> bool:
        with self.db.write() as conn:
            cursor = conn.execute(
                "DELETE FROM list_entries WHERE list_id = ? AND record = ?", (list_id, record)
            )
            return cursor.rowcount > 0

    def list_entries(self, list_id: int) -> list[ListEntry]:
        rows = self._rows(
            f"SELECT {ENTRY_COLUMNS} FROM list_entries WHERE list_id = ? ORDER BY added DESC, record",
            (list_id,),
        )
        return [_entry(row) for row in rows]

    def iter_list_entries(self) -> Iterator[ListEntry]:
        return map(_entry, iter_keyset(self.db, "list_entries", ENTRY_COLUMNS, "list_id, record"))
