"""``unicat index``: every stored source record → parsed → mapped → merged → the union index.

Phases, timed apart so a benchmark can say where time goes: ``parse`` (decode + map each record),
``normalise_merge`` (cluster with the librarians' decisions, ids, works), ``write`` (union records
built and written as the index takes them, the new index swapped in, and what outlives it kept in the
record store: ``unicat/union_generation.py``). A record that cannot be
read is quarantined with its reason and raw bytes and the batch goes on; the raw bytes of the good
ones are dropped once parsed, so memory holds only the extracted fields. Records that read well but
are no book (authority, holdings… records) or have no title are quarantined the same way, with their
reason, and counted per kind in the report (:mod:`indexer.record_kinds`). Each record is read with
the profile of its own flavour (:mod:`indexer.flavour`); those read against their source's declared
profile are counted too.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from indexer.dedup import cluster_records
from indexer.extract import ExtractedRecord
from indexer.ids import assign_ids
from indexer.parsing import ParseFailure, parse_in_processes, parse_outcome
from indexer.sites import with_sites
from indexer.union import build_union_record
from indexer.works import WorkAssignment, group_works
from unicat.collector import collector_paused
from unicat.libraries import LibraryDirectory
from unicat.model import QuarantineEntry, SourceRecord, UnionRecord
from unicat.ports.records import RecordStore
from unicat.ports.union_index import UnionIndex
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
    Python's cycle collector is paused meanwhile (:mod:`unicat.collector` says why).
    """
    with collector_paused():
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
    started = time.perf_counter()
    extracted = _parse_all(store, report, notify, workers, parallel_from)
    report.seconds["parse"] = time.perf_counter() - started

    started = time.perf_counter()
    clusters = cluster_records(extracted, store.merge_decisions())
    assignment = assign_ids(clusters, store.memberships())
    works = group_works(clusters, assignment.ids)
    report.merged_clusters = sum(1 for cluster in clusters if len(cluster.members) > 1)
    report.redirects = len(assignment.redirects)
    report.seconds["normalise_merge"] = time.perf_counter() - started
    notify(IndexProgress("normalise_merge", len(clusters), len(clusters)))

    started = time.perf_counter()
    # Each union record is built as the index takes it, so building overlaps the index's writing
    # (an Elasticsearch node indexes on its own cores meanwhile); its time counts in ``write``.
    records = (
        with_sites(_with_work(build_union_record(union_id, cluster), works.get(position)), directory)
        for position, (union_id, cluster) in enumerate(zip(assignment.ids, clusters, strict=True))
    )
    report.union_records = write_union_generation(store, index, records, assignment.redirects)
    report.seconds["write"] = time.perf_counter() - started
    notify(IndexProgress("write", report.union_records, len(clusters)))
    log.info(
        "indexed %d union records from %d source records (%d quarantined, %d merged clusters) in %.1fs",
        report.union_records,
        report.parsed,
        report.quarantined,
        report.merged_clusters,
        report.total_seconds,
    )
    return report


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
    store: RecordStore, report: IndexReport, notify: ProgressCallback, workers: int, parallel_from: int
) -> list[ExtractedRecord]:
    sources = {source.code: source for source in store.list_sources()}
    counts = store.source_counts()
    total = counts.live + counts.deleted
    store.clear_quarantine("index")
    extracted: list[ExtractedRecord] = []
    pending: list[QuarantineEntry] = []

    def live_records() -> Iterator[SourceRecord]:
        for record in store.iter_source_records(include_deleted=True):
            report.read += 1
            if report.read % PROGRESS_EVERY == 0:
                notify(IndexProgress("parse", report.read, total))
            if record.deleted:
                report.deleted += 1
                continue
            yield record

    if workers > 1 and counts.live >= parallel_from:
        outcomes = parse_in_processes(live_records(), sources, workers)
    else:
        outcomes = (parse_outcome(record, sources) for record in live_records())
    for record, outcome in outcomes:
        if isinstance(outcome, ParseFailure):
            if outcome.details:
                log.error(
                    "unexpected error indexing %s/%s\n%s", record.source, record.local_id, outcome.details
                )
            if outcome.kind:
                report.set_aside[outcome.kind] = report.set_aside.get(outcome.kind, 0) + 1
            pending.append(_quarantine(record, outcome.reason, outcome.kind))
        else:
            report.parsed += 1
            report.flavour_corrected += outcome.flavour_corrected
            if outcome.warnings:
                report.with_warnings += 1
                log.debug("%s/%s: %s", record.source, record.local_id, "; ".join(outcome.warnings))
            extracted.append(outcome)
        if len(pending) >= QUARANTINE_BATCH:
            report.quarantined += _flush(store, pending)
    report.quarantined += _flush(store, pending)
    notify(IndexProgress("parse", report.read, total))
    return extracted


def _quarantine(record: SourceRecord, reason: str, kind: str) -> QuarantineEntry:
    log.warning("quarantined %s/%s: %s", record.source, record.local_id, reason)
    return QuarantineEntry(record.source, record.local_id, "index", reason, record.raw, kind=kind)


def _flush(store: RecordStore, pending: list[QuarantineEntry]) -> int:
    count = len(pending)
    if pending:
        store.add_quarantine(list(pending))
        pending.clear()
    return count
