"""The record store: everything the harvester takes in and the indexer decides, kept in the database.

Sources, their records as harvested, harvest runs with their checkpoints, the quarantine, librarians'
merge decisions and tables of holdings codes, and what each rebuild of the union index leaves behind
that must outlive it: which union record each source record belongs to (so ids stay stable), the
redirects of merged ids, and the OAI-PMH feed's history (``unicat/oai_items.py``). The union index
itself (``unicat/ports/union_index.py``) is derived from this store and can always be rebuilt from it
(``unicat index``).

The port is made of parts, one per kind of data (:class:`HarvestStore`, :class:`RecordChanges`,
:class:`BlockingKeys`, :class:`QuarantineStore`, :class:`MergeDecisionStore`,
:class:`HoldingCodeStore`, :class:`UnionLinks`, :class:`FeedHistory`, :class:`FirstDates`);
code that needs one part takes that part. Implemented once in SQL over either database
(``unicat/stores/records.py``, one module per part), SQLite embedded or PostgreSQL. Every method is
synchronous and safe to call from several threads at once; the web app calls them from its thread pool.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Literal

from unicat.first_seen import Member, MemberDates, NewDates
from unicat.holding_codes import CodeName
from unicat.member_keys import MemberKeys
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
)
from unicat.oai_items import FeedCollector, OaiItem, OaiSelection

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


class HarvestStore(abc.ABC):
    """Sources, their records as harvested, and the harvest runs with their checkpoints: what the
    harvester and the importer write, and the indexer reads."""

    @abc.abstractmethod
    def save_source(self, source: Source) -> None:
        """Add a source, or replace the settings of the source with the same code."""

    @abc.abstractmethod
    def get_source(self, code: str) -> Source:
        """The source with that code; raises :class:`~unicat.errors.SourceNotFound`."""

    @abc.abstractmethod
    def list_sources(self) -> list[Source]:
        """All sources, by code."""

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
    def pause_harvest(self, run_id: int, reason: str) -> None:
        """Leave a run unfinished on purpose (it went past its time limit), with the reason as its
        error: it stays running, so that the next harvest resumes it from its checkpoint."""

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


class RecordChanges(abc.ABC):
    """Which source records changed since the union index was built: what an incremental index pass
    reads instead of every record (``unicat/stores/record_changes.py`` says how the numbers are given).

    Each write of source records (a harvested page, an import's page, a full harvest's deletions, a
    copy) has a number, higher than every earlier write's, and gives it to each record it inserts,
    whose raw bytes, syntax or datestamp it changes, or which it deletes. The pass reads
    :meth:`change_mark`, then :meth:`iter_changed_source_records` after :meth:`indexed_mark` up to
    it, and saves its generation with that mark (:meth:`RecordStore.save_union_generation`)."""

    @abc.abstractmethod
    def change_mark(self) -> int:
        """The number of the last write of source records (0 before the first)."""

    @abc.abstractmethod
    def indexed_mark(self) -> int:
        """The mark the union index's last generation was built up to: every record changed since has
        a higher number. 0 when none was recorded (a catalogue indexed before marks were kept)."""

    @abc.abstractmethod
    def changed_keys(self, since: int, until: int | None = None) -> list[tuple[str, str]]:
        """The (source, local_id) of the records, live or deleted, changed after the mark ``since``
        (and up to ``until`` when given), sorted. Meant for a day's changes: after ``since`` 0 it
        lists every record (then read them all with :meth:`~HarvestStore.iter_source_records`)."""

    @abc.abstractmethod
    def iter_changed_source_records(self, since: int, until: int | None = None) -> Iterator[SourceRecord]:
        """The records :meth:`changed_keys` names, live and deleted (a tombstone has no raw bytes), in
        (source, local_id) order, read in batches. A record changed again while this runs comes as it
        is now (its new number is above ``until``: the next pass reads it again)."""

    @abc.abstractmethod
    def indexed_inputs(self) -> dict[str, int]:
        """Per source, the fingerprint of what besides its records the last generation read them with
        (its profile and mapping, which library keeps which of its copies: ``indexer/incremental.py``);
        empty before a generation saved them."""

    @abc.abstractmethod
    def save_indexed_inputs(self, fingerprints: Mapping[str, int]) -> None:
        """Keep these in place of the stored ones, once a generation is saved: a generation saved
        without them (a crash in between) leaves the older ones, and the next pass reads again every
        record of a source whose fingerprint then differs."""

    @abc.abstractmethod
    def iter_source_records_of(self, members: Sequence[tuple[str, str]]) -> Iterator[SourceRecord]:
        """These records as stored (live or deleted), in the order given, read in batches; those not
        stored are left out. The incremental pass reads the records its changes reach this way."""

    @abc.abstractmethod
    def restore_indexed_mark(self, mark: int) -> None:
        """Set the indexed mark as it is (``unicat migrate``: a copy whose index is built from every
        record it holds)."""


class BlockingKeys(abc.ABC):
    """The merge keys and work key of each parsed source record as the last index run hashed them
    (``unicat/member_keys.py``): what lets an incremental pass find, from the records that changed,
    every record they may now merge with or part from, without parsing the catalogue. The pass reads
    the old keys of the changed records (:meth:`keys_of`), parses them to get their new ones, and
    gathers the records carrying any old or new key (:meth:`members_with_keys`) and, for works,
    those sharing a work key (:meth:`members_with_works`), a few hops out, until the region is closed;
    it saves the new keys with its generation (:meth:`RecordStore.save_union_changes`)."""

    @abc.abstractmethod
    def keys_of(self, members: Sequence[Member]) -> dict[Member, MemberKeys]:
        """The stored keys of these records (those the last run did not parse are left out)."""

    @abc.abstractmethod
    def members_with_keys(self, keys: Sequence[int]) -> dict[int, list[Member]]:
        """For each of these merge keys' hashes that records carry, those records, sorted; read in
        batches, however many keys are given."""

    @abc.abstractmethod
    def members_with_works(self, works: Sequence[int]) -> dict[int, list[Member]]:
        """For each of these work keys' hashes (0, no work, is ignored) that records carry, those
        records, sorted."""

    @abc.abstractmethod
    def replace_record_keys(self, records: Sequence[MemberKeys], removed: Sequence[Member] = ()) -> int:
        """In one transaction: the keys of ``records`` in place of those their members had, and the
        keys of ``removed`` (deleted records, records no longer parsed) dropped; returns how many
        records were written."""

    @abc.abstractmethod
    def iter_record_keys(self) -> Iterator[MemberKeys]:
        """Every parsed record's keys, by (source, local_id) (``unicat migrate``)."""

    @abc.abstractmethod
    def restore_record_keys(self, records: Iterable[MemberKeys]) -> int:
        """Replace every record's keys with a copy's (``unicat migrate``); returns how many records."""


