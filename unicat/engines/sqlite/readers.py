"""What readers add, in SQLite (schema migration 9; ``unicat/readers.py`` says what each item is).

Each table's columns are listed with its keyset key first (``id``, or the primary key's columns), so
that the engine's streaming iterators read the next position from the front of the last row. Nothing
points at ``union_records``: items keep the union id a reader saw, through every rebuild.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

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

# Ids are AUTOINCREMENT: an item copied with its id keeps it, and later ones are numbered after the
# highest ever given (a plain rowid could hand out again the id of a deleted comment that a
# moderation log entry still names). Reports and list entries go with their comment or list by
# explicit deletes in the same transaction, not by foreign keys: an item is accepted for any id, as
# on every engine.
SCHEMA: tuple[str, ...] = (
    """CREATE TABLE comments (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        record TEXT NOT NULL,
        user_id INTEGER NOT NULL,
        body TEXT NOT NULL,
        created TEXT NOT NULL,
        edited TEXT,
        hidden INTEGER NOT NULL DEFAULT 0,
        hidden_reason TEXT
    )""",
    "CREATE INDEX comments_by_record ON comments (record, created, id)",
    "CREATE INDEX comments_by_user ON comments (user_id, created, id)",
    """CREATE TABLE ratings (
        record TEXT NOT NULL,
        user_id INTEGER NOT NULL,
        stars INTEGER NOT NULL,
        at TEXT NOT NULL,
        PRIMARY KEY (record, user_id)
    ) WITHOUT ROWID""",
    """CREATE TABLE tags (
        record TEXT NOT NULL,
        user_id INTEGER NOT NULL,
        tag TEXT NOT NULL,
        at TEXT NOT NULL,
        PRIMARY KEY (record, user_id, tag)
    ) WITHOUT ROWID""",
    "CREATE INDEX tags_by_tag ON tags (tag, record)",
    """CREATE TABLE reports (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        comment_id INTEGER NOT NULL,
        user_id INTEGER NOT NULL,
        reason TEXT NOT NULL,
        created TEXT NOT NULL,
        resolution INTEGER,
        UNIQUE (comment_id, user_id)
    )""",
    # The moderation queue: only the open reports, in the order they are served.
    "CREATE INDEX reports_open ON reports (created, id) WHERE resolution IS NULL",
    """CREATE TABLE moderation_log (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        comment_id INTEGER NOT NULL,
        verb TEXT NOT NULL,
        reason TEXT NOT NULL,
        user_id INTEGER NOT NULL,
        at TEXT NOT NULL
    )""",
    "CREATE INDEX moderation_log_by_comment ON moderation_log (comment_id, at, id)",
    "CREATE INDEX moderation_log_by_time ON moderation_log (at, id)",
    """CREATE TABLE reading_lists (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        user_id INTEGER NOT NULL,
        name TEXT NOT NULL,
        description TEXT NOT NULL,
        public INTEGER NOT NULL,
        created TEXT NOT NULL,
        updated TEXT NOT NULL
    )""",
    "CREATE INDEX reading_lists_by_user ON reading_lists (user_id, updated, id)",
    """CREATE TABLE list_entries (
        list_id INTEGER NOT NULL,
        record TEXT NOT NULL,
        added TEXT NOT NULL,
        PRIMARY KEY (list_id, record)
    ) WITHOUT ROWID""",
    # A record page's "what points here" (record_aliases.aliases) reads redirects by their target.
    "CREATE INDEX redirects_by_new_id ON redirects (new_id, old_id)",
)

COMMENT_COLUMNS = "id, record, user_id, body, created, edited, hidden, hidden_reason"
RATING_COLUMNS = "record, user_id, stars, at"
TAG_COLUMNS = "record, user_id, tag, at"
REPORT_COLUMNS = "id, comment_id, user_id, reason, created, resolution"
MODERATION_COLUMNS = "id, comment_id, verb, reason, user_id, at"
LIST_COLUMNS = "id, user_id, name, description, public, created, updated"
ENTRY_COLUMNS = "list_id, record, added"


def comment(row: Sequence[Any]) -> Comment:
    comment_id, record, user_id, body, created, edited, hidden, hidden_reason = row
    return Comment(record, int(user_id), body, int(comment_id), created, edited, bool(hidden), hidden_reason)


def rating(row: Sequence[Any]) -> Rating:
    record, user_id, stars, at = row
    return Rating(record, int(user_id), int(stars), at)


def tag(row: Sequence[Any]) -> Tag:
    record, user_id, name, at = row
    return Tag(record, int(user_id), name, at)


def report(row: Sequence[Any]) -> Report:
    report_id, comment_id, user_id, reason, created, resolution = row
    return Report(
        int(comment_id),
        int(user_id),
        reason,
        int(report_id),
        created,
        int(resolution) if resolution is not None else None,
    )


def moderation(row: Sequence[Any]) -> ModerationAction:
    action_id, comment_id, verb, reason, user_id, at = row
    return ModerationAction(int(comment_id), check_verb(verb), reason, int(user_id), int(action_id), at)


def reading_list(row: Sequence[Any]) -> ReadingList:
    list_id, user_id, name, description, public, created, updated = row
    return ReadingList(int(user_id), name, description, bool(public), int(list_id), created, updated)


def entry(row: Sequence[Any]) -> ListEntry:
    list_id, record, added = row
    return ListEntry(int(list_id), record, added)
