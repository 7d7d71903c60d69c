"""Sending the alert digests: for each saved search whose daily or weekly digest is due, the titles new
for it since the last one, as one e-mail in the outbox.

One function (:func:`send_digests`) serves both ``unicat alerts send`` (cron) and the scheduler of
``unicat serve`` (:mod:`search_app.alert_scheduler`). A run:

1. takes the end of the window, ``until``: the newest date a finished index generation stamped
   (:mod:`unicat.alerts` says why not the clock);
2. reads the due searches a batch at a time (due: the period of the latest send time, a day or an ISO
   week, is not the one the search last handled) and the candidates, the union records new in the
   widest of their windows (:meth:`~unicat.stores.alerts.SqlAlertStore.new_union_ids`), read once a
   run while the batches share that window (a day's searches do);
3. limits each search to the candidates new *for it* in its own window (new in the network, or at one
   of the libraries it filters by) and asks the index which of them it finds
   (:mod:`unicat.alert_matching`: the search page's own answers);
4. for each search, in ONE transaction, stores the digest in the outbox under the key
   ``alert.digest:<search id>:<period>`` and moves the search's progress to ``until``; with nothing
   new no message is stored and the progress moves all the same.

A run that dies half-way leaves every search done or untouched, and the next run does the rest: a
digest is stored once (its key) and no reader is skipped (the progress moves only with the message).
Several processes running at once (``unicat serve`` on several machines over PostgreSQL) store each
digest once too: the key is unique in the outbox, and the progress moves only from the period before.
The outbox sends each message at most once.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from gettext import NullTranslations
from urllib.parse import urlencode

from search_app.alert_mail import LISTED, Digest, NewTitle, Period, digest_message
from search_app.catalogue.fetch import ids_of_filters
from search_app.feeds.atom import holding_libraries, record_url
from unicat import signed_links
from unicat.alert_matching import Candidates, match_saved_searches
from unicat.alert_matching import SavedSearch as MatchedSearch
from unicat.alerts import UNSUBSCRIBE, Alert, new_in_window, period_label, search_libraries
from unicat.catalogue import Catalogue
from unicat.errors import BadParameter
from unicat.libraries import Library
from unicat.model import UnionRecord
from unicat.outbox import Message
from unicat.query import MAX_ID_FILTER, parse_search_params
from unicat.saved_searches import query_params
from unicat.settings import WEEKDAYS, Settings
from unicat.stores.alerts import BATCH, SqlAlertStore

log = logging.getLogger(__name__)

KEY_PREFIX = "alert.digest"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a run did with one due search: ``total`` titles were new for it (no message when 0)."""

    search_id: int
    recipient: str
    period: str
    total: int
    key: str


@dataclass(slots=True)
class DigestReport:
    due: int = 0
    stored: int = 0
    empty: int = 0


def digest_key(search_id: int, period: str) -> str:
    """The outbox key of a search's digest for a period: stored once, however many runs store it."""
    return f"{KEY_PREFIX}:{search_id}:{period}"


def unsubscribe_url(site: str, alert: Alert, now: datetime, days: float) -> str:
    """The signed link that switches the search's e-mail off without signing in (see
    :mod:`unicat.signed_links`; rotating the search's key revokes every such link)."""
    assert alert.key is not None
    token = signed_links.sign(alert.key, UNSUBSCRIBE, str(alert.search_id), now + timedelta(days=days))
    return f"{site}/alerts/unsubscribe?{urlencode({'search': alert.search_id, 'token': token})}"


def due_period(alert: Alert, now: datetime, settings: Settings) -> str | None:
    """The period whose digest ``alert`` owes at ``now``, or ``None`` when it has sent it (or is off)."""
    label = period_label(alert.frequency, now, settings.alerts_hour, WEEKDAYS.index(settings.alerts_weekday))
    return label if label is not None and label != alert.period else None


