"""A TCP proxy on 127.0.0.1 that tests put between Unicat and a real Elasticsearch node to make it fail.

The node itself is shared and must keep running, so its failures are played by the proxy: ``stop()``
resets every open connection and closes the port (new connections are refused, as with a node that
died), ``start()`` listens on the same port again (the node came back), and ``delay`` holds every
answer back for that many seconds (a node too busy to answer in time). Bytes are forwarded unchanged
otherwise. The proxy runs its own asyncio loop in a daemon thread, so synchronous and asynchronous
tests use it alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from collections.abc import Coroutine
from types import TracebackType
from typing import Any, TypeVar

T = TypeVar("T")
BUFFER = 65_536


class FaultProxy:
    """Forwards ``127.0.0.1:port`` to ``target_host:target_port`` until told to fail."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.delay = 0.0
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fault-proxy", daemon=True)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def listening(self) -> bool:
        return self._server is not None

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` on the proxy's loop and wait for it."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)

    def start(self) -> FaultProxy:
        """Listen (again, on the same port once it has one)."""

        async def listen() -> int:
            self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port, reuse_address=True)
            return int(self._server.sockets[0].getsockname()[1])

        self.port = self._run(listen())
        return self

    def stop(self) -> None:
        """Refuse new connections and reset the open ones, as a node that went away."""

        async def shut() -> None:
            if self._server is not None:
                self._server.close()
                await self._server.wait_closed()
                self._server = None
            for writer in list(self._writers):
                _reset(writer)
            self._writers.clear()

        self._run(shut())

    def close(self) -> None:
        """Stop, end the connections' tasks, and stop the proxy's thread."""
        self.stop()

        async def end_tasks() -> None:
            tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        self._run(end_tasks())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    async def _serve(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            node_reader, node_writer = await asyncio.open_connection(*self.target)
        except OSError:
            _reset(client_writer)
            return
        self._writers.update((client_writer, node_writer))
        try:
            await asyncio.gather(
                self._pump(client_reader, node_writer, delayed=False),
                self._pump(node_reader, client_writer, delayed=True),
            )
        finally:
            for writer in (client_writer, node_writer):
                self._writers.discard(writer)
                writer.close()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delayed: bool) -> None:
        try:
            while data := await reader.read(BUFFER):
                if delayed and self.delay:
                    await asyncio.sleep(self.delay)
                writer.write(data)
                await writer.drain()
            if writer.can_write_eof():
                writer.write_eof()
        except (ConnectionError, OSError):
            _reset(writer)


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP reset (linger 0), so the peer sees the connection break, not end cleanly."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
