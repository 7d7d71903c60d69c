"""The enabled live targets, cached for a short while like the sources (search_app/sources.py).

Every search asks which targets to send the reader's words to; asking the store each time would add a
database call to every search. ``unicat target add`` runs in another process, so a time limit is what
tells this one that the targets changed: a target added or disabled is searched, or not, within
``ttl`` seconds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from unicat.live_search import LiveTarget

DEFAULT_TTL = 30.0


class TargetDirectory:
    """The enabled targets by code, in the store's order, refreshed at most once per ``ttl`` seconds."""

    def __init__(
        self,
        fetch: Callable[[], Awaitable[list[LiveTarget]]],
        ttl: float = DEFAULT_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._ttl = ttl
        self._clock = clock
        self._targets: dict[str, LiveTarget] = {}
        self._expires = float("-inf")
        # One refresh at a time: a burst of searches after expiry makes one store call, not many.
        self._lock = asyncio.Lock()

    async def enabled(self) -> dict[str, LiveTarget]:
        """The enabled targets by code, as of at most ``ttl`` seconds ago."""
        if self._clock() < self._expires:
            return self._targets
        async with self._lock:
            if self._clock() >= self._expires:
                targets = await self._fetch()
                self._targets = {target.code: target for target in targets if target.enabled}
                self._expires = self._clock() + self._ttl
        return self._targets
