"""Alerts of a saved search: how often its e-mail digest goes out, its private feed, and what is new for it.

A saved search (:mod:`unicat.saved_searches`) carries its alert settings: the e-mail digest ``off``,
``daily`` or ``weekly``, in the language the reader set it in; a private Atom feed behind a random
token (revoked by replacing it); the secret its unsubscribe links are signed with
(:mod:`unicat.signed_links`); and the digest's **progress**, the instant up to which its new titles
have been reported, with the last period (``2026-12-07``, ``2026-W50``) handled.

A digest reports what became new in the window ``(progress, until]``: a title that entered the
catalogue then (its ``first_seen``), or, for a search limited to some libraries (``held_at`` or
``available_at``), a title one of those libraries first held then (``held_since``): an old title a
library has just bought is news to the readers of that library. ``until`` is the newest date a
finished index generation stamped (the store's, :meth:`unicat.stores.alerts.SqlAlertStore.stamped_until`),
never the clock: a generation that is still writing stamped its records with an earlier instant than
its end, and reading the clock would skip them for good.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal, get_args

from unicat.errors import BadParameter
from unicat.model import UnionRecord

Frequency = Literal["off", "daily", "weekly"]
FREQUENCIES: tuple[Frequency, ...] = get_args(Frequency)
LIBRARY_FILTERS = ("held_at", "available_at")
"""The filters that limit a search to libraries: a title new at one of them is new for the search."""
UNSUBSCRIBE = "alert.unsubscribe"
"""The purpose of an unsubscribe link's token."""
FEED_TOKEN_BYTES = 32


def check_frequency(value: object, field: str = "alert") -> Frequency:
    """``value`` as a :data:`Frequency`; :class:`BadParameter` naming the choices otherwise."""
    for frequency in FREQUENCIES:
        if value == frequency:
            return frequency
    shown = repr(value)[:40]
    raise BadParameter(field, f"an alert is one of {', '.join(FREQUENCIES)}, got {shown}")


def new_feed_token() -> str:
    """A feed's token: 32 random bytes, URL-safe. Whoever has it reads the feed, so it is unguessable."""
    return secrets.token_urlsafe(FEED_TOKEN_BYTES)


@dataclass(frozen=True, slots=True)
class Alert:
    """The alert settings of one saved search. ``key`` signs its unsubscribe links (``None`` until its
    e-mail is first switched on); ``since`` is the digest's progress and ``period`` the last period it
    handled; ``feed_token`` is ``None`` while the feed is off."""

    search_id: int
    user_id: int
    name: str
    query: str
    frequency: Frequency = "off"
    language: str = "en"
    key: bytes | None = None
    since: str | None = None
    period: str | None = None
    feed_token: str | None = None

    def to_json(self) -> dict[str, object]:
        """What the reader may see of them (never the key)."""
        return {"alert": self.frequency, "language": self.language, "feed": self.feed_token is not None}


def period_label(frequency: Frequency, now: datetime, hour: int, weekday: int) -> str | None:
    """The period whose digest is due at ``now``: that of the latest send time (``hour`` UTC each day,
    or each ``weekday``, 0 for Monday) at or before ``now``, as the day (``2026-12-07``) or the ISO week
    (``2026-W50``); ``None`` for alerts that are off."""
    if frequency == "off":
        return None
    day = now.date() if now.hour >= hour else now.date() - timedelta(days=1)
    if frequency == "daily":
        return day.isoformat()
    day -= timedelta(days=(day.weekday() - weekday) % 7)
    return _iso_week(day)


def _iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def search_libraries(params: Mapping[str, Sequence[str]]) -> tuple[str, ...]:
    """The libraries a search is limited to (its ``held_at`` and ``available_at`` values)."""
    return tuple(dict.fromkeys(value for name in LIBRARY_FILTERS for value in params.get(name, ())))


def new_in_window(record: UnionRecord, libraries: Sequence[str], since: str, until: str) -> str | None:
    """When ``record`` became new for a search limited to ``libraries`` (none: the whole network) in
    the window ``(since, until]``, or ``None`` when it did not then. Times are the stored form, which
    sorts as text."""
    if not libraries:
        seen = record.first_seen
        return seen if seen is not None and since < seen <= until else None
    dates = [record.held_since.get(library) for library in libraries]
    found = [held for held in dates if held is not None and since < held <= until]
    return max(found) if found else None
