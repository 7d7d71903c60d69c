"""The outbox in SQL (:class:`unicat.ports.outbox.OutboxStore`), on SQLite or PostgreSQL.

Two senders never take one message: each is taken by an ``UPDATE … WHERE state = 'queued'`` of its
own, which only one transaction can make (the other finds the row changed, on PostgreSQL after
waiting for the first's row lock; SQLite runs one writer at a time), and the claim token it writes
is what marking it sent or failed checks.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from unicat.clock import format_time
from unicat.errors import MessageNotFound, MessageNotResendable
from unicat.outbox import MAX_ERROR, RESENDABLE, STATES, Message, State, check_state
from unicat.ports.database import Connection, Database, insert_numbered, iter_keyset
from unicat.ports.outbox import Claimed, OutboxStore

COLUMNS = (
    "id, idempotency_key, kind, recipient, language, subject, text_body, html_body, state, attempts, "
    "created, next_attempt, sent, error, headers"
)
_COPIED = f"{COLUMNS}, lease_until, claim"


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def _headers_text(message: Message) -> str | None:
    """The message's extra headers as stored: a JSON list of [name, value], NULL when it has none (as
    every message stored before they could be given)."""
    return json.dumps([list(header) for header in message.headers]) if message.headers else None


def _message(row: Sequence[Any]) -> Message:
    (message_id, key, kind, recipient, language, subject, text, html, state, attempts, created,
     next_attempt, sent, error, headers) = row  # fmt: skip
    return Message(
        recipient, subject, text, kind, key, language, html, int(message_id), check_state(state),
        int(attempts), created, next_attempt, sent, error,
        tuple((str(name), str(value)) for name, value in json.loads(headers)) if headers else (),
    )  # fmt: skip


def enqueue_in(conn: Connection, message: Message, now: datetime | None = None) -> int:
    """Within the caller's transaction (``conn``): store ``message`` queued and due now, unless its
    key is stored already; returns the id of the message stored under the key either way."""
    created = format_time(_now(now))
    conn.execute(
        "INSERT INTO outbox (idempotency_key, kind, recipient, language, subject, text_body, html_body, "
        "headers, state, attempts, created, next_attempt) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'queued', 0, ?, ?) "
        "ON CONFLICT (idempotency_key) DO NOTHING",
        (message.key, message.kind, message.recipient, message.language, message.subject, message.text,
         message.html, _headers_text(message), created, created),
    )  # fmt: skip
    row = conn.execute("SELECT id FROM outbox WHERE idempotency_key = ?", (message.key,)).fetchone()
    return int(row[0])


class SqlOutboxStore(OutboxStore):
    """Table ``outbox``: one row per message, its ``idempotency_key`` unique."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def enqueue(self, message: Message) -> Message:
        with self.db.write() as conn:
            message_id = enqueue_in(conn, message)
        stored = self.get(message_id)
        assert stored is not None  # a message is never deleted
        return stored

    def claim(self, limit: int, lease_seconds: float, now: datetime | None = None) -> list[Claimed]:
        moment = _now(now)
        self.interrupt_expired(moment)
        with self.db.read() as conn:
            due = conn.execute(
                "SELECT id FROM outbox WHERE state = 'queued' AND next_attempt <= ? "
                "ORDER BY next_attempt, id LIMIT ?",
                (format_time(moment), limit),
            ).fetchall()
        lease_until = format_time(moment + timedelta(seconds=lease_seconds))
        taken: list[Claimed] = []
        for (message_id,) in due:
            claim = secrets.token_hex(16)
            with self.db.write(single=True) as conn:
                row = conn.execute(
                    "UPDATE outbox SET state = 'sending', attempts = attempts + 1, lease_until = ?, "
                    f"claim = ? WHERE id = ? AND state = 'queued' RETURNING {COLUMNS}",
                    (lease_until, claim, message_id),
                ).fetchone()
            if row is not None:  # else another sender took it first
                taken.append(Claimed(_message(row), claim))
        return taken

    def _finish(self, claimed: Claimed, assignments: str, params: Sequence[Any]) -> bool:
        with self.db.write(single=True) as conn:
            cursor = conn.execute(
                f"UPDATE outbox SET {assignments}, lease_until = NULL, claim = NULL "
                "WHERE id = ? AND state = 'sending' AND claim = ?",
                (*params, claimed.message.id, claimed.claim),
            )
            return cursor.rowcount == 1

    def mark_sent(self, claimed: Claimed, now: datetime | None = None) -> bool:
        return self._finish(claimed, "state = 'sent', sent = ?, error = NULL", (format_time(_now(now)),))

    def mark_failed(self, claimed: Claimed, error: str, next_attempt: str | None) -> bool:
        if next_attempt is None:
            return self._finish(claimed, "state = 'failed', error = ?", (error[:MAX_ERROR],))
        return self._finish(
            claimed, "state = 'queued', error = ?, next_attempt = ?", (error[:MAX_ERROR], next_attempt)
        )

    def interrupt_expired(self, now: datetime | None = None) -> int:
        with self.db.write(single=True) as conn:
            return conn.execute(
                "UPDATE outbox SET state = 'interrupted', claim = NULL "
                "WHERE state = 'sending' AND lease_until < ?",
                (format_time(_now(now)),),
            ).rowcount

    def resend(self, message_id: int) -> Message:
        marks = ", ".join("?" * len(RESENDABLE))
        with self.db.write(single=True) as conn:
            row = conn.execute(
                "UPDATE outbox SET state = 'queued', attempts = 0, next_attempt = ? "
                f"WHERE id = ? AND state IN ({marks}) RETURNING {COLUMNS}",
                (format_time(_now(None)), message_id, *RESENDABLE),
            ).fetchone()
        if row is not None:
            return _message(row)
        found = self.get(message_id)
        if found is None:
            raise MessageNotFound(message_id)
        raise MessageNotResendable(message_id, found.state)

    def get(self, message_id: int) -> Message | None:
        with self.db.read() as conn:
            row = conn.execute(f"SELECT {COLUMNS} FROM outbox WHERE id = ?", (message_id,)).fetchone()
        return _message(row) if row is not None else None

    def counts(self) -> dict[State, int]:
        with self.db.read() as conn:
            rows = conn.execute("SELECT state, count(*) FROM outbox GROUP BY state").fetchall()
        found = {state: int(count) for state, count in rows}
        return {state: found.get(state, 0) for state in STATES}

    def list_messages(self, state: State | None = None, limit: int = 100) -> list[Message]:
        where, params = ("WHERE state = ?", (state,)) if state else ("", ())
        with self.db.read() as conn:
            rows = conn.execute(
                f"SELECT {COLUMNS} FROM outbox {where} ORDER BY id DESC LIMIT ?", (*params, limit)
            ).fetchall()
        return [_message(row) for row in rows]

    def iter_messages(self) -> Iterator[Message]:
        return map(_message, iter_keyset(self.db, "outbox", COLUMNS, "id"))

    def add_copied(self, message: Message) -> None:
        # A message being sent in the old catalogue may be sent there still: it is interrupted here.
        state = "interrupted" if message.state == "sending" else message.state
        values = (
            message.key, message.kind, message.recipient, message.language, message.subject, message.text,
            message.html, state, message.attempts, message.created, message.next_attempt, message.sent,
            message.error, _headers_text(message), None, None,
        )  # fmt: skip
        with self.db.write() as conn:
            insert_numbered(self.db, conn, "outbox", _COPIED, message.id, values)