class QuarantineStore(abc.ABC):
    """Records that could not be taken in (harvested, imported or indexed), with why and their bytes."""

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
        kind: str | None = None,
    ) -> list[QuarantineEntry]:
        """Quarantined entries, newest first; ``offset`` skips that many (for paged listings)."""

    @abc.abstractmethod
    def count_quarantine(
        self, source: str | None = None, *, stage: QuarantineStage | None = None, kind: str | None = None
    ) -> int:
        """How many entries are quarantined (of a source, a stage, a kind, when given)."""

    @abc.abstractmethod
    def quarantine_counts(self) -> dict[tuple[str, QuarantineStage], int]:
        """How many entries each (source, stage) has, in one read (for status pages); pairs without
        any entry are left out."""

    @abc.abstractmethod
    def quarantine_kind_counts(self) -> dict[tuple[str, str], int]:
        """How many entries of each kind (records set aside as no book) each source has, in one read;
        entries without a kind are left out."""

    @abc.abstractmethod
    def get_quarantined(self, source: str, local_id: str) -> list[QuarantineEntry]:
        """The entries of one record, at every stage it was quarantined at, newest first."""

    @abc.abstractmethod
    def remove_quarantine(
        self, source: str, local_ids: Sequence[str], stages: Sequence[QuarantineStage] = QUARANTINE_STAGES
    ) -> None:
        """Forget the entries of these records at these stages: they were read fine since, or a
        librarian dropped them. Ids without an entry are ignored."""


class MergeDecisionStore(abc.ABC):
    """Librarians' splits and forced merges of source records, which every rebuild applies."""

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


class HoldingCodeStore(abc.ABC):
    """Each source's tables of holdings codes and their names (``unicat/holding_codes.py``), kept by
    librarians with ``unicat codes``."""

    @abc.abstractmethod
    def set_holding_codes(self, source: str, entries: Sequence[CodeName]) -> None:
        """Store these entries of ``source``'s tables in one transaction, each replacing the name its
        (kind, code) had. The caller checked the entries and that the source exists."""

    @abc.abstractmethod
    def remove_holding_codes(self, source: str, kind: str | None = None, codes: Sequence[str] = ()) -> int:
        """Forget ``codes`` of ``kind`` (every code of ``kind`` when none is given, every table of the
        source when ``kind`` is ``None`` too); returns how many entries went."""

    @abc.abstractmethod
    def holding_codes(self, source: str | None = None) -> dict[str, list[CodeName]]:
        """Every entry by source (only ``source``'s when given), each source's by kind then code."""


