"""The live searches of this process: each started as soon as a search's union results are known, so
that the live targets work while the page travels, and kept a while after it finished for the readers
that follow it (the page's stream, the API's poll) and for a librarian's import.

A run is known by a random id that cannot be guessed (it leads to what one reader searched for). It
holds the latest :class:`~unicat.live_search.LiveUpdate` and its version, and any number of readers
may wait for the next version. At most ``live_search_max_runs`` runs are held at once: a finished run
makes room for a new one early (the oldest first); when every held run is still running, no new one
starts, and the page and the API say that live search is busy.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from unicat.live_search import (
    Blocking,
    LiveSearch,
    LiveTarget,
    LiveUpdate,
    MergedHit,
    RawLiveRecord,
    TargetStatus,
)
from unicat.model import UnionRecord
from unicat.query import SearchQuery
from unicat.readers import RatingSummary

log = logging.getLogger(__name__)

MAX_WAIT = 30.0
"""Seconds a reader may wait for the next version in one request (``wait`` of the API's poll)."""


@dataclass(eq=False)
class LiveRun:
    """One live search: what it asked, and what it found so far (``update``, numbered ``version``)."""

    id: str
    query: SearchQuery
    targets: list[LiveTarget]
    union_hits: list[UnionRecord]
    ratings: Mapping[str, RatingSummary]
    update: LiveUpdate
    version: int = 0
    finished: float | None = None
    created: float = 0.0
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def done(self) -> bool:
        return self.update.done

    def publish(self, update: LiveUpdate) -> None:
        """Make ``update`` the run's state and wake every reader waiting for it."""
        self.update = update
        self.version += 1
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def newer_than(self, version: int, wait: float) -> None:
        """Return once the run has a version after ``version``, is done, or ``wait`` seconds passed."""
        deadline = asyncio.get_running_loop().time() + wait
        while self.version <= version and not self.done:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), left)

    def raw_record(self, target: str, local_id: str) -> RawLiveRecord | None:
        """The record a target sent for ``local_id``, as it came (what a librarian imports)."""
        return self.update.raw.get((target, local_id))

    def target(self, code: str) -> LiveTarget | None:
        return next((target for target in self.targets if target.code == code), None)


def first_update(targets: Sequence[LiveTarget], union_hits: Sequence[UnionRecord]) -> LiveUpdate:
    """The state before any target answered: every target waiting, the union's page as it is."""
    return LiveUpdate(
        [TargetStatus(target.code, target.name) for target in targets],
        [MergedHit(record, True, found_by=["union"]) for record in union_hits],
    )


class LiveRuns:
    """The registry of live runs (module docstring); ``blocking`` is the app's thread pool."""

    def __init__(
        self,
        service: LiveSearch,
        blocking: Blocking,
        *,
        max_runs: int,
        keep_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._service = service
        self._blocking = blocking
        self._max_runs = max_runs
        self._keep_seconds = keep_seconds
        self._clock = clock
        self._runs: dict[str, LiveRun] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def start(
        self,
        query: SearchQuery,
        union_hits: Sequence[UnionRecord],
        targets: Sequence[LiveTarget],
        ratings: Mapping[str, RatingSummary],
    ) -> LiveRun | None:
        """Register the run of asking ``targets`` for ``query`` beside ``union_hits`` (the union's page);
        ``None`` when live search is busy (every held run still running). It asks nothing until
        :meth:`launch`: the union's answer is finished first, so that the targets' first steps (opening
        connections, sending the queries) never delay it."""
        self._forget_expired()
        if len(self._runs) >= self._max_runs and not self._make_room():
            return None
        run_id = secrets.token_urlsafe(16)
        run = LiveRun(
            run_id,
            query,
            list(targets),
            list(union_hits),
            ratings,
            first_update(targets, union_hits),
            created=self._clock(),
        )
        self._runs[run_id] = run
        return run

    def launch(self, run: LiveRun) -> None:
        """Start asking the run's targets, as a task (once; a run already launched is left alone)."""
        if run.id in self._tasks or run.finished is not None or run.id not in self._runs:
            return
        self._tasks[run.id] = asyncio.create_task(self._follow(run), name=f"live search {run.id[:6]}")

    def get(self, run_id: str) -> LiveRun | None:
        """The run of ``run_id``, unless it was never started here or is forgotten."""
        self._forget_expired()
        return self._runs.get(run_id)

    async def close(self) -> None:
        """Stop the runs still asking their targets (the app is stopping)."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        self._runs.clear()

    async def _follow(self, run: LiveRun) -> None:
        updates = self._service.run(run.query, run.union_hits, run.targets, blocking=self._blocking)
        try:
            async for update in updates:
                run.publish(update)
        except Exception:
            # A defect of the live search must not leave readers waiting: the run ends, marked.
            log.exception("live search %s failed", run.id[:6])
            for status in run.update.targets:
                if status.state == "waiting":
                    status.state, status.error = "failed", "internal"
                    status.message = "unexpected error; the server log has the details"
            run.update.done = True
            run.publish(run.update)
        finally:
            run.finished = self._clock()
            self._tasks.pop(run.id, None)

    def _forget_expired(self) -> None:
        now = self._clock()
        for run_id, run in list(self._runs.items()):
            if run.finished is not None and now - run.finished > self._keep_seconds:
                del self._runs[run_id]
            elif (
                run_id not in self._tasks and run.finished is None and now - run.created > self._keep_seconds
            ):
                # Registered by a request that failed before it launched the run: it never will.
                del self._runs[run_id]

    def _make_room(self) -> bool:
        """Forget the run that finished first, if any did."""
        finished = [run for run in self._runs.values() if run.finished is not None]
        if not finished:
            return False
        oldest = min(finished, key=lambda run: run.finished or 0.0)
        del self._runs[oldest.id]
        return True
