"""The librarians' overlap page and its JSON: what each library holds, what only it holds, and what
each pair of libraries shares (:class:`~unicat.overlap.LibraryOverlap`).

``GET /librarians/overlap`` shows a table per library and a matrix of the pairs; ``GET /api/overlap``
gives the same numbers as JSON, with the libraries' names; both are for librarians only.

The engine counts over the whole union index: measured at 200,000 records (bench/corpus.py, 40
libraries), 0.25-0.45 s on SQLite and 0.3-0.8 s on Elasticsearch (~20 ms while the node's request
cache holds the answer), where a page should cost milliseconds. So the app keeps the last answer
with the state of the index it was counted on: the latest OAI-PMH generation, which costs ~0.02 ms
to read on SQLite and ~5 ms on Elasticsearch. Every rebuild that changes any record moves it on, and
a change of holdings is one (a record's OAI-PMH sets are its libraries), whoever rebuilt: ``unicat
index`` in another process or the merge desk's "apply now". The state is read before the counts, so
a kept answer is never older than the state it is kept with; at worst a rebuild finishing in
between makes the next view count again.
"""

from __future__ import annotations

import asyncio
import time

from aiohttp import web

from search_app.auth import require_staff
from search_app.render import render
from search_app.state import INDEX, RECORDS, SOURCES, in_thread
from search_app.timing import add_engine_time
from unicat.overlap import LibraryOverlap
from unicat.ports.records import FeedHistory

IndexState = tuple[int, str] | None


def index_state(store: FeedHistory) -> IndexState:
    """The latest registered OAI-PMH generation of the union index (``None`` before the first)."""
    generations = store.oai_generations()
    return generations[-1] if generations else None


class OverlapCache:
    """The last overlap counted, with the index state it was counted on."""

    def __init__(self) -> None:
        self._state: IndexState = None
        self._overlap: LibraryOverlap | None = None
        # One count at a time: the views of a burst after a rebuild wait for the one count.
        self._lock = asyncio.Lock()

    async def get(self, app: web.Application) -> LibraryOverlap:
        """The overlap of the current index: the kept one while the index has not changed."""
        state = await in_thread(app, index_state, app[RECORDS])
        async with self._lock:
            if self._overlap is None or self._state != state:
                self._overlap = await in_thread(app, app[INDEX].library_overlap)
                self._state = state
            return self._overlap


OVERLAP = web.AppKey("overlap", OverlapCache)


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
    app[OVERLAP] = OverlapCache()
    app.router.add_get("/librarians/overlap", overlap_page, name="overlap")
    app.router.add_get("/api/overlap", api_overlap, name="api_overlap")
