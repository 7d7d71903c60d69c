"""The kept-searches store (unicat/ports/saved_searches.py) over SQLite and PostgreSQL: history entries
one per query and newest first, trimmed to a size and purged by age on write, a browser's history joined
into an account's, saved searches unique by name per reader and limited in number, and no lookup by id
that crosses from one owner to another.

Expected answers come from what each test writes; times are given where an order or a purge depends on
them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.support.at_once import all_at_once
from unicat.errors import BadParameter, ItemNotFound, LimitReached
from unicat.ports.database import Database
from unicat.saved_searches import HistoryEntry, SavedSearch, account_owner, visitor_owner
from unicat.stores.saved_searches import SqlSavedSearchStore

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
LONG_AGO = NOW - timedelta(days=365)
ALICE = account_owner(1)
BOB = account_owner(2)
BROWSER = visitor_owner("a-browser-token")


def at(minutes: int) -> str:
    return (NOW - timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def searches(database: Database) -> SqlSavedSearchStore:
    return SqlSavedSearchStore(database)


def run(store: SqlSavedSearchStore, owner: str, query: str, total: int, minutes: int, keep: int = 50) -> None:
    store.record_search(HistoryEntry(owner, query, total, at=at(minutes)), keep, LONG_AGO, LONG_AGO)


def test_history_is_one_entry_per_query_newest_first(searches: SqlSavedSearchStore) -> None:
    run(searches, ALICE, "q=bach", 3, 30)
    run(searches, ALICE, "q=mozart", 5, 20)
    run(searches, ALICE, "q=bach", 4, 10)  # the same search again: to the top, with its new count
    run(searches, BOB, "q=haydn", 1, 5)
    assert [(e.query, e.total) for e in searches.history(ALICE, 10)] == [("q=bach", 4), ("q=mozart", 5)]
    assert [e.query for e in searches.history(BOB, 10)] == ["q=haydn"]


def test_history_keeps_the_newest_entries_of_its_size(searches: SqlSavedSearchStore) -> None:
    for number in range(6):
        run(searches, ALICE, f"q=word{number}", number, 60 - number, keep=4)
    assert [e.query for e in searches.history(ALICE, 10)] == ["q=word5", "q=word4", "q=word3", "q=word2"]


def test_expired_entries_are_purged_on_the_next_write(searches: SqlSavedSearchStore) -> None:
    run(searches, ALICE, "q=old", 1, 60 * 24 * 10)  # ten days ago
    run(searches, BROWSER, "q=yesterday", 1, 60 * 30)  # thirty hours ago
    run(searches, BOB, "q=recent", 1, 60)
    # Accounts keep 7 days, browsers 24 hours: both old entries go, whoever writes next.
    searches.record_search(
        HistoryEntry(BOB, "q=now", 2, at=at(0)), 50, NOW - timedelta(days=7), NOW - timedelta(hours=24)
    )
    assert searches.history(ALICE, 10) == []
    assert searches.history(BROWSER, 10) == []
    assert [e.query for e in searches.history(BOB, 10)] == ["q=now", "q=recent"]


def test_entries_are_deleted_by_their_owner_only(searches: SqlSavedSearchStore) -> None:
    run(searches, ALICE, "q=bach", 3, 30)
    run(searches, ALICE, "q=mozart", 3, 20)
    alices = searches.history(ALICE, 10)
    first = alices[0].id
    assert first is not None
    assert searches.get_history_entry(BOB, first) is None
    assert searches.delete_history(BOB, first) == 0
    assert searches.get_history_entry(ALICE, first) == alices[0]
    assert searches.delete_history(ALICE, first) == 1
    assert [e.query for e in searches.history(ALICE, 10)] == ["q=bach"]
    run(searches, BOB, "q=haydn", 1, 5)
    assert searches.delete_history(ALICE) == 1
    assert searches.history(ALICE, 10) == [] and len(searches.history(BOB, 10)) == 1


def test_a_browsers_history_joins_the_account_on_sign_in(searches: SqlSavedSearchStore) -> None:
    run(searches, ALICE, "q=bach", 3, 50)
    run(searches, ALICE, "q=mozart", 7, 5)  # run on the account after the browser did
    run(searches, BROWSER, "q=bach", 4, 40)  # newer than the account's: its count wins
    run(searches, BROWSER, "q=mozart", 6, 30)  # older than the account's: the account's stays
    run(searches, BROWSER, "q=haydn", 1, 20)
    assert searches.join_history(BROWSER, ALICE, keep=50) == 3
    assert searches.history(BROWSER, 10) == []
    assert [(e.query, e.total, e.at) for e in searches.history(ALICE, 10)] == [
        ("q=mozart", 7, at(5)),
        ("q=haydn", 1, at(20)),
        ("q=bach", 4, at(40)),
    ]


def test_saved_searches_by_reader_and_name(searches: SqlSavedSearchStore) -> None:
    kept = searches.add_search(SavedSearch(1, "Bach", "q=bach"), limit=10)
    assert kept.id is not None and kept.created and kept.updated == kept.created
    searches.add_search(SavedSearch(1, "Alto", "q=alto"), limit=10)
    searches.add_search(SavedSearch(2, "Bach", "q=bach&sort=title"), limit=10)  # another reader's: allowed
    with pytest.raises(BadParameter) as taken:
        searches.add_search(SavedSearch(1, "Bach", "q=other"), limit=10)
    assert taken.value.param == "name"
    assert [s.name for s in searches.searches_of(1)] == ["Alto", "Bach"]
    assert searches.get_search(1, kept.id) == kept
    assert searches.get_search(2, kept.id) is None


def test_renaming_and_deleting_need_the_owner(searches: SqlSavedSearchStore) -> None:
    kept = searches.add_search(SavedSearch(1, "Bach", "q=bach"), limit=10)
    searches.add_search(SavedSearch(1, "Mozart", "q=mozart"), limit=10)
    assert kept.id is not None
    with pytest.raises(ItemNotFound):
        searches.rename_search(kept.with_changes(user_id=2, name="Mine now"))
    with pytest.raises(BadParameter):
        searches.rename_search(kept.with_changes(name="Mozart"))
    searches.rename_search(kept.with_changes(name="J. S. Bach", updated="2026-12-02T00:00:00Z"))
    renamed = searches.get_search(1, kept.id)
    assert renamed is not None and (renamed.name, renamed.updated) == ("J. S. Bach", "2026-12-02T00:00:00Z")
    assert searches.delete_search(2, kept.id) is False
    assert searches.delete_search(1, kept.id) is True
    assert [s.name for s in searches.searches_of(1)] == ["Mozart"]


def test_a_reader_keeps_at_most_the_limit(searches: SqlSavedSearchStore) -> None:
    for number in range(3):
        searches.add_search(SavedSearch(1, f"Search {number}", f"q=w{number}"), limit=3)
    with pytest.raises(LimitReached) as refused:
        searches.add_search(SavedSearch(1, "One more", "q=more"), limit=3)
    assert "saved_searches_max" in str(refused.value)
    searches.add_search(SavedSearch(2, "Another reader", "q=more"), limit=3)
    assert len(searches.searches_of(1)) == 3


def test_iterators_give_everything_for_a_copy(database: Database, searches: SqlSavedSearchStore) -> None:
    kept = [searches.add_search(SavedSearch(n % 2 + 1, f"S{n}", f"q=w{n}"), limit=10) for n in range(4)]
    for minutes in (3, 2, 1):
        run(searches, BROWSER if minutes == 2 else ALICE, f"q=m{minutes}", minutes, minutes)
    entries = list(searches.iter_history())
    assert list(searches.iter_searches()) == kept
    assert [e.query for e in entries] == ["q=m3", "q=m2", "q=m1"]
    searches.delete_history(ALICE)
    searches.copy_history_entry(entries[0])
    assert searches.history(ALICE, 10) == [entries[0]]
    # Numbered after the copy: a new search never takes a copied id.
    run(searches, ALICE, "q=new", 1, 0)
    newest = searches.history(ALICE, 1)[0]
    assert newest.id is not None and newest.id > max(e.id or 0 for e in entries)


def test_one_search_run_in_many_tabs_at_once_is_one_entry(searches: SqlSavedSearchStore) -> None:
    def one_tab(number: int) -> None:
        run(searches, ALICE, "q=bach", number, 0)

    all_at_once(8, one_tab)
    entries = searches.history(ALICE, 10)
    assert [entry.query for entry in entries] == ["q=bach"] and entries[0].total in range(8)
