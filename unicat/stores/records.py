"""The record store in SQL (:class:`unicat.ports.records.RecordStore`), on SQLite or PostgreSQL.

Written once, in the SQL subset both databases share, by kind of data in the modules beside it:
``harvests.py`` (sources, source records, harvest runs), ``record_changes.py`` (which records
changed since the last index), ``record_keys.py`` (their blocking keys), ``quarantine.py``,
``merge_decisions.py``, ``holding_codes.py``, ``memberships.py`` (memberships and redirects),
``first_dates.py`` (what counts as new) and ``oai_feed.py`` (the OAI-PMH feed's history).
This module puts them together and writes what a rebuild of the union index leaves behind, in one
transaction across them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from unicat.first_seen import NewDates
from unicat.member_keys import MemberKeys
from unicat.oai_items import FeedCollector
from unicat.ports.database import Database
from unicat.ports.records import RecordStore
from unicat.stores.first_dates import SqlFirstDates, add_first_dates
from unicat.stores.harvests import SqlHarvests
from unicat.stores.holding_codes import SqlHoldingCodes
from unicat.stores.memberships import (
    SqlMemberships,
    add_redirects,
    drop_redirects_of,
    drop_redirects_of_members,
    new_redirects,
    replace_memberships,
    replace_memberships_of,
)
from unicat.stores.merge_decisions import SqlMergeDecisions
from unicat.stores.oai_feed import SqlOaiFeed, write_generation, write_partial_generation
from unicat.stores.quarantine import SqlQuarantine
from unicat.stores.record_changes import SqlRecordChanges, save_indexed_mark
from unicat.stores.record_keys import SqlRecordKeys, replace_all_keys, replace_keys_of


class SqlRecordStore(
    SqlHarvests,
    SqlRecordChanges,
    SqlRecordKeys,
    SqlQuarantine,
    SqlMergeDecisions,
    SqlHoldingCodes,
    SqlMemberships,
    SqlOaiFeed,
    SqlFirstDates,
    RecordStore,
):
    """Every table of the record store, in the database ``db``."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def announce_redirects(self, redirects: Mapping[str, str]) -> None:
        with self.db.write() as conn:
            add_redirects(self.db, conn, new_redirects(redirects))

    def save_union_generation(
        self,
        memberships: Iterable[tuple[str, str, str]],
        redirects: Mapping[str, str],
        feed: FeedCollector,
        dates: NewDates | None = None,
        mark: int | None = None,
        keys: Iterable[MemberKeys] | None = None,
    ) -> int:
        with self.db.write(bulk=True) as conn:
            if dates is not None:
                add_first_dates(conn, dates)
            if mark is not None:
                save_indexed_mark(conn, mark)
            if keys is not None:
                replace_all_keys(self.db, conn, keys)
            replace_memberships(self.db, conn, memberships)
            add_redirects(self.db, conn, new_redirects(redirects))
            drop_redirects_of_members(conn)
            # Last, so that the generation's datestamp is read from the clock as late as it can be.
            return write_generation(self.db, conn, feed)

    def save_union_changes(
        self,
        memberships: Iterable[tuple[str, str, str]],
        union_ids: Sequence[str],
        removed: Sequence[tuple[str, str]],
        redirects: Mapping[str, str],
        feed: FeedCollector,
        dates: NewDates | None = None,
        mark: int | None = None,
        keys: Sequence[MemberKeys] = (),
        unkeyed: Sequence[tuple[str, str]] = (),
    ) -> int:
        members = list(memberships)
        with self.db.write(bulk=True) as conn:
            if dates is not None:
                add_first_dates(conn, dates)
            if mark is not None:
                save_indexed_mark(conn, mark)
            replace_keys_of(self.db, conn, keys, unkeyed)
            replace_memberships_of(conn, union_ids, members, removed)
            add_redirects(self.db, conn, new_redirects(redirects))
            drop_redirects_of(conn, {union_id for _source, _local_id, union_id in members})
            # Last, so that the generation's datestamp is read from the clock as late as it can be.
            return write_partial_generation(self.db, conn, feed, union_ids)
