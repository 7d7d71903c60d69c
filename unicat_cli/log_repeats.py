"""A log that stays readable and bounded when the same failure repeats thousands of times a second.

Under attack, one cause (clients dropping connections, a flood of malformed requests, accepts failing)
logs the same record again and again, each with its traceback. :class:`RepeatLimiter` lets the first
few of each kind through per interval and counts the rest, then says in one line how many were left
out. A kind is the logger, the level, the message before its arguments are put in, and the exception's
type: the same failure from many clients is one kind, two different failures are two.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

Kind = tuple[str, int, str, str]

MAX_KINDS = 1000
"""Kinds remembered at once; the oldest is forgotten beyond (only its count of left-out records is lost),
so that messages built without a template (``f"…"``) cannot grow the filter without end."""


@dataclass
class _Window:
    started: float
    logged: int = 0
    left_out: int = 0


class RepeatLimiter(logging.Filter):
    """On ``handler``: at most ``burst`` records of a kind every ``interval`` seconds, then, when the
    kind is next seen after the interval (or any record comes once it is over), one summary record of
    how many were left out, through the same handler."""

    def __init__(
        self,
        handler: logging.Handler,
        *,
        burst: int = 10,
        interval: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self._handler = handler
        self._burst = burst
        self._interval = interval
        self._clock = clock
        self._windows: dict[Kind, _Window] = {}
        self._next_end = math.inf
        self._summing_up = False
        # Records come from several threads (the engine's, the harvests'); the handler filters outside
        # its own lock. Re-entrant: the summary goes through this filter on its way out.
        self._lock = threading.RLock()

    def filter(self, record: logging.LogRecord) -> bool:
        with self._lock:
            if self._summing_up:  # the summary's own record, sent through the handler from here
                return True
            now = self._clock()
            if now >= self._next_end:
                self._sum_up_ended(now)
            kind = _kind(record)
            window = self._windows.get(kind)
            if window is None:
                if len(self._windows) >= MAX_KINDS:
                    del self._windows[next(iter(self._windows))]
                window = self._windows[kind] = _Window(now)
                self._next_end = min(self._next_end, now + self._interval)
            if window.logged < self._burst:
                window.logged += 1
                return True
            window.left_out += 1
            return False

    def _sum_up_ended(self, now: float) -> None:
        """Forget the windows that are over, saying how many records each left out."""
        ended = [kind for kind, window in self._windows.items() if now - window.started >= self._interval]
        for kind in ended:
            window = self._windows.pop(kind)
            if window.left_out:
                self._emit_summary(kind, window, now)
        starts = [window.started for window in self._windows.values()]
        self._next_end = min(starts, default=math.inf) + self._interval

    def _emit_summary(self, kind: Kind, window: _Window, now: float) -> None:
        name, level, message, exception = kind
        what = f"{message!r}" + (f" ({exception})" if exception else "")
        summary = logging.LogRecord(
            name,
            level,
            __file__,
            0,
            "the message %s was repeated %d more times in %.0f seconds, not logged (at most %d are)",
            (what, window.left_out, now - window.started, self._burst),
            None,
        )
        self._summing_up = True
        try:
            self._handler.handle(summary)
        finally:
            self._summing_up = False


def _kind(record: logging.LogRecord) -> Kind:
    exception = record.exc_info[0].__name__ if record.exc_info and record.exc_info[0] else ""
    return (record.name, record.levelno, str(record.msg), exception)
