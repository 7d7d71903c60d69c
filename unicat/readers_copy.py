"""Copying accounts and what readers added into the stores, with their ids and times.

Two callers: ``unicat migrate`` into a new store, and the hand-over of an older Elasticsearch catalogue's
readers' indices to the store (``engines/elasticsearch/legacy_readers.py``). Accounts come first (with
their numbers, which comments and lists point at), then comments before the reports on them and lists
before their entries; each item keeps its id and time, and the store numbers its later items after them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Protocol, TypeVar

from unicat.accounts import User
from unicat.ports.accounts import AccountStore
from unicat.ports.contributions import ContributionStore
from unicat.readers import Comment, ListEntry, ModerationAction, Rating, ReadingList, Report, Tag

T = TypeVar("T")
Notify = Callable[[str, int], None]
PROGRESS_EVERY = 1_000


class ReadersSource(Protocol):
    """Where the items come from: a store's ports, or an older catalogue's indices."""

    def list_users(self) -> list[User]: ...
    def iter_comments(self) -> Iterator[Comment]: ...
    def iter_ratings(self) -> Iterator[Rating]: ...
    def iter_tags(self) -> Iterator[Tag]: ...
    def iter_reports(self) -> Iterator[Report]: ...
    def iter_moderation(self) -> Iterator[ModerationAction]: ...
    def iter_lists(self) -> Iterator[ReadingList]: ...
    def iter_list_entries(self) -> Iterator[ListEntry]: ...


class StoredReaders:
    """A catalogue's two stores seen as one :class:`ReadersSource`."""

    def __init__(self, accounts: AccountStore, contributions: ContributionStore) -> None:
        self.list_users = accounts.list_users
        self.iter_comments = contributions.iter_comments
        self.iter_ratings = contributions.iter_ratings
        self.iter_tags = contributions.iter_tags
        self.iter_reports = contributions.iter_reports
        self.iter_moderation = contributions.iter_moderation
        self.iter_lists = contributions.iter_lists
        self.iter_list_entries = contributions.iter_list_entries


def _copy(items: Iterable[T], add: Callable[[T], object], what: str, notify: Notify) -> int:
    """Add every item, one at a time; returns how many."""
    count = 0
    for item in items:
        add(item)
        count += 1
        if count % PROGRESS_EVERY == 0:
            notify(what, count)
    notify(what, count)
    return count


def copy_readers(
    source: ReadersSource, accounts: AccountStore, contributions: ContributionStore, notify: Notify
) -> dict[str, int]:
    """Copy everything; returns how many of each kind, by the names of ``MigrationReport``."""
    return {
        "users": _copy(source.list_users(), accounts.create_user, "accounts", notify),
        "comments": _copy(source.iter_comments(), contributions.add_comment, "comments", notify),
        "ratings": _copy(source.iter_ratings(), contributions.set_rating, "ratings", notify),
        "tags": _copy(source.iter_tags(), contributions.add_tag, "tags", notify),
        "reports": _copy(source.iter_reports(), contributions.add_report, "reports", notify),
        "moderation_actions": _copy(
            source.iter_moderation(), contributions.log_moderation, "moderation actions", notify
        ),
        "lists": _copy(source.iter_lists(), contributions.add_list, "reading lists", notify),
        "list_entries": _copy(
            source.iter_list_entries(), contributions.add_list_entry, "list entries", notify
        ),
    }
