"""The libraries of the network, cached for a short while.

Every results page names the libraries that hold each record. Asking the engine for the source list
on every request would double the engine calls of a search, so the list is kept for ``ttl`` seconds:
a library added with ``unicat source add`` shows its name within that time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from unicat.model import Source

DEFAULT_TTL = 30.0


class SourceDirectory:
    """``list_sources()`` by code, refreshed at most once per ``ttl`` seconds."""

    def __init__(
        self,
        fetch: Callable[[], Awaitable[list[Source]]],
        ttl: float = DEFAULT_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._ttl = ttl
        self._clock = clock
        self._sources: dict[str, Source] = {}
        self._names: dict[str, str] = {}
        self._expires = float("-inf")
        # One refresh at a time: a burst of requests after expiry makes one engine call, not many.
        self._lock = asyncio.Lock()

    async def by_code(self) -> dict[str, Source]:
        """Sources by code, as of at most ``ttl`` seconds ago."""
        if self._clock() < self._expires:
            return self._sources
        async with self._lock:
            if self._clock() >= self._expires:
                sources = await self._fetch()
                self._sources = {source.code: source for source in sources}
                self._names = {source.code: source.name for source in sources}
                self._expires = self._clock() + self._ttl
        return self._sources

    async def names(self) -> dict[str, str]:
        """Library names by code."""
        await self.by_code()
        return self._names
