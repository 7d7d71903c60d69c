"""Copying a record store into another, every kind of item as it was.

Two callers: ``unicat migrate`` into a new store, and the hand-over of an older Elasticsearch catalogue's
record indices to the store (``engines/elasticsearch/legacy_records.py``). Sources come before their
records and their tables of holdings codes, quarantine entries and decisions oldest first (the store
lists them newest first, or in the order they came, and numbers decisions its own way, keeping their
time), the memberships with the redirects and the records' blocking keys (and whether the index was
built from every record, which the copy's change marks then say too), the first dates of members
(what counts as new), and the OAI-PMH feed last with its generations and set names, so that
harvesters of the catalogue see the same datestamps and deleted records.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

from unicat.holding_codes import CodeName
from unicat.member_keys import MemberKeys
from unicat.model import HarvestRun, MergeDecision, QuarantineEntry, Source, SourceRecord
from unicat.oai_items import OaiItem
from unicat.ports.records import RecordStore

Notify = Callable[[str, int], None]
PAGE = 1_000
"""Source records given to ``store_page`` at a time, and quarantine entries to ``add_quarantine``."""
MAX_HISTORY = 1_000_000
MAX_QUARANTINE = 10_000_000


class RecordsSource(Protocol):
    """Where the items come from: a record store, or an older catalogue's indices."""

    def list_sources(self) -> list[Source]: ...
    def harvest_runs(self) -> list[HarvestRun]:
        """Every run, by id."""
        ...

    def iter_source_records(self) -> Iterator[SourceRecord]:
        """Every source record, deleted ones (tombstones) too, by (source, local_id)."""
        ...

    def iter_quarantine(self) -> Iterator[QuarantineEntry]:
        """Every quarantined entry, oldest first."""
        ...

    def merge_decisions(self) -> list[MergeDecision]:
        """Every decision, oldest first."""
        ...

    def holding_codes(self) -> dict[str, list[CodeName]]:
        """Every source's tables of holdings codes, by source."""
        ...

    def iter_record_keys(self) -> Iterator[MemberKeys]:
        """Every parsed record's blocking keys, by (source, local_id)."""
        ...

    def indexed_in_full(self) -> bool:
        """Whether the union index was built from every source record as it is stored (nothing
        changed since its last generation): then the copy's is too."""
        ...

    def indexed_inputs(self) -> dict[str, int]:
        """Per source, the fingerprint of its profile and libraries at the last generation
        (``RecordChanges.indexed_inputs``; empty where none was kept)."""
        ...

    def memberships(self) -> list[tuple[str, str, str]]: ...
    def redirects(self) -> list[tuple[str, str]]: ...
    def iter_first_seen(self) -> Iterator[tuple[str, str, str]]: ...
    def iter_first_held(self) -> Iterator[tuple[str, str, str, str]]: ...
    def iter_oai_items(self) -> Iterator[OaiItem]: ...
    def oai_generations(self) -> list[tuple[int, str]]: ...
    def oai_sets(self) -> dict[str, str]: ...


class StoredRecords:
    """A record store seen as a :class:`RecordsSource`."""

    def __init__(self, store: RecordStore) -> None:
        self._store = store
        self.list_sources = store.list_sources
        self.merge_decisions = store.merge_decisions
        self.holding_codes = store.holding_codes
        self.iter_oai_items = store.iter_oai_items
        self.oai_generations = store.oai_generations
        self.oai_sets = store.oai_sets
        self.iter_first_seen = store.iter_first_seen
        self.iter_first_held = store.iter_first_held
        self.iter_record_keys = store.iter_record_keys
        self.indexed_inputs = store.indexed_inputs

    def harvest_runs(self) -> list[HarvestRun]:
        return sorted(self._store.harvest_history(limit=MAX_HISTORY), key=lambda run: run.id)

    def iter_source_records(self) -> Iterator[SourceRecord]:
        return self._store.iter_source_records(include_deleted=True)

    def iter_quarantine(self) -> Iterator[QuarantineEntry]:
        return reversed(self._store.list_quarantine(limit=MAX_QUARANTINE))

    def indexed_in_full(self) -> bool:
        return self._store.indexed_mark() >= self._store.change_mark()

    def memberships(self) -> list[tuple[str, str, str]]:
        return [
            (source, local_id, union_id) for (source, local_id), union_id in self._store.memberships().items()
        ]

    def redirects(self) -> list[tuple[str, str]]:
        return list(self._store.iter_redirects())


@dataclass(frozen=True, slots=True)
class RecordsCopied:
    """How many of each kind arrived."""

    sources: int
    source_records: int
    harvest_runs: int
    quarantined: int
    merge_decisions: int
    holding_codes: int
    memberships: int
    redirects: int
    oai_items: int
    first_seen: int = 0
    record_keys: int = 0


def copy_records(old: RecordsSource, new: RecordStore, notify: Notify | None = None) -> RecordsCopied:
    """Give ``new`` everything ``old`` holds, in the order each kind must arrive in; ``notify`` hears of
    each kind's count as it goes."""
    told = notify or (lambda _what, _count: None)
    sources = old.list_sources()
    for source in sources:
        new.save_source(source)
    runs = old.harvest_runs()
    new.restore_harvest_runs(runs)
    told("harvest runs", len(runs))
    copied = 0
    for code, records in itertools.groupby(old.iter_source_records(), key=lambda record: record.source):
        while page := list(itertools.islice(records, PAGE)):
            new.store_page(code, page, None)
            copied += len(page)
            told("source records", copied)
    quarantined = 0
    entries = old.iter_quarantine()
    while batch := list(itertools.islice(entries, PAGE)):
        new.add_quarantine(batch)
        quarantined += len(batch)
    told("quarantined records", quarantined)
    decisions = old.merge_decisions()
    for decision in decisions:
        new.save_merge_decision(decision)
    told("merge decisions", len(decisions))
    tables = old.holding_codes()
    for code, table in tables.items():
        new.set_holding_codes(code, table)
    named = sum(len(table) for table in tables.values())
    told("named holdings codes", named)
    memberships, redirects = old.memberships(), old.redirects()
    new.restore_memberships(memberships, redirects)
    keyed = new.restore_record_keys(old.iter_record_keys())
    told("records' blocking keys", keyed)
    # The copy's records have numbers of its own: its index counts as built from all of them when the
    # original's was, else from none (its next index pass reads everything).
    new.restore_indexed_mark(new.change_mark() if old.indexed_in_full() else 0)
    if old.indexed_in_full():
        new.save_indexed_inputs(old.indexed_inputs())
    first_seen = new.restore_first_dates(old.iter_first_seen(), old.iter_first_held())
    told("first-seen dates", first_seen)
    items = new.restore_oai_feed(old.iter_oai_items(), old.oai_generations(), old.oai_sets())
    told("OAI-PMH items", items)
    return RecordsCopied(
        sources=len(sources),
        source_records=copied,
        harvest_runs=len(runs),
        quarantined=quarantined,
        merge_decisions=len(decisions),
        holding_codes=named,
        memberships=len(memberships),
        redirects=len(redirects),
        oai_items=items,
        first_seen=first_seen,
        record_keys=keyed,
    )
