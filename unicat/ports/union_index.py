"""The union index: what search needs, and nothing that must not be lost.

Each rebuild (``unicat index``) writes a whole new generation of union records, derived from the record
store (``unicat/ports/records.py``), and the index serves them: by id, all in turn, and by search with
facets. Everything else (what a rebuild leaves behind for the next one, the OAI-PMH feed's history,
accounts, readers' data) lives in the database, so the index can always be dropped and rebuilt.

Two implementations: SQLite FTS5 (:mod:`unicat.engines.sqlite`, embedded default) and Elasticsearch
(for networks that outgrow one machine). Every method is synchronous and safe to call from several
threads at once; the web app runs them in a thread pool, or awaits a search where the index offers
an :class:`AsyncSearcher`. One conformance suite
(``tests/unicat/engines``) runs against every implementation.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from unicat.closing import ClosedOnExit
from unicat.model import QuarantineEntry, UnionRecord
from unicat.overlap import LibraryOverlap
from unicat.query import SearchQuery, SearchResult
from unicat.vocabulary import Suggestion

RecordObserver = Callable[[UnionRecord, Mapping[str, Any]], None]
"""Called with each record a rebuild is given, and its JSON document (``record.to_json()``), as the
index writes it: what the record store keeps of a generation is gathered on the way, with no second
pass over the records and no second encoding of each."""


@dataclass(frozen=True, slots=True)
class UnionWrite:
    """What a rebuild wrote: how many records, and those the index refused (by union id, each with
    the quarantine entry saying why), which are not in it."""

    written: int
    refused: Mapping[str, QuarantineEntry] = field(default_factory=dict)


class AsyncSearcher(abc.ABC):
    """Searches an event loop awaits without a thread: opened by the app, inside its loop, with
    :meth:`UnionIndex.async_searcher`, and closed with it."""

    @abc.abstractmethod
    async def search(self, query: SearchQuery, *, documents: bool = False) -> SearchResult | None:
        """The answer of ``query`` as :meth:`UnionIndex.search` gives it, errors included; ``None``
        for a search this way does not run (then call :meth:`UnionIndex.search` in a thread). With
        ``documents``, the hits come as :attr:`SearchResult.documents`."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Release its connections."""


class UnionIndex(ClosedOnExit, abc.ABC):
    """The searchable union records of the current generation."""

    url: str

    @abc.abstractmethod
    def ping(self) -> None:
        """Raise :class:`~unicat.errors.EngineUnavailable` unless the index answers."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release connections; the index is unusable afterwards."""

    @abc.abstractmethod
    def replace_union_records(
        self, records: Iterable[UnionRecord], observe: RecordObserver | None = None
    ) -> UnionWrite:
        """Replace the whole union index with ``records``, calling ``observe`` with each as it is written.

        Searches running meanwhile see the old index until the new one is complete: no search fails
        or sees a half-built index. A union id given twice raises :class:`~unicat.errors.EngineError`
        and leaves the previous index unchanged; so does an exception raised by ``observe``.
        """

    @abc.abstractmethod
    def update_union_records(
        self,
        upserts: Iterable[UnionRecord],
        deletes: Sequence[str] = (),
        observe: RecordObserver | None = None,
    ) -> UnionWrite:
        """Change the live generation in place: each of ``upserts`` written (in place of the record of
        its id, if the index holds one), each id of ``deletes`` removed (ids it does not hold are
        ignored), ``observe`` called with each written record as :meth:`replace_union_records` calls
        it. The words and headings (:meth:`vocabulary`, :meth:`suggest`) move with them: the counts of
        the stored versions' words and headings go down, the new versions' go up, and what no record
        holds any more is dropped, so that the index answers as a rebuild of the same final records
        would (a heading keeps the spelling it was first stored with).

        What the incremental index pass calls with the union records of the region it rebuilt, and
        the ids that vanished from it. Searches keep answering meanwhile. A union id given twice (or
        both written and removed) raises :class:`~unicat.errors.EngineError`; so does an exception
        raised by ``observe``. Records the index refuses are not in it afterwards (their stored
        version is removed too) and are returned with why, as :meth:`replace_union_records` returns
        them; ``written`` counts the others.
        """

    @abc.abstractmethod
    def rebuild_reason(self) -> str | None:
        """Why only :meth:`replace_union_records` can bring the live generation up to date (none
        written yet, none holding a record, or one written by an older Unicat with fields a partial
        update cannot fill), in words; ``None`` when :meth:`update_union_records` may change it in
        place. ``unicat index`` asks before choosing an incremental pass."""

    @abc.abstractmethod
    def get_union_record(self, union_id: str) -> UnionRecord | None:
        """One union record by id, or ``None``."""

    def get_union_records(self, union_ids: Sequence[str]) -> list[UnionRecord]:
        """The union records of these ids that exist, in the order given (a record page's other
        editions, a page of the OAI-PMH feed). Indices that can read many documents in one request do so."""
        found = (self.get_union_record(union_id) for union_id in union_ids)
        return [record for record in found if record is not None]

    @abc.abstractmethod
    def iter_union_records(self) -> Iterator[UnionRecord]:
        """Every union record, by id (for export)."""

    @abc.abstractmethod
    def union_count(self) -> int:
        """How many union records are searchable."""

    @abc.abstractmethod
    def search(self, query: SearchQuery) -> SearchResult:
        """Run a search under the index's time limit; raises :class:`~unicat.errors.QueryTimeout`."""

    def async_searcher(self) -> AsyncSearcher | None:
        """A searcher for the running event loop, where the index is reached over a network with an
        asynchronous client; ``None`` (SQLite, in-process): search in a thread."""
        return None

    def search_many(self, queries: Sequence[SearchQuery]) -> list[SearchResult]:
        """The answers of several searches, in order, each as :meth:`search` gives it (many saved
        searches matched at once). Indices that can run many searches in one request do so."""
        return [self.search(query) for query in queries]

    @abc.abstractmethod
    def library_overlap(self) -> LibraryOverlap:
        """How many union records each pair of libraries both hold, and how many each library alone
        holds (the librarians' overlap page); computed over the whole union index."""

    @abc.abstractmethod
    def vocabulary(self) -> dict[str, int]:
        """The words of the current generation's records, each with how many records hold it (the
        speller's vocabulary, :mod:`unicat.speller`), as written with the generation."""

    @abc.abstractmethod
    def suggest(self, prefix: str, limit: int) -> list[Suggestion]:
        """Up to ``limit`` titles, authors and subjects whose analysed form starts with ``prefix``
        (analysed too), the most used first (then by that form): suggestions as a reader types."""
