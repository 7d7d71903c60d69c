"""What is new in the network and in each library: ``/new`` and ``/libraries/{code}/new``, and their
Atom feeds ``/new.atom`` and ``/libraries/{code}/new.atom``.

A page of new titles IS a search: the search page's query, facets, filters and paging
(:func:`search_app.catalogue.pages.results_context`), with ``new_since`` set from the period the reader
chose (``days``), ``new_at`` set to the library, and the newest first. The dates are the indexer's
(docs/new-titles.md): when a title entered the catalogue (``first_seen``) or when the library first
held a copy of it (``held_since``), so a re-index never lists old titles again.

The period starts at 00:00 UTC of the day ``days`` days ago, not at the second of the request: a
page and a feed then stay the same all day long, which lets feed readers' conditional polls
(``ETag``, ``Last-Modified``) get ``304 Not Modified`` until a new title arrives.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from aiohttp import web

from search_app.catalogue.fetch import Search, query_lists, run_search
from search_app.catalogue.libraries import find_library
from search_app.catalogue.pages import results_context
from search_app.feeds.atom import Entry, Feed, write_feed
from search_app.feeds.http import atom_response, feed_base
from search_app.i18n import current_language, format_date, format_number, gettext, link_language, ngettext
from search_app.links import SearchLinks
from search_app.render import CATALOGUE_NAME, render
from search_app.state import CATALOGUE, SETTINGS, in_thread
from unicat.clock import parse_time
from unicat.errors import BadParameter
from unicat.libraries import Library
from unicat.model import UnionRecord
from unicat.query import FACET_MORE

DAYS_PARAM = "days"
PERIODS = (7, 30, 90)
"""The periods the page offers, in days; any other from 1 to :data:`MAX_DAYS` may be asked for."""
DEFAULT_DAYS = 30
MAX_DAYS = 366
SET_BY_PAGE = ("new_since", "new_at", "sort")
"""Search parameters these pages set themselves: a reader's value would be silently overridden, so
it is refused instead, naming the search page that takes it."""
FEED_IGNORED = ("page", "page_size", "facets", FACET_MORE)
"""Parameters of a page that a feed has no use for (it is one list of the newest, without facets)."""
EMPTY_FEED_UPDATED = datetime(1970, 1, 1, tzinfo=UTC)
"""The ``updated`` of a feed without entries: a fixed instant, so that its validators do not change
from one poll to the next while nothing is new."""


@dataclass(frozen=True, slots=True)
class NewTitles:
    """Which new titles are asked for: of the network (``library`` ``None``) or of one library, in the
    last ``days`` days, that is since the day ``since`` (``2026-11-07``)."""

    library: Library | None
    days: int
    since: str

    @property
    def path(self) -> str:
        """The page's path; the feed's is this with ``.atom``."""
        if self.library is None:
            return "/new"
        return f"/libraries/{quote(self.library.code, safe='')}/new"

    def date_of(self, record: UnionRecord) -> str | None:
        """When ``record`` became new here: entered the catalogue, or was first held by the library."""
        return record.first_seen if self.library is None else record.held_since.get(self.library.code)


def parse_days(values: Sequence[str]) -> int:
    """The period asked for, in days; :data:`DEFAULT_DAYS` without one; :class:`BadParameter` else."""
    if not values or values == [""]:
        return DEFAULT_DAYS
    if len(values) > 1:
        raise BadParameter(DAYS_PARAM, "give this parameter once")
    raw = values[0].strip()
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_DAYS:
        raise BadParameter(
            DAYS_PARAM, f"give a whole number of days from 1 to {MAX_DAYS} (7, 30, 90…), got {raw[:20]!r}"
        )
    return int(raw)


def period_start(days: int, now: datetime) -> str:
    """The first day of the period: ``days`` days before ``now``'s day (UTC)."""
    return (now.astimezone(UTC).date() - timedelta(days=days)).isoformat()


def search_params(
    request: web.Request, library: Library | None, *, feed: bool
) -> tuple[NewTitles, dict[str, list[str]]]:
    """The search these new titles are: the request's parameters (its filters, facets and ``q``) with
    ``new_since`` (and ``new_at``) set from the period and the newest first; 400 on a bad ``days`` or
    on a parameter the page sets itself."""
    params = query_lists(request)
    days = parse_days(params.pop(DAYS_PARAM, []))
    for name in SET_BY_PAGE:
        if name in params:
            raise BadParameter(
                name, "this page sets it itself; use /search (with new_since and new_at) for other searches"
            )
    scope = NewTitles(library, days, period_start(days, datetime.now(UTC)))
    params["new_since"] = [scope.since]
    params["sort"] = ["newest"]
    if library is not None:
        params["new_at"] = [library.code]
    if feed:
        for name in FEED_IGNORED:
            params.pop(name, None)
        params["page_size"] = [str(request.app[SETTINGS].new_feed_entries)]
        params["facets"] = ["0"]
    return scope, params


