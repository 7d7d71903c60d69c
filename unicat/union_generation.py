"""A rebuild of the union index as one step over both ports: the index's new generation, then what the
record store keeps of it; and the union catalogue's OAI-PMH feed, read from both.

The order is what makes a rebuild safe without one transaction over two systems. The generation's
redirects are stored first: an old id is looked up in the index before its redirect, so they are not
read while the previous index holds it, and a page asked for a merged-away id in the moment after the
swap still finds where it went. The index is then written, whole, and swapped in; only then does the
store take the generation's memberships, redirects and feed items, in one transaction, with the feed's
datestamp registered last. A crash in between leaves the store at the previous generation (and its
redirects of ids still live, never read): the next ``unicat index`` assigns the same ids from the same
memberships and writes both again. The feed lists items from the store and reads their records
from the index; an item whose record the index no longer has (the moment between the two writes) is
left out of that page, as a list over a feed that changes under it may (``unicat/oai_items.py``).

What counts as new (``unicat/first_seen.py``) rides on the same order: each record is stamped with its
members' first dates as the index takes it (read from the store in batches, the generation's one
instant for those without), and the rows that adds are written with the memberships, in the store's
transaction. A crash between the two leaves the store without them: the next run stamps the same
members again with its own instant, later than any date already stored, so nothing old turns new.

A partial generation (:func:`write_union_changes`, what the incremental index pass calls) keeps the
same order over the records that changed: redirects announced, the index updated in place, then the
store's transaction. A crash between the last two leaves the index ahead of the store, whose indexed
mark has not moved: the next pass reads the same changes and writes the same records again.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from unicat.clock import utc_now
from unicat.errors import EngineError
from unicat.first_seen import Member, NewDates, stamped
from unicat.holding_codes import named_records, tables_by_source
from unicat.member_keys import MemberKeys
from unicat.model import UnionRecord
from unicat.oai_items import FeedCollector, OaiEntry, OaiSelection
from unicat.ports.records import RecordStore
from unicat.ports.union_index import UnionIndex, UnionWrite
from unicat.spill import SortedRows


class _Gathered:
    """What the store keeps of a generation, gathered while the index writes it: the feed's items and
    the memberships, both waiting in temporary files beyond a run's worth (:mod:`unicat.spill`)."""

    def __init__(self) -> None:
        self.feed = FeedCollector()
        self.members: SortedRows[Membership] = SortedRows(_member, _union_id)

    def __call__(self, record: UnionRecord, document: Mapping[str, Any]) -> None:
        for ref in record.sources:
            self.members.add((ref.source, ref.local_id, record.id))
        self.feed.add(record, document)

    def checked(self, records: Iterable[UnionRecord]) -> Iterator[UnionRecord]:
        """``records``, then, once the index has taken the last, a check that no source record is a
        member of two of them: raised inside the index's write, which then leaves the previous index
        unchanged."""
        yield from records
        last: Membership | None = None
        for membership in self.members:
            if last is not None and last[:2] == membership[:2]:
                raise EngineError(
                    f"the union index was not replaced: source record {membership[:2]} is a member of two "
                    f"union records ({last[2]!r} and {membership[2]!r}); the previous index is unchanged"
                )
            last = membership

    def drop(self, union_ids: set[str]) -> None:
        """Forget records the index refused: they are not in it, so neither the feed nor the memberships
        may name them."""
        self.feed.drop(union_ids)
        self.members.dropped.update(union_ids)

    def close(self) -> None:
        self.feed.close()
        self.members.close()


Membership = tuple[str, str, str]


def _member(membership: Membership) -> tuple[str, str]:
    return membership[0], membership[1]


def _union_id(membership: Membership) -> str:
    return membership[2]


def write_union_generation(
    store: RecordStore,
    index: UnionIndex,
    records: Iterable[UnionRecord],
    redirects: Mapping[str, str],
    *,
    mark: int | None = None,
    keys: Iterable[MemberKeys] | None = None,
) -> int:
    """Replace the union index with ``records`` and keep in ``store`` what outlives it: memberships,
    ``redirects`` (old id → new id), the OAI-PMH feed's changes, the first dates of members new to the
    catalogue (each record is given its ``first_seen`` and ``held_since`` on its way), and the change
    ``mark`` the records were read up to (:meth:`~unicat.ports.records.RecordChanges.change_mark`) and
    the blocking ``keys`` of every record parsed (``unicat/member_keys.py``); records the index refused
    are quarantined (stage ``index``). Returns how many records the index holds now."""
    store.announce_redirects(redirects)
    gathered = _Gathered()
    dates = NewDates()
    try:
        written: UnionWrite = index.replace_union_records(
            gathered.checked(stamped(records, store.first_dates, utc_now(), dates)), gathered
        )
        if written.refused:
            gathered.drop(set(written.refused))
            dates.drop(written.refused)
            store.add_quarantine(list(written.refused.values()))
        store.save_union_generation(gathered.members, redirects, gathered.feed, dates, mark, keys)
    finally:
        gathered.close()
        dates.close()
    return written.written