class UnionLinks(abc.ABC):
    """What ties union ids across rebuilds: each source record's union record as of the last
    generation (so ids stay stable), and where merged ids went (so links keep working)."""

    @abc.abstractmethod
    def memberships(self) -> dict[tuple[str, str], str]:
        """(source, local_id) → union id, as of the last generation: lets re-indexing keep ids stable."""

    @abc.abstractmethod
    def iter_memberships(self) -> Iterator[tuple[str, str, str]]:
        """The same as (source, local_id, union id) rows, streamed in (source, local_id) order: what an
        index run reads, a batch at a time, so that memory does not hold every membership at once."""

    @abc.abstractmethod
    def members_of(self, union_ids: Sequence[str]) -> dict[str, list[Member]]:
        """The source records of each of these union records in the last generation, sorted (ids
        without any are left out): an incremental pass reads the members of the records it rebuilds."""

    @abc.abstractmethod
    def union_ids_of(self, members: Sequence[Member]) -> dict[Member, str]:
        """The union record each of these source records belonged to in the last generation (those
        that belonged to none are left out)."""

    @abc.abstractmethod
    def redirects_from(self, union_ids: Sequence[str]) -> dict[str, str]:
        """Of these ids, those that redirect, with where each points (one step: a chain of merges is
        followed by calling again)."""

    @abc.abstractmethod
    def redirects_to(self, union_ids: Sequence[str]) -> dict[str, list[str]]:
        """For each of these ids that others redirect to, the ids that point straight at it (sorted)."""

    @abc.abstractmethod
    def iter_redirects(self) -> Iterator[tuple[str, str]]:
        """Every stored redirect as (old id, new id), by old id."""

    @abc.abstractmethod
    def resolve_redirect(self, union_id: str) -> str | None:
        """Where a union id that disappeared in a merge now lives (the end of its chain of redirects,
        when that id is live in the feed), if it does."""

    @abc.abstractmethod
    def live_union_id(self, union_id: str) -> str | None:
        """The live union record ``union_id`` names: itself when it is a record of the last generation,
        where it now lives when it was merged away, else ``None``. What a reader's post needs to know
        of a record, read from the store alone (the feed's items say which ids are live)."""

    @abc.abstractmethod
    def restore_memberships(
        self, memberships: Iterable[tuple[str, str, str]], redirects: Iterable[tuple[str, str]]
    ) -> int:
        """Replace the memberships and redirects with a copy's as they are (``unicat migrate``, with
        :meth:`restore_oai_feed`); returns how many memberships were written."""


class FeedHistory(abc.ABC):
    """The OAI-PMH feed's history (``unicat/oai_items.py`` says why and how): one item per union id
    that ever existed, the generation that last changed it, and each generation's datestamp."""

    @abc.abstractmethod
    def oai_generations(self) -> list[tuple[int, str]]:
        """Every registered generation with its datestamp, oldest first (datestamps never decrease)."""

    @abc.abstractmethod
    def oai_items(self, selection: OaiSelection, after: tuple[int, str] | None, limit: int) -> list[OaiItem]:
        """Up to ``limit`` items of ``selection`` after the keyset position ``after`` (generation, id),
        in (generation, id) order."""

    @abc.abstractmethod
    def oai_count(self, selection: OaiSelection) -> int:
        """How many items ``selection`` covers (a list's ``completeListSize``)."""

    @abc.abstractmethod
    def oai_item(self, union_id: str) -> OaiItem | None:
        """The item of one union id (live or deleted), or ``None`` for an id the feed never had."""

    @abc.abstractmethod
    def oai_sets(self) -> dict[str, str]:
        """Every set an item ever belonged to, spec → name, by spec."""

    def iter_oai_items(self) -> Iterator[OaiItem]:
        """Every item of the feed, live and deleted, in (generation, id) order (``unicat migrate``)."""
        after: tuple[int, str] | None = None
        while page := self.oai_items(OaiSelection(0, 2**62), after, OAI_COPY_BATCH):
            yield from page
            after = (page[-1].generation, page[-1].id)

    @abc.abstractmethod
    def restore_oai_feed(
        self, items: Iterable[OaiItem], generations: Sequence[tuple[int, str]], sets: Mapping[str, str]
    ) -> int:
        """Replace the feed with another catalogue's (``unicat migrate``): its items with their
        generations, the generations' datestamps and the set names, so that the copy's harvesters see
        the same datestamps and deleted records. Later generations are numbered after the copy's.
        Returns how many items were written."""


