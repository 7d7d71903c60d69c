"""``unicat index``: every stored source record → parsed → mapped → merged → the union index.

Phases, timed apart so a benchmark can say where time goes: ``parse`` (decode + map each record,
in worker processes), ``normalise_merge`` (blocks of records sharing a merge key, each clustered with
the librarians' decisions; ids, works), ``write`` (union records built and written as the index takes
them, the new index swapped in, and what outlives it kept in the record store:
``unicat/union_generation.py``). A record that cannot be read is quarantined with its reason and raw
bytes and the batch goes on. A parsed record's fields wait in a temporary file until its union record
is built; memory holds a few numbers of it (the hashes of its keys, :mod:`indexer.record_table`), so
an index run's size does not grow with the catalogue's beyond those (docs/indexing.md, *Memory and
temporary files*). Records that read well but are no book (authority, holdings… records) or have no
title are quarantined the same way, with their reason, and counted per kind in the report
(:mod:`indexer.record_kinds`). Each record is read with the profile of its own flavour
(:mod:`indexer.flavour`); those read against their source's declared profile are counted too.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from indexer.kept_keys import KeptKeys
from indexer.parsing import ParseFailure, packed_outcomes
from indexer.partition import ClusterLayout, cluster_in_blocks
from indexer.record_keys import PackedRecord, key_hash, unpack
from indexer.record_table import RecordFinder, RecordTable
from indexer.scaled_ids import ScaledIds, assign_scaled_ids, previous_ids
from indexer.scaled_works import scaled_works
from indexer.sites import with_sites
from indexer.union import build_union_record
from indexer.works import WorkAssignment
from unicat.collector import collector_paused
from unicat.libraries import LibraryDirectory
from unicat.model import MergeDecision, QuarantineEntry, Source, SourceRecord, UnionRecord
from unicat.ports.database import without_query_limit
from unicat.ports.records import RecordStore
from unicat.ports.union_index import UnionIndex
from unicat.spill import Spill
from unicat.union_generation import write_union_generation

log = logging.getLogger(__name__)

QUARANTINE_BATCH = 500
PROGRESS_EVERY = 1000
# Below this many live records, starting worker processes costs more than it saves.
PARALLEL_MIN_RECORDS = 2_000


@dataclass(frozen=True, slots=True)
class IndexProgress:
    """Where a running index is: ``done`` of ``total`` items in ``phase``."""

    phase: str
    done: int
    total: int


@dataclass(slots=True)
class IndexReport:
    """What an index run did, and how long each phase took (seconds)."""

    read: int = 0
    deleted: int = 0
    parsed: int = 0
    quarantined: int = 0
    # Of the quarantined, those set aside as no book, per kind (indexer.record_kinds): "authority": 3.
    set_aside: dict[str, int] = field(default_factory=dict)
    # Of the parsed, those read with another flavour (MARC 21, UNIMARC) than their source declares.
    flavour_corrected: int = 0
    with_warnings: int = 0
    union_records: int = 0
    merged_clusters: int = 0
    redirects: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    # "full" (every record read again, the index replaced) or "incremental" (indexer/incremental.py).
    mode: str = "full"
    # Why a full run was chosen by `unicat index` (None: called as a rebuild directly).
    rebuild_reason: str | None = None
    # An incremental pass's source records changed since the last generation, the records they
    # reached (the region clustered again), and the union ids it removed.
    changed: int = 0
    region: int = 0
    removed: int = 0

    @property
    def total_seconds(self) -> float:
        return sum(self.seconds.values())

    def rate(self, phase: str) -> float:
        """Source records per second in ``phase`` (0 when it took no measurable time)."""
        seconds = self.seconds.get(phase, 0.0)
        return self.read / seconds if seconds > 0 else 0.0


ProgressCallback = Callable[[IndexProgress], None]


def run_index(
    store: RecordStore,
    index: UnionIndex,
    *,
    on_progress: ProgressCallback | None = None,
    workers: int | None = None,
    parallel_from: int = PARALLEL_MIN_RECORDS,
    directory: LibraryDirectory | None = None,
) -> IndexReport:
    """Rebuild ``index`` from every live source record in ``store``.

    Each holding's ``site`` is the library of ``directory`` that keeps the copy (:mod:`indexer.sites`);
    without a directory (or for a source it does not list) it stays ``None``.

    Records are parsed by ``workers`` processes (default: one per available core) when there are at
    least ``parallel_from`` live records, else in this process; the result is the same either way.
    Python's cycle collector is paused meanwhile (:mod:`unicat.collector` says why), and the store's
    statements run without the readers' query time limit (:func:`~unicat.ports.database.without_query_limit`).
    """
    with collector_paused(), without_query_limit():
        return _run_index(
            store,
            index,
            on_progress,
            workers or available_cores(),
            parallel_from,
            directory or LibraryDirectory(),
        )


def _run_index(
    store: RecordStore,
    index: UnionIndex,
    on_progress: ProgressCallback | None,
    workers: int,
    parallel_from: int,
    directory: LibraryDirectory,
) -> IndexReport:
    report = IndexReport()
    notify = on_progress or (lambda progress: None)
    # Read before the records: one stored while they are read has a higher number, and the next
    # incremental pass reads it again.
    mark = store.change_mark()
    fingerprints = source_fingerprints(store.list_sources(), directory)
    with Spill() as spilled, Spill("unicat-clusters-") as notes, KeptKeys() as kept:
        started = time.perf_counter()
        table = _parse_all(store, report, notify, workers, parallel_from, spilled, kept)
        report.seconds["parse"] = time.perf_counter() - started

        started = time.perf_counter()
        named = name_clusters(
            table, spilled, notes, store.merge_decisions(), store.iter_memberships(), report
        )
        del table
        report.seconds["normalise_merge"] = time.perf_counter() - started
        notify(IndexProgress("normalise_merge", named.clusters, named.clusters))

        started = time.perf_counter()
        report.union_records = write_union_generation(
            store, index, named.union_records(directory), named.ids.redirects, mark=mark, keys=kept
        )
        store.save_indexed_inputs(fingerprints)
        report.seconds["write"] = time.perf_counter() - started
    notify(IndexProgress("write", report.union_records, named.clusters))
    log.info(
        "indexed %d union records from %d source records (%d quarantined, %d merged clusters) in %.1fs",
        report.union_records,
        report.parsed,
        report.quarantined,
        report.merged_clusters,
        report.total_seconds,
    )
    return report


@dataclass(slots=True)
class NamedClusters:
    """The clusters of the parsed records, with their ids and works: what is needed to build their
    union records, the records themselves still waiting in the spill."""

    layout: ClusterLayout
    ids: ScaledIds
    works: dict[int, WorkAssignment]
    clusters: int

    def union_records(self, directory: LibraryDirectory) -> Iterator[UnionRecord]:
        """Each cluster's union record, built as it is asked for (its members read back from the
        spill), so that building overlaps the index's writing (an Elasticsearch node indexes on its
        own cores meanwhile); its time counts in ``write``."""
        for root, cluster in self.layout.clusters():
            record = build_union_record(self.ids.of(root), cluster)
            yield with_sites(_with_work(record, self.works.get(root)), directory)

    def union_ids(self) -> set[str]:
        return {self.ids.of(root) for root in self.layout.roots().tolist()}


def name_clusters(
    table: RecordTable,
    spilled: Spill,
    notes: Spill,
    decisions: Sequence[MergeDecision],
    memberships: Iterable[tuple[str, str, str]],
    report: IndexReport,
    held_elsewhere: Sequence[str] = (),
) -> NamedClusters:
    """Cluster the records of ``table`` (fields in ``spilled``; clusters' notes to ``notes``) with the
    librarians' ``decisions``, give the clusters ids from the records' previous ``memberships`` (ids
    ``held_elsewhere`` by union records beyond these records are never handed out) and group
    them in works. The table's links are used up."""
    finder = RecordFinder(table.own(), lambda number: unpack(spilled.read(number)).key)
    layout = cluster_in_blocks(table, spilled, finder, decisions, notes)
    previous, old_ids = previous_ids(len(table), finder, memberships)
    del finder
    elsewhere = np.array([union_id.encode("utf-8") for union_id in held_elsewhere], dtype=np.bytes_)
    ids = assign_scaled_ids(layout.root_of, table.derived(), previous, old_ids, layout.key_of, elsewhere)
    del previous, old_ids
    works = scaled_works(layout, table.works(), ids)
    sizes = np.bincount(layout.root_of, minlength=len(table))
    report.merged_clusters = int(np.count_nonzero(sizes > 1))
    report.redirects = len(ids.redirects)
    return NamedClusters(layout, ids, works, int(np.count_nonzero(sizes)))


def source_fingerprints(sources: Iterable[Source], directory: LibraryDirectory) -> dict[str, int]:
    """Per source, a hash of what besides its records decides its union records: its profile and
    mapping (how they are read) and its libraries' branches (which library keeps each copy). The
    record store keeps them with each generation; a source whose fingerprint changed since has every
    record read again by the next incremental pass."""
    libraries: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
    for library in directory:
        if library.source is not None:
            libraries.setdefault(library.source, []).append((library.code, tuple(library.branches)))
    return {
        source.code: key_hash(
            source.profile, source.mapping or "", repr(sorted(libraries.get(source.code, [])))
        )
        for source in sources
    }


def _with_work(record: UnionRecord, work: WorkAssignment | None) -> UnionRecord:
    if work is not None:
        record.work, record.editions = work.work, work.editions
    return record


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity where the system tells it)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def _parse_all(
    store: RecordStore,
    report: IndexReport,
    notify: ProgressCallback,
    workers: int,
    parallel_from: int,
    spilled: Spill,
    kept: KeptKeys,
) -> RecordTable:
    """Parse every live record, its fields to ``spilled`` and its keys to the table returned (both
    numbered alike) and to ``kept`` (for the record store); the records that cannot be read go to the
    quarantine."""
    sources = {source.code: source for source in store.list_sources()}
    counts = store.source_counts()
    total = counts.live + counts.deleted
    store.clear_quarantine("index")
    table = RecordTable(counts.live)

    def live_records() -> Iterator[SourceRecord]:
        for record in store.iter_source_records(include_deleted=True):
            report.read += 1
            if report.read % PROGRESS_EVERY == 0:
                notify(IndexProgress("parse", report.read, total))
            if record.deleted:
                report.deleted += 1
                continue
            yield record

    def take(record: SourceRecord, packed: PackedRecord) -> None:
        spilled.append(packed.blob)
        table.add(packed)
        kept.add(record.source, record.local_id, packed.keys, packed.work)

    parse_each(store, live_records(), sources, report, workers if counts.live >= parallel_from else 1, take)
    notify(IndexProgress("parse", report.read, total))
    return table


