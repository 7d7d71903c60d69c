"""The web app's outgoing mail: messages stored in the outbox, and the sender that runs with the app.

A page that sends mail stores the message (unicat/outbox.py) and answers at once, the same whether
the message goes out, waits, or fails (its answer must not tell what the message said, nor whether the
mail server is slow). The sender, a task of the app, sends due messages every ``mail_poll_interval``
seconds, and at once when a page has just stored one, in a thread of its own
(unicat/mail_sender.py); ``unicat mail send`` does the same from cron for a catalogue served without
it. What an attacker could make it send is bounded: a few messages per recipient per hour (no mail
bombing someone through the registration form).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aiohttp import web

from search_app.i18n import CATALOGUES
from search_app.mail_render import mail_environment, render_mail
from search_app.ratelimit import RateLimiter
from search_app.state import CATALOGUE, SETTINGS, in_thread
from unicat.mail import mail_enabled
from unicat.mail_sender import BATCH, PassReport, send_due
from unicat.outbox import Message

log = logging.getLogger(__name__)

MAILS_PER_RECIPIENT = 3
RECIPIENT_WINDOW = 3600.0


class Outbox:
    """Stores the app's messages and sends them, one pass at a time."""

    def __init__(self, app: web.Application) -> None:
        self._app = app
        self._settings = app[SETTINGS]
        self._store = app[CATALOGUE].outbox
        self._catalogues = app[CATALOGUES]
        self._templates = mail_environment()
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="unicat-mail")
        self._per_recipient = RateLimiter(MAILS_PER_RECIPIENT, RECIPIENT_WINDOW)
        self._wake = asyncio.Event()

    async def send(
        self, to: str, template: str, language: str, values: dict[str, Any], *, kind: str, key: str
    ) -> bool:
        """Store the message ``template`` to ``to`` in ``language`` (``key`` names the event: stored
        once however often it is sent) and wake the sender. A message beyond the per-recipient bound
        is dropped and logged; returns whether it was stored."""
        if self._per_recipient.retry_after(to) is not None:
            log.warning("mail to %s not sent: %d already sent to it this hour", to, MAILS_PER_RECIPIENT)
            return False
        self._per_recipient.record(to)
        rendered = render_mail(self._templates, self._catalogues, template, language, values)
        message = Message(to, rendered.subject, rendered.text, kind, key, language, rendered.html)
        await in_thread(self._app, self._store.enqueue, message)
        self._wake.set()
        return True

    def wake(self) -> None:
        """Have the sender look for due messages now: a change stored some in its own transaction."""
        self._wake.set()

    async def send_pass(self) -> PassReport:
        """Send the due messages once, in the sender's thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, send_due, self._store, self._settings)

    async def run(self) -> None:
        """Send due messages until cancelled: again at once after a full batch, else after the poll
        interval or when woken."""
        while True:
            self._wake.clear()
            try:
                report = await self.send_pass()
            except Exception:  # the database away for a while: the next pass tries again
                log.exception("the mail sender could not read the outbox; it tries again shortly")
                report = PassReport()
            if report.taken >= BATCH:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._settings.mail_poll_interval)

    async def drain(self) -> None:
        """Send passes until none finds a due message."""
        while (await self.send_pass()).taken:
            pass

    def close(self) -> None:
        self._thread.shutdown(wait=True)


OUTBOX = web.AppKey("outbox", Outbox)


async def outbox_context(app: web.Application) -> AsyncIterator[None]:
    """The outbox lives as long as the app; its sender runs while mail is configured (``smtp_host``).
    A message being sent when the app stops is finished first."""
    app[OUTBOX] = outbox = Outbox(app)
    sender = asyncio.create_task(outbox.run()) if mail_enabled(app[SETTINGS]) else None
    yield
    if sender is not None:
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sender
    outbox.close()
