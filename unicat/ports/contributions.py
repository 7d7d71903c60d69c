"""The contributions store: what readers add to union records (:mod:`unicat.readers` says what each
item is): comments, ratings, tags, reports of comments, the moderation log, reading lists and their
entries. Implemented once in SQL over either database (``unicat/stores/contributions.py``).

Every ``add_*`` stores a new item and returns it with its ``id`` and time (``created``/``at``/``added``)
filled in; an item that already has an id or a time keeps it (a copied catalogue's: ``unicat migrate``),
and later ids are numbered after the highest. Items point at union ids as posted;
:mod:`search_app.readers.record_aliases` gathers the ids merged into a record.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator, Sequence

from unicat.readers import Comment, ListEntry, ModerationAction, Rating, ReadingList, Report, Tag


class ContributionStore(abc.ABC):
    """Readers' items. Every method is synchronous and safe to call from several threads."""

    @abc.abstractmethod
    def add_comment(self, comment: Comment) -> Comment: ...

    @abc.abstractmethod
    def add_comment_on_live(self, comment: Comment) -> Comment | None:
        """Store a reader's new comment if its record is a live union record of the record store
        (which shares this database), checked by the insert itself: one statement, one round trip,
        and no re-index can take the record away between the check and the comment. ``None``, and
        nothing stored, when it is not live (unknown, deleted, or merged into another record: the
        caller follows the redirect, :meth:`~unicat.ports.records.UnionLinks.live_union_id`)."""

    @abc.abstractmethod
    def get_comment(self, comment_id: int) -> Comment | None: ...

    @abc.abstractmethod
    def update_comment(self, comment: Comment) -> None:
        """Store a comment's new ``body``, ``edited``, ``hidden`` and ``hidden_reason`` (by its id; the
        record, author and creation time stay); raises :class:`~unicat.errors.ItemNotFound`."""

    @abc.abstractmethod
    def delete_comment(self, comment_id: int) -> bool:
        """Forget a comment and the reports on it (the moderation log keeps its entries); ``False``
        if there was none."""

    @abc.abstractmethod
    def comments_for(self, records: Sequence[str]) -> list[Comment]:
        """The comments on any of these union ids, hidden ones included, newest first (by
        ``created``, then by id)."""

    @abc.abstractmethod
    def comments_by(self, user_id: int) -> list[Comment]:
        """One reader's comments, newest first."""

    @abc.abstractmethod
    def iter_comments(self) -> Iterator[Comment]:
        """Every comment, by id (``unicat migrate``)."""

    @abc.abstractmethod
    def set_rating(self, rating: Rating) -> Rating:
        """Store a reader's rating of a record, replacing the one they gave before; returns it with ``at``."""

    @abc.abstractmethod
    def delete_rating(self, record: str, user_id: int) -> bool: ...

    @abc.abstractmethod
    def ratings_for(self, records: Sequence[str]) -> list[Rating]:
        """Every rating of any of these union ids, in no particular order."""

    @abc.abstractmethod
    def iter_ratings(self) -> Iterator[Rating]:
        """Every rating, by (record, user_id)."""

    @abc.abstractmethod
    def add_tag(self, tag: Tag) -> Tag:
        """Store a reader's tag on a record (the same tag twice by one reader is stored once)."""

    @abc.abstractmethod
    def remove_tag(self, record: str, user_id: int, tag: str) -> bool: ...

    @abc.abstractmethod
    def tags_for(self, records: Sequence[str]) -> list[Tag]:
        """Every tag on any of these union ids, in no particular order."""

    @abc.abstractmethod
    def tag_counts(self, limit: int = 1_000) -> list[tuple[str, int]]:
        """The most used tags with how many union ids carry each (most first, then by tag)."""

    @abc.abstractmethod
    def tagged_records(self, tag: str, limit: int = 10_000) -> list[str]:
        """The union ids carrying a tag (as posted), each once, by id."""

    @abc.abstractmethod
    def iter_tags(self) -> Iterator[Tag]:
        """Every tag, by (record, user_id, tag)."""

    @abc.abstractmethod
    def add_report(self, report: Report) -> Report:
        """Store a report; a reader who reported the comment before gets their earlier report back
        (reason unchanged) instead of a second one."""

    @abc.abstractmethod
    def reports_for(self, comment_ids: Sequence[int]) -> list[Report]:
        """Every report (open and resolved) on these comments, oldest first."""

    @abc.abstractmethod
    def open_reports(self, limit: int = 1_000) -> list[Report]:
        """Reports no librarian has acted on yet, oldest first (the moderation queue)."""

    @abc.abstractmethod
    def resolve_reports(self, comment_id: int, action_id: int) -> int:
        """Close every open report on a comment with the moderation action that answered them;
        returns how many."""

    @abc.abstractmethod
    def iter_reports(self) -> Iterator[Report]:
        """Every report, by id."""

    @abc.abstractmethod
    def log_moderation(self, action: ModerationAction) -> ModerationAction: ...

    @abc.abstractmethod
    def moderation_log(self, comment_id: int | None = None, limit: int = 200) -> list[ModerationAction]:
        """Moderation actions (of one comment, or all), newest first."""

    @abc.abstractmethod
    def iter_moderation(self) -> Iterator[ModerationAction]:
        """Every moderation action, by id."""

    @abc.abstractmethod
    def add_list(self, reading_list: ReadingList) -> ReadingList:
        """Store a new list (``created`` and ``updated`` are now unless given)."""

    @abc.abstractmethod
    def get_list(self, list_id: int) -> ReadingList | None: ...

    @abc.abstractmethod
    def update_list(self, reading_list: ReadingList) -> None:
        """Store a list's new name, description, ``public`` and ``updated`` (by id); raises
        :class:`~unicat.errors.ItemNotFound`."""

    @abc.abstractmethod
    def delete_list(self, list_id: int) -> bool:
        """Forget a list and its entries."""

    @abc.abstractmethod
    def lists_of(self, user_id: int) -> list[ReadingList]:
        """One reader's lists, most recently updated first."""

    @abc.abstractmethod
    def iter_lists(self) -> Iterator[ReadingList]:
        """Every list, by id."""

    @abc.abstractmethod
    def add_list_entry(self, entry: ListEntry) -> ListEntry:
        """Put a record on a list (once: adding it again keeps the first entry and returns it)."""

    @abc.abstractmethod
    def remove_list_entry(self, list_id: int, record: str) -> bool: ...

    @abc.abstractmethod
    def list_entries(self, list_id: int) -> list[ListEntry]:
        """A list's records, most recently added first (then by record id)."""

    @abc.abstractmethod
    def iter_list_entries(self) -> Iterator[ListEntry]:
        """Every entry of every list, by (list_id, record)."""
