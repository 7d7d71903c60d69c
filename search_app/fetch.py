"""How handlers get what they show: a search, or a record that may have moved, via the thread pool."""

from __future__ import annotations

import re
from dataclasses import dataclass

from aiohttp import web

from search_app.errors import RecordNotFound
from search_app.state import ENGINE, SETTINGS, SOURCES, in_thread
from unicat.errors import BadParameter
from unicat.model import UnionRecord
from unicat.query import SearchQuery, SearchResult, parse_search_params

MAX_ID_LENGTH = 200
# A year or a range of plain ASCII years of at most four digits. unicat.query.parse_year_filter lets
# through a lone year of any length ("99999999999999999999" overflows SQLite) and non-ASCII digits
# ("²" passes isdigit() but not int()); until it checks them itself, the web layer refuses them here.
_YEAR_RE = re.compile(r"^\s*(?:[0-9]{1,4}|[0-9]{0,4}\s*-\s*[0-9]{0,4})\s*$")


@dataclass(frozen=True, slots=True)
class Search:
    """A validated query, what the engine answered, and the library names to show with it."""

    query: SearchQuery
    result: SearchResult
    library_names: dict[str, str]


def query_lists(request: web.Request) -> dict[str, list[str]]:
    """Request parameters as lists, so a repeated parameter is seen (and refused where it must be single)."""
    params = {key: request.query.getall(key) for key in request.query}
    for year in params.get("year", ()):
        if year and not _YEAR_RE.match(year):
            raise BadParameter("year", f"use a year (1995) or a range (1990-1999), got {year[:50]!r}")
    return params


async def run_search(request: web.Request) -> Search:
    """Parse the request's search parameters (400 on bad ones) and run the search."""
    app = request.app
    query = parse_search_params(query_lists(request), app[SETTINGS])
    result = await in_thread(app, app[ENGINE].search, query)
    return Search(query, result, await app[SOURCES].names())


async def find_record(request: web.Request, record_id: str) -> UnionRecord | str:
    """The record, or the id it now lives under when it was merged away; :class:`RecordNotFound` else."""
    if len(record_id) > MAX_ID_LENGTH:
        raise RecordNotFound(record_id[:MAX_ID_LENGTH] + "…")
    engine = request.app[ENGINE]
    record = await in_thread(request.app, engine.get_union_record, record_id)
    if record is not None:
        return record
    target = await in_thread(request.app, engine.resolve_redirect, record_id)
    if target is None or target == record_id:
        raise RecordNotFound(record_id)
    return target
