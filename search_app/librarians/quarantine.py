"""What ``/librarians/quarantine`` and ``/api/quarantine`` show: the quarantined records, paged, as
`unicat quarantine list` prints them.

Both take the same parameters — ``source``, ``stage``, ``kind``, ``page``, ``page_size`` — checked by the same
functions as the command line's options; a bad one is a 400 naming it.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Mapping, Sequence
from urllib.parse import urlencode

from aiohttp import web

from search_app.catalogue.fetch import query_lists
from search_app.i18n import format_age
from search_app.parameters import check_api_parameters
from search_app.render import render
from search_app.state import RECORDS, SOURCES, in_thread
from search_app.timing import add_engine_time
from unicat.clock import utc_now
from unicat.errors import BadParameter
from unicat.quarantine import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE,
    MAX_PAGE_SIZE,
    QuarantineFilter,
    QuarantinePage,
    check_kind,
    check_source,
    check_stage,
    check_whole_number,
    quarantine_page,
)

QUARANTINE_PARAMETERS = ("source", "stage", "kind", "page", "page_size")


def parse_quarantine_params(params: Mapping[str, Sequence[str]]) -> QuarantineFilter:
    """The validated filter, or :class:`BadParameter` naming the first bad parameter; other names are
    not read (the desk ignores them, :func:`api_quarantine` refuses them)."""
    single: dict[str, str] = {}
    for name in QUARANTINE_PARAMETERS:
        values = params.get(name, ())
        if len(values) > 1:
            raise BadParameter(name, "give this parameter once")
        if values and values[0] != "":
            single[name] = values[0]
    return QuarantineFilter(
        source=check_source("source", single["source"]) if "source" in single else None,
        stage=check_stage("stage", single["stage"]) if "stage" in single else None,
        kind=check_kind("kind", single["kind"]) if "kind" in single else None,
        page=check_whole_number("page", single.get("page", "1"), 1, MAX_PAGE),
        page_size=check_whole_number(
            "page_size", single.get("page_size", str(DEFAULT_PAGE_SIZE)), 1, MAX_PAGE_SIZE
        ),
    )


def filter_query(wanted: QuarantineFilter, page: int | None = None) -> str:
    """The query string of ``wanted`` (at another ``page`` if given); defaults left out."""
    filters = (("source", wanted.source), ("stage", wanted.stage), ("kind", wanted.kind))
    pairs = [(name, value) for name, value in filters if value]
    number = wanted.page if page is None else page
    if number != 1:
        pairs.append(("page", str(number)))
    if wanted.page_size != DEFAULT_PAGE_SIZE:
        pairs.append(("page_size", str(wanted.page_size)))
    return f"?{urlencode(pairs)}" if pairs else ""


async def fetch_quarantine(request: web.Request) -> QuarantinePage:
    """The page of entries the request asks for, read in the engine's thread pool."""
    wanted = parse_quarantine_params(query_lists(request))
    started = time.perf_counter()
    page = await in_thread(request.app, quarantine_page, request.app[RECORDS], wanted)
    add_engine_time(request, started)
    return page


async def quarantine_desk(request: web.Request) -> web.Response:
    """For librarians: every quarantined record, newest first, paged, with the counts per library and
    stage, per library and kind of record set aside, and links that filter by them."""
    page = await fetch_quarantine(request)
    wanted = page.filter
    names = await request.app[SOURCES].names()
    context = {
        "q": "",
        "page": page,
        "library_names": names,
        "json_url": "/api/quarantine" + filter_query(wanted),
        "first_url": filter_query(wanted, 1),
        "previous_url": (filter_query(wanted, wanted.page - 1) or "?") if wanted.page > 1 else None,
        "next_url": filter_query(wanted, wanted.page + 1) if wanted.page < page.last_page else None,
        "age": functools.partial(format_age, now=utc_now()),
    }
    return render(request, "quarantine.html", context)


async def api_quarantine(request: web.Request) -> web.Response:
    """``/api/quarantine``: the JSON of `unicat quarantine list --json` (``source``, ``stage``,
    ``kind``, ``page``, ``page_size`` as its options)."""
    check_api_parameters(query_lists(request), QUARANTINE_PARAMETERS)
    page = await fetch_quarantine(request)
    return web.json_response(page.to_json())
