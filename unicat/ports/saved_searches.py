"""The store of readers' kept searches (:mod:`unicat.saved_searches`): the search history of accounts
and of browsers not signed in, and the searches saved under a name. Implemented once in SQL over
either database (``unicat/stores/saved_searches.py``).

Every lookup by id names the owner too: an id of someone else's entry finds nothing, as an id that
does not exist, so a page or the API cannot be asked to confirm which ids are taken.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator
from datetime import datetime

from unicat.saved_searches import HistoryEntry, SavedSearch


class SavedSearchStore(abc.ABC):
    """Every method is synchronous and safe to call from several threads."""

    @abc.abstractmethod
    def record_search(
        self, entry: HistoryEntry, keep: int, account_since: datetime, visitor_since: datetime
    ) -> None:
        """Put the search at the top of its owner's history with its new count (once: the same query
        run again replaces its entry), then, in the same transaction, forget the owner's entries past
        the ``keep`` newest, and everyone's entries older than their cutoff (``account_since`` for
        accounts, ``visitor_since`` for browsers): a purge as cheap as the few rows it deletes."""

    @abc.abstractmethod
    def history(self, owner: str, limit: int) -> list[HistoryEntry]:
        """The owner's newest ``limit`` entries, newest first."""

    @abc.abstractmethod
    def get_history_entry(self, owner: str, entry_id: int) -> HistoryEntry | None: ...

    @abc.abstractmethod
    def delete_history(self, owner: str, entry_id: int | None = None) -> int:
        """Forget one of the owner's entries (by id), or all of them; returns how many."""

    @abc.abstractmethod
    def join_history(self, visitor: str, account: str, keep: int) -> int:
        """On signing in: move a browser's entries into the account's (a query in both keeps its
        latest run), then keep the account's ``keep`` newest; returns how many were moved."""

    @abc.abstractmethod
    def copy_history_entry(self, entry: HistoryEntry) -> None:
        """Store an entry as it is, with its id and time (``unicat migrate``)."""

    @abc.abstractmethod
    def iter_history(self) -> Iterator[HistoryEntry]:
        """Every entry of every owner, by id (``unicat migrate``)."""

    @abc.abstractmethod
    def add_search(self, search: SavedSearch, limit: int) -> SavedSearch:
        """Store a new saved search (``created`` and ``updated`` now unless given); raises
        :class:`~unicat.errors.BadParameter` (``name``) when the reader has one of that name, and
        :class:`~unicat.errors.LimitReached` when they have ``limit`` already."""

    @abc.abstractmethod
    def get_search(self, user_id: int, search_id: int) -> SavedSearch | None: ...

    @abc.abstractmethod
    def rename_search(self, search: SavedSearch) -> None:
        """Store a saved search's new name and ``updated`` (by its id and reader); raises
        :class:`~unicat.errors.ItemNotFound`, or :class:`~unicat.errors.BadParameter` for a name taken."""

    @abc.abstractmethod
    def delete_search(self, user_id: int, search_id: int) -> bool: ...

    @abc.abstractmethod
    def searches_of(self, user_id: int) -> list[SavedSearch]:
        """One reader's saved searches, by name (then id)."""

    @abc.abstractmethod
    def iter_searches(self) -> Iterator[SavedSearch]:
        """Every saved search, by id (``unicat migrate``)."""
