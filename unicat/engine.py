"""The engine interface: the record store, harvest state, quarantine and the union index, in one place.

Two implementations: :mod:`unicat.engines.sqlite` (embedded default) and Elasticsearch (for networks
that outgrow one machine). Every method is synchronous and safe to call from several threads at once;
the web app runs them in a thread pool. One conformance suite (``tests/unicat/engines``) runs against
every implementation.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Literal

from unicat.closing import ClosedOnExit
from unicat.model import (
    QUARANTINE_STAGES,
    HarvestCheckpoint,
    HarvestRun,
    MergeDecision,
    QuarantineEntry,
    QuarantineStage,
    RecordCounts,
    Source,
    SourceRecord,
    UnionRecord,
)
from unicat.oai_items import OaiEntry, OaiItem, OaiSelection
from unicat.overlap import LibraryOverlap
from unicat.query import SearchQuery, SearchResult

HarvestMode = Literal["incremental", "full", "import"]
OAI_COPY_BATCH = 2_000


def one_entry_per_record(entries: Sequence[QuarantineEntry]) -> list[QuarantineEntry]:
    """``entries`` with only the last of those naming the same (source, stage, local_id), in order."""
    last: dict[tuple[str, str, str], int] = {
        (e.source, e.stage, e.local_id): position
        for position, e in enumerate(entries)
        if e.local_id is not None
    }
    return [
        e for position, e in enumerate(entries)
        if e.local_id is None or last[(e.source, e.stage, e.local_id)] == position
    ]  # fmt: skip


class Engine(ClosedOnExit, abc.ABC):
    """Where everything Unicat knows is kept, and how it is searched."""

    url: str

    # -- lifecycle -------------------------------------------------------------------------------
    @abc.abstractmethod
    def ping(self) -> None:
        """Raise :class:`~unicat.errors.EngineUnavailable` unless the engine answers."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release connections; the engine is unusable afterwards."""

    # -- sources ---------------------------------------------------------------------------------
    @abc.abstractmethod
    def save_source(self, source: Source) -> None:
        """Add a source, or replace the settings of the source with the same code."""

    @abc.abstractmethod
    def get_source(self, code: str) -> Source:
        """The source with that code; raises :class:`~unicat.errors.SourceNotFound`."""

    @abc.abstractmethod
    def list_sources(self) -> list[Source]:
        """All sources, by code."""

    # -- record store ----------------------------------------------------------------------------
    @abc.abstractmethod
    def store_page(
        self, source: str, records: Sequence[SourceRecord], checkpoint: HarvestCheckpoint | None
    ) -> None:
        """Store one page of source records and the harvest checkpoint in one atomic step.

        A record replaces the stored one with the same (source, local_id); a deleted record is kept
        as a tombstone with no raw bytes. Either the page and the checkpoint are both stored or
        neither is, so a harvest killed at any moment resumes from the last stored page.
        """

    @abc.abstractmethod
    def unseen_count(self, source: str, run_id: int) -> int:
        """How many live records of ``source`` run ``run_id`` did not store (what
        :meth:`delete_unseen` would mark)."""

    @abc.abstractmethod
    def delete_unseen(self, source: str, run_id: int) -> int:
        """Mark deleted every live record of ``source`` that run ``run_id`` did not store; returns how
        many. After a full harvest these are the records the library no longer has."""

    @abc.abstractmethod
    def iter_source_records(
        self, source: str | None = None, include_deleted: bool = False
    ) -> Iterator[SourceRecord]:
        """Source records (of one source, or all), by (source, local_id)."""

    @abc.abstractmethod
    def get_source_record(self, source: str, local_id: str) -> SourceRecord | None:
        """One stored source record, or ``None``."""

    @abc.abstractmethod
    def source_counts(self, source: str | None = None) -> RecordCounts:
        """How many source records are live and deleted."""

    # -- harvest state ---------------------------------------------------------------------------
    @abc.abstractmethod
    def start_harvest(
        self,
        source: str,
        mode: HarvestMode,
        from_: str | None = None,
        until: str | None = None,
        server_time: str | None = None,
    ) -> HarvestRun:
        """Record that a harvest (or import) of ``source`` begins now; returns the running run.

        ``server_time`` is the source server's clock at the start (its ``responseDate``), if known."""

    @abc.abstractmethod
    def unfinished_harvest(self, source: str) -> HarvestRun | None:
        """The most recent run of ``source`` still marked running (its process died), if any."""

    @abc.abstractmethod
    def finish_harvest(self, run_id: int, status: Literal["ok", "failed"], error: str | None = None) -> None:
        """Close a run as succeeded or failed, with the reason."""

    @abc.abstractmethod
    def last_successful_harvest(self, source: str) -> HarvestRun | None:
        """The latest run of ``source`` that finished ``ok`` (its ``started`` is the next ``from``)."""

    @abc.abstractmethod
    def harvest_history(self, source: str | None = None, limit: int = 20) -> list[HarvestRun]:
        """Runs, newest first."""

    @abc.abstractmethod
    def restore_harvest_runs(self, runs: Sequence[HarvestRun]) -> None:
        """Store runs as they were, ids included (when moving a catalogue between engines); runs
        started afterwards get higher ids."""

    # -- quarantine ------------------------------------------------------------------------------
    @abc.abstractmethod
    def add_quarantine(self, entries: Sequence[QuarantineEntry]) -> None:
        """Keep records that could not be taken in, with their reason and raw bytes.

        An entry with a ``local_id`` replaces the entry of the same (source, stage, local_id): a record
        is quarantined once, with its latest reason, however often it is fetched again."""

    @abc.abstractmethod
    def clear_quarantine(self, stage: QuarantineStage, source: str | None = None) -> None:
        """Forget quarantined entries of one stage (before that stage runs again)."""

    @abc.abstractmethod
    def list_quarantine(
        self,
        source: str | None = None,
        limit: int = 100,
        *,
        stage: QuarantineStage | None = None,
        offset: int = 0,
    ) -> list[QuarantineEntry]:
        """Quarantined entries, newest first; ``offset`` skips that many (for paged listings)."""

    @abc.abstractmethod
    def count_quarantine(self, source: str | None = None) -> int:
        """How many entries are quarantined."""

    @abc.abstractmethod
    def quarantine_counts(self) -> dict[tuple[str, QuarantineStage], int]:
        """How many entries each (source, stage) has, in one read (for status pages); pairs without
        any entry are left out."""

    @abc.abstractmethod
    def get_quarantined(self, source: str, local_id: str) -> list[QuarantineEntry]:
        """The entries of one record, at every stage it was quarantined at, newest first."""

    @abc.abstractmethod
    def remove_quarantine(
        self, source: str, local_ids: Sequence[str], stages: Sequence[QuarantineStage] = QUARANTINE_STAGES
    ) -> None:
        """Forget the entries of these records at these stages: they were read fine since, or a
        librarian dropped them. Ids without an entry are ignored."""

    # -- librarians' merge decisions -------------------------------------------------------------
    @abc.abstractmethod
    def save_merge_decision(self, decision: MergeDecision) -> MergeDecision:
        """Store a librarian's split or forced merge of two source records, replacing any earlier
        decision on the same pair; returns it as stored: the pair in its fixed order
        (:attr:`~unicat.model.MergeDecision.pair`), with its ``id``, and ``at`` (now, unless the decision
        has a time already: a copied catalogue keeps when each decision was made)."""

    @abc.abstractmethod
    def merge_decisions(self) -> list[MergeDecision]:
        """Every stored decision, oldest first (the indexer applies them on every run)."""

    @abc.abstractmethod
    def remove_merge_decision(self, decision_id: int) -> bool:
        """Forget one decision (the next index follows the rules again); ``False`` if there was none."""

    @abc.abstractmethod
    def redirects_from(self, union_ids: Sequence[str]) -> dict[str, str]:
        """Of these ids, those that redirect, with where each points (one step: a chain of merges is
        followed by calling again)."""

    @abc.abstractmethod
    def redirects_to(self, union_ids: Sequence[str]) -> dict[str, list[str]]:
        """For each of these ids that others redirect to, the ids that point straight at it (sorted)."""

    @abc.abstractmethod
    def library_overlap(self) -> LibraryOverlap:
        """How many union records each pair of libraries both hold, and how many each library alone
        holds (the librarians' overlap page); computed by the engine over the whole union index."""

    # -- union index -----------------------------------------------------------------------------
    @abc.abstractmethod
    def replace_union_records(self, records: Iterable[UnionRecord], redirects: Mapping[str, str]) -> int:
        """Replace the whole union index with ``records`` and add ``redirects`` (old id → new id).

        Searches running meanwhile see the old index until the new one is complete: no search
        fails or sees a half-built index. Returns how many records were written.
        """

    @abc.abstractmethod
    def memberships(self) -> dict[tuple[str, str], str]:
        """(source, local_id) → union id, as of the current index: lets re-indexing keep ids stable."""

    @abc.abstractmethod
    def iter_redirects(self) -> Iterator[tuple[str, str]]:
        """Every stored redirect as (old id, new id), by old id."""

    @abc.abstractmethod
    def resolve_redirect(self, union_id: str) -> str | None:
        """Where a union id that disappeared in a merge now lives, if it does."""

    @abc.abstractmethod
    def get_union_record(self, union_id: str) -> UnionRecord | None:
        """One union record by id, or ``None``."""

    def get_union_records(self, union_ids: Sequence[str]) -> list[UnionRecord]:
        """The union records of these ids that exist, in the order given (a record page's other
        editions). Engines that can read many documents in one request do so."""
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
        """Run a search under the engine's time limit; raises :class:`~unicat.errors.QueryTimeout`."""

    # -- OAI-PMH feed (unicat/oai_items.py says why and how) ---------------------------------------
    # replace_union_records keeps the feed's items: it stamps the items its records change with its
    # generation, tombstones the ids that vanished, and registers the generation's datestamp last.
    @abc.abstractmethod
    def oai_generations(self) -> list[tuple[int, str]]:
        """Every registered generation with its datestamp, oldest first (datestamps never decrease)."""

    @abc.abstractmethod
    def oai_list(
        self, selection: OaiSelection, after: tuple[int, str] | None, limit: int, with_records: bool
    ) -> list[OaiEntry]:
        """Up to ``limit`` items of ``selection`` after the keyset position ``after`` (generation, id),
        in (generation, id) order; with their union records when ``with_records`` (deleted items have
        none). Items and records are read from one consistent view where the engine has one."""

    @abc.abstractmethod
    def oai_count(self, selection: OaiSelection) -> int:
        """How many items ``selection`` covers (a list's ``completeListSize``)."""

    @abc.abstractmethod
    def oai_entry(self, union_id: str, with_record: bool) -> OaiEntry | None:
        """The item of one union id (live or deleted), or ``None`` for an id the feed never had."""

    @abc.abstractmethod
    def oai_sets(self) -> dict[str, str]:
        """Every set an item ever belonged to, spec → name, by spec."""

    def iter_oai_items(self) -> Iterator[OaiItem]:
        """Every item of the feed, live and deleted, in (generation, id) order (``unicat migrate``)."""
        after: tuple[int, str] | None = None
        while page := self.oai_list(OaiSelection(0, 2**62), after, OAI_COPY_BATCH, with_records=False):
            for entry in page:
                yield entry.item
            after = (page[-1].item.generation, page[-1].item.id)

    @abc.abstractmethod
    def restore_oai_feed(
        self, items: Iterable[OaiItem], generations: Sequence[tuple[int, str]], sets: Mapping[str, str]
    ) -> int:
        """Replace the feed with another engine's (``unicat migrate``): its items with their generations,
        the generations' datestamps and the set names, so that the copy's harvesters see the same
        datestamps and deleted records. Later rebuilds number their generations after the copy's.
        Returns how many items were written."""
