"""The libraries of the network and the names of their holdings' codes, cached for a short while.

Every results page names the libraries that hold each record (the sources, and the libraries of the
directory that keep their copies), every holding's codes by the
source's code tables (``unicat/holding_codes.py``), and when each library's copies' status was read
(its last successful harvest or import). Asking the store for them on every request would
double the database calls of a search, so both are kept for ``ttl`` seconds: a library added with
``unicat source add``, or a code named with ``unicat codes``, shows its name within that time (the
commands run in another process, so a time limit is what tells this one that they changed).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from search_app.library_cache import LibraryCache
from unicat.holding_codes import CodeName, CodeTables, tables_by_source
from unicat.model import Source

DEFAULT_TTL = 30.0


class SourceDirectory:
    """``list_sources()`` by code, and each source's code tables, refreshed at most once per ``ttl``
    seconds."""

    def __init__(
        self,
        fetch: Callable[[], Awaitable[list[Source]]],
        ttl: float = DEFAULT_TTL,
        clock: Callable[[], float] = time.monotonic,
        fetch_codes: Callable[[], Awaitable[dict[str, list[CodeName]]]] | None = None,
        fetch_as_of: Callable[[], Awaitable[dict[str, str]]] | None = None,
        libraries: LibraryCache | None = None,
    ) -> None:
        self._fetch = fetch
        # The directory has a cache of its own, which the librarians' page clears when it changes it.
        self._libraries = libraries
        self._fetch_codes = fetch_codes
        self._fetch_as_of = fetch_as_of
        self._codes: dict[str, CodeTables] = {}
        self._as_of: dict[str, str] = {}
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
                if self._fetch_codes is not None:
                    self._codes = tables_by_source(await self._fetch_codes())
                if self._fetch_as_of is not None:
                    self._as_of = await self._fetch_as_of()
                self._expires = self._clock() + self._ttl
        return self._sources

    async def names(self) -> dict[str, str]:
        """Library names by code."""
        await self.by_code()
        return self._names

    async def as_of(self) -> dict[str, str]:
        """Per source code, when its records were last read: the end of its last successful harvest
        or import (the time a copy's status is "as of"); a source never read is left out."""
        await self.by_code()
        return self._as_of

    async def site_names(self, language: str | None) -> dict[str, str]:
        """The names of the values of the ``held_at`` and ``available_at`` facets (a copy's
        :func:`unicat.availability.site`): each library of the directory by its name in ``language``,
        and a source the directory does not place copies of by the source's name."""
        await self.by_code()
        names = dict(self._names)
        if self._libraries is not None:
            libraries = await self._libraries.by_code()
            names.update((code, library.name_in(language)) for code, library in libraries.items())
        return names

    async def code_tables(self) -> dict[str, CodeTables]:
        """Each source's code tables (kind → code → name), by source code."""
        await self.by_code()
        return self._codes
