"""From datestamps to generations and back, for one request (``unicat/oai_items.py`` says why the
feed's datestamps belong to generations).

Generations are registered in order with datestamps that never decrease, so ``from``/``until`` map to
one range of generations by bisection, and a list's snapshot is "generations up to the newest
registered when the list began".

A request sees only the generations whose datestamp is *before* its ``responseDate`` (a generation's
datestamp is its registration time rounded up to the second, so it becomes visible one or two seconds
after its rebuild). Then every datestamp a response holds is earlier than its ``responseDate``, and a
harvester's next ``from=responseDate`` finds exactly what it has not seen: every generation it could
not see has a datestamp at or after that ``from``, and none it saw does, so not even the records
of the boundary second come twice.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from datetime import datetime

from unicat.clock import format_time


class GenerationClock:
    """The registered generations with their datestamps, as read at the start of a request."""

    def __init__(self, registered: Sequence[tuple[int, str]], now: str) -> None:
        registered = [(generation, datestamp) for generation, datestamp in registered if datestamp < now]
        self._generations = [generation for generation, _ in registered]
        self._datestamps = [datestamp for _, datestamp in registered]
        self._by_generation = dict(registered)

    @property
    def latest(self) -> int:
        """The newest registered generation (0 when nothing is: the feed is empty)."""
        return self._generations[-1] if self._generations else 0

    @property
    def origin(self) -> str:
        """The first generation's datestamp: it names this feed (tokens carry it)."""
        return self._datestamps[0] if self._datestamps else ""

    def earliest(self, fallback: str) -> str:
        """A lower bound of every datestamp (Identify's ``earliestDatestamp``)."""
        return self._datestamps[0] if self._datestamps else fallback

    def datestamp(self, generation: int, fallback: str) -> str:
        """The datestamp of an item of ``generation``: its generation's, or, for a generation never
        registered (a rebuild that failed after writing some items), the next registered one's, which
        made them visible; ``fallback`` past the newest (an item read while its rebuild finishes)."""
        found = self._by_generation.get(generation)
        if found is not None:
            return found
        index = bisect.bisect_left(self._generations, generation)
        return self._datestamps[index] if index < len(self._generations) else fallback

    def bounds(self, start: datetime | None, end: datetime | None) -> tuple[int, int] | None:
        """The generations whose datestamps fall within ``start``..``end`` (inclusive), or ``None``."""
        if not self._generations:
            return None
        low_index = 0 if start is None else bisect.bisect_left(self._datestamps, format_time(start))
        high_index = (
            len(self._generations) if end is None else bisect.bisect_right(self._datestamps, format_time(end))
        )
        if low_index >= high_index:
            return None
        # Unregistered generations belong with the next registered one (see datestamp()).
        low = self._generations[low_index - 1] + 1 if low_index > 0 else 0
        return low, self._generations[high_index - 1]
