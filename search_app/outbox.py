"""The web app's outgoing mail: sent in a thread of its own, after the answer, never failing a request.

A page that sends mail answers at once, the same whether the message goes out, waits, or fails (its
answer must not tell what the message said, nor whether the mail server is slow). A failure is
logged with its reason. What an attacker could make it send is bounded: a few messages per recipient
per hour (no mail bombing someone through the registration form) and a bounded queue.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor

from aiohttp import web

from search_app.ratelimit import RateLimiter
from search_app.state import SETTINGS
from unicat import mail

log = logging.getLogger(__name__)

MAILS_PER_RECIPIENT = 3
RECIPIENT_WINDOW = 3600.0
MAX_QUEUED = 100


class Outbox:
    """Messages on their way to the SMTP server of the settings, one at a time."""

    def __init__(self, app: web.Application) -> None:
        self._settings = app[SETTINGS]
        self._threads = ThreadPoolExecutor(max_workers=1, thread_name_prefix="unicat-mail")
        self._per_recipient = RateLimiter(MAILS_PER_RECIPIENT, RECIPIENT_WINDOW)
        self._queued: set[asyncio.Future[None]] = set()

    def send(self, to: str, subject: str, body: str) -> None:
        """Queue a message to ``to``; returns at once. A message beyond the bounds is dropped and logged."""
        if self._per_recipient.retry_after(to) is not None:
            log.warning("mail to %s not sent: %d already sent to it this hour", to, MAILS_PER_RECIPIENT)
            return
        if len(self._queued) >= MAX_QUEUED:
            log.warning("mail to %s not sent: %d messages wait for the mail server already", to, MAX_QUEUED)
            return
        self._per_recipient.record(to)
        message = mail.compose(self._settings, to, subject, body)
        future = asyncio.get_running_loop().run_in_executor(self._threads, mail.send, self._settings, message)
        self._queued.add(future)
        future.add_done_callback(lambda done: self._sent(done, to, subject))

    def _sent(self, future: asyncio.Future[None], to: str, subject: str) -> None:
        self._queued.discard(future)
        if not future.cancelled() and (error := future.exception()) is not None:
            log.error(
                "mail %r to %s failed: %s (check the smtp_* settings and the mail server)", subject, to, error
            )

    async def drain(self) -> None:
        """Wait until every queued message is sent or has failed."""
        await asyncio.gather(*self._queued, return_exceptions=True)

    def close(self) -> None:
        self._threads.shutdown(wait=True)


OUTBOX = web.AppKey("outbox", Outbox)


async def outbox_context(app: web.Application) -> AsyncIterator[None]:
    """The outbox lives as long as the app; at the end, the messages queued are still sent."""
    app[OUTBOX] = Outbox(app)
    yield
    await app[OUTBOX].drain()
    app[OUTBOX].close()
