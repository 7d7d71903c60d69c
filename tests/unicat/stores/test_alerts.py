"""The alerts' store (unicat/stores/alerts.py) over SQLite and PostgreSQL: switching the digest on starts
its progress then (never the backlog), the feed's token is kept, renewed (the old one opens nothing)
and dropped, no lookup by a reader crosses to another's search, and recording a digest stores its
message once and moves the progress once per period, however many runs record it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from unicat.alerts import period_label
from unicat.outbox import Message
from unicat.ports.database import Database
from unicat.saved_searches import SavedSearch
from unicat.stores.alerts import SqlAlertStore
from unicat.stores.outbox import SqlOutboxStore
from unicat.stores.saved_searches import SqlSavedSearchStore

ALICE, BOB = 1, 2


@pytest.fixture
def stores(database: Database) -> tuple[SqlAlertStore, int]:
    saved = SqlSavedSearchStore(database).add_search(SavedSearch(ALICE, "Bach", "q=bach"), 10)
    assert saved.id is not None
    return SqlAlertStore(database), saved.id


def test_switching_on_starts_the_progress_then_and_gives_a_key(stores: tuple[SqlAlertStore, int]) -> None:
    store, search = stores
    assert store.set_alert(ALICE, search, "daily", "fr", "2026-12-01T10:00:00Z")
    first = store.alert(ALICE, search)
    assert first is not None and first.frequency == "daily" and first.language == "fr"
    assert first.since == "2026-12-01T10:00:00Z" and first.key is not None and len(first.key) == 32
    # Changing the frequency keeps the progress and the key (the links sent stay good).
    assert store.set_alert(ALICE, search, "weekly", "fr", "2026-12-03T10:00:00Z")
    second = store.alert(ALICE, search)
    assert second is not None and (second.since, second.key) == (first.since, first.key)
    # Off, then on again: the progress starts again at the new time.
    assert store.set_alert(ALICE, search, "off", "fr", "2026-12-04T10:00:00Z")
    assert store.set_alert(ALICE, search, "daily", "nl", "2026-12-05T10:00:00Z")
    third = store.alert(ALICE, search)
    assert third is not None and third.since == "2026-12-05T10:00:00Z" and third.language == "nl"
    assert [alert.search_id for alert in store.iter_on()] == [search]


def test_another_readers_search_is_not_found(stores: tuple[SqlAlertStore, int]) -> None:
    store, search = stores
    assert not store.set_alert(BOB, search, "daily", "en", "2026-12-01T10:00:00Z")
    assert store.alert(BOB, search) is None
    with pytest.raises(LookupError):
        store.set_feed(BOB, search, True)
    mine = store.alert(ALICE, search)
    assert mine is not None and mine.frequency == "off"


def test_feed_tokens_are_kept_renewed_and_dropped(stores: tuple[SqlAlertStore, int]) -> None:
    store, search = stores
    token = store.set_feed(ALICE, search, True)
    assert token is not None and len(token) >= 43  # 32 bytes in base64url
    assert store.set_feed(ALICE, search, True) == token
    found = store.by_feed_token(token)
    assert found is not None and found.search_id == search
    renewed = store.set_feed(ALICE, search, True, renew=True)
    assert renewed is not None and renewed != token
    assert store.by_feed_token(token) is None
    assert store.set_feed(ALICE, search, False) is None
    assert store.by_feed_token(renewed) is None


def test_a_digest_is_stored_once_and_the_progress_moves_once(
    stores: tuple[SqlAlertStore, int], database: Database
) -> None:
    store, search = stores
    store.set_alert(ALICE, search, "daily", "en", "2026-12-01T10:00:00Z")
    alert = store.alert(ALICE, search)
    assert alert is not None
    period = period_label("daily", datetime(2026, 12, 2, 7, tzinfo=UTC), 6, 0)
    assert period == "2026-12-02"
    message = Message("alice@example.org", "News", "text", "alert.digest", f"alert.digest:{search}:{period}")
    assert store.record_digest(alert, "2026-12-02T05:00:00Z", period, message)
    # A second run that read the alert before the first moved it: the same key, nothing more.
    assert not store.record_digest(alert, "2026-12-02T05:30:00Z", period, message)
    moved = store.alert(ALICE, search)
    assert moved is not None and (moved.since, moved.period) == ("2026-12-02T05:00:00Z", period)
    assert SqlOutboxStore(database).counts()["queued"] == 1


def test_periods_are_the_latest_send_time() -> None:
    monday = 0
    assert period_label("daily", datetime(2026, 12, 7, 5, 59, tzinfo=UTC), 6, monday) == "2026-12-06"
    assert period_label("daily", datetime(2026, 12, 7, 6, 0, tzinfo=UTC), 6, monday) == "2026-12-07"
    # 2026-12-07 is a Monday of ISO week 50; before its hour, the week before's digest is the latest.
    assert period_label("weekly", datetime(2026, 12, 7, 6, 0, tzinfo=UTC), 6, monday) == "2026-W50"
    assert period_label("weekly", datetime(2026, 12, 7, 5, 0, tzinfo=UTC), 6, monday) == "2026-W49"
    assert period_label("weekly", datetime(2026, 12, 13, 23, 0, tzinfo=UTC), 6, monday) == "2026-W50"
    assert period_label("off", datetime(2026, 12, 7, 6, 0, tzinfo=UTC), 6, monday) is None
