"""Serving the app on a TCP address so that slow and abusive clients cannot starve it.

Each connection must send a request's line and headers within ``header_read_timeout`` (counted from
its opening, then from the first byte of each next request), and is closed after ``keepalive_timeout``
idle between requests. Beyond ``max_connections`` open ones, a new connection is closed as soon as it is
accepted, so that clients that connect and wait can never take the descriptors the database, the index
and the log need; beyond ``max_connections_per_address`` from one address, so that one client cannot
take all of those places from the others. (What a request holds once its headers are in is bounded in
:mod:`search_app.request_limits`.)
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web
from yarl import URL

from search_app.state import SETTINGS

log = logging.getLogger(__name__)

LISTEN_BACKLOG = 1024
"""Connections the system queues for the server to accept (aiohttp's default is 128). When the queue is
full, a new connection's first packet is dropped and its client waits a second to try again: a burst of
connections, an attacker's or a crowd's, should not cost other clients that second."""


class ConnectionGate:
    """The connections open on a site, against ``max_connections`` in all and
    ``max_connections_per_address`` from one client address (0: no such cap)."""

    def __init__(self, limit: int, per_address: int = 0) -> None:
        self.limit = limit
        self.per_address = per_address
        self.open = 0
        self.by_address: dict[str, int] = {}
        self._refusing = False
        self._refusing_addresses: set[str] = set()

    def enter(self) -> bool:
        """Count a new connection in, or say it must be refused."""
        if self.open >= self.limit:
            if not self._refusing:
                log.warning(
                    "refusing new connections: %d are open, the most max_connections allows; "
                    "new ones are closed at once until some end",
                    self.open,
                )
                self._refusing = True
            return False
        self._refusing = False
        self.open += 1
        return True

    def leave(self) -> None:
        self.open -= 1

    def enter_address(self, address: str) -> bool:
        """Count a connection from ``address`` in, or say it must be closed: one client holding many
        connections must not take every place of the site's cap from the others."""
        if not self.per_address:
            return True
        held = self.by_address.get(address, 0)
        if held >= self.per_address:
            if address not in self._refusing_addresses:
                log.warning(
                    "refusing new connections from %s: it holds %d, the most max_connections_per_address "
                    "allows",
                    address,
                    held,
                )
                self._refusing_addresses.add(address)
            return False
        self._refusing_addresses.discard(address)
        self.by_address[address] = held + 1
        return True

    def leave_address(self, address: str) -> None:
        held = self.by_address.get(address, 0) - 1
        if held > 0:
            self.by_address[address] = held
        else:
            self.by_address.pop(address, None)


class _Refused(asyncio.Protocol):
    """A connection beyond the gate: closed as soon as it is accepted, so its descriptor is freed at once."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport.close()


class GuardedRequestHandler(web.RequestHandler):
    """aiohttp's HTTP protocol, with a deadline for a request's line and headers, and a place in a gate.

    Why a subclass: aiohttp bounds the wait for a request only with its keep-alive timer, armed when a
    connection opens and after each answer, so the time a client may take to send its headers is tied
    to how long an idle connection is kept (an hour by default); and it has no cap on connections. The
    deadline needs to know when a request's head begins (the first byte while the protocol waits for
    one) and when it is complete (aiohttp's count of parsed requests grows), which only the protocol
    sees.
    """

    def __init__(
        self, manager: web.Server, *, gate: ConnectionGate, header_timeout: float, **kwargs: Any
    ) -> None:
        super().__init__(manager, **kwargs)
        self._gate = gate
        self._header_timeout = header_timeout
        self._header_deadline: asyncio.TimerHandle | None = None
        self._address: str | None = None  # counted against the per-address cap while open

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        peer = transport.get_extra_info("peername")
        address = str(peer[0]) if isinstance(peer, tuple) and peer else ""
        if not self._gate.enter_address(address):
            transport.close()  # its descriptor is freed at once; connection_lost follows
            return
        self._address = address
        # A new connection owes its first request at once: waiting for nothing costs a descriptor.
        self._arm_header_deadline()

    def data_received(self, data: bytes) -> None:
        waiting = self._waiter is not None and not self._waiter.done()
        if data and waiting and self._header_deadline is None:
            self._arm_header_deadline()
        parsed = self._request_count
        super().data_received(data)
        if self._request_count != parsed:
            self._disarm_header_deadline()

    def connection_lost(self, exc: BaseException | None) -> None:
        self._disarm_header_deadline()
        self._gate.leave()
        if self._address is not None:
            self._gate.leave_address(self._address)
            self._address = None
        super().connection_lost(exc)

    def _arm_header_deadline(self) -> None:
        self._header_deadline = self._loop.call_later(self._header_timeout, self._headers_timed_out)

    def _disarm_header_deadline(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _headers_timed_out(self) -> None:
        # Still armed: no complete request head since it was armed (parsing one disarms it).
        self._header_deadline = None
        log.debug("closing a connection that sent no complete request within header_read_timeout")
        self.force_close()


class GuardedSite(web.BaseSite):
    """A TCP site whose connections are :class:`GuardedRequestHandler` behind a :class:`ConnectionGate`.

    aiohttp's ``TCPSite`` listens with the runner's own protocol factory, which makes plain
    ``RequestHandler`` s; this site makes the guarded ones with the same manager (the runner's server),
    so requests, shutdown and the runner's addresses work as with ``TCPSite``.
    """

    def __init__(self, runner: web.AppRunner, host: str, port: int) -> None:
        super().__init__(runner)
        settings = runner.app[SETTINGS]
        self._host = host
        self._port = port
        self.gate = ConnectionGate(settings.max_connections, settings.max_connections_per_address)
        self._header_timeout = settings.header_read_timeout
        self._handler_options = {"keepalive_timeout": settings.keepalive_timeout}

    @property
    def name(self) -> str:
        return str(URL.build(scheme="http", host=self._host, port=self._port))

    async def start(self) -> None:
        await super().start()
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self._protocol, self._host, self._port, backlog=LISTEN_BACKLOG
        )

    def _protocol(self) -> asyncio.BaseProtocol:
        manager = self._runner.server
        if manager is None or not self.gate.enter():
            return _Refused()
        return GuardedRequestHandler(
            manager,
            loop=asyncio.get_running_loop(),
            gate=self.gate,
            header_timeout=self._header_timeout,
            **self._handler_options,
        )


async def serve(app: web.Application, host: str, port: int) -> web.AppRunner:
    """Start serving ``app`` on ``host:port`` in the running loop, within the limits of its settings;
    ``await runner.cleanup()`` stops it.

    Returns at once, so the caller can start other servers (the demo's OAI endpoints) on the same loop.
    """
    runner = web.AppRunner(app)
    await runner.setup()
    await GuardedSite(runner, host, port).start()
    return runner