def send_digests(
    catalogue: Catalogue,
    settings: Settings,
    catalogues: dict[str, NullTranslations],
    now: datetime,
    *,
    dry_run: bool = False,
    notify: Callable[[Outcome], None] | None = None,
) -> DigestReport:
    """Store the due digests at ``now`` (an aware time) in the outbox, each with its search's progress;
    ``dry_run`` computes them and stores nothing. ``notify`` hears of each search once it is done."""
    store = SqlAlertStore(catalogue.database)
    report = DigestReport()
    until = store.stamped_until()
    due = ((alert, period) for alert in store.iter_on() if (period := due_period(alert, now, settings)))
    # Read once a run, and the readers once a batch: a query per digest is what a run of thousands of
    # searches cannot afford on a database across the network.
    libraries = catalogue.libraries.list_libraries()
    day = _Day(catalogue)
    while batch := list(itertools.islice(due, BATCH)):
        report.due += len(batch)
        found = _new_titles(catalogue, settings, day, [alert for alert, _ in batch], until) if until else {}
        users = catalogue.accounts.get_users(sorted({alert.user_id for alert, _ in batch}))
        for alert, period in batch:
            titles, total = found.get(alert.search_id, ([], 0))
            user = users.get(alert.user_id)
            if user is None:
                continue  # the account is gone: its searches go with it
            key = digest_key(alert.search_id, period)
            message = _message(settings, catalogues, libraries, alert, user.display_name, user.email, titles,
                               total, key, now) if total else None  # fmt: skip
            if not dry_run:
                store.record_digest(alert, until or alert.since or "", period, message)
            report.stored += message is not None
            report.empty += message is None
            if notify is not None:
                notify(Outcome(alert.search_id, user.email, period, total, key))
    return report


Window = tuple[dict[str, str], tuple[str, ...]]


