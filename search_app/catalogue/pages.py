"""The catalogue's HTML pages: home, results, record."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from search_app.auth import viewer
from search_app.catalogue.fetch import Search, find_record, query_lists, run_search
from search_app.catalogue.links_out import cite_links_of, export_links
from search_app.catalogue.live import choose_targets, launch_live, start_live, wait_for_end
from search_app.catalogue.live_pages import hit_context, live_context, union_lines
from search_app.catalogue.present import (
    FacetView,
    coded_data,
    facet_views,
    holdings_by_library,
    value_label,
)
from search_app.catalogue.spelling import did_you_mean
from search_app.i18n import N_, current_language, format_number, gettext, link_language
from search_app.library_cache import LIBRARIES
from search_app.links import SearchLinks, page_numbers, record_url, year_param
from search_app.readers.reading_lists import lists_for_record_page
from search_app.readers.record_readers import readers_context
from search_app.readers.request_pages import request_offer
from search_app.readers.search_history import remember_search, request_params
from search_app.render import render
from search_app.state import INDEX, LABELS, SETTINGS, SOURCES, in_thread
from unicat.model import UnionRecord
from unicat.query import MAX_PAGE, SearchQuery
from unicat.saved_searches import canonical_query


@dataclass(frozen=True, slots=True)
class FacetLink:
    """A facet value as the sidebar shows it: a link that adds the filter, or removes it if selected,
    and one that leaves out its records (``None`` for a selected value and for decades)."""

    label: str
    count: str
    """The count as the language writes it; ``titles`` is the number itself, which picks the plural."""
    titles: int
    url: str
    selected: bool
    exclude_url: str | None = None
    value: str = ""
    """The value itself, which the page's live counts are matched to (static/live.js)."""


@dataclass(frozen=True, slots=True)
class FacetGroup:
    """A facet's links, and the link that lists more of its values or the first ones again."""

    items: list[FacetLink]
    more_url: str | None = None
    fewer_url: str | None = None


def facet_links(
    views: list[FacetView], links: SearchLinks, year: str | None, query: SearchQuery
) -> dict[str, FacetGroup]:
    """The sidebar's links, built here rather than in the template: a template call costs far more.

    The search counted one value more than ``query`` asks of each facet (``run_search(peek=True)``):
    a facet that has it gets a "Show more" link instead of listing it.
    """
    result: dict[str, FacetGroup] = {}
    for view in views:
        size = query.size_of(view.name)
        items = []
        for value in view.values[:size]:
            exclude_url = None
            if view.name == "year":
                selected = value.value == year
                url = links.with_year(None if selected else value.value)
            else:
                selected = links.is_selected(view.name, value.value)
                url = links.toggle(view.name, value.value)
                if not selected:
                    exclude_url = links.toggle_exclusion(view.name, value.value)
            items.append(
                FacetLink(
                    value.label,
                    format_number(value.count),
                    value.count,
                    url,
                    selected,
                    exclude_url,
                    value.value,
                )
            )
        expanded = view.name in query.facet_sizes
        more_url = links.with_more(view.name, True) if len(view.values) > size and not expanded else None
        result[view.name] = FacetGroup(
            items, more_url, links.with_more(view.name, False) if expanded else None
        )
    return result


# Other editions listed on a record page (the record keeps up to indexer.works.MAX_EDITIONS ids).
EDITIONS_SHOWN = 20

SORT_LABELS = {
    "relevance": N_("Relevance"),
    "year_desc": N_("Newest first"),
    "year_asc": N_("Oldest first"),
    "title": N_("Title A–Z"),
    "newest": N_("Recently added"),
}


async def home(request: web.Request) -> web.Response:
    """The front page: what the catalogue holds and who contributes to it."""
    sources = await request.app[SOURCES].by_code()
    count = await in_thread(request.app, request.app[INDEX].union_count)
    libraries = sorted(sources.values(), key=lambda source: source.name.casefold())
    return render(request, "home.html", {"record_count": count, "libraries": libraries, "q": ""})


async def search(request: web.Request) -> web.Response:
    """The results page, with facets, active filters, sorting and paging; the live catalogues the
    search asks start at once and the page follows them (static/live.js), or, with ``live=wait``,
    shows their merged results once they answered."""
    choice = await choose_targets(request, query_lists(request))
    found = await run_search(request, peek=True)
    live = await start_live(request, found, choice)
    if live.run is not None and choice.waits:
        await wait_for_end(live.run)
    links = SearchLinks(
        found.query, request.app[SETTINGS].page_size, lang=link_language(request), extra=choice.link_params()
    )
    context = await results_context(request, found, links)
    context.update(await live_context(request, live, found, links))
    context["kept_query"] = canonical_query(request_params(request))
    response = render(request, "search.html", context)
    try:
        await remember_search(request, response, found.result.total)
    finally:
        launch_live(request, live)
    return response


