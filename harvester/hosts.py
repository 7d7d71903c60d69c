"""Politeness: one request at a time per server, and a pause between two requests to the same one.

A network's libraries often share one server (a consortium's Koha, a regional hosting), so sources
harvested concurrently must still take turns there. :class:`HostGates` is shared by every client of
one harvest; a server is a URL's scheme, host and port.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit


def server_of(url: str) -> str:
    """The server a base URL talks to: ``scheme://host:port`` (the port made explicit)."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{port}"


class _Gate:
    __slots__ = ("free_at", "lock")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.free_at = 0.0  # monotonic time from which the next request may start


class HostGates:
    """Per server, a lock held for a whole request and the earliest start of the next one."""

    def __init__(
        self,
        delay: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.delay = delay
        self._clock = clock
        self._sleep = sleep
        self._gates: dict[str, _Gate] = {}
        self._registry = threading.Lock()

    def _gate(self, server: str) -> _Gate:
        with self._registry:
            return self._gates.setdefault(server, _Gate())

    @contextmanager
    def turn(self, url: str) -> Iterator[None]:
        """Wait for this server's turn (its previous request finished ``delay`` seconds ago), keep it
        for the body of the ``with``, and start the pause when it ends."""
        gate = self._gate(server_of(url))
        with gate.lock:
            wait = gate.free_at - self._clock()
            if wait > 0:
                self._sleep(wait)
            try:
                yield
            finally:
                gate.free_at = self._clock() + self.delay
