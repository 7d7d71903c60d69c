"""What one request may hold: a place among the requests in flight, and time to send its body.

A request beyond ``max_requests_in_flight`` is answered 503 with ``Retry-After`` before it costs a
session lookup or an engine call, so a burst queues in clients, not in this process's memory. A body
that has not fully arrived ``body_read_timeout`` seconds after the request's headers fails every read
of it with :class:`BodyReadTimeout`, answered 408 by the error middleware: a client trickling its body
holds a request for that long at most. (Reading the request's line and headers is bounded by the
connection, in :mod:`search_app.serving`.)
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aiohttp import StreamReader, web

from unicat.settings import Settings

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

RETRY_AFTER_SECONDS = 2
"""What a 503 for too many requests asks clients to wait: the requests in flight are searches and pages
that take milliseconds, so places free up quickly."""


class Overloaded(Exception):
    """The app is already answering as many requests as it takes at once."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"the catalogue is answering {limit} requests, the most it takes at once "
            f"(max_requests_in_flight); try again in {RETRY_AFTER_SECONDS} seconds"
        )
        self.retry_after = RETRY_AFTER_SECONDS


class BodyReadTimeout(TimeoutError):
    """A request's body did not arrive in time.

    A :class:`TimeoutError`, so that aiohttp, which drains an unread body after the answer, stops
    draining at once and closes the connection.
    """

    def __init__(self, timeout: float) -> None:
        super().__init__(
            f"the request's body did not arrive within {timeout:g} seconds of its headers "
            "(body_read_timeout); send it again in one go"
        )


class RequestLimits:
    """The app's requests in flight, against the settings' limits; one per app."""

    def __init__(self, settings: Settings) -> None:
        self.max_in_flight = settings.max_requests_in_flight
        self.body_timeout = settings.body_read_timeout
        self.in_flight = 0

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if self.in_flight >= self.max_in_flight:
            raise Overloaded(self.max_in_flight)
        self.in_flight += 1
        deadline = None
        if request.body_exists and not request.content.is_eof():
            loop = asyncio.get_running_loop()
            deadline = loop.call_later(self.body_timeout, self._expire, request.content)
        try:
            return await handler(request)
        finally:
            self.in_flight -= 1
            if deadline is not None:
                deadline.cancel()

    def _expire(self, body: StreamReader) -> None:
        # is_eof: the whole body has come from the network (read by the handler or not).
        if not body.is_eof():
            body.set_exception(BodyReadTimeout(self.body_timeout))
