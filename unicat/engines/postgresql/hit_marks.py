"""The hit marks (:mod:`unicat.ports.hit_marks`) of a PostgreSQL store, kept by its notices.

The schema's triggers (migration 17, ``engines/postgresql/schema.py``) send on one channel, at commit
and in commit order, the id of each record rated and a word when the redirects or the OAI-PMH
generations change, whichever process wrote. One thread per process listens on a connection of its
own: it listens first, then loads the rated ids, the ids redirected to and the latest generation, so
nothing committed after the load is missed (what the load and a notice both carry is applied twice, to
the same effect); a rating adds its id, a change of the redirects or generations loads that table's
part again, the marks not live meanwhile.

What a search may miss: a write another process committed whose notice has not reached this
process yet. PostgreSQL sends it at the commit, to an idle listening connection, so the window is
the time the notice takes over the loopback or the network and this thread takes to wake: the
window in which a search reading the stores would have started its read just before that commit.
While the connection is lost the marks are not live (every search reads the stores, as before), and
a new connection loads everything again, since the notices sent meanwhile are gone.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

import psycopg

from unicat.engines.postgresql.schema import HIT_MARKS_CHANNEL
from unicat.ports.hit_marks import Generation, HitMarks

log = logging.getLogger(__name__)

RATING_NOTICE = "rating "
"""A rating's notice: this, then the rated record's id."""
RECONNECT_SECONDS = 1.0
"""How long the listener waits before connecting again after losing its connection."""
WAKE_SECONDS = 0.1
"""How often the listener, idle, checks whether it was asked to stop (psycopg's own wait wakes as
often): an app's shutdown waits this long at most for it."""
APPLICATION_NAME = "unicat-hit-marks"
"""The listening connection's name in ``pg_stat_activity``."""

_RATED = "SELECT DISTINCT record FROM ratings"
_REDIRECTED = "SELECT DISTINCT new_id FROM redirects"
_LATEST = "SELECT generation, datestamp FROM oai_generations ORDER BY generation DESC LIMIT 1"


class PostgresHitMarks(HitMarks):
    """The marks, and the thread that keeps them from the notices of connections ``connect`` opens
    (autocommit, with no statement time limit: the loads read whole columns)."""

    def __init__(self, connect: Callable[[], psycopg.Connection[Any]]) -> None:
        self._connect = connect
        self._live = False
        self._rated: set[str] = set()
        self._redirected: frozenset[str] = frozenset()
        self._generation: Generation | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._listen, name="unicat-hit-marks", daemon=True)
        self._thread.start()

    def unmarked(self, union_ids: Iterable[str]) -> bool:
        if not self._live:
            return False
        rated, redirected = self._rated, self._redirected
        return not any(union_id in rated or union_id in redirected for union_id in union_ids)

    def latest_generation(self) -> tuple[bool, Generation | None]:
        generation = self._generation
        return self._live, generation

    @property
    def live(self) -> bool:
        """Whether the marks are loaded and the listening connection is up."""
        return self._live

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=WAKE_SECONDS * 20)
        self._live = False

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                with self._connect() as conn:
                    conn.execute(f"LISTEN {HIT_MARKS_CHANNEL}")
                    self._load(conn)
                    while not self._stop.is_set():
                        # Gathered first: the connection takes no statement while it waits for notices.
                        for notice in list(conn.notifies(timeout=WAKE_SECONDS, stop_after=1)):
                            self._apply(conn, notice.payload)
            except psycopg.Error as exc:
                log.warning("hit marks: lost the PostgreSQL connection (%s); searches read the stores", exc)
            except Exception:
                log.exception("hit marks: stopped; searches read the stores")
                self._live = False
                return
            finally:
                self._live = False
            self._stop.wait(RECONNECT_SECONDS)

    def _load(self, conn: psycopg.Connection[Any]) -> None:
        self._live = False
        self._rated = {str(row[0]) for row in conn.execute(_RATED)}
        self._redirected = self._load_redirected(conn)
        self._generation = self._load_generation(conn)
        self._live = True

    def _apply(self, conn: psycopg.Connection[Any], payload: str) -> None:
        if payload.startswith(RATING_NOTICE):
            self._rated.add(payload[len(RATING_NOTICE) :])
            return
        self._live = False
        if payload == "redirects":
            self._redirected = self._load_redirected(conn)
        else:  # "oai_generations"
            self._generation = self._load_generation(conn)
        self._live = True

    @staticmethod
    def _load_redirected(conn: psycopg.Connection[Any]) -> frozenset[str]:
        return frozenset(str(row[0]) for row in conn.execute(_REDIRECTED))

    @staticmethod
    def _load_generation(conn: psycopg.Connection[Any]) -> Generation | None:
        row = conn.execute(_LATEST).fetchone()
        return (int(row[0]), str(row[1])) if row is not None else None
