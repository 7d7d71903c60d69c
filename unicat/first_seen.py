"""What counts as new: when a union record first entered the catalogue, and when each library first held it.

The dates are the indexer's own, kept in the record store, never the records' datestamps (a
re-harvest or a re-index changes those). They are keyed on the *members*, not on union ids, which move
when records merge or split: one date per source record, ``(source, local_id) → first_seen``, and one
per library keeping a copy of it, ``(source, local_id, site) → first_held``, the site being the library
the held_at facet names (:func:`unicat.availability.site`). A union record's ``first_seen`` is the
earliest of its members' and its ``held_since[L]`` the earliest of its members' dates at ``L``; so a
merge keeps the earliest, a split keeps each part's members' dates, and a new library's copy of an old
title is new at that library only. Rows are only ever added: a date never moves later, and a record
deleted then harvested again keeps its first date.

Every generation of the union index stamps its records with ONE instant (the clock when it starts
writing): a member the store has no date for gets it. The stamps go into the index documents as the
index takes the records, and the rows the generation adds are written in the store's transaction of
the generation (:mod:`unicat.union_generation`). A crash between the two leaves the store without the
rows: the next run stamps those members again, with its own, slightly later instant, which is still
after every date the store holds, so nothing old becomes new.

Dates are read from the store in batches of :data:`BATCH` records as they stream towards the index,
so memory holds one batch of looked-up dates; the rows the generation adds (one per member when a
catalogue is indexed for the first time) wait in a temporary file beyond a run's worth, as the
generation's memberships and feed items do.

An upgraded catalogue's members got their ``first_seen`` from the store's best evidence by migration
(docs/new-titles.md), with a row for the site :data:`SITES_UNKNOWN`: their libraries were not known
then, so the first generation gives each site of theirs that date instead of its own instant; a site
such a member gains later is new there, as any other's.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from unicat.availability import site
from unicat.model import UnionRecord
from unicat.spill import SortedRows

BATCH = 500
"""Union records whose members' dates are read from the store in one lookup."""
SITES_UNKNOWN = ""
"""The site of a member's held row that stands for "every library it was held at before its libraries
were recorded" (an upgraded catalogue's members): never a library code."""

Member = tuple[str, str]


@dataclass(frozen=True, slots=True)
class MemberDates:
    """The stored dates of some members: their ``first_seen``, and their ``first_held`` by site."""

    seen: dict[Member, str] = field(default_factory=dict)
    held: dict[Member, dict[str, str]] = field(default_factory=dict)


class NewDates:
    """The rows a generation adds, by the union record that brought them (so that the records the index
    refused can be left out): ``(source, local_id, first_seen)`` and ``(source, local_id, site,
    first_held)``. A catalogue indexed for the first time adds one of each per member: beyond a run's
    worth they wait in a temporary file (:class:`unicat.spill.SortedRows`)."""

    def __init__(
        self,
        seen: Mapping[str, Sequence[SeenRow]] | None = None,
        held: Mapping[str, Sequence[HeldRow]] | None = None,
    ) -> None:
        self._seen: SortedRows[tuple[str, SeenRow]] = SortedRows(_member_of, _union_id_of)
        self._held: SortedRows[tuple[str, HeldRow]] = SortedRows(_member_of, _union_id_of)
        for union_id, seen_rows in (seen or {}).items():
            self.add(union_id, seen_rows, ())
        for union_id, held_rows in (held or {}).items():
            self.add(union_id, (), held_rows)

    def add(self, union_id: str, seen: Iterable[SeenRow], held: Iterable[HeldRow]) -> None:
        for seen_row in seen:
            self._seen.add((union_id, seen_row))
        for held_row in held:
            self._held.add((union_id, held_row))

    def drop(self, union_ids: Iterable[str]) -> None:
        for rows in (self._seen, self._held):
            rows.dropped.update(union_ids)

    def seen_rows(self) -> Iterator[SeenRow]:
        return (row for _, row in self._seen)

    def held_rows(self) -> Iterator[HeldRow]:
        return (row for _, row in self._held)

    def close(self) -> None:
        """Delete what was spilled."""
        self._seen.close()
        self._held.close()


SeenRow = tuple[str, str, str]
HeldRow = tuple[str, str, str, str]


def _member_of(tagged: tuple[str, tuple[str, ...]]) -> tuple[str, ...]:
    return tagged[1][:2]


def _union_id_of(tagged: tuple[str, tuple[str, ...]]) -> str:
    return tagged[0]


Lookup = Callable[[Sequence[Member]], MemberDates]


def member_sites(record: UnionRecord) -> dict[Member, set[str]]:
    """The libraries keeping a copy of each member: the sites of the holdings its source sent (a union
    record's holdings are its members'; each holding names its source in ``library``)."""
    by_source: dict[str, set[str]] = {}
    for holding in record.holdings:
        by_source.setdefault(holding.library, set()).add(site(holding))
    return {ref.key: set(by_source.get(ref.source, ())) for ref in record.sources}


def stamp(record: UnionRecord, stored: MemberDates, now: str, new: NewDates) -> UnionRecord:
    """Give ``record`` its ``first_seen`` and ``held_since`` from its members' ``stored`` dates, members
    and sites without one dated ``now``; the rows that adds are put in ``new``."""
    seen_rows: list[tuple[str, str, str]] = []
    held_rows: list[tuple[str, str, str, str]] = []
    first: str | None = None
    since: dict[str, str] = {}
    for member, sites in member_sites(record).items():
        seen = stored.seen.get(member)
        if seen is None:
            seen = now
            seen_rows.append((*member, now))
        first = seen if first is None else min(first, seen)
        held = stored.held.get(member, {})
        # Only until the member's sites are known: a site it gains later is new there.
        unknown = held.get(SITES_UNKNOWN) if held.keys() == {SITES_UNKNOWN} else None
        for code in sites:
            date = held.get(code)
            if date is None:
                date = unknown or now
                held_rows.append((*member, code, date))
            since[code] = min(since.get(code, date), date)
    record.first_seen = first
    record.held_since = dict(sorted(since.items()))
    if seen_rows or held_rows:
        new.add(record.id, seen_rows, held_rows)
    return record


def stamped(records: Iterable[UnionRecord], lookup: Lookup, now: str, new: NewDates) -> Iterator[UnionRecord]:
    """``records`` stamped (:func:`stamp`) as they stream past, their members' dates read with ``lookup``
    one batch of :data:`BATCH` records at a time."""
    iterator = iter(records)
    while batch := list(itertools.islice(iterator, BATCH)):
        stored = lookup([ref.key for record in batch for ref in record.sources])
        for record in batch:
            yield stamp(record, stored, now, new)
