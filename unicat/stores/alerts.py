"""Alerts of saved searches in SQL (:mod:`unicat.alerts`), on SQLite or PostgreSQL.

The settings are columns of ``saved_searches`` (migration 22 on SQLite, 12 on PostgreSQL): deleting a
saved search deletes its alert, its feed token and its links' key with it. Every reader-facing lookup
names the reader too, as the saved searches' own store does: another reader's id finds nothing.

A digest is recorded in ONE transaction with its message (:meth:`SqlAlertStore.record_digest`): the
message is stored in the outbox under its key (stored once, whoever stores it first) and the search's
progress moves on only if no other run moved it for that period already. So a run that dies half-way
leaves each search either done (message stored, progress moved) or untouched, and several processes
running the digests at once store each message once.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from unicat.alerts import Alert, Frequency, check_frequency, new_feed_token
from unicat.errors import DuplicateKey
from unicat.outbox import Message
from unicat.ports.database import Database
from unicat.signed_links import new_key
from unicat.stores.outbox import enqueue_in

COLUMNS = "id, user_id, name, query, alert, alert_language, alert_key, alert_since, alert_period, feed_token"
BATCH = 500
"""Alerts read at a time by a digest run, and union ids per candidate lookup."""


def _alert(row: Sequence[Any]) -> Alert:
    search_id, user_id, name, query, frequency, language, key, since, period, token = row
    return Alert(
        int(search_id),
        int(user_id),
        name,
        query,
        check_frequency(frequency),
        language,
        bytes.fromhex(key) if key else None,
        since,
        period,
        token,
    )


class SqlAlertStore:
    """The alert columns of ``saved_searches``, and the first dates' windows a digest reads."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def _one(self, where: str, params: Sequence[Any]) -> Alert | None:
        with self.db.read() as conn:
            row = conn.execute(f"SELECT {COLUMNS} FROM saved_searches WHERE {where}", params).fetchone()
        return _alert(row) if row else None

    # -- a reader's settings ---------------------------------------------------------------------
    def alert(self, user_id: int, search_id: int) -> Alert | None:
        return self._one("id = ? AND user_id = ?", (search_id, user_id))

    def alerts_of(self, user_id: int) -> dict[int, Alert]:
        """The alerts of every saved search of a reader, by search id."""
        with self.db.read() as conn:
            rows = conn.execute(f"SELECT {COLUMNS} FROM saved_searches WHERE user_id = ?", (user_id,))
            return {alert.search_id: alert for alert in map(_alert, rows.fetchall())}

    def set_alert(self, user_id: int, search_id: int, frequency: Frequency, language: str, now: str) -> bool:
        """Set the e-mail digest's frequency and language. Switching it on from off starts its progress
        at ``now`` (the first digest tells of titles new from then, not the backlog) and gives the
        search its links' key if it has none; returns whether the reader has that search."""
        with self.db.write(single=True) as conn:
            cursor = conn.execute(
                "UPDATE saved_searches SET "
                "alert_since = CASE WHEN alert = 'off' AND ? <> 'off' THEN ? ELSE alert_since END, "
                "alert_period = CASE WHEN alert = 'off' THEN NULL ELSE alert_period END, "
                "alert_key = coalesce(alert_key, ?), alert = ?, alert_language = ? "
                "WHERE id = ? AND user_id = ?",
                (frequency, now, new_key().hex(), frequency, language, search_id, user_id),
            )
            return cursor.rowcount > 0

    def set_feed(self, user_id: int, search_id: int, on: bool, renew: bool = False) -> str | None:
        """Switch the private feed on (keeping its token, or a new one with ``renew``: the old address
        is dead at once) or off; returns the token, ``None`` when off. :class:`LookupError` when the
        reader has no such search."""
        found = self.alert(user_id, search_id)
        if found is None:
            raise LookupError(f"saved search #{search_id}")
        kept = None if renew else found.feed_token
        token = (kept or new_feed_token()) if on else None
        for _ in range(3):  # a token taken already (2^-256) is drawn again rather than failing
            try:
                with self.db.write(single=True) as conn:
                    conn.execute(
                        "UPDATE saved_searches SET feed_token = ? WHERE id = ? AND user_id = ?",
                        (token, search_id, user_id),
                    )
                return token
            except DuplicateKey:
                token = new_feed_token()
        raise RuntimeError("no free feed token was drawn in three tries")

    def by_feed_token(self, token: str) -> Alert | None:
        """The search whose feed ``token`` opens (the token is the authority: no reader is named)."""
        return self._one("feed_token = ?", (token,))

    def by_search_id(self, search_id: int) -> Alert | None:
        """A search's alert by its id alone, for a signed link whose key must be read to check it."""
        return self._one("id = ?", (search_id,))

    def unsubscribe(self, search_id: int) -> bool:
        """Switch the e-mail digest of a search off (its signed link checked by the caller)."""
        with self.db.write(single=True) as conn:
            cursor = conn.execute("UPDATE saved_searches SET alert = 'off' WHERE id = ?", (search_id,))
            return cursor.rowcount > 0

    def copy_alert(self, alert: Alert) -> None:
        """Store a search's alert settings as they are, key, progress and feed token included, on the
        saved search of that id (``unicat migrate``, after the saved searches)."""
        with self.db.write(single=True) as conn:
            conn.execute(
                "UPDATE saved_searches SET alert = ?, alert_language = ?, alert_key = ?, alert_since = ?, "
                "alert_period = ?, feed_token = ? WHERE id = ?",
                (alert.frequency, alert.language, alert.key.hex() if alert.key else None, alert.since,
                 alert.period, alert.feed_token, alert.search_id),
            )  # fmt: skip

    # -- digests ---------------------------------------------------------------------------------
    def iter_on(self) -> Iterator[Alert]:
        """Every search whose e-mail digest is on, by id (read a batch at a time)."""
        return self._iter("alert <> 'off'")

    def iter_set(self) -> Iterator[Alert]:
        """Every search with an alert, a feed or a links' key, by id (``unicat migrate``)."""
        return self._iter("alert <> 'off' OR alert_key IS NOT NULL OR feed_token IS NOT NULL")

    def _iter(self, where: str) -> Iterator[Alert]:
        after = 0
        while True:
            with self.db.read() as conn:
                rows = conn.execute(
                    f"SELECT {COLUMNS} FROM saved_searches WHERE ({where}) AND id > ? ORDER BY id LIMIT ?",
                    (after, BATCH),
                ).fetchall()
            yield from map(_alert, rows)
            if len(rows) < BATCH:
                return
            after = int(rows[-1][0])

    def stamped_until(self) -> str | None:
        """The newest date a finished index generation stamped (members first seen or first held), the
        end of a digest's window: every date up to it is committed."""
        with self.db.read() as conn:
            seen = conn.execute("SELECT max(first_seen) FROM first_seen").fetchone()
            held = conn.execute("SELECT max(first_held) FROM first_held").fetchone()
        dates = [str(row[0]) for row in (seen, held) if row and row[0] is not None]
        return max(dates) if dates else None

    def new_union_ids(self, since: str, until: str) -> list[str]:
        """The union records a member of which was first seen, or first held by a library, in the
        window ``(since, until]`` (by the dates' indexes): the candidates of a digest run, a superset
        of the records new in it (a new member of an old record is not a new title)."""
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT m.union_id FROM first_seen f JOIN memberships m "
                "ON m.source = f.source AND m.local_id = f.local_id "
                "WHERE f.first_seen > ? AND f.first_seen <= ? "
                "UNION SELECT m.union_id FROM first_held h JOIN memberships m "
                "ON m.source = h.source AND m.local_id = h.local_id "
                "WHERE h.first_held > ? AND h.first_held <= ?",
                (since, until, since, until),
            ).fetchall()
        return sorted(str(row[0]) for row in rows)

    def record_digest(self, alert: Alert, until: str, period: str, message: Message | None) -> bool:
        """In one transaction: store ``message`` (none when nothing was new) in the outbox under its key,
        and move the search's progress to ``until`` and its period to ``period`` unless a run did for
        that period already; returns whether this call moved it."""
        with self.db.write() as conn:
            if message is not None:
                enqueue_in(conn, message)
            cursor = conn.execute(
                "UPDATE saved_searches SET alert_since = ?, alert_period = ? "
                "WHERE id = ? AND alert <> 'off' AND coalesce(alert_period, '') <> ?",
                (max(until, alert.since or until), period, alert.search_id, period),
            )
            return cursor.rowcount > 0