async def results_context(request: web.Request, found: Search, links: SearchLinks) -> dict[str, Any]:
    """What the results template (search.html) shows of ``found``: hits, facets, active filters and
    paging, every link built by ``links``; shared by the search page and the pages that are a search
    with parameters of their own (the new titles'). ``kept_query`` is empty: the caller sets it where
    the search can be saved."""
    query, result, names, sites = found.query, found.result, found.library_names, found.site_names
    labels = request.app[LABELS]
    last_page = max(1, min(MAX_PAGE, math.ceil(result.total / query.page_size)))
    # (facet title, value label, the link that removes the filter, whether the value is left out)
    active = [
        (
            labels.facet_title(name),
            value_label(name, value, labels, names, sites),
            links.toggle(name, value),
            False,
        )
        for name, values in query.filters.items()
        for value in values
    ]
    active.extend(
        (
            labels.facet_title(name),
            value_label(name, value, labels, names, sites),
            links.toggle_exclusion(name, value),
            True,
        )
        for name, values in query.exclusions.items()
        for value in values
    )
    year = year_param(query)
    if year is not None:
        active.append((labels.facet_title("year"), year, links.with_year(None), False))
    facets = facet_views(result, labels, names, sites)
    correction = await did_you_mean(request, found)
    context = {
        "did_you_mean": correction,
        "did_you_mean_url": links.with_text(correction.q) if correction is not None else None,
        "q": query.text,
        "query": query,
        "result": result,
        "library_names": names,
        "ratings": found.ratings,
        "site_names": sites,
        "available_now": available_now_links(links, query, own_site(request), sites),
        "facets": facets,
        "facet_links": facet_links(facets, links, year, query),
        "timed_out_titles": [labels.facet_title(name) for name in result.facets_timed_out],
        "active_filters": active,
        "links": links,
        "sort_labels": {value: gettext(label) for value, label in SORT_LABELS.items()},
        "first_shown": query.offset + 1,
        "last_shown": query.offset + len(result.hits),
        "last_page": last_page,
        "page_numbers": page_numbers(query.page, last_page),
        "kept_query": "",
        "live": None,
        "live_facets": {},
        "live_facet_extra": {},
        **await hit_context(request, None, union_lines(result.hits), result.hits),
    }
    return context


async def record(request: web.Request) -> web.Response:
    """A record's full description, its holdings by library, how it was merged, and its readers."""
    found = await find_record(request, request.match_info["id"])
    if isinstance(found, str):
        raise web.HTTPMovedPermanently(record_url(found))
    return await record_page(request, found)


async def record_page(
    request: web.Request, found: UnionRecord, extra: dict[str, Any] | None = None, status: int = 200
) -> web.Response:
    """The record page of ``found``; ``extra`` adds to what the template gets (a refused comment's
    message and text, shown again)."""
    names = await request.app[SOURCES].names()
    editions = found.editions[:EDITIONS_SHOWN]
    context = {
        "q": "",
        "record": found,
        "coded_data": coded_data(found, request.app[LABELS]),
        "library_names": names,
        "holdings": holdings_by_library(
            found,
            names,
            first=own_library(request),
            barcodes=viewer(request).is_staff,
            opac_templates=await request.app[LIBRARIES].opac_templates(),
            as_of=await request.app[SOURCES].as_of(),
            site_names=await request.app[SOURCES].site_names(current_language()),
        ),
        "cite": cite_links_of(request, [found])[found.id],
        "export_links": export_links(found.id),
        "editions": await in_thread(request.app, request.app[INDEX].get_union_records, editions)
        if editions
        else [],
        "comment_error": None,
        "comment_typed": None,
        **await readers_context(request, found),
        **await request_offer(request, found),
        **await lists_for_record_page(request),
        **(extra or {}),
    }
    return render(request, "record.html", context, status=status)


@dataclass(frozen=True, slots=True)
class Toggle:
    """A filter the search page offers as one switch: its label, the link that flips it, its state."""

    label: str
    url: str
    selected: bool


def available_now_links(
    links: SearchLinks, query: SearchQuery, library: str | None, site_names: Mapping[str, str]
) -> list[Toggle]:
    """ "Available now" (a copy available somewhere) and, for a reader with a library, "Available at
    my library" named by its name in the directory (a copy available there): the availability
    filters as switches."""
    toggles = [
        Toggle(
            gettext("Available now"),
            links.toggle("availability", "available"),
            links.is_selected("availability", "available"),
        )
    ]
    if library is not None:
        toggles.append(
            Toggle(
                gettext("Available at my library (%(library)s)")
                % {"library": site_names.get(library, library)},
                links.toggle("available_at", library),
                links.is_selected("available_at", library),
            )
        )
    return toggles


def own_site(request: web.Request) -> str | None:
    """The library of the signed-in reader (patron or librarian), if their account names one."""
    user = viewer(request).user
    return user.library if user is not None and user.library else None


def own_library(request: web.Request) -> str | None:
    """The library of a signed-in librarian (its holdings come first), if any."""
    user = viewer(request).user
    return user.library if user is not None and user.role != "patron" else None
