"""What an OAI-PMH data provider reads: a feed of items (``unicat/oai_items.py`` says what an item and
a generation are), each with its record in whatever form the repository keeps it.

The union catalogue's store is one feed, of union records; a demo library's records in memory are
another, of MARCXML text. One provider (``search_app/oai/``) serves both, so the demo's libraries speak
the protocol exactly as the union catalogue does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

from unicat.oai_items import OaiItem, OaiSelection

Record_co = TypeVar("Record_co", covariant=True)


class FeedEntry(Protocol[Record_co]):
    """An item and, when it was asked for and the item is live, its record."""

    @property
    def item(self) -> OaiItem: ...

    @property
    def record(self) -> Record_co | None: ...


class OaiFeed(Protocol[Record_co]):
    """The reads a provider makes; each is called in a worker thread and may block."""

    def oai_generations(self) -> list[tuple[int, str]]:
        """Every registered generation with its datestamp, oldest first (datestamps never decrease)."""
        ...

    def oai_list(
        self, selection: OaiSelection, after: tuple[int, str] | None, limit: int, with_records: bool
    ) -> Sequence[FeedEntry[Record_co]]:
        """Up to ``limit`` items of ``selection`` after the keyset position ``after`` (generation, id),
        in (generation, id) order; with their records when ``with_records`` (deleted items have none)."""
        ...

    def oai_count(self, selection: OaiSelection) -> int:
        """How many items ``selection`` covers (a list's ``completeListSize``)."""
        ...

    def oai_entry(self, union_id: str, with_record: bool) -> FeedEntry[Record_co] | None:
        """The item of one id (live or deleted), or ``None`` for an id the feed never had."""
        ...

    def oai_sets(self) -> dict[str, str]:
        """Every set an item ever belonged to, spec → name, by spec (empty: the feed has no sets)."""
        ...
