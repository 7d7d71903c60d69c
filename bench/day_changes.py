"""A day's changes to a benchmark catalogue, stored as a harvest stores them, and a search load that
counts failures while the catalogue is re-indexed.

The changes are drawn from the catalogue's own library files (``bench/scale.py``), deterministic for a
seed: ``changed`` of the records (1 % by default), spread over every library as its share of the
records, each edited as a day's cataloguing edits records:

- most (60 %) gain a copy: one more 852 holding of their library, a new barcode;
- some (25 %) get a corrected title: the 245 of another record of the same library (their work and
  merge keys change: they may leave their edition and join another);
- the rest (15 %) get a corrected ISBN: the 020 of another record of the library (they may merge
  with that edition);

and ``deleted`` of the records (0.1 %) are withdrawn (tombstones). They are stored by pages of 500
per library with ``RecordStore.store_page``, the harvester's own write.
"""

from __future__ import annotations

import random
import statistics
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pymarc

from unicat.model import SourceRecord
from unicat.ports.records import RecordStore
from unicat.ports.union_index import UnionIndex
from unicat.query import parse_search_params
from unicat.settings import Settings

PAGE = 500
DATESTAMP = "2026-12-08T06:00:00Z"
END_OF_RECORD = b"\x1d"


@dataclass(slots=True)
class DayChanges:
    """What a day changed, per kind."""

    holdings: int = 0
    titles: int = 0
    isbns: int = 0
    deleted: int = 0
    store_seconds: float = 0.0

    @property
    def records(self) -> int:
        return self.holdings + self.titles + self.isbns + self.deleted


def _fields(raw: bytes) -> pymarc.Record:
    return pymarc.Record(data=raw, to_unicode=True, force_utf8=True)


def _edited(rng: random.Random, raw: bytes, other: bytes, counts: DayChanges) -> bytes:
    record, donor = _fields(raw), _fields(other)
    roll = rng.random()
    if roll < 0.6 or not donor.get_fields("245", "020"):
        holdings = record.get_fields("852")
        if holdings:
            copy = pymarc.Field(
                tag="852",
                indicators=holdings[0].indicators,
                subfields=[*holdings[0].subfields, pymarc.Subfield("p", f"DAY{rng.randrange(10**9):09}")],
            )
            record.add_ordered_field(copy)
        counts.holdings += 1
    elif roll < 0.85 and donor.get_fields("245"):
        record.remove_fields("245")
        record.add_ordered_field(donor.get_fields("245")[0])
        counts.titles += 1
    elif donor.get_fields("020"):
        record.remove_fields("020")
        record.add_ordered_field(donor.get_fields("020")[0])
        counts.isbns += 1
    else:
        counts.holdings += 1
    return bytes(record.as_marc())


def apply_day(
    store: RecordStore, files: Sequence[Path], changed: float, deleted: float, seed: int
) -> DayChanges:
    """Store a day's changes of the libraries' ``files`` (one source per file, named by its stem)."""
    rng = random.Random(seed * 7919 + 1)
    counts = DayChanges()
    for path in files:
        raws = [chunk + END_OF_RECORD for chunk in path.read_bytes().split(END_OF_RECORD) if chunk.strip()]
        picked = rng.sample(range(len(raws)), round(len(raws) * (changed + deleted)))
        cut = round(len(raws) * deleted)
        page: list[SourceRecord] = []
        for position, number in enumerate(picked):
            local_id = str(_fields(raws[number])["001"].data)
            if position < cut:
                page.append(SourceRecord(path.stem, local_id, b"", "iso2709", DATESTAMP, deleted=True))
                counts.deleted += 1
            else:
                raw = _edited(rng, raws[number], raws[rng.randrange(len(raws))], counts)
                page.append(SourceRecord(path.stem, local_id, raw, "iso2709", DATESTAMP))
            if len(page) == PAGE:
                counts.store_seconds += _store(store, path.stem, page)
                page = []
        counts.store_seconds += _store(store, path.stem, page)
    return counts


def _store(store: RecordStore, source: str, page: list[SourceRecord]) -> float:
    started = time.perf_counter()
    if page:
        store.store_page(source, page, None)
    return time.perf_counter() - started


# Broad words with the default facets (five and more), as a reader's first search is.
QUERIES = ("de", "histoire", "la guerre", "roman policier", "art", "le monde", "poésie", "france")


@dataclass(slots=True)
class SearchLoad:
    """Searches run back to back by ``threads`` threads until stopped: how many, how many failed
    (with the first errors), and their latencies."""

    index: UnionIndex
    settings: Settings
    threads: int = 2
    seconds: list[float] = field(default_factory=list)
    failures: int = 0
    errors: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _workers: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> SearchLoad:
        for number in range(self.threads):
            worker = threading.Thread(target=self._run, args=(number,), daemon=True)
            worker.start()
            self._workers.append(worker)
        return self

    def stop(self) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join()

    def _run(self, number: int) -> None:
        position = number
        while not self._stop.is_set():
            words = QUERIES[position % len(QUERIES)]
            position += 1
            query = parse_search_params({"q": [words]}, self.settings)
            started = time.perf_counter()
            try:
                self.index.search(query)
            except Exception as exc:  # every failure counts, whatever it is
                with self._lock:
                    self.failures += 1
                    if len(self.errors) < 5:
                        self.errors.append(f"{type(exc).__name__}: {exc}")
                continue
            with self._lock:
                self.seconds.append(time.perf_counter() - started)

    def summary(self) -> str:
        if not self.seconds:
            return f"no search answered; {self.failures} failed"
        ordered = sorted(self.seconds)
        p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
        return (
            f"{len(ordered):,} searches answered, {self.failures} failed; p50 "
            f"{statistics.median(ordered) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms"
        )
