"""Accounts and sessions in SQL (:class:`unicat.ports.accounts.AccountStore`), on SQLite or PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from unicat.accounts import Registration, Session, User, check_role
from unicat.clock import utc_now
from unicat.errors import DuplicateKey, UserExists, UserNotFound
from unicat.ports.accounts import AccountStore
from unicat.ports.database import Database, fetch_in, insert_numbered

USER_COLUMNS = "id, email, display_name, password_hash, role, library, created"
SESSION_COLUMNS = "token_hash, user_id, created, expires, csrf"
REGISTRATION_COLUMNS = "token_hash, email, display_name, password_hash, created, expires"


def _user(row: Sequence[Any]) -> User:
    user_id, email, display_name, password_hash, role, library, created = row
    return User(email, display_name, password_hash, check_role(role), library, int(user_id), created)


def _session(row: Sequence[Any]) -> Session:
    token_hash, user_id, created, expires, csrf = row
    return Session(token_hash, int(user_id), created, expires, csrf)


class SqlAccountStore(AccountStore):
    """Tables ``users``, ``sessions`` (each goes with its account: a foreign key) and
    ``registrations``."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def _one_user(self, where: str, value: object) -> User | None:
        with self.db.read() as conn:
            row = conn.execute(f"SELECT {USER_COLUMNS} FROM users WHERE {where} = ?", (value,)).fetchone()
        return _user(row) if row is not None else None

    def create_user(self, user: User) -> User:
        created = user.created or utc_now()
        values = (user.email, user.display_name, user.password_hash, user.role, user.library, created)
        try:
            with self.db.write() as conn:
                user_id = insert_numbered(self.db, conn, "users", USER_COLUMNS, user.id, values)
        except DuplicateKey:
            raise UserExists(user.email) from None
        return user.with_changes(id=user_id, created=created)

    def get_user(self, user_id: int) -> User | None:
        return self._one_user("id", user_id)

    def find_user(self, email: str) -> User | None:
        return self._one_user("email", email)

    def list_users(self) -> list[User]:
        with self.db.read() as conn:
            rows = conn.execute(f"SELECT {USER_COLUMNS} FROM users ORDER BY id").fetchall()
        return [_user(row) for row in rows]

    def update_user(self, user: User) -> None:
        with self.db.write(single=True) as conn:
            cursor = conn.execute(
                "UPDATE users SET display_name = ?, password_hash = ?, role = ?, library = ? WHERE id = ?",
                (user.display_name, user.password_hash, user.role, user.library, user.id),
            )
            if cursor.rowcount != 1:
                raise UserNotFound(f"#{user.id}")

    def save_session(self, session: Session) -> None:
        with self.db.write(single=True) as conn:
            conn.execute(
                f"INSERT INTO sessions ({SESSION_COLUMNS}) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (token_hash) DO UPDATE SET user_id = excluded.user_id, "
                "created = excluded.created, expires = excluded.expires, csrf = excluded.csrf",
                (session.token_hash, session.user_id, session.created, session.expires, session.csrf),
            )

    def get_session(self, token_hash: str) -> Session | None:
        with self.db.read() as conn:
            row = conn.execute(
                f"SELECT {SESSION_COLUMNS} FROM sessions WHERE token_hash = ?", (token_hash,)
            ).fetchone()
        return _session(row) if row is not None else None

    def session_user(self, token_hash: str) -> tuple[Session, User] | None:
        session_columns = ", ".join(f"s.{name}" for name in SESSION_COLUMNS.split(", "))
        user_columns = ", ".join(f"u.{name}" for name in USER_COLUMNS.split(", "))
        with self.db.read() as conn:
            row = conn.execute(
                f"SELECT {session_columns}, {user_columns} FROM sessions s "
                "JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?",
                (token_hash,),
            ).fetchone()
        if row is None:
            return None
        width = SESSION_COLUMNS.count(",") + 1
        return _session(row[:width]), _user(row[width:])

    def delete_sessions(self, *, token_hash: str | None = None, user_id: int | None = None) -> int:
        if (token_hash is None) == (user_id is None):
            raise ValueError("give a token hash or a user id")
        column, value = ("token_hash", token_hash) if token_hash is not None else ("user_id", user_id)
        with self.db.write(single=True) as conn:
            return conn.execute(f"DELETE FROM sessions WHERE {column} = ?", (value,)).rowcount

    def get_users(self, user_ids: Sequence[int]) -> dict[int, User]:
        rows = fetch_in(self.db, f"SELECT {USER_COLUMNS} FROM users", "id", user_ids)
        return {user.id: user for user in map(_user, rows) if user.id is not None}

    def save_registration(self, registration: Registration) -> None:
        with self.db.write() as conn:
            conn.execute("DELETE FROM registrations WHERE expires < ?", (utc_now(),))
            conn.execute(
                f"INSERT INTO registrations ({REGISTRATION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    registration.token_hash,
                    registration.email,
                    registration.display_name,
                    registration.password_hash,
                    registration.created,
                    registration.expires,
                ),
            )

    def get_registration(self, token_hash: str) -> Registration | None:
        with self.db.read() as conn:
            row = conn.execute(
                f"SELECT {REGISTRATION_COLUMNS} FROM registrations WHERE token_hash = ?", (token_hash,)
            ).fetchone()
        return Registration(*row) if row is not None else None

    def take_registration(self, token_hash: str) -> Registration | None:
        # One statement: of two requests with the same link, only one gets the row.
        with self.db.write(single=True) as conn:
            row = conn.execute(
                f"DELETE FROM registrations WHERE token_hash = ? RETURNING {REGISTRATION_COLUMNS}",
                (token_hash,),
            ).fetchone()
        return Registration(*row) if row is not None else None
