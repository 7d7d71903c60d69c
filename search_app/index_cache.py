"""A value derived from the whole union index, kept until the index changes.

Some answers cost a pass over the whole index (the librarians' overlap counts, the speller's
vocabulary) where a page should cost milliseconds. The app keeps the last one with the state of the
index it was built on: the latest OAI-PMH generation, which costs ~0.02 ms to read on SQLite and ~5 ms
on Elasticsearch. Every rebuild that changes any record moves it on, whoever rebuilt (``unicat index``
in another process, the merge desk's "apply now"). The state is read before the value is built, so a
kept value is never older than the state it is kept with; at worst a rebuild finishing in between makes
the next request build again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Generic, TypeVar

from aiohttp import web

from search_app.state import RECORDS, in_thread
from unicat.ports.records import FeedHistory

T = TypeVar("T")

IndexState = tuple[int, str] | None


def index_state(store: FeedHistory) -> IndexState:
    """The latest registered OAI-PMH generation of the union index (``None`` before the first)."""
    generations = store.oai_generations()
    return generations[-1] if generations else None


class PerIndexState(Generic[T]):
    """The value ``build`` makes of the app's index (run in the app's thread pool), kept while the
    index's state stays the same; one build at a time, so a burst of requests after a rebuild waits
    for the one build."""

    def __init__(self, build: Callable[[web.Application], T]) -> None:
        self._build = build
        self._state: IndexState = None
        self._value: T | None = None
        self._lock = asyncio.Lock()

    async def get(self, app: web.Application, state: IndexState = None) -> T:
        """The value for the index's state now; ``state`` when the caller read it already (beside
        another read, to save a round trip), else it is read here."""
        if state is None:
            state = await in_thread(app, index_state, app[RECORDS])
        async with self._lock:
            if self._value is None or self._state != state:
                self._value = await in_thread(app, self._build, app)
                self._state = state
            return self._value