class _Day:
    """What the batches of one run share. The due searches of a day mostly have one progress, so one
    candidate window: its records are read, each search window's new titles worked out and the
    candidates prepared for matching once a run, not once a batch of :data:`BATCH` searches. Only the
    latest window is kept: memory holds one day's candidates, as one batch did."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.span: tuple[str, str] | None = None
        self.records: dict[str, UnionRecord] = {}
        self.windows: dict[tuple[tuple[str, ...], str], Window] = {}
        self.matching: tuple[tuple[str, ...], Candidates] | None = None

    def records_in(self, since: str, until: str) -> dict[str, UnionRecord]:
        """The candidate records new in ``(since, until]``, by id."""
        if self.span != (since, until):
            ids = SqlAlertStore(self.catalogue.database).new_union_ids(since, until)
            self.records = {}  # the previous window's go before the next are read
            self.records = {record.id: record for record in _records(self.catalogue, ids)}
            self.span, self.windows, self.matching = (since, until), {}, None
        return self.records

    def window(self, libraries: tuple[str, ...], since: str, until: str) -> Window:
        """:func:`_window` of the records read, once per libraries and progress."""
        found = self.windows.get((libraries, since))
        if found is None:
            found = self.windows[(libraries, since)] = _window(self.records, libraries, since, until)
        return found

    def candidates(self, union_ids: Sequence[str]) -> Candidates:
        """The records of ``union_ids`` (read already) prepared for matching (what
        :func:`~unicat.alert_matching.load_candidates` reads again from the index otherwise)."""
        key = tuple(union_ids)
        if self.matching is None or self.matching[0] != key:
            self.matching = key, Candidates(self.records[i] for i in key if i in self.records)
        return self.matching[1]


def _new_titles(
    catalogue: Catalogue, settings: Settings, day: _Day, alerts: Sequence[Alert], until: str
) -> dict[int, tuple[list[tuple[UnionRecord, str]], int]]:
    """For each alert, its new titles in its window with the instant each became new for it, newest
    first, and how many there are."""
    oldest = min(alert.since or until for alert in alerts)
    records = day.records_in(oldest, until)
    searches: list[MatchedSearch] = []
    new_for: dict[int, dict[str, str]] = {}
    for alert in alerts:
        params = query_params(alert.query)
        libraries = search_libraries(params)
        since = alert.since or until
        # Most searches share their window (the same libraries, the same progress): its new titles
        # are worked out once, not once per search over every candidate.
        dates, ordered = day.window(libraries, since, until)
        if not dates:
            continue
        new_for[alert.search_id] = dates
        try:
            query = ids_of_filters(catalogue, parse_search_params(params, settings))
        except BadParameter as exc:  # a search saved under other settings: the others go on
            log.warning("saved search #%d cannot run (%s): no digest for it", alert.search_id, exc)
            continue
        ids = ordered if query.ids is None else tuple(sorted(set(dates) & set(query.ids)))
        # Newest first by the engine (by the one library's date where it filters by one), so that the
        # first ids the matcher keeps are the titles the digest lists.
        limited = dataclasses.replace(query, ids=ids, sort="newest")
        if len(libraries) == 1:
            limited = dataclasses.replace(limited, new_at=libraries[0], new_since=since)
        searches.append(MatchedSearch(str(alert.search_id), limited))
    found: dict[int, tuple[list[tuple[UnionRecord, str]], int]] = {}
    for group, group_ids in _groups(searches):
        candidates = day.candidates(sorted(group_ids))
        for matches in match_saved_searches(catalogue.index, group, candidates, first=LISTED, workers=2):
            for match in matches:
                search_id = int(match.key)
                dates = new_for[search_id]
                listed = sorted(
                    match.first, key=lambda record_id: (dates[record_id], record_id), reverse=True
                )
                found[search_id] = ([(records[i], dates[i]) for i in listed], match.total)
    return found


def _window(
    records: dict[str, UnionRecord], libraries: tuple[str, ...], since: str, until: str
) -> tuple[dict[str, str], tuple[str, ...]]:
    """The records new in a window for a search limited to ``libraries``, with the instant each became
    new, the newest at most as many as one search may be limited to; and their ids in order."""
    dates = {
        record_id: moment
        for record_id, record in records.items()
        if (moment := new_in_window(record, libraries, since, until)) is not None
    }
    newest = sorted(dates, key=lambda record_id: (dates[record_id], record_id), reverse=True)
    kept = {record_id: dates[record_id] for record_id in newest[:MAX_ID_FILTER]}
    return kept, tuple(sorted(kept))


def _groups(searches: Sequence[MatchedSearch]) -> Iterator[tuple[list[MatchedSearch], set[str]]]:
    """The searches in groups whose candidates together are at most :data:`MAX_ID_FILTER` (the matcher
    limits every search to them): one group on any ordinary day."""
    group: list[MatchedSearch] = []
    ids: set[str] = set()
    for search in searches:
        # Searches of one window share their ids: nothing to add, no union of thousands built per search.
        extra = set(search.query.ids or ()) - ids
        if group and len(ids) + len(extra) > MAX_ID_FILTER:
            yield group, ids
            group, ids = [], set()
            extra = set(search.query.ids or ())
        group.append(search)
        ids |= extra
    if group:
        yield group, ids


def _records(catalogue: Catalogue, union_ids: Sequence[str]) -> Iterable[UnionRecord]:
    for start in range(0, len(union_ids), MAX_ID_FILTER):
        yield from catalogue.index.get_union_records(list(union_ids[start : start + MAX_ID_FILTER]))


def _message(
    settings: Settings,
    catalogues: dict[str, NullTranslations],
    libraries: Sequence[Library],
    alert: Alert,
    reader: str,
    recipient: str,
    titles: Sequence[tuple[UnionRecord, str]],
    total: int,
    key: str,
    now: datetime,
) -> Message:
    site = settings.site_url.rstrip("/")
    names = {library.code: library.name_in(alert.language) for library in libraries}
    params = query_params(alert.query)
    searched = search_libraries(params)
    newest = {name: values for name, values in params.items() if name != "sort"}
    newest.update(sort=["newest"], new_since=[alert.since or ""])
    if len(searched) == 1:
        newest["new_at"] = [searched[0]]
    period: Period = "weekly" if alert.frequency == "weekly" else "daily"
    unsubscribe = unsubscribe_url(site, alert, now, settings.alerts_link_days)
    digest = Digest(
        reader=reader,
        language=alert.language,
        search=alert.name,
        search_url=f"{site}/search?{alert.query}",
        titles=[
            NewTitle(
                record.title or record.id,
                record_url(site, record.id),
                record.responsibility,
                record.year,
                tuple(holding_libraries(record.holdings, names)),
            )
            for record, _ in titles
        ],
        total=total,
        period=period,
        all_url=f"{site}/search?{urlencode(newest, doseq=True)}",
        unsubscribe_url=unsubscribe,
        manage_url=f"{site}/account/searches#search-{alert.search_id}",
    )
    message = digest_message(
        digest, recipient=recipient, key=key, catalogue=settings.oai_repository_name, catalogues=catalogues
    )
    headers = (
        ("List-Unsubscribe", f"<{unsubscribe}>"),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
    )
    return dataclasses.replace(message, headers=headers)
