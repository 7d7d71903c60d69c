"""Copy a whole catalogue into another index and store (e.g. SQLite → Elasticsearch and PostgreSQL when a
network outgrows one machine): sources, source records with their raw bytes, harvest history (so the next
harvest stays incremental), quarantine, librarians' merge decisions, union records with their stable
ids, redirects, the OAI-PMH feed (its datestamps and deleted records), accounts (with their
numbers; sessions are not copied: people sign in again on the new catalogue), and what readers added
(comments, ratings, tags, reports, the moderation log, reading lists and their entries), with their
ids and times, so that links to a comment or a list keep working. Accounts and readers' data are in
the store: when the target shares the source's store (a new index beside the same database), only the
union index is copied and everything else stays where it is.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any, TypeVar

from unicat.catalogue import Catalogue
from unicat.errors import UnicatError
from unicat.model import SourceRecord
from unicat.readers_copy import StoredReaders, copy_readers

T = TypeVar("T")
PAGE = 1000
MAX_HISTORY = 1_000_000
MAX_QUARANTINE = 10_000_000


@dataclass(frozen=True, slots=True)
class MigrationReport:
    sources: int
    source_records: int
    harvest_runs: int
    quarantined: int
    union_records: int
    redirects: int
    merge_decisions: int = 0
    oai_items: int = 0
    users: int = 0
    comments: int = 0
    ratings: int = 0
    tags: int = 0
    reports: int = 0
    moderation_actions: int = 0
    lists: int = 0
    list_entries: int = 0
    stores_copied: bool = True


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def migrate(
    source: Catalogue,
    target: Catalogue,
    *,
    force: bool = False,
    on_progress: Callable[[str, int], None] | None = None,
) -> MigrationReport:
    """Copy everything ``source`` holds into ``target``.

    The target must be empty unless ``force``: merging two catalogues is not a copy. Source records
    are streamed page by page, so memory stays flat whatever the size of the catalogue.
    """
    notify = on_progress or (lambda _what, _count: None)
    shared_store = source.store_url == target.store_url
    if not force and (
        target.index.union_count()
        or (not shared_store and (target.records.list_sources() or target.accounts.list_users()))
    ):
        raise UnicatError(
            f"the target {target.index.url} (store {target.store_url}) is not empty; use --force to copy "
            "into it anyway"
        )
    # The union index first: beside the same database it is all there is to copy.
    union = target.index.replace_union_records(source.index.iter_union_records()).written
    notify("union records", union)
    if shared_store:
        return MigrationReport(
            sources=0,
            source_records=0,
            harvest_runs=0,
            quarantined=0,
            union_records=union,
            redirects=0,
            stores_copied=False,
        )
    copied = dataclasses.replace(_copy_records(source, target, notify), union_records=union)
    readers = StoredReaders(source.accounts, source.contributions)
    counts: dict[str, Any] = copy_readers(readers, target.accounts, target.contributions, notify)
    return dataclasses.replace(copied, **counts)


def _copy_records(
    source: Catalogue, target: Catalogue, notify: Callable[[str, int], None]
) -> MigrationReport:
    """Sources, records, harvest history, quarantine, decisions, memberships, redirects and the OAI-PMH
    feed: the record store, item by item."""
    old, new = source.records, target.records
    sources = old.list_sources()
    for item in sources:
        new.save_source(item)
    runs = sorted(old.harvest_history(limit=MAX_HISTORY), key=lambda run: run.id)
    new.restore_harvest_runs(runs)
    notify("harvest runs", len(runs))
    copied = 0
    for item in sources:
        records: Iterator[SourceRecord] = old.iter_source_records(item.code, include_deleted=True)
        for page in _chunks(records, PAGE):
            new.store_page(item.code, page, None)
            copied += len(page)
            notify("source records", copied)
    quarantine = old.list_quarantine(limit=MAX_QUARANTINE)
    new.add_quarantine(list(reversed(quarantine)))
    notify("quarantined records", len(quarantine))
    decisions = old.merge_decisions()
    for decision in decisions:  # oldest first, so the target keeps their order (ids are its own)
        new.save_merge_decision(decision)
    notify("merge decisions", len(decisions))
    redirects = list(old.iter_redirects())
    memberships = ((code, local_id, union_id) for (code, local_id), union_id in old.memberships().items())
    new.restore_memberships(memberships, redirects)
    # The OAI-PMH feed as the source had it: the same datestamps and deleted records, so harvesters of
    # the catalogue need not start again after a switch of engine.
    feed = new.restore_oai_feed(old.iter_oai_items(), old.oai_generations(), old.oai_sets())
    notify("OAI-PMH items", feed)
    return MigrationReport(
        sources=len(sources),
        source_records=copied,
        harvest_runs=len(runs),
        quarantined=len(quarantine),
        union_records=0,
        redirects=len(redirects),
        merge_decisions=len(decisions),
        oai_items=feed,
    )
