"""Accounts and sessions in SQLite (schema migration 8; ``unicat/accounts.py`` says what they are)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from unicat.accounts import Session, User, check_role

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

USER_COLUMNS = "id, email, display_name, password_hash, role, library, created"
SESSION_COLUMNS = "token_hash, user_id, created, expires, csrf"


def user(row: Sequence[Any]) -> User:
    user_id, email, display_name, password_hash, role, library, created = row
    return User(email, display_name, password_hash, check_role(role), library, int(user_id), created)


def session(row: Sequence[Any]) -> Session:
    token_hash, user_id, created, expires, csrf = row
    return Session(token_hash, int(user_id), created, expires, csrf)