def page_links(request: web.Request, found: Search, scope: NewTitles) -> SearchLinks:
    """The results' links, which stay on this page and keep its period."""
    extra = () if scope.days == DEFAULT_DAYS else ((DAYS_PARAM, str(scope.days)),)
    return SearchLinks(
        found.query,
        request.app[SETTINGS].page_size,
        path=scope.path,
        lang=link_language(request),
        extra=extra,
        default_sort="newest",
    )


def feed_query(links: SearchLinks) -> str:
    """The query string the page and its feed share: the words, filters, period and language, without
    what a feed has no use for (paging, facet sizes)."""
    pairs = [(name, value) for name, value in links.hidden_fields() if name not in FEED_IGNORED]
    return f"?{urlencode(pairs)}" if pairs else ""


async def _library(request: web.Request) -> Library:
    """The library of the path; 404 for a code the directory does not list, as ``/libraries/{code}``."""
    return await in_thread(request.app, find_library, request.app[CATALOGUE], request.match_info["code"])


def heading(scope: NewTitles) -> str:
    if scope.library is None:
        return gettext("New titles")
    return gettext("New at %(library)s") % {"library": scope.library.name_in(current_language())}


async def new_page(request: web.Request) -> web.Response:
    """``GET /new``: the titles new in the network in the period, newest first."""
    return await _page(request, None)


async def library_new_page(request: web.Request) -> web.Response:
    """``GET /libraries/{code}/new``: the titles first held at the library in the period."""
    return await _page(request, await _library(request))


async def _page(request: web.Request, library: Library | None) -> web.Response:
    scope, params = search_params(request, library, feed=False)
    found = await run_search(request, peek=True, params=params)
    links = page_links(request, found, scope)
    context: dict[str, Any] = await results_context(request, found, links)
    context.update(
        heading=heading(scope),
        library=library,
        since=scope.since,
        path=scope.path,
        periods=[
            (
                ngettext("Last %(num)s day", "Last %(num)s days", days) % {"num": format_number(days)},
                dataclasses.replace(
                    links, extra=() if days == DEFAULT_DAYS else ((DAYS_PARAM, str(days)),)
                ).page(1),
                days == scope.days,
            )
            for days in PERIODS
        ],
        narrow_fields=[pair for pair in links.hidden_fields() if pair[0] != "q"],
        feed_url=f"{scope.path}.atom{feed_query(links)}",
        new_dates={record.id: format_date(scope.date_of(record)) for record in found.result.hits},
    )
    return render(request, "new.html", context)


async def new_feed(request: web.Request) -> web.Response:
    """``GET /new.atom``: the network's new titles as an Atom feed."""
    return await _feed(request, None)


async def library_new_feed(request: web.Request) -> web.Response:
    """``GET /libraries/{code}/new.atom``: a library's new titles as an Atom feed."""
    return await _feed(request, await _library(request))


async def _feed(request: web.Request, library: Library | None) -> web.Response:
    scope, params = search_params(request, library, feed=True)
    found = await run_search(request, params=params)
    entries = []
    for record in found.result.hits:
        became_new = parse_time(scope.date_of(record))
        if became_new is not None:  # the search asked for dated records only; a guard, not a case
            entries.append(Entry(record, became_new))
    updated = max((entry.updated for entry in entries), default=EMPTY_FEED_UPDATED)
    base = feed_base(request)
    query = feed_query(page_links(request, found, scope))
    catalogue = gettext(CATALOGUE_NAME)
    feed = Feed(
        id=f"{base}{scope.path}.atom{query}",
        title=f"{heading(scope)} — {catalogue}",
        updated=updated,
        self_url=f"{base}{scope.path}.atom{query}",
        page_url=f"{base}{scope.path}{query}",
        author=catalogue,
        language=current_language(),
        subtitle=ngettext(
            "The titles new in the last %(num)s day, the newest first",
            "The titles new in the last %(num)s days, the newest first",
            scope.days,
        )
        % {"num": format_number(scope.days)},
    )
    names = {**found.library_names, **found.site_names}
    return atom_response(request, write_feed(feed, entries, base, names), updated, private=False)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/new", new_page, name="new_titles")
    app.router.add_get("/new.atom", new_feed, name="new_titles_feed")
    app.router.add_get("/libraries/{code}/new", library_new_page, name="library_new_titles")
    app.router.add_get("/libraries/{code}/new.atom", library_new_feed, name="library_new_titles_feed")
