"""A re-index the web app runs in the background when a librarian asks for one (after a merge decision).

The job is given by the composition root (``unicat serve`` passes ``indexer.run_index``): the web
app does not depend on the indexer. Without one, the pages say decisions apply at the next index.

At most one runs at a time, in a thread of its own (not the pool that searches use); a request
that comes while one runs is remembered and served by one more run after it, so any number of clicks
costs at most two runs. The indices swap a rebuilt generation in atomically, so searches go on meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Protocol

from aiohttp import web

from search_app.state import CATALOGUE
from unicat.clock import utc_now
from unicat.ports.records import RecordStore
from unicat.ports.union_index import UnionIndex

log = logging.getLogger(__name__)


class IndexReportLike(Protocol):
    """What the page reports of a finished run (``indexer.IndexReport`` has it)."""

    union_records: int
    merged_clusters: int


ReindexJob = Callable[[RecordStore, UnionIndex], IndexReportLike]


@dataclass(slots=True)
class ReindexState:
    """What a librarian's page says about background re-indexing."""

    available: bool = False
    running: bool = False
    pending: bool = False
    finished: str | None = None
    summary: str | None = None
    error: str | None = None


class Reindexer:
    """Runs the re-index job on request, one run at a time."""

    def __init__(self, app: web.Application, job: ReindexJob | None) -> None:
        self._app = app
        self._job = job
        self.state = ReindexState(available=job is not None)
        self._task: asyncio.Task[None] | None = None

    def request(self) -> None:
        """Ask for a re-index soon (now, or right after the one running); nothing without a job."""
        if self._job is None:
            return
        if self.state.running:
            self.state.pending = True
            return
        self.state.running = True
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        job = self._job
        assert job is not None
        try:
            while True:
                self.state.pending = False
                try:
                    catalogue = self._app[CATALOGUE]
                    report = await asyncio.to_thread(job, catalogue.records, catalogue.index)
                except Exception as exc:  # reported on the page, logged in full
                    log.exception("background re-index failed")
                    self.state.error = str(exc)
                else:
                    self.state.error = None
                    self.state.summary = (
                        f"{report.union_records:,} union records, {report.merged_clusters:,} merged editions"
                    )
                self.state.finished = utc_now()
                if not self.state.pending:
                    return
        finally:
            self.state.running = False

    async def wait(self) -> None:
        """Until the runs asked for so far are done (for shutdown and tests)."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)


REINDEXER = web.AppKey("reindexer", Reindexer)


async def reindexer_context(app: web.Application) -> AsyncIterator[None]:
    """A run in progress is finished before the app (and the catalogue it writes) closes."""
    yield
    with contextlib.suppress(Exception):
        await app[REINDEXER].wait()
