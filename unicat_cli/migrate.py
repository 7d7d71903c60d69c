"""Copy a whole catalogue into another index and store (e.g. SQLite → Elasticsearch and PostgreSQL when a
network outgrows one machine): sources, source records with their raw bytes, harvest history (so the next
harvest stays incremental), quarantine, librarians' merge decisions, union records with their stable ids,
redirects, the OAI-PMH feed (its datestamps and deleted records), accounts (with their numbers; sessions are
not copied: people sign in again on the new catalogue), the library directory, and what readers added
(comments, ratings, tags, reports, the moderation log, reading lists and their entries), inter-library
requests with their history, readers' saved searches and search history, with their ids and times, so that
links to a comment, a list or a request keep working, the e-mail outbox (a message being sent by the old
catalogue is interrupted in the new one, never sent twice), and the live targets with their times. Accounts
and readers' data are in the store: when the target shares the source's store (a new index beside the same
database), only the union index is copied and everything else stays where it is.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from unicat.catalogue import Catalogue
from unicat.errors import UnicatError
from unicat.ports.live_targets import LiveTargetStore
from unicat.ports.outbox import OutboxStore
from unicat.ports.saved_searches import SavedSearchStore
from unicat.ports.shuttle import ShuttleStore
from unicat.readers_copy import StoredReaders, copy_readers
from unicat.records_copy import StoredRecords, copy_records
from unicat.stores.alerts import SqlAlertStore


@dataclass(frozen=True, slots=True)
class MigrationReport:
    sources: int
    source_records: int
    harvest_runs: int
    quarantined: int
    union_records: int
    redirects: int
    merge_decisions: int = 0
    holding_codes: int = 0
    oai_items: int = 0
    users: int = 0
    comments: int = 0
    ratings: int = 0
    tags: int = 0
    reports: int = 0
    moderation_actions: int = 0
    lists: int = 0
    list_entries: int = 0
    shuttle_requests: int = 0
    shuttle_events: int = 0
    mail_messages: int = 0
    libraries: int = 0
    saved_searches: int = 0
    history_entries: int = 0
    live_targets: int = 0
    stores_copied: bool = True


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
    counts.update(_copy_shuttle(source.shuttle, target.shuttle, notify))
    counts["mail_messages"] = copy_outbox(source.outbox, target.outbox, notify)
    counts.update(_copy_searches(source.searches, target.searches, notify))
    _copy_alerts(SqlAlertStore(source.database), SqlAlertStore(target.database), notify)
    libraries = target.libraries.put_libraries(source.libraries.list_libraries())
    notify("libraries", libraries)
    counts["live_targets"] = _copy_targets(source.targets, target.targets, notify)
    return dataclasses.replace(copied, libraries=libraries, **counts)


def _copy_shuttle(
    source: ShuttleStore, target: ShuttleStore, notify: Callable[[str, int], None]
) -> dict[str, int]:
    """Requests, then their events (which point at them), each with its id, version and times."""
    requests = events = 0
    for request in source.iter_requests():
        target.copy_request(request)
        requests += 1
    notify("inter-library requests", requests)
    for event in source.iter_events():
        target.copy_event(event)
        events += 1
    notify("request events", events)
    return {"shuttle_requests": requests, "shuttle_events": events}


def _copy_searches(
    source: SavedSearchStore, target: SavedSearchStore, notify: Callable[[str, int], None]
) -> dict[str, int]:
    """Saved searches and search history entries, each with its id and times."""
    searches = entries = 0
    for search in source.iter_searches():
        target.add_search(search, limit=0)  # a copy (it has its id) is taken whatever the limit
        searches += 1
    notify("saved searches", searches)
    for entry in source.iter_history():
        target.copy_history_entry(entry)
        entries += 1
    notify("search history entries", entries)
    return {"saved_searches": searches, "history_entries": entries}


def _copy_targets(
    source: LiveTargetStore, target: LiveTargetStore, notify: Callable[[str, int], None]
) -> int:
    """Every live target as it is, with its times (checked when it was configured)."""
    count = 0
    for live_target in source.list_targets():
        target.save_target(live_target)
        count += 1
    notify("live targets", count)
    return count


def _copy_alerts(source: SqlAlertStore, target: SqlAlertStore, notify: Callable[[str, int], None]) -> None:
    """The saved searches' alert settings, with their links' keys (links sent keep working), progress
    and feed tokens (feed readers keep their address)."""
    alerts = 0
    for alert in source.iter_set():
        target.copy_alert(alert)
        alerts += 1
    notify("saved searches' alerts", alerts)


def _copy_records(
    source: Catalogue, target: Catalogue, notify: Callable[[str, int], None]
) -> MigrationReport:
    """Sources, records, harvest history, quarantine, decisions, named holdings codes, memberships,
    redirects and the OAI-PMH feed: the record store, item by item
    (:func:`unicat.records_copy.copy_records`)."""
    copied = copy_records(StoredRecords(source.records), target.records, notify)
    return MigrationReport(
        sources=copied.sources,
        source_records=copied.source_records,
        harvest_runs=copied.harvest_runs,
        quarantined=copied.quarantined,
        union_records=0,
        redirects=copied.redirects,
        merge_decisions=copied.merge_decisions,
        holding_codes=copied.holding_codes,
        oai_items=copied.oai_items,
    )


def copy_outbox(source: OutboxStore, target: OutboxStore, notify: Callable[[str, int], None]) -> int:
    """Every message of the outbox with its id, state, attempts and times."""
    count = 0
    for message in source.iter_messages():
        target.add_copied(message)
        count += 1
    notify("mail messages", count)
    return count