def write_union_changes(
    store: RecordStore,
    index: UnionIndex,
    upserts: Iterable[UnionRecord],
    deletes: Sequence[str],
    redirects: Mapping[str, str],
    *,
    removed: Sequence[Member] = (),
    mark: int | None = None,
    keys: Sequence[MemberKeys] = (),
    unkeyed: Sequence[Member] = (),
) -> UnionWrite:
    """A partial generation, as :func:`write_union_generation` writes a whole one, in the same order:
    the ``redirects`` announced, the index updated in place (``upserts`` written, each stamped with its
    members' first dates on its way; ``deletes`` removed), then what the store keeps of it in one
    transaction (:meth:`~unicat.ports.records.RecordStore.save_union_changes`): memberships of the
    written, removed and refused union ids, and of ``removed`` members (in no union record now); the
    redirects; the feed's items of those ids as a new generation; new first dates; the blocking
    ``keys`` of the records parsed again and the ``unkeyed`` dropped; and the ``mark`` read up to.
    Records the index refused are quarantined (stage ``index``) and count as removed.

    What the incremental index pass calls once it has rebuilt the union records of the region its
    changed source records reach: ``upserts`` are every union record of the region (a record that did
    not change is written again at little cost, and its feed item keeps its generation), ``deletes`` the
    ids of the region's previous union records that no record carries any more. Returns what the index
    wrote and refused."""
    store.announce_redirects(redirects)
    gathered = _Gathered()
    dates = NewDates()
    written_ids: list[str] = []

    def noted(records: Iterable[UnionRecord]) -> Iterator[UnionRecord]:
        for record in records:
            written_ids.append(record.id)
            yield record

    try:
        stamping = stamped(noted(upserts), store.first_dates, utc_now(), dates)
        written = index.update_union_records(gathered.checked(stamping), deletes, gathered)
        if written.refused:
            gathered.drop(set(written.refused))
            dates.drop(written.refused)
            store.add_quarantine(list(written.refused.values()))
        union_ids = list(dict.fromkeys([*written_ids, *deletes]))
        store.save_union_changes(
            gathered.members, union_ids, removed, redirects, gathered.feed, dates, mark, keys, unkeyed
        )
    finally:
        gathered.close()
        dates.close()
    return written


@dataclass(frozen=True, slots=True)
class UnionFeed:
    """The union catalogue as an OAI-PMH feed (:class:`unicat.oai_feed.OaiFeed`): items from the
    record store, their records from the union index, one multi-get per page, their holdings named by
    the sources' code tables (read with each page: a few rows, and always the current names)."""

    store: RecordStore
    index: UnionIndex

    def oai_generations(self) -> list[tuple[int, str]]:
        return self.store.oai_generations()

    def oai_list(
        self, selection: OaiSelection, after: tuple[int, str] | None, limit: int, with_records: bool
    ) -> list[OaiEntry]:
        items = self.store.oai_items(selection, after, limit)
        if not with_records:
            return [OaiEntry(item) for item in items]
        records = self.index.get_union_records([item.id for item in items if not item.deleted])
        found = {record.id: record for record in self._named(records)}
        return [OaiEntry(item, None if item.deleted else found.get(item.id)) for item in items]

    def oai_count(self, selection: OaiSelection) -> int:
        return self.store.oai_count(selection)

    def oai_entry(self, union_id: str, with_record: bool) -> OaiEntry | None:
        item = self.store.oai_item(union_id)
        if item is None:
            return None
        record = self.index.get_union_record(union_id) if with_record and not item.deleted else None
        return OaiEntry(item, next(iter(self._named([record]))) if record is not None else None)

    def _named(self, records: list[UnionRecord]) -> Iterable[UnionRecord]:
        return named_records(records, tables_by_source(self.store.holding_codes())) if records else records

    def oai_sets(self) -> dict[str, str]:
        return self.store.oai_sets()
