"""The SQLite tables of accounts and sessions (schema migration 8) and of registrations waiting for
confirmation (migration 11); the store that reads and writes them,
on SQLite and PostgreSQL alike, is ``unicat/stores/accounts.py``."""

from __future__ import annotations

SCHEMA: tuple[str, ...] = (
    """CREATE TABLE users (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        email TEXT NOT NULL UNIQUE,
        display_name TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        role TEXT NOT NULL,
        library TEXT,
        created TEXT NOT NULL
    )""",
    """CREATE TABLE sessions (
        token_hash TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        created TEXT NOT NULL,
        expires TEXT NOT NULL,
        csrf TEXT NOT NULL
    ) WITHOUT ROWID""",
    "CREATE INDEX sessions_by_user ON sessions (user_id)",
)

REGISTRATIONS: tuple[str, ...] = (
    """CREATE TABLE registrations (
        token_hash TEXT PRIMARY KEY,
        email TEXT NOT NULL,
        display_name TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        created TEXT NOT NULL,
        expires TEXT NOT NULL
    ) WITHOUT ROWID""",
    "CREATE INDEX registrations_by_expiry ON registrations (expires)",
)
