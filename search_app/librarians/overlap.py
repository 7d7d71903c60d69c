"""The librarians' overlap page and its JSON: what each library holds, what only it holds, and what
each pair of libraries shares (:class:`~unicat.overlap.LibraryOverlap`).

``GET /librarians/overlap`` shows a table per library and a matrix of the pairs; ``GET /api/overlap``
gives the same numbers as JSON, with the libraries' names; both are for librarians only.

The engine counts over the whole union index: measured at 200,000 records (bench/corpus.py, 40
libraries), 0.25-0.45 s on SQLite and 0.3-0.8 s on Elasticsearch (~20 ms while the node's request
cache holds the answer), where a page should cost milliseconds; so the app keeps the last answer until
the index changes (search_app/index_cache.py).
"""

from __future__ import annotations

import time

from aiohttp import web

from search_app.auth import require_staff
from search_app.index_cache import PerIndexState
from search_app.render import render
from search_app.state import INDEX, SOURCES
from search_app.timing import add_engine_time
from unicat.overlap import LibraryOverlap


def _count(app: web.Application) -> LibraryOverlap:
    return app[INDEX].library_overlap()


OVERLAP = web.AppKey("overlap", PerIndexState[LibraryOverlap])


async def fetch_overlap(request: web.Request) -> LibraryOverlap:
    """The current overlap, its engine time counted in the response's ``Server-Timing``."""
    started = time.perf_counter()
    found = await request.app[OVERLAP].get(request.app)
    add_engine_time(request, started)
    return found


async def overlap_page(request: web.Request) -> web.Response:
    """For librarians: each library's records and unique titles, and the matrix of shared ones."""
    found = await fetch_overlap(request)
    context = {
        "q": "",
        "overlap": found,
        "library_names": await request.app[SOURCES].names(),
    }
    return render(request, "overlap.html", context)


async def api_overlap(request: web.Request) -> web.Response:
    """``GET /api/overlap``: :meth:`LibraryOverlap.to_json` with the libraries' names, for librarians
    as the page is (403 for anyone else)."""
    require_staff(request, "the holdings overlap")
    found = await fetch_overlap(request)
    return web.json_response(found.to_json(await request.app[SOURCES].names()))


def add_routes(app: web.Application) -> None:
    app[OVERLAP] = PerIndexState(_count)
    app.router.add_get("/librarians/overlap", overlap_page, name="overlap")
    app.router.add_get("/api/overlap", api_overlap, name="api_overlap")