def parse_each(
    store: RecordStore,
    records: Iterable[SourceRecord],
    sources: Mapping[str, Source],
    report: IndexReport,
    workers: int,
    take: Callable[[SourceRecord, PackedRecord], None],
) -> list[tuple[str, str]]:
    """Parse ``records`` (live ones) by ``workers`` processes (1: in this one), in their order, each
    parsed one packed and given to ``take``; those that cannot be read are quarantined (stage
    ``index``) and returned as (source, local_id)."""
    failed: list[tuple[str, str]] = []
    pending: list[QuarantineEntry] = []
    for record, outcome in packed_outcomes(records, sources, workers):
        if isinstance(outcome, ParseFailure):
            if outcome.details:
                log.error(
                    "unexpected error indexing %s/%s\n%s", record.source, record.local_id, outcome.details
                )
            if outcome.kind:
                report.set_aside[outcome.kind] = report.set_aside.get(outcome.kind, 0) + 1
            pending.append(_quarantine(record, outcome.reason, outcome.kind))
            failed.append((record.source, record.local_id))
        else:
            report.parsed += 1
            report.flavour_corrected += outcome.flavour_corrected
            if outcome.warnings:
                report.with_warnings += 1
                log.debug("%s/%s: %s", record.source, record.local_id, "; ".join(outcome.warnings))
            take(record, outcome)
        if len(pending) >= QUARANTINE_BATCH:
            report.quarantined += _flush(store, pending)
    report.quarantined += _flush(store, pending)
    return failed


def _quarantine(record: SourceRecord, reason: str, kind: str) -> QuarantineEntry:
    log.warning("quarantined %s/%s: %s", record.source, record.local_id, reason)
    return QuarantineEntry(record.source, record.local_id, "index", reason, record.raw, kind=kind)


def _flush(store: RecordStore, pending: list[QuarantineEntry]) -> int:
    count = len(pending)
    if pending:
        store.add_quarantine(list(pending))
        pending.clear()
    return count
