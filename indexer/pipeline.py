"""``unicat index``: every stored source record → parsed → mapped → merged → the union index.

Phases, timed apart so a benchmark can say where time goes: ``parse`` (decode + map each record),
``normalise_merge`` (cluster, ids, union records), ``write`` (the engine swaps in the new index). A
record that cannot be read is quarantined with its reason and raw bytes and the batch goes on; the
raw bytes of the good ones are dropped once parsed, so memory holds only the extracted fields.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from indexer.decoding import decode_record
from indexer.dedup import cluster_records
from indexer.extract import ExtractedRecord, extract
from indexer.ids import assign_ids
from indexer.profiles import MarcProfile, builtin_profile
from indexer.union import build_union_record
from unicat.engine import Engine
from unicat.errors import RecordError
from unicat.model import QuarantineEntry, Source, SourceRecord

log = logging.getLogger(__name__)

QUARANTINE_BATCH = 500
PROGRESS_EVERY = 1000


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


def parse_source_record(record: SourceRecord, source: Source, profile: MarcProfile) -> ExtractedRecord:
    """Decode and map one source record; raises :class:`RecordError` when it cannot be read."""
    decoded = decode_record(record.raw, record.syntax, source.profile)
    extracted = extract(decoded.record, profile, source, record.local_id, record.datestamp)
    extracted.warnings[:0] = decoded.warnings
    return extracted


def run_index(engine: Engine, *, on_progress: ProgressCallback | None = None) -> IndexReport:
    """Rebuild the union index from every live source record in ``engine``."""
    report = IndexReport()
    notify = on_progress or (lambda progress: None)
    started = time.perf_counter()
    extracted = _parse_all(engine, report, notify)
    report.seconds["parse"] = time.perf_counter() - started

    started = time.perf_counter()
    clusters = cluster_records(extracted)
    assignment = assign_ids(clusters, engine.memberships())
    records = [build_union_record(union_id, c) for union_id, c in zip(assignment.ids, clusters, strict=True)]
    report.merged_clusters = sum(1 for cluster in clusters if len(cluster.members) > 1)
    report.redirects = len(assignment.redirects)
    report.seconds["normalise_merge"] = time.perf_counter() - started
    notify(IndexProgress("normalise_merge", len(records), len(records)))

    started = time.perf_counter()
    report.union_records = engine.replace_union_records(records, assignment.redirects)
    report.seconds["write"] = time.perf_counter() - started
    notify(IndexProgress("write", report.union_records, len(records)))
    log.info(
        "indexed %d union records from %d source records (%d quarantined, %d merged clusters) in %.1fs",
        report.union_records,
        report.parsed,
        report.quarantined,
        report.merged_clusters,
        report.total_seconds,
    )
    return report


def _parse_all(engine: Engine, report: IndexReport, notify: ProgressCallback) -> list[ExtractedRecord]:
    sources = {source.code: source for source in engine.list_sources()}
    counts = engine.source_counts()
    total = counts.live + counts.deleted
    engine.clear_quarantine("index")
    extracted: list[ExtractedRecord] = []
    pending: list[QuarantineEntry] = []
    for record in engine.iter_source_records(include_deleted=True):
        report.read += 1
        if report.read % PROGRESS_EVERY == 0:
            notify(IndexProgress("parse", report.read, total))
        if record.deleted:
            report.deleted += 1
            continue
        try:
            source = sources.get(record.source)
            if source is None:
                raise RecordError(f"source {record.source!r} is not registered")
            item = parse_source_record(record, source, builtin_profile(source.profile))
        except RecordError as exc:
            pending.append(_quarantine(record, str(exc)))
        except Exception as exc:
            # A record that trips a bug in mapping must not stop the batch either; the type is kept
            # in the reason so the bug can be found from the quarantine list.
            log.exception("unexpected error indexing %s/%s", record.source, record.local_id)
            pending.append(_quarantine(record, f"unexpected {type(exc).__name__}: {exc}"))
        else:
            report.parsed += 1
            if item.warnings:
                report.with_warnings += 1
                log.debug("%s/%s: %s", record.source, record.local_id, "; ".join(item.warnings))
            extracted.append(item)
        if len(pending) >= QUARANTINE_BATCH:
            report.quarantined += _flush(engine, pending)
    report.quarantined += _flush(engine, pending)
    notify(IndexProgress("parse", report.read, total))
    return extracted


def _quarantine(record: SourceRecord, reason: str) -> QuarantineEntry:
    log.warning("quarantined %s/%s: %s", record.source, record.local_id, reason)
    return QuarantineEntry(record.source, record.local_id, "index", reason, record.raw)


def _flush(engine: Engine, pending: list[QuarantineEntry]) -> int:
    count = len(pending)
    if pending:
        engine.add_quarantine(list(pending))
        pending.clear()
    return count
