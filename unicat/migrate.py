"""Copy a whole catalogue from one engine to another (e.g. SQLite → Elasticsearch when a network
outgrows one machine): sources, source records with their raw bytes, harvest history (so the next
harvest stays incremental), quarantine, librarians' merge decisions, union records with their stable
ids, redirects, the OAI-PMH feed (its datestamps and deleted records), accounts (with their
numbers; sessions are not copied: people sign in again on the new engine), and what readers added
(comments, ratings, tags, reports, the moderation log, reading lists and their entries), with their
ids and times, so that links to a comment or a list keep working.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import TypeVar

from unicat.engine import Engine
from unicat.errors import UnicatError
from unicat.model import SourceRecord

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


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _copy(
    items: Iterable[T], add: Callable[[T], object], what: str, notify: Callable[[str, int], None]
) -> int:
    """Add every item to the target, one at a time; returns how many."""
    count = 0
    for item in items:
        add(item)
        count += 1
        if count % PAGE == 0:
            notify(what, count)
    notify(what, count)
    return count


def migrate(
    source: Engine,
    target: Engine,
    *,
    force: bool = False,
    on_progress: Callable[[str, int], None] | None = None,
) -> MigrationReport:
    """Copy everything ``source`` holds into ``target``.

    The target must be empty unless ``force``: merging two catalogues is not a copy. Source records
    are streamed page by page, so memory stays flat whatever the size of the catalogue.
    """
    notify = on_progress or (lambda _what, _count: None)
    if not force and (target.list_sources() or target.union_count()):
        raise UnicatError(f"the target engine {target.url} is not empty; use --force to copy into it anyway")
    sources = source.list_sources()
    for item in sources:
        target.save_source(item)
    runs = sorted(source.harvest_history(limit=MAX_HISTORY), key=lambda run: run.id)
    target.restore_harvest_runs(runs)
    notify("harvest runs", len(runs))
    copied = 0
    for item in sources:
        records: Iterator[SourceRecord] = source.iter_source_records(item.code, include_deleted=True)
        for page in _chunks(records, PAGE):
            target.store_page(item.code, page, None)
            copied += len(page)
            notify("source records", copied)
    quarantine = source.list_quarantine(limit=MAX_QUARANTINE)
    target.add_quarantine(list(reversed(quarantine)))
    notify("quarantined records", len(quarantine))
    users = source.list_users()
    for user in users:  # with their numbers, which comments and lists point at
        target.create_user(user)
    notify("accounts", len(users))
    # After the accounts they belong to; comments before the reports on them, lists before their
    # entries. Each keeps its id and time: the target numbers its later items after them.
    comments = _copy(source.iter_comments(), target.add_comment, "comments", notify)
    ratings = _copy(source.iter_ratings(), target.set_rating, "ratings", notify)
    tags = _copy(source.iter_tags(), target.add_tag, "tags", notify)
    reports = _copy(source.iter_reports(), target.add_report, "reports", notify)
    moderation = _copy(source.iter_moderation(), target.log_moderation, "moderation actions", notify)
    lists = _copy(source.iter_lists(), target.add_list, "reading lists", notify)
    entries = _copy(source.iter_list_entries(), target.add_list_entry, "list entries", notify)
    decisions = source.merge_decisions()
    for decision in decisions:  # oldest first, so the target keeps their order (ids are its own)
        target.save_merge_decision(decision)
    notify("merge decisions", len(decisions))
    redirects = dict(source.iter_redirects())
    union = target.replace_union_records(source.iter_union_records(), redirects)
    notify("union records", union)
    # The OAI-PMH feed as the source had it: the same datestamps and deleted records, so harvesters of
    # the catalogue need not start again after a switch of engine.
    feed = target.restore_oai_feed(source.iter_oai_items(), source.oai_generations(), source.oai_sets())
    notify("OAI-PMH items", feed)
    return MigrationReport(
        sources=len(sources),
        source_records=copied,
        harvest_runs=len(runs),
        quarantined=len(quarantine),
        union_records=union,
        redirects=len(redirects),
        merge_decisions=len(decisions),
        oai_items=feed,
        users=len(users),
        comments=comments,
        ratings=ratings,
        tags=tags,
        reports=reports,
        moderation_actions=moderation,
        lists=lists,
        list_entries=entries,
    )
