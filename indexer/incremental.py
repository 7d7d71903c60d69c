"""``unicat index`` after a harvest: the source records changed since the last generation, and only the
union records they reach, rebuilt and written in place.

A day's harvest changes about 1 % of a network's records; rebuilding millions of union records for it
takes tens of minutes. This pass reads what changed since the mark the last generation was built up
to (:class:`~unicat.ports.records.RecordChanges`), parses it for its new keys, grows the *region*
those records reach (:mod:`indexer.region`: linked by old or new merge keys, by the union records
they belonged to, by work keys and by librarians' decisions), parses the whole region in the full
run's order and clusters, names and groups it exactly as a full run does (the same code,
:func:`indexer.pipeline.name_clusters`). Its union records are written in place of the region's old
ones and the ids no record carries any more are removed or redirected, with what the record store
keeps of them, in the order that makes a crash harmless
(:func:`unicat.union_generation.write_union_changes`): the indexed mark moves last, so a pass that
dies is done again whole by the next.

A source whose profile, mapping or libraries changed since the last generation (its fingerprint,
:func:`indexer.pipeline.source_fingerprints`, kept by the record store) has every record read again:
they are read with other rules, or their copies kept by other libraries, though none of them changed.

The pass gives way to a full rebuild (:func:`indexer.pipeline.run_index`) when it cannot be exact or
would not be cheaper: no generation built with change marks, blocking keys and fingerprints yet, a
union index that only a rebuild brings up to date
(:meth:`~unicat.ports.union_index.UnionIndex.rebuild_reason`), or changes whose region holds more
than :data:`REBUILD_SHARE` of the live records. An upgrade of Unicat that reads records otherwise
changes none of these: run ``unicat index --rebuild`` after one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator, Mapping

from indexer.parsing import packed_outcomes
from indexer.pipeline import (
    PARALLEL_MIN_RECORDS,
    IndexProgress,
    IndexReport,
    ProgressCallback,
    available_cores,
    name_clusters,
    parse_each,
    run_index,
    source_fingerprints,
)
from indexer.record_keys import PackedRecord
from indexer.record_table import RecordTable
from indexer.region import Member, grow_region
from unicat.collector import collector_paused
from unicat.libraries import LibraryDirectory
from unicat.member_keys import MemberKeys
from unicat.model import Source, SourceRecord
from unicat.ports.database import without_query_limit
from unicat.ports.records import RecordStore
from unicat.ports.union_index import UnionIndex
from unicat.spill import Spill
from unicat.union_generation import write_union_changes

log = logging.getLogger(__name__)

REBUILD_SHARE = 0.25
"""A region holding more than this share of the live records is rebuilt whole instead."""


def update_index(
    store: RecordStore,
    index: UnionIndex,
    *,
    on_progress: ProgressCallback | None = None,
    workers: int | None = None,
    parallel_from: int = PARALLEL_MIN_RECORDS,
    directory: LibraryDirectory | None = None,
    rebuild: bool = False,
) -> IndexReport:
    """Bring ``index`` up to date with ``store``: by an incremental pass when it can, else (or with
    ``rebuild``) by a full rebuild; the report says which (``mode``) and, for a rebuild the pass
    gave way to, why (``rebuild_reason``)."""
    cores = workers or available_cores()
    shelves = directory or LibraryDirectory()
    with without_query_limit():  # a batch job's reads: unicat/ports/database.py says why
        reason = "asked for" if rebuild else _rebuild_reason(store, index)
        if reason is None:
            with collector_paused():
                outcome = _run_incremental(store, index, on_progress, cores, parallel_from, shelves)
            if isinstance(outcome, IndexReport):
                return outcome
            reason = outcome
    log.info("rebuilding the union index whole: %s", reason)
    report = run_index(
        store, index, on_progress=on_progress, workers=cores, parallel_from=parallel_from, directory=shelves
    )
    report.rebuild_reason = reason
    return report


def _rebuild_reason(store: RecordStore, index: UnionIndex) -> str | None:
    """Why the pass cannot be exact here, or ``None``."""
    if store.indexed_mark() == 0:
        return "no generation was built with change marks yet"
    reason = index.rebuild_reason()
    if reason is not None:
        return reason
    if next(iter(store.iter_record_keys()), None) is None:
        return "the last generation kept no blocking keys"
    if not store.indexed_inputs():
        return "the last generation kept no fingerprint of its sources' profiles and libraries"
    return None


def _run_incremental(
    store: RecordStore,
    index: UnionIndex,
    on_progress: ProgressCallback | None,
    workers: int,
    parallel_from: int,
    directory: LibraryDirectory,
) -> IndexReport | str:
    """The pass; or, when its region would hold more than :data:`REBUILD_SHARE` of the live records,
    why not (nothing is written then)."""
    report = IndexReport(mode="incremental")
    notify = on_progress or (lambda progress: None)
    started = time.perf_counter()
    too_many = f"the changes reach more than {REBUILD_SHARE:.0%} of the live records"
    # Read first: a record stored meanwhile has a higher number and waits for the next pass.
    mark = store.change_mark()
    limit = int(REBUILD_SHARE * max(store.source_counts().live, 1))
    fingerprints = source_fingerprints(store.list_sources(), directory)
    stored = store.indexed_inputs()
    reread = sorted(code for code, value in fingerprints.items() if stored.get(code) != value)
    if sum(store.source_counts(code).live for code in reread) > limit:
        return f"the profiles, mappings or libraries of {', '.join(reread)} changed: {too_many}"
    changed = store.changed_keys(store.indexed_mark(), mark)
    if reread:
        # Read with other rules or kept by other libraries now: every record of theirs is read again.
        again = {
            (record.source, record.local_id)
            for code in reread
            for record in store.iter_source_records(code, include_deleted=True)
        }
        changed = sorted(again.union(changed))
    report.changed = len(changed)
    if len(changed) > limit:
        return too_many
    if not changed:
        store.save_indexed_inputs(fingerprints)
        return report
    sources = {source.code: source for source in store.list_sources()}
    decisions = store.merge_decisions()
    region = grow_region(
        store,
        changed,
        _new_keys(store, changed, sources, _workers(workers, len(changed), parallel_from)),
        decisions,
        limit,
    )
    if region is None:
        return too_many
    report.region = len(region.members)
    notify(IndexProgress("changes", report.changed, report.region))
    with Spill() as spilled, Spill("unicat-clusters-") as notes:
        parsed: list[PackedRecord] = []
        kept: list[MemberKeys] = []

        def take(record: SourceRecord, packed: PackedRecord) -> None:
            spilled.append(packed.blob)
            # The blob waits in the spill; the rest (a few numbers) stays until the table is made.
            parsed.append(PackedRecord(b"", packed.own, packed.keys, packed.work, packed.derived, (), False))
            kept.append(MemberKeys(record.source, record.local_id, packed.keys, packed.work))

        def live(records: Iterable[SourceRecord]) -> Iterator[SourceRecord]:
            for record in records:
                report.read += 1
                if record.deleted:
                    report.deleted += 1
                    continue
                yield record

        # In (source, local_id) order, as a full run numbers records: a cluster's first member, which
        # orders its members and names a new cluster, is then the same.
        _clear_quarantine(store, region.members)
        parallel = _workers(workers, len(region.members), parallel_from)
        parse_each(store, live(store.iter_source_records_of(region.members)), sources, report, parallel, take)
        notify(IndexProgress("parse", report.read, report.region))
        report.seconds["parse"] = time.perf_counter() - started

        started = time.perf_counter()
        table = RecordTable(len(parsed))
        for packed in parsed:
            table.add(packed)
        derived = [bytes(packed.derived).decode("ascii") for packed in parsed]
        parsed.clear()
        previous = store.union_ids_of(region.members)
        elsewhere = [union_id for union_id in store.members_of(derived) if union_id not in region.old_ids]
        memberships = [(source, local_id, union_id) for (source, local_id), union_id in previous.items()]
        named = name_clusters(table, spilled, notes, decisions, memberships, report, elsewhere)
        del table
        new_ids = named.union_ids()
        report.seconds["normalise_merge"] = time.perf_counter() - started
        notify(IndexProgress("normalise_merge", named.clusters, named.clusters))

        started = time.perf_counter()
        in_records = {keys.member for keys in kept}
        removed = sorted(member for member in previous if member not in in_records)
        unkeyed = sorted(member for member in changed if member not in in_records)
        deletes = sorted(region.old_ids - new_ids)
        written = write_union_changes(
            store,
            index,
            named.union_records(directory),
            deletes,
            named.ids.redirects,
            removed=removed,
            mark=mark,
            keys=kept,
            unkeyed=unkeyed,
        )
        store.save_indexed_inputs(fingerprints)
        report.union_records = written.written
        report.removed = len(deletes)
        report.seconds["write"] = time.perf_counter() - started
    notify(IndexProgress("write", report.union_records, named.clusters))
    log.info(
        "updated the union index: %d changed source records reached %d; %d union records written, "
        "%d removed, %d redirects, %d quarantined, in %.1fs",
        report.changed,
        report.region,
        report.union_records,
        report.removed,
        report.redirects,
        report.quarantined,
        report.total_seconds,
    )
    return report


def _new_keys(
    store: RecordStore, changed: list[Member], sources: Mapping[str, Source], workers: int
) -> dict[Member, MemberKeys]:
    """The keys of the changed records that read well, parsed now (parsed again with their region,
    in its order, once it is known; those that cannot be read are quarantined then)."""
    records = (record for record in store.iter_source_records_of(changed) if not record.deleted)
    return {
        (record.source, record.local_id): MemberKeys(
            record.source, record.local_id, outcome.keys, outcome.work
        )
        for record, outcome in packed_outcomes(records, sources, workers)
        if isinstance(outcome, PackedRecord)
    }


def _workers(workers: int, records: int, parallel_from: int) -> int:
    return workers if records >= parallel_from else 1


def _clear_quarantine(store: RecordStore, changed: list[Member]) -> None:
    """Forget why the changed records could not be indexed last time: they are read again now."""
    by_source: dict[str, list[str]] = {}
    for source, local_id in changed:
        by_source.setdefault(source, []).append(local_id)
    for source, local_ids in by_source.items():
        store.remove_quarantine(source, local_ids, ("index",))
