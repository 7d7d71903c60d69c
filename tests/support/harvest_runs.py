"""Harvest runs written through the record store's public methods, as the harvester writes them: a run
started, its pages stored each with its checkpoint, the run finished (or left running).

Each helper returns the run as the store then keeps it, so a test derives its expected figures
(counts, times, durations) from what it wrote and what the store stamped, never from the code under test.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from tests.support.shared_data import SHARED_DATA
from unicat.clock import utc_now
from unicat.model import HarvestCheckpoint, HarvestRun, SourceRecord
from unicat.ports.records import HarvestMode, RecordStore


def real_records(count: int) -> list[bytes]:
    """The first ``count`` ISO 2709 records of a real UTF-8 MARC 21 file (40 records)."""
    chunks = (SHARED_DATA / "marc21" / "065001035.mrc").read_bytes().split(b"\x1d")
    return [chunk + b"\x1d" for chunk in chunks[:count]]


def page_of(source: str, first: int, live: int, deleted: int = 0) -> list[SourceRecord]:
    """A page of ``live`` real records and ``deleted`` tombstones, local ids numbered from ``first``."""
    raws = real_records(live)
    records = [SourceRecord(source, f"{source}-{first + n:05d}", raw) for n, raw in enumerate(raws)]
    records += [
        SourceRecord(source, f"{source}-{first + live + n:05d}", b"", deleted=True) for n in range(deleted)
    ]
    return records


def wait_for_next_second(since: str) -> None:
    """Sleep until the store's clock (ISO to the second) has moved past ``since``."""
    while utc_now() <= since:
        time.sleep(0.02)


def stored_run(store: RecordStore, source: str, run_id: int) -> HarvestRun:
    """The run with ``run_id`` as the store keeps it."""
    [run] = [run for run in store.harvest_history(source, limit=1000) if run.id == run_id]
    return run


def harvest(
    store: RecordStore,
    source: str,
    pages: Sequence[Sequence[SourceRecord]] = (),
    *,
    mode: HarvestMode = "incremental",
    quarantined_per_page: int = 0,
    error: str | None = None,
    finish: bool = True,
    at_least_one_second: bool = False,
) -> HarvestRun:
    """One run of ``source`` storing ``pages``; failed with ``error`` if given, left running unless
    ``finish``; with ``at_least_one_second``, finished in a later second than it started."""
    run = store.start_harvest(source, mode)
    records = deleted = quarantined = 0
    for number, page in enumerate(pages, start=1):
        records += len(page)
        deleted += sum(1 for record in page if record.deleted)
        quarantined += quarantined_per_page
        checkpoint = HarvestCheckpoint(run.id, f"token-{number}", number, records, deleted, quarantined)
        store.store_page(source, page, checkpoint)
    if at_least_one_second:
        wait_for_next_second(run.started)
    if finish:
        store.finish_harvest(run.id, "failed" if error is not None else "ok", error)
    return stored_run(store, source, run.id)
