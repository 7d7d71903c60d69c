"""The part of the catalogue a day's changes reach: what an incremental index pass clusters again.

A full run clusters each *block* (records linked by a shared merge key, :mod:`indexer.blocks`) on its
own, groups clusters into works by shared work keys, and gives clusters the ids their members had.
So the union records a changed source record can alter are those of the records linked to it, before
or after the change, by any of:

- a merge key, old (as the last run stored it, ``unicat/member_keys.py``) or new (parsed now): the
  blocks it leaves and joins;
- membership of one union record in the last generation: a cluster that splits or loses a member
  decides its id and redirects among all its former members;
- a work key, old or new: every edition of a work lists the others;
- a librarian's merge or split decision.

The *region* is the closure of the changed records under these links, read from the record store's
indexes (``record_keys``, ``record_works``, ``memberships``) a frontier at a time. Clustered whole, it
gives the union records a full run would give for those records, and no union record outside it
changes. It is bounded by ``limit``: past it, a full rebuild costs less than the pass.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from unicat.member_keys import MemberKeys
from unicat.model import MergeDecision
from unicat.ports.records import RecordStore

Member = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Region:
    """The records a pass clusters again, sorted, and the union ids they had in the last generation."""

    members: list[Member]
    old_ids: frozenset[str]


def decision_links(decisions: Sequence[MergeDecision]) -> dict[Member, list[Member]]:
    """Each record a librarian's decision names → the records it is decided with."""
    links: dict[Member, list[Member]] = {}
    for decision in decisions:
        first, second = decision.first.key, decision.second.key
        links.setdefault(first, []).append(second)
        links.setdefault(second, []).append(first)
    return links


def grow_region(
    store: RecordStore,
    changed: Iterable[Member],
    new_keys: Mapping[Member, MemberKeys],
    decisions: Sequence[MergeDecision],
    limit: int,
) -> Region | None:
    """The closure of ``changed`` (whose keys parsed now are ``new_keys``; a deleted or unreadable
    record has none) under the links above, or ``None`` once it holds more than ``limit`` records."""
    linked = decision_links(decisions)
    members: set[Member] = set(changed)
    frontier = sorted(members)
    keys_seen: set[int] = set()
    works_seen: set[int] = set()
    ids_seen: set[str] = set()
    while frontier:
        stored = store.keys_of(frontier)
        keys: set[int] = set()
        works: set[int] = set()
        for member in frontier:
            for known in (stored.get(member), new_keys.get(member)):
                if known is not None:
                    keys.update(known.keys)
                    if known.work:
                        works.add(known.work)
        keys -= keys_seen
        works -= works_seen
        keys_seen |= keys
        works_seen |= works
        ids = set(store.union_ids_of(frontier).values()) - ids_seen
        ids_seen |= ids
        found: set[Member] = set()
        for group in store.members_with_keys(sorted(keys)).values():
            found.update(group)
        for group in store.members_with_works(sorted(works)).values():
            found.update(group)
        for group in store.members_of(sorted(ids)).values():
            found.update(group)
        for member in frontier:
            found.update(linked.get(member, ()))
        frontier = sorted(found - members)
        members.update(frontier)
        if len(members) > limit:
            return None
    return Region(sorted(members), frozenset(ids_seen))
