"""The SQLite tables of what readers add (schema migration 9); the store that reads and writes them,
on SQLite and PostgreSQL alike, is ``unicat/stores/contributions.py``.

Nothing points at ``union_records``: items keep the union id a reader saw, through every rebuild.
"""

from __future__ import annotations

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
