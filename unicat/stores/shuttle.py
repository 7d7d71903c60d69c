"""Inter-library requests in SQL (:class:`unicat.ports.shuttle.ShuttleStore`), on SQLite or PostgreSQL.

Tables ``shuttle_requests`` (the libraries still to ask kept as JSON: they are read and written with
their request, never searched) and ``shuttle_events``, one row per change.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

from unicat.accounts import User
from unicat.clock import utc_now
from unicat.errors import Conflict, ItemNotFound, LimitReached
from unicat.ports.database import Connection, Database, fetch_in, insert_numbered, iter_keyset
from unicat.ports.shuttle import OnChange, ShuttleStore, Side
from unicat.shuttle import (
    OPEN_STATES,
    Action,
    Choice,
    Event,
    Request,
    State,
    check_action,
    check_state,
    placed,
    situation,
    transition,
)

REQUEST_COLUMNS = (
    "id, patron_id, record, title, pickup, holder, reason, candidates, state, message, version, created, "
    "updated, language"
)
EVENT_COLUMNS = "id, request_id, user_id, action, from_state, to_state, library, reason, at"
_OPEN = f"state IN ({', '.join(repr(state) for state in OPEN_STATES)})"


def _request(row: Sequence[Any]) -> Request:
    (request_id, patron_id, record, title, pickup, holder, reason, candidates, state, message, version) = row[
        :11
    ]
    return Request(
        patron_id=int(patron_id),
        record=record,
        title=title,
        pickup=pickup,
        holder=holder,
        reason=reason,
        candidates=tuple(Choice(library, why) for library, why in json.loads(candidates)),
        state=check_state(state),
        message=message,
        version=int(version),
        id=int(request_id),
        created=row[11],
        updated=row[12],
        language=row[13],
    )


def _event(row: Sequence[Any]) -> Event:
    event_id, request_id, user_id, action, from_state, to_state, library, reason, at = row
    return Event(
        request_id=int(request_id),
        user_id=int(user_id),
        action="place" if action == "place" else check_action(action),
        from_state=check_state(from_state) if from_state is not None else None,
        to_state=check_state(to_state),
        library=library,
        reason=reason,
        at=at,
        id=int(event_id),
    )


def _candidates(request: Request) -> str:
    return json.dumps([[choice.library, choice.reason] for choice in request.candidates], ensure_ascii=False)


def _values(request: Request) -> tuple[Any, ...]:
    """The row of a request, in REQUEST_COLUMNS order after its id."""
    return (
        request.patron_id,
        request.record,
        request.title,
        request.pickup,
        request.holder,
        request.reason,
        _candidates(request),
        request.state,
        request.message,
        request.version,
        request.created,
        request.updated,
        request.language,
    )


class SqlShuttleStore(ShuttleStore):
    """Requests and events over one database, with the limits of the settings
    (``shuttle_max_open_per_patron``, ``shuttle_max_open_per_library``)."""

    def __init__(self, db: Database, *, max_open_per_patron: int, max_open_per_library: int) -> None:
        self.db = db
        self.max_open_per_patron = max_open_per_patron
        self.max_open_per_library = max_open_per_library

    def create(self, request: Request, on_change: OnChange | None = None) -> Request:
        now = utc_now()
        stored = replace(request, state="placed", message=None, version=1, id=None, created=now, updated=now)
        with self.db.write() as conn:
            self._lock_counts(conn, request)
            self._check_limit(
                conn,
                "patron_id = ?",
                request.patron_id,
                self.max_open_per_patron,
                "shuttle_max_open_per_patron",
                "you have {count} requests under way, as many as this catalogue allows; collect or cancel "
                "one first",
            )
            self._check_limit(
                conn,
                "holder = ?",
                request.holder,
                self.max_open_per_library,
                "shuttle_max_open_per_library",
                f"the library {request.holder} has {{count}} requests under way, as many as this catalogue "
                "allows; try again later",
            )
            request_id = insert_numbered(
                self.db, conn, "shuttle_requests", REQUEST_COLUMNS, None, _values(stored)
            )
            assert request_id is not None  # no condition: the row is stored or the insert raised
            stored = replace(stored, id=request_id)
            event = self._insert_event(conn, placed(stored, request.patron_id, now))
            if on_change is not None:
                on_change(conn, stored, event)
        return stored

    def _lock_counts(self, conn: Connection, request: Request) -> None:
        """Make two creations that count the same patron's or library's requests wait for each other.
        SQLite has one writer at a time already; PostgreSQL takes a lock per patron and per library
        until the transaction ends (always in this order, so that no two wait for each other)."""
        if self.db.dialect == "postgresql":
            conn.execute(
                "SELECT pg_advisory_xact_lock(hashtext(?))", (f"shuttle-patron:{request.patron_id}",)
            )
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(?))", (f"shuttle-library:{request.holder}",))

    def _check_limit(
        self, conn: Connection, where: str, value: object, limit: int, setting: str, message: str
    ) -> None:
        count = int(
            conn.execute(
                f"SELECT count(*) FROM shuttle_requests WHERE {where} AND {_OPEN}", (value,)
            ).fetchone()[0]
        )
        if count >= limit:
            raise LimitReached(f"{message.format(count=count)} (the setting {setting} is {limit})", setting)

    def _insert_event(self, conn: Connection, event: Event) -> Event:
        """Store ``event``; returns it with its id."""
        event_id = insert_numbered(
            self.db,
            conn,
            "shuttle_events",
            EVENT_COLUMNS,
            event.id,
            (
                event.request_id,
                event.user_id,
                event.action,
                event.from_state,
                event.to_state,
                event.library,
                event.reason,
                event.at,
            ),
        )
        assert event_id is not None  # no condition: the row is stored or the insert raised
        return replace(event, id=event_id)

    def get(self, request_id: int) -> Request | None:
        with self.db.read() as conn:
            return self._get(conn, request_id)

    def _get(self, conn: Connection, request_id: int) -> Request | None:
        row = conn.execute(
            f"SELECT {REQUEST_COLUMNS} FROM shuttle_requests WHERE id = ?", (request_id,)
        ).fetchone()
        return _request(row) if row is not None else None

    def events(self, request_id: int) -> list[Event]:
        with self.db.read() as conn:
            rows = conn.execute(
                f"SELECT {EVENT_COLUMNS} FROM shuttle_events WHERE request_id = ? ORDER BY id", (request_id,)
            ).fetchall()
        return [_event(row) for row in rows]

    def histories(self, request_ids: Sequence[int]) -> dict[int, list[Event]]:
        found: dict[int, list[Event]] = {request_id: [] for request_id in request_ids}
        rows = fetch_in(self.db, f"SELECT {EVENT_COLUMNS} FROM shuttle_events", "request_id", request_ids)
        for event in sorted((_event(row) for row in rows), key=lambda event: event.id or 0):
            found[event.request_id].append(event)
        return found

    def for_patron(self, patron_id: int, limit: int = 200) -> list[Request]:
        with self.db.read() as conn:
            rows = conn.execute(
                f"SELECT {REQUEST_COLUMNS} FROM shuttle_requests WHERE patron_id = ? "
                "ORDER BY id DESC LIMIT ?",
                (patron_id, limit),
            ).fetchall()
        return [_request(row) for row in rows]

    def for_library(
        self, library: str, *, side: Side | None = None, state: State | None = None, limit: int = 200
    ) -> list[Request]:
        if side is None:
            where, params = "(holder = ? OR pickup = ?)", [library, library]
        else:
            where, params = f"{side} = ?", [library]
        if state is not None:
            where += " AND state = ?"
            params.append(state)
        with self.db.read() as conn:
            rows = conn.execute(
                f"SELECT {REQUEST_COLUMNS} FROM shuttle_requests WHERE {where} ORDER BY id LIMIT ?",
                (*params, limit),
            ).fetchall()
        return [_request(row) for row in rows]

    def open_counts(self) -> dict[str, int]:
        with self.db.read() as conn:
            rows = conn.execute(
                f"SELECT holder, count(*) FROM shuttle_requests WHERE {_OPEN} GROUP BY holder"
            ).fetchall()
        return {holder: int(count) for holder, count in rows}

    def act(
        self,
        request_id: int,
        action: Action,
        user: User,
        reason: str = "",
        *,
        version: int | None = None,
        on_change: OnChange | None = None,
    ) -> tuple[Request, Event]:
        with self.db.write() as conn:
            current = self._get(conn, request_id)
            if current is None:
                raise ItemNotFound(f"request {request_id}")
            if version is not None and version != current.version:
                raise Conflict(
                    f"{situation(current)} since you looked at it; nothing was done: look at it again"
                )
            changed, event = transition(current, action, user, utc_now(), reason)
            # Over the version read: on PostgreSQL another transaction may have changed the row since
            # (it then matches nothing here, and this change is not applied).
            updated = conn.execute(
                "UPDATE shuttle_requests SET holder = ?, reason = ?, candidates = ?, state = ?, message = ?, "
                "version = ?, updated = ? WHERE id = ? AND version = ?",
                (
                    changed.holder,
                    changed.reason,
                    _candidates(changed),
                    changed.state,
                    changed.message,
                    changed.version,
                    changed.updated,
                    request_id,
                    current.version,
                ),
            ).rowcount
            if updated == 1:
                stored = self._insert_event(conn, event)
                if on_change is not None:
                    on_change(conn, changed, stored)
                return changed, stored
        latest = self.get(request_id)
        now = situation(latest) if latest is not None else f"Request {request_id} was deleted"
        raise Conflict(f"{now} by someone else at the same moment; nothing was done: look at it again")

    def iter_requests(self) -> Iterator[Request]:
        return map(_request, iter_keyset(self.db, "shuttle_requests", REQUEST_COLUMNS, "id"))

    def iter_events(self) -> Iterator[Event]:
        return map(_event, iter_keyset(self.db, "shuttle_events", EVENT_COLUMNS, "id"))

    def copy_request(self, request: Request) -> None:
        with self.db.write() as conn:
            insert_numbered(self.db, conn, "shuttle_requests", REQUEST_COLUMNS, request.id, _values(request))

    def copy_event(self, event: Event) -> None:
        with self.db.write() as conn:
            self._insert_event(conn, event)
