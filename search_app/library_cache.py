"""The network's library directory as the app uses it on every request: routing a request
(coordinates, shuttle participation) and linking a library's holdings to its own catalogue.

Reading the library store on every record page would add a database call to each, so the directory
is kept for ``ttl`` seconds, like the sources (:mod:`search_app.sources`). A change made through the
librarians' page is seen at once (the page calls :meth:`LibraryCache.forget`); a change made with
``unicat library`` runs in another process and shows within ``ttl``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from unicat.errors import BadParameter
from unicat.libraries import Library
from unicat.link_templates import check_template

DEFAULT_TTL = 30.0
log = logging.getLogger(__name__)


class LibraryCache:
    """The directory's libraries by code, and their catalogue link templates, re-read at most once per
    ``ttl`` seconds or after :meth:`forget`."""

    def __init__(
        self,
        fetch: Callable[[], Awaitable[list[Library]]],
        ttl: float = DEFAULT_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._ttl = ttl
        self._clock = clock
        self._libraries: dict[str, Library] = {}
        self._templates: dict[str, str] = {}
        self._expires = float("-inf")
        # One refresh at a time: a burst of requests after expiry makes one store call, not many.
        self._lock = asyncio.Lock()

    async def by_code(self) -> dict[str, Library]:
        """The libraries by code, as of at most ``ttl`` seconds ago."""
        if self._clock() < self._expires:
            return self._libraries
        async with self._lock:
            if self._clock() >= self._expires:
                libraries = await self._fetch()
                self._libraries = {library.code: library for library in libraries}
                self._templates = _templates(libraries)
                self._expires = self._clock() + self._ttl
        return self._libraries

    async def opac_templates(self) -> dict[str, str]:
        """Each library's link template to a record in its own catalogue, by library code."""
        await self.by_code()
        return self._templates

    def forget(self) -> None:
        """Re-read the directory on the next call: it was just changed."""
        self._expires = float("-inf")


def _templates(libraries: list[Library]) -> dict[str, str]:
    templates: dict[str, str] = {}
    for library in libraries:
        if library.opac_url is None:
            continue
        try:
            templates[library.code] = check_template(library.opac_url)
        except BadParameter as exc:
            # The directory accepted it under its own (looser) check: the library's holdings get no
            # link rather than a broken one, and the log says which template to fix.
            log.warning("library %s: opac_url not used as a link: %s", library.code, exc)
    return templates


LIBRARIES = web.AppKey("libraries", LibraryCache)
"""The directory, for handlers: ``await request.app[LIBRARIES].by_code()``."""
