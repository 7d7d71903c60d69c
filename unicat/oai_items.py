"""The union catalogue as an OAI-PMH feed: one item per union id that ever existed, live or deleted.

Why a feed of its own beside the union index: the index is rebuilt whole by every ``unicat index``,
but an OAI-PMH datestamp must say when a record last changed *for its harvesters*, and a record that
vanished (its libraries withdrew it, or it was merged into another) must stay as a deleted header.
So each engine keeps, per union id, an :class:`OaiItem`: a fingerprint of what the feed serves, the
sets it belongs to, whether it is deleted, and the **generation** (the index run) that last changed
it. Every rebuild compares the new records with the items (:func:`changed_items`, shared by both
engines) and stamps only those that changed: an unchanged record keeps its datestamp however often
the catalogue is re-indexed, so incremental harvesters fetch only what changed.

Datestamps belong to generations, not to items: a rebuild registers its generation's datestamp
(:func:`next_datestamp`) as the *last* step, after its items and records are visible. A harvester
lists a snapshot "every item of generation <= g" where g is the newest registered generation when
its list began, so a rebuild that lands during a harvest can neither slip records into pages already
given nor move an unchanged record: the list holds every item that did not change meanwhile, once,
and what changed comes with the next incremental harvest (its datestamp is later than the list's
``responseDate``). That is the resumption-token guarantee of OAI-PMH 2.0 section 3.5.1.
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from unicat.clock import TIME_FORMAT, parse_time
from unicat.model import ByArguments, UnionRecord
from unicat.spill import SortedRows

# Parts of a union record's JSON that no feed format serves: a record whose other editions, harvest
# datestamps or records kept apart from it moved, but not its content, keeps its OAI datestamp
# (harvesters would fetch it for nothing). The first-seen dates are among them: the first generation
# after they came gives every record its dates, which must not make harvesters fetch the catalogue.
UNSERVED_FIELDS = ("updated", "editions", "work", "kept_apart", "first_seen", "held_since")

LIBRARY_SET = "library"
FORMAT_SET = "format"
_SET_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.!*'()")


@dataclass(frozen=True, slots=True)
class OaiItem:
    """What the feed knows of one union id: its sets (the last known ones for a deleted record, so a
    harvester of a set learns of the deletion), whether it is deleted, and the generation that last
    changed it."""

    id: str
    generation: int
    deleted: bool
    sets: tuple[str, ...]
    fingerprint: str


@dataclass(frozen=True, slots=True)
class FeedRecord(ByArguments):
    """A union record as the feed sees it while a rebuild writes it: its id, fingerprint and sets."""

    id: str
    fingerprint: str
    sets: tuple[str, ...]


@functools.lru_cache(maxsize=4096)
def set_spec_part(value: str) -> str:
    """``value`` as one part of a setSpec, which allows only ``[A-Za-z0-9-_.!~*'()]``: every other
    character (spaces, ``:``, accents, ``~`` itself) becomes ``~`` and its code point in hex and ``~``,
    so distinct library codes never share a set."""
    if all(ch in _SET_SAFE for ch in value) and value:
        return value
    return "".join(ch if ch in _SET_SAFE else f"~{ord(ch):x}~" for ch in value) or "~0~"


@functools.lru_cache(maxsize=4096)
def library_set(code: str) -> str:
    return f"{LIBRARY_SET}:{set_spec_part(code)}"


@functools.lru_cache(maxsize=4096)
def format_set(kind: str) -> str:
    """``format:book``, ``format:sound-recording``: the format's words joined by hyphens."""
    return f"{FORMAT_SET}:{set_spec_part(kind.replace(' ', '-'))}"


def record_sets(record: UnionRecord) -> tuple[str, ...]:
    """The sets of a record: each holding library's ``library:CODE`` and its ``format:KIND``, with their
    parents ``library`` and ``format`` (OAI-PMH sets are hierarchical: a member of ``library:BR`` is a
    member of ``library``), sorted."""
    sets = {FORMAT_SET, format_set(record.format)}
    if record.holdings:
        sets.add(LIBRARY_SET)
        sets.update([library_set(holding.library) for holding in record.holdings])
    return tuple(sorted(sets))


TOP_SET_NAMES = {LIBRARY_SET: "Holding library", FORMAT_SET: "Material type"}


def fingerprint(document: Mapping[str, Any]) -> str:
    """A digest of what the feed serves of a union record's JSON (``record.to_json()``)."""
    served = {key: value for key, value in document.items() if key not in UNSERVED_FIELDS}
    return hashlib.blake2b(orjson.dumps(served, option=orjson.OPT_SORT_KEYS), digest_size=12).hexdigest()


def feed_record(record: UnionRecord, document: Mapping[str, Any] | None = None) -> FeedRecord:
    """``record`` as the feed compares it; ``document`` is its ``to_json()`` when the caller has it."""
    return FeedRecord(record.id, fingerprint(document or record.to_json()), record_sets(record))


class FeedCollector:
    """What a rebuild gathers for the feed while its engine writes the records, the same on every
    engine: each record as the feed compares it, and a name for each set the records are in (a
    library's own name, the first a holding gives; a format's words)."""

    def __init__(self) -> None:
        # By id, spilled to a temporary file beyond a run's worth (a rebuild of millions of records).
        self.records: SortedRows[FeedRecord] = SortedRows(_feed_id, _feed_id)
        self._names: dict[str, str] = {}

    def add(self, record: UnionRecord, document: Mapping[str, Any] | None = None) -> None:
        """Gather ``record``; ``document`` is its ``to_json()`` when the caller has it already."""
        self.records.add(feed_record(record, document))
        for holding in record.holdings:
            self._names.setdefault(library_set(holding.library), holding.library_name or holding.library)
        self._names.setdefault(format_set(record.format), f"Material type: {record.format}")

    def drop(self, union_ids: Iterable[str]) -> None:
        """Leave out these records (the index refused them)."""
        self.records.dropped.update(union_ids)

    def set_names(self) -> dict[str, str]:
        """Every set gathered, and the parent sets, with their names."""
        return {**TOP_SET_NAMES, **self._names}

    def close(self) -> None:
        """Delete what was spilled."""
        self.records.close()


def _feed_id(record: FeedRecord) -> str:
    return record.id


def changed_items(
    previous: Iterable[OaiItem], current: Iterable[FeedRecord], generation: int
) -> Iterator[OaiItem]:
    """The items a rebuild to generation ``generation`` changes: new records, records whose served
    content or sets changed, deleted ids that live again, and (deleted now) every live item that is
    not among ``current``. Unchanged items are not returned: they keep their generation.

    Both ``previous`` (every stored item) and ``current`` come sorted by id, and are compared as they
    stream, in id order: memory holds neither whole, however large the catalogue."""
    stored = iter(previous)
    before = next(stored, None)
    for record in current:
        while before is not None and before.id < record.id:
            if not before.deleted:
                yield OaiItem(before.id, generation, True, before.sets, before.fingerprint)
            before = next(stored, None)
        same = before if before is not None and before.id == record.id else None
        if same is not None:
            before = next(stored, None)
        if same is None or same.deleted or same.fingerprint != record.fingerprint or same.sets != record.sets:
            yield OaiItem(record.id, generation, False, record.sets, record.fingerprint)
    while before is not None:
        if not before.deleted:
            yield OaiItem(before.id, generation, True, before.sets, before.fingerprint)
        before = next(stored, None)


def next_datestamp(previous: str | None, now: datetime | None = None) -> str:
    """The datestamp of a generation registered ``now``: now rounded *up* to the second, and never
    before the previous generation's (a clock stepped back must not reorder the feed).

    Rounding up matters: a harvest whose list began at 10:00:00.4 has ``responseDate`` 10:00:00 and
    fixed its snapshot then; a generation registered at 10:00:00.7 gets 10:00:01, so the harvester's
    next ``from=10:00:00`` finds it, and no list that began before it was registered can contain it."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    whole = moment.replace(microsecond=0)
    if moment.microsecond:
        whole += timedelta(seconds=1)
    earliest = parse_time(previous)
    if earliest is not None and whole < earliest:
        whole = earliest
    return whole.strftime(TIME_FORMAT)


def seconds_of(datestamp: str) -> int:
    """A stored datestamp as whole seconds since the epoch."""
    moment = parse_time(datestamp)
    if moment is None:
        raise ValueError(f"not a datestamp: {datestamp!r}")
    return math.floor(moment.timestamp())


@dataclass(frozen=True, slots=True)
class OaiSelection:
    """Which items a list request covers: generations ``low`` to ``high`` inclusive (the range of its
    ``from`` and ``until``, capped by the snapshot), within one set or all."""

    low: int
    high: int
    set_spec: str | None = None


@dataclass(frozen=True, slots=True)
class OaiEntry:
    """An item and, when asked for and it is live, its union record."""

    item: OaiItem
    record: UnionRecord | None = None