class FirstDates(abc.ABC):
    """When each source record first entered the catalogue and when each library first held it
    (``unicat/first_seen.py`` says why by member): rows only ever added, by a generation of the union
    index (:meth:`RecordStore.save_union_generation`) or a copy."""

    @abc.abstractmethod
    def first_dates(self, members: Sequence[Member]) -> MemberDates:
        """The stored dates of these members (those without any are left out)."""

    @abc.abstractmethod
    def iter_first_seen(self) -> Iterator[tuple[str, str, str]]:
        """Every (source, local_id, first_seen), by member (``unicat migrate``)."""

    @abc.abstractmethod
    def iter_first_held(self) -> Iterator[tuple[str, str, str, str]]:
        """Every (source, local_id, site, first_held), by member and site (``unicat migrate``)."""

    @abc.abstractmethod
    def restore_first_dates(
        self, seen: Iterable[tuple[str, str, str]], held: Iterable[tuple[str, str, str, str]]
    ) -> int:
        """Replace every date with a copy's as they are (``unicat migrate``); returns how many members
        got a ``first_seen``."""


class RecordStore(
    HarvestStore,
    RecordChanges,
    BlockingKeys,
    QuarantineStore,
    MergeDecisionStore,
    HoldingCodeStore,
    UnionLinks,
    FeedHistory,
    FirstDates,
):
    """The record store: each part above, and what a rebuild of the union index leaves behind, written
    across them in one transaction. Stages and pages take the part they use."""

    @abc.abstractmethod
    def announce_redirects(self, redirects: Mapping[str, str]) -> None:
        """Before the union index is replaced: the ``redirects`` (old id → new id) of the coming
        generation, added in their own transaction. A page asked for an id that the new index no longer
        holds, in the moment before :meth:`save_union_generation` commits, then still finds where it
        went; while the previous index is live, it holds the old id and the redirect is never read."""

    @abc.abstractmethod
    def save_union_generation(
        self,
        memberships: Iterable[tuple[str, str, str]],
        redirects: Mapping[str, str],
        feed: FeedCollector,
        dates: NewDates | None = None,
        mark: int | None = None,
        keys: Iterable[MemberKeys] | None = None,
    ) -> int:
        """After the union index was replaced, in one transaction: the first dates the generation gave
        members and sites that had none (``dates``; a stored date is never replaced), the change
        ``mark`` the generation was built up to (read with :meth:`change_mark` before its records
        were read; kept as it was when ``None``), the blocking ``keys`` of every parsed record in place
        of every stored one (streamed; kept as they were when ``None``), the memberships
        (source, local_id, union id) in place of the previous ones, the ``redirects`` (old id → new id)
        added, the redirects of ids that live again dropped, and the OAI-PMH feed brought up to the records
        ``feed`` gathered: the items they change stamped with a new generation, the ids that vanished
        kept as deleted, and the generation's datestamp registered last, read from the clock now (so
        that a list never sees an item of a generation before its datestamp). Returns how many items
        changed.

        A crash before this commits leaves the previous generation whole: the next ``unicat index``
        assigns the same ids from the previous memberships and writes it again."""

    @abc.abstractmethod
    def save_union_changes(
        self,
        memberships: Iterable[tuple[str, str, str]],
        union_ids: Sequence[str],
        removed: Sequence[Member],
        redirects: Mapping[str, str],
        feed: FeedCollector,
        dates: NewDates | None = None,
        mark: int | None = None,
        keys: Sequence[MemberKeys] = (),
        unkeyed: Sequence[Member] = (),
    ) -> int:
        """After a partial update of the union index (:meth:`~unicat.ports.union_index.UnionIndex.
        update_union_records`), in one transaction, what :meth:`save_union_generation` saves of a whole
        generation, for the part that changed:

        - ``union_ids``: every union id the update wrote, removed, or whose record the index refused;
          their memberships are replaced by ``memberships`` (source, local_id, union id: those of the
          records written), as are those of the members ``memberships`` names (a record that moved
          from a union record outside the update) and of ``removed`` (source records in no union
          record any more: deleted, or no longer read);
        - ``redirects`` (old id → new id) added, and those of the ids written dropped (they live);
        - the OAI-PMH feed: the items of ``union_ids`` brought up to the records ``feed`` gathered,
          as a new generation (a changed item gets it, a live one the update removed is kept as
          deleted, an unchanged one keeps its generation), its datestamp registered last;
        - the first dates of members and sites new to the catalogue (``dates``), never replacing one;
        - the blocking ``keys`` of the source records the pass parsed again, in place of theirs, and
          those of ``unkeyed`` (deleted, or no longer parsed) dropped;
        - the change ``mark`` the pass read the records up to (kept as it was when ``None``).

        Returns how many feed items changed. A crash before this commits leaves the store as it was:
        the index holds the update already, the next pass (reading from the same mark) writes it again.
        """
