"""The alert digests' scheduler of ``unicat serve``: every few minutes, the due digests are stored in the
outbox (:func:`search_app.alert_digests.send_digests`, the function ``unicat alerts send`` runs) and the
outbox's sender is woken to send them.

A digest is due from ``alerts_hour`` (UTC) of its day, or of ``alerts_weekday`` for the weekly ones; a
server that was down then sends it when it comes back. Several servers over one PostgreSQL database may
all run the scheduler: each digest is stored once under its outbox key, and a search's progress moves
once per period, so nothing goes twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from aiohttp import web

from search_app.alert_digests import send_digests
from search_app.i18n import CATALOGUES
from search_app.outbox import OUTBOX
from search_app.state import CATALOGUE, SETTINGS, in_thread
from unicat.mail import mail_enabled

log = logging.getLogger(__name__)

CHECK_EVERY = 300.0
"""Seconds between two looks for due digests: a digest goes out within this of its hour."""


async def run_scheduler(app: web.Application) -> None:
    """Store the due digests, then wake the sender, until cancelled."""
    while True:
        try:
            report = await in_thread(
                app, send_digests, app[CATALOGUE], app[SETTINGS], app[CATALOGUES], datetime.now(UTC)
            )
            if report.stored:
                log.info(
                    "alert digests: %d stored in the outbox, %d with nothing new", report.stored, report.empty
                )
                app[OUTBOX].wake()
        except Exception:  # the database or the index away for a while: the next look tries again
            log.exception("the alert digests could not be prepared; the scheduler tries again shortly")
        await asyncio.sleep(CHECK_EVERY)


async def alert_scheduler_context(app: web.Application) -> AsyncIterator[None]:
    """The scheduler runs while mail is configured (``smtp_host``), after the outbox is set up."""
    task = asyncio.create_task(run_scheduler(app)) if mail_enabled(app[SETTINGS]) else None
    yield
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
