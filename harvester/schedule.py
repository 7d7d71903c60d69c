"""Scheduled harvesting, for a network that leaves Unicat running: each source with a
``harvest_interval`` is harvested again that long after its last harvest began.

The web app's process runs :func:`run_schedule` beside the server (the composition root wires it, so
the web app never imports the harvester). A run a dead process left unfinished is due at once, and is
resumed. What to do once sources were harvested (re-index, when something changed) is the caller's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from harvester.harvest import harvest_all
from harvester.report import HarvestReport
from unicat.model import Source
from unicat.ports.records import HarvestStore, RecordStore
from unicat.settings import Settings
from unicat.status import scheduled_after

logger = logging.getLogger(__name__)

AfterHarvest = Callable[[Sequence[HarvestReport]], None]


def due_at(store: HarvestStore, source: Source, now: datetime | None = None) -> datetime | None:
    """When ``source`` should next be harvested (None: it has no schedule); a source never harvested,
    or with a run left unfinished, is due ``now``."""
    if source.harvest_interval is None or source.oai_url is None:
        return None
    history = store.harvest_history(source.code, limit=1)
    now = now or datetime.now(UTC)
    if not history or history[0].status == "running":
        return now
    return scheduled_after(source, history[0]) or now


def due_sources(store: HarvestStore, now: datetime | None = None) -> list[Source]:
    """The scheduled sources whose time has come."""
    moment = now or datetime.now(UTC)
    due = []
    for source in store.list_sources():
        when = due_at(store, source, moment)
        if when is not None and when <= moment:
            due.append(source)
    return due


def changed_anything(reports: Sequence[HarvestReport]) -> bool:
    """Whether a harvest brought something the union catalogue should show (a re-index is due)."""
    return any(report.records or report.vanished for report in reports)


async def run_schedule(
    store: RecordStore, settings: Settings, stop: asyncio.Event, after: AfterHarvest | None = None
) -> None:
    """Until ``stop`` is set: every ``harvest_schedule_check`` seconds, harvest the sources due and
    hand the reports to ``after``. A failure of a round is logged and the schedule goes on.

    Rounds run in a daemon thread, so that stopping the server never waits for a long harvest: a
    harvest cut off that way is resumed by the next round, like any killed one."""
    if settings.harvest_schedule_check <= 0:
        return
    while not stop.is_set():
        try:
            await _in_daemon_thread(lambda: _round(store, settings, after))
        except Exception:  # the schedule must outlive one bad round; the runs record their failures
            logger.exception("scheduled harvest round failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), settings.harvest_schedule_check)


def _round(store: RecordStore, settings: Settings, after: AfterHarvest | None) -> None:
    due = due_sources(store)
    if not due:
        return
    logger.info("scheduled harvest of %s", ", ".join(source.code for source in due))
    reports = harvest_all(store, due, settings)
    for report in reports:
        logger.info("scheduled harvest %s", report.to_json())
    if after is not None:
        after(reports)


async def _in_daemon_thread(work: Callable[[], None]) -> None:
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()

    def settle(error: BaseException | None) -> None:
        if done.cancelled():
            return
        if error is None:
            done.set_result(None)
        else:
            done.set_exception(error)

    def target() -> None:
        error: BaseException | None = None
        try:
            work()
        except BaseException as exc:  # handed to the awaiting coroutine
            error = exc
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody waits any more
            loop.call_soon_threadsafe(settle, error)

    threading.Thread(target=target, name="scheduled-harvest", daemon=True).start()
    await done
