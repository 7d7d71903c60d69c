"""Rate limits: at most ``limit`` events per key in any ``window`` seconds (a sliding window), or a
backoff that doubles the wait after each event past a free number.

Posts (comments, reports) are limited per account and per client address; sign-in attempts are
slowed down (search_app/signin_throttle.py says how). The counts live in the web process's memory:
they are lost on restart, and each process of a multi-process deployment counts on its own (a limit
of N becomes N per process), which is what a limit against abuse needs; nothing else depends on them.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable

MAX_KEYS = 100_000
"""Keys remembered at most; the least recently used one is forgotten first (memory stays bounded
whatever an attacker sends)."""


class RateLimited(Exception):
    """Too many attempts: try again in ``retry_after`` seconds (HTTP 429 with ``Retry-After``)."""

    def __init__(self, what: str, retry_after: float) -> None:
        seconds = max(1, math.ceil(retry_after))
        super().__init__(f"too many {what}; try again in {_wait(seconds)}")
        self.retry_after = seconds


def _wait(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} seconds"
    return f"{math.ceil(seconds / 60)} minutes"


class RateLimiter:
    """A sliding-window counter per key; not thread-safe (it lives on the event loop)."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._events: OrderedDict[Hashable, deque[float]] = OrderedDict()

    def _recent(self, key: Hashable, now: float) -> deque[float]:
        events = self._events.get(key)
        if events is None:
            events = deque()
            self._events[key] = events
            if len(self._events) > MAX_KEYS:
                self._events.popitem(last=False)
        else:
            self._events.move_to_end(key)
        while events and events[0] <= now - self.window:
            events.popleft()
        return events

    def retry_after(self, key: Hashable) -> float | None:
        """Seconds until ``key`` may act again, or ``None`` if it may now."""
        now = self._clock()
        events = self._recent(key, now)
        if len(events) < self.limit:
            return None
        return events[0] + self.window - now

    def record(self, key: Hashable) -> None:
        """Count one event of ``key`` now."""
        now = self._clock()
        self._recent(key, now).append(now)

    def forget(self, key: Hashable) -> None:
        self._events.pop(key, None)


def check(what: str, *limits: tuple[RateLimiter, Hashable]) -> None:
    """Raise :class:`RateLimited` if any (limiter, key) is at its limit (the longest wait wins)."""
    waits = [wait for limiter, key in limits if (wait := limiter.retry_after(key)) is not None]
    if waits:
        raise RateLimited(what, max(waits))


class Backoff(RateLimiter):
    """Failures per key: ``free`` of them in the window cost nothing, and after that each try waits
    ``base`` seconds after the latest failure, doubled with every further failure in the window, never
    more than the window itself. An attacker is slowed down more and more, and someone who mistyped
    a few times waits seconds, not the whole window."""

    def __init__(
        self, free: int, window: float, base: float = 1.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__(free, window, clock)
        self.base = base

    def retry_after(self, key: Hashable) -> float | None:
        now = self._clock()
        events = self._recent(key, now)
        beyond = len(events) - self.limit
        if beyond < 0:
            return None
        wait = min(self.window, self.base * 2.0 ** min(beyond, 64))
        remaining = events[-1] + wait - now
        return remaining if remaining > 0 else None

    def cancel(self, key: Hashable) -> None:
        """Take back the latest event of ``key`` (counted before its outcome was known)."""
        events = self._events.get(key)
        if events:
            events.pop()


class Remembered:
    """Keys seen in the last ``ttl`` seconds, at most :data:`MAX_KEYS` (the least recently seen is
    forgotten first)."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._clock = clock
        self._seen: OrderedDict[Hashable, float] = OrderedDict()

    def add(self, key: Hashable) -> None:
        self._seen[key] = self._clock()
        self._seen.move_to_end(key)
        if len(self._seen) > MAX_KEYS:
            self._seen.popitem(last=False)

    def __contains__(self, key: Hashable) -> bool:
        seen = self._seen.get(key)
        return seen is not None and seen > self._clock() - self.ttl
