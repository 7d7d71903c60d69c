"""A real OAI-PMH data provider on 127.0.0.1 that fails on demand, for the harvester's fault tests.

It serves a demo repository (:mod:`unicat_cli.demo.oai_endpoint`: the union catalogue's provider over real
records of ``shared/data``, real resumption tokens) and, in front of it, as a proxy that reads each
answer whole, injects the faults public libraries' servers really show:
a busy 503 or 429 with ``Retry-After``, a 5xx, no answer in time, the connection reset part way
through a body or dropped before any answer, a body cut short but well framed (the server died
mid-page behind a proxy), a body that is not well-formed XML (a control character in a record), a
resumption token sent again (a loop), and a token the server no longer knows (expired).

Faults are queued with :meth:`FaultyProvider.inject` and each applies to the next ``times`` requests
it matches (a verb, and optionally only requests carrying a resumption token). Every exchange is
logged in ``exchanges`` with its arguments, the fault played and its start and end on the monotonic
clock, so tests can check what the harvester asked, when, and how often. The server runs its own
asyncio loop in a daemon thread: synchronous tests, and harvests in other processes, use it alike.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Literal

import aiohttp
from aiohttp import hdrs, web

from tests.support.served_app import ServedApp
from unicat.oai_protocol import OAI_NS
from unicat_cli.demo.oai_endpoint import make_app
from unicat_cli.demo.records import Repository

FaultKind = Literal[
    "status",
    "timeout",
    "reset",
    "drop",
    "truncate",
    "invalid",
    "repeat_token",
    "forget_token",
    "empty_page",
    "slow",
]

_TOKEN = re.compile(rb"(<resumptionToken[^>]*>)([^<]*)(</resumptionToken>)")
_BAD_TOKEN = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    f'<OAI-PMH xmlns="{OAI_NS}"><responseDate>{{now}}</responseDate>'
    '<request verb="ListRecords">{url}</request>'
    '<error code="badResumptionToken">the resumption token has expired</error></OAI-PMH>'
)
_EMPTY_PAGE = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    f'<OAI-PMH xmlns="{OAI_NS}"><responseDate>{{now}}</responseDate>'
    '<request verb="ListRecords">{url}</request>'
    "<ListRecords><resumptionToken>{token}</resumptionToken></ListRecords></OAI-PMH>"
)


@dataclass
class Fault:
    """One kind of failure, for the next ``times`` matching requests.

    ``status``: answer ``status`` (with ``retry_after`` if given) instead of the page. ``timeout`` and
    ``slow``: answer after ``delay`` seconds. ``reset``: send half the body, then reset the
    connection. ``drop``: reset it before answering. ``truncate``: a well-framed half body.
    ``invalid``: a vertical tab (illegal in XML 1.0) inside the first record. ``repeat_token``: the
    page names its own token as the next one. ``forget_token``: ``badResumptionToken``. ``empty_page``:
    a page without records whose token is new every time (a store that miscounts its hits).
    """

    kind: FaultKind
    times: int = 1
    verb: str = "ListRecords"
    token_only: bool = False
    status: int = 503
    retry_after: str | None = None
    delay: float = 0.0
    late: bool = False  # ``invalid``: in the page's last record instead of its first

    def matches(self, arguments: dict[str, str]) -> bool:
        if self.times <= 0 or arguments.get("verb") != self.verb:
            return False
        return not self.token_only or "resumptionToken" in arguments


@dataclass
class Exchange:
    arguments: dict[str, str]
    fault: FaultKind | None
    started: float
    ended: float = 0.0


@dataclass
class FaultyProvider:
    """The provider and its fault queue; use as a context manager (starts and stops the server)."""

    repository: Repository
    page_size: int = 50
    faults: list[Fault] = field(default_factory=list)
    exchanges: list[Exchange] = field(default_factory=list)
    url: str = ""

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        front = web.Application(middlewares=[self._middleware])
        front.cleanup_ctx.append(self._provider)
        front.router.add_route("*", "/oai", self._forward)
        self._served = ServedApp(front)

    # -- control ---------------------------------------------------------------------------------
    def inject(self, *faults: Fault) -> None:
        with self._lock:
            self.faults.extend(faults)

    def clear(self) -> None:
        with self._lock:
            self.faults.clear()
            self.exchanges.clear()

    def lists(self) -> list[Exchange]:
        """The ListRecords exchanges so far."""
        with self._lock:
            return [e for e in self.exchanges if e.arguments.get("verb") == "ListRecords"]

    def _take(self, arguments: dict[str, str]) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.matches(arguments):
                    fault.times -= 1
                    return fault
        return None

    # -- lifecycle -------------------------------------------------------------------------------
    def __enter__(self) -> FaultyProvider:
        self.url = f"{self._served.__enter__().url}/oai"
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._served.__exit__(exc_type, exc, tb)

    async def _provider(self, _front: web.Application) -> AsyncIterator[None]:
        """The provider behind the proxy, on a port of its own, and a client session to it."""
        runner = web.AppRunner(make_app(self.repository, self.page_size), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        self._upstream = f"http://127.0.0.1:{runner.addresses[0][1]}/oai"
        async with aiohttp.ClientSession() as session:
            self._session = session
            yield
        await runner.cleanup()

    async def _forward(self, request: web.Request) -> web.Response:
        """The provider's answer, read whole and uncompressed, so that a fault can cut or change it."""
        headers = {hdrs.ACCEPT_ENCODING: "identity"}
        data = None
        if request.body_exists:  # a POST's form
            headers[hdrs.CONTENT_TYPE] = request.content_type
            data = await request.read()
        async with self._session.request(
            request.method, self._upstream, params=request.query, data=data, headers=headers
        ) as answer:
            body = await answer.read()
        return web.Response(status=answer.status, body=body, content_type="text/xml", charset="utf-8")

    # -- the faults ------------------------------------------------------------------------------
    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        arguments = dict(request.query)
        fault = self._take(arguments)
        exchange = Exchange(arguments, fault.kind if fault else None, time.monotonic())
        with self._lock:
            self.exchanges.append(exchange)
        try:
            return await self._answer(request, handler, fault)
        finally:
            exchange.ended = time.monotonic()

    async def _answer(
        self,
        request: web.Request,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
        fault: Fault | None,
    ) -> web.StreamResponse:
        if fault is None:
            return await handler(request)
        kind = fault.kind
        if kind == "status":
            headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
            return web.Response(status=fault.status, text="the server is having a moment", headers=headers)
        if kind == "drop":
            assert request.transport is not None
            request.transport.abort()
            return web.Response()  # never sent: the connection is gone
        if kind in ("timeout", "slow"):
            await asyncio.sleep(fault.delay)
            return await handler(request)
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        if kind == "forget_token":
            refusal = _BAD_TOKEN.format(now=now, url=self.url)
            return web.Response(body=refusal.encode("utf-8"), content_type="text/xml")
        if kind == "empty_page":
            fresh = f"{request.query.get('resumptionToken', '')}+"
            empty = _EMPTY_PAGE.format(now=now, url=self.url, token=fresh)
            return web.Response(body=empty.encode("utf-8"), content_type="text/xml")
        page = await handler(request)
        assert isinstance(page, web.Response) and isinstance(page.body, bytes)
        body = page.body
        if kind == "truncate":
            return web.Response(body=body[: len(body) // 2], content_type="text/xml")
        if kind == "invalid":
            cut = (body.rindex if fault.late else body.index)(b"<metadata>") + len(b"<metadata>")
            return web.Response(body=body[:cut] + b"\x0b" + body[cut:], content_type="text/xml")
        if kind == "repeat_token":
            token = request.query.get("resumptionToken", "").encode("utf-8")
            return web.Response(body=_TOKEN.sub(rb"\g<1>" + token + rb"\g<3>", body), content_type="text/xml")
        # reset: a body announced whole, half of it sent, then the connection reset.
        response = web.StreamResponse(headers={"Content-Type": "text/xml", "Content-Length": str(len(body))})
        await response.prepare(request)
        await response.write(body[: len(body) // 2])
        assert request.transport is not None
        request.transport.abort()
        return response
