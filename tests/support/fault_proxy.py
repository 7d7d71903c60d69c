"""An HTTP proxy on 127.0.0.1 that tests put between Unicat and a real Elasticsearch node to make it fail.

The node itself is shared and must keep running, so its failures are played by the proxy: ``stop()``
resets every open connection and closes the port (new connections are refused, as with a node that
died), ``start()`` listens on the same port again (the node came back), and ``delay`` holds every
answer back for that many seconds (a node too busy to answer in time).

Overload is fault injection over real traffic, because a shared node cannot be made to reject whole
requests on demand: the limits that would (indexing pressure, thread-pool queues, in-flight breakers)
are node-wide or static, and would fail every other test using the node. So:

* ``overload(path, times, status)`` answers the next ``times`` requests whose path ends with ``path``
  itself, without forwarding them, with the status and JSON body Elasticsearch sends for that refusal
  (429 ``es_rejected_execution_exception``, or 503 ``cluster_block_exception``);
* ``reject_items(ids, times)`` takes the bulk actions with those document ids out of the next
  ``times`` ``_bulk`` requests that carry them, forwards the rest to the node, and splices a 429
  ``es_rejected_execution_exception`` item into the node's answer at each one's place: the node never
  sees a rejected action, exactly as with a real rejection.

Everything else reaches the real node unchanged, and every exchange is logged in ``exchanges`` (with
its arrival time, the request body and the answer's body) for tests to check what was sent when. The
proxy reads HTTP/1.1 messages one at a time per connection (the client does not pipeline); answers are
forwarded with a ``content-length`` (chunked bodies are reassembled). It runs its own asyncio loop in a
daemon thread, so synchronous and asynchronous tests use it alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import struct
import threading
import time
from collections.abc import Collection, Coroutine, Iterable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, TypeVar

T = TypeVar("T")
# The bodies a real node sends (Elasticsearch 9.2), with its byte counts made up but plausible.
LIMIT_BYTES = 107_374_182
OVERLOAD_ERRORS: dict[int, dict[str, str]] = {
    429: {
        "type": "es_rejected_execution_exception",
        "reason": "rejected execution of coordinating operation [coordinating_and_primary_bytes=0, "
        "replica_bytes=0, all_bytes=0, coordinating_operation_bytes={size}, "
        f"max_coordinating_and_primary_bytes={LIMIT_BYTES}]",
    },
    503: {
        "type": "cluster_block_exception",
        "reason": "blocked by: [SERVICE_UNAVAILABLE/1/state not recovered / initialized];",
    },
}
ITEM_REJECTION = (
    "rejected execution of primary operation [coordinating_and_primary_bytes=0, replica_bytes=0, "
    "all_bytes={size}, primary_operation_bytes={size}, max_coordinating_and_primary_bytes="
    f"{LIMIT_BYTES}]"
)
REASONS = {200: "OK", 429: "Too Many Requests", 503: "Service Unavailable"}


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request as the client sent it, and the answer the client got."""

    at: float  # time.monotonic() when the request had arrived
    method: str
    path: str
    request: bytes
    status: int
    answer: bytes
    injected: bool  # answered or altered by the proxy

    def bulk_ids(self) -> list[str]:
        """The document ids of a ``_bulk`` request's actions, in order."""
        return [action.doc_id for action in _bulk_actions(self.request)]

    def item_statuses(self) -> dict[str, int]:
        """Each document id of a ``_bulk`` answer with its status."""
        items = json.loads(self.answer)["items"] if self.status == 200 else []
        return {result["_id"]: result["status"] for item in items for result in item.values()}


def overloaded_ids(exchanges: Collection[Exchange]) -> set[str]:
    """The document ids some answer among ``exchanges`` refused with a 429 item."""
    return {
        doc_id
        for exchange in exchanges
        for doc_id, status in exchange.item_statuses().items()
        if status == 429
    }


@dataclass
class _Message:
    """A parsed HTTP/1.1 request or response: start line, header lines, and the whole body."""

    start: str
    headers: list[tuple[str, str]]
    body: bytes = b""

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key.lower() == name.lower()), None)

    def encode(self, body: bytes | None = None, keep_length: bool = False) -> bytes:
        """The message with ``body`` (its own by default), framed by a ``content-length``."""
        body = self.body if body is None else body
        kept = [(k, v) for k, v in self.headers if k.lower() not in ("content-length", "transfer-encoding")]
        if keep_length:  # an answer to HEAD: the length of the body it would have had, and no body
            kept, body = self.headers, b""
        else:
            kept.append(("content-length", str(len(body))))
        head = "".join(f"{key}: {value}\r\n" for key, value in kept)
        return f"{self.start}\r\n{head}\r\n".encode("latin-1") + body


@dataclass(frozen=True, slots=True)
class _Action:
    """One bulk action: its document id and its NDJSON lines (one, or two with a source)."""

    doc_id: str
    index: str
    op: str
    lines: bytes


@dataclass
class _Faults:
    """What the proxy does instead of forwarding: whole-request answers, and per-item rejections."""

    overload_path: str = ""
    overload_left: int = 0
    overload_status: int = 429
    items_left: dict[str, int] = field(default_factory=dict)


class FaultProxy:
    """Forwards ``127.0.0.1:port`` to ``target_host:target_port`` until told to fail."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.delay = 0.0
        self.port = 0
        self.exchanges: list[Exchange] = []
        self._faults = _Faults()
        self._lock = threading.Lock()
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

    # -- faults --------------------------------------------------------------------------------
    def overload(self, path: str, times: int, status: int = 429) -> None:
        """Answer the next ``times`` requests whose path ends with ``path`` with an overload error."""
        if status not in OVERLOAD_ERRORS:
            raise ValueError(f"no Elasticsearch body known for status {status}")
        with self._lock:
            self._faults.overload_path = path
            self._faults.overload_left = times
            self._faults.overload_status = status

    def reject_items(self, ids: Iterable[str], times: int) -> None:
        """Reject the bulk actions with these document ids, ``times`` times each, with a 429 item."""
        with self._lock:
            self._faults.items_left.update(dict.fromkeys(ids, times))

    def heal(self) -> None:
        """Forget every fault not played yet: the node is well again."""
        with self._lock:
            self._faults = _Faults()

    def bulk_exchanges(self, union_only: bool = True) -> list[Exchange]:
        """The ``_bulk`` requests seen so far, in order of arrival: by default only those writing union
        records (a rebuild also writes the OAI-PMH feed's items and sets in bulk, after the records)."""
        return [
            exchange
            for exchange in list(self.exchanges)
            if exchange.path.endswith("/_bulk")
            and (not union_only or all("-union-" in act.index for act in _bulk_actions(exchange.request)))
        ]

    # -- lifecycle -----------------------------------------------------------------------------
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

    # -- one connection ------------------------------------------------------------------------
    async def _serve(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            node_reader, node_writer = await asyncio.open_connection(*self.target)
        except OSError:
            _reset(client_writer)
            return
        self._writers.update((client_writer, node_writer))
        try:
            while await self._exchange(client_reader, client_writer, node_reader, node_writer):
                pass
        except (ConnectionError, OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            _reset(client_writer)
        finally:
            for writer in (client_writer, node_writer):
                self._writers.discard(writer)
                writer.close()

    async def _exchange(
        self,
        client_reader: asyncio.StreamReader,
        client_writer: asyncio.StreamWriter,
        node_reader: asyncio.StreamReader,
        node_writer: asyncio.StreamWriter,
    ) -> bool:
        """Carry one request and its answer; ``False`` once the client closed the connection."""
        request = await _read_message(client_reader)
        if request is None:
            return False
        arrived = time.monotonic()
        method, path = request.start.split(" ")[:2]
        path = path.split("?")[0]
        status, answer, injected = self._overload_answer(request, path)
        if answer is None:
            status, answer, injected = await self._forward(request, path, method, node_reader, node_writer)
            if answer is None:
                _reset(client_writer)
                return False
        self.exchanges.append(
            Exchange(arrived, method, path, request.body, status, answer.body, injected),
        )
        if self.delay:
            await asyncio.sleep(self.delay)
        client_writer.write(answer.encode(keep_length=method == "HEAD"))
        await client_writer.drain()
        return True

    def _overload_answer(self, request: _Message, path: str) -> tuple[int, _Message | None, bool]:
        """The proxy's own answer when the request is to be refused as a whole, else no message."""
        with self._lock:
            faults = self._faults
            if faults.overload_left <= 0 or not path.endswith(faults.overload_path):
                return 0, None, False
            faults.overload_left -= 1
            status = faults.overload_status
        error = dict(OVERLOAD_ERRORS[status])
        error["reason"] = error["reason"].replace("{size}", str(len(request.body)))
        body = {"error": {"root_cause": [error], **error}, "status": status}
        return status, _answer(request, status, body), True

    async def _forward(
        self,
        request: _Message,
        path: str,
        method: str,
        node_reader: asyncio.StreamReader,
        node_writer: asyncio.StreamWriter,
    ) -> tuple[int, _Message | None, bool]:
        """The node's answer, with the actions to reject taken out of a bulk request and put back."""
        actions, rejected = self._take_rejected(request, path)
        if not rejected:
            answer = await _ask(request, request.body, method, node_reader, node_writer)
            return (_status(answer) if answer else 0), answer, False
        kept = [action for action in actions if action.doc_id not in rejected]
        items: list[dict[str, Any]] = []
        took = 0
        if kept:
            body = b"".join(action.lines for action in kept)
            answer = await _ask(request, body, method, node_reader, node_writer)
            if answer is None:
                return 0, None, True
            if _status(answer) != 200:
                return _status(answer), answer, True
            from_node = json.loads(answer.body)
            items, took = list(from_node["items"]), int(from_node["took"])
        from_node_items = iter(items)
        merged = [
            _rejected_item(action) if action.doc_id in rejected else next(from_node_items)
            for action in actions
        ]
        body_out = {"errors": True, "took": took, "items": merged}
        return 200, _answer(request, 200, body_out), True

    def _take_rejected(self, request: _Message, path: str) -> tuple[list[_Action], set[str]]:
        """The actions of a bulk request, and the ids among them to reject this time."""
        with self._lock:
            if not self._faults.items_left or not path.endswith("/_bulk"):
                return [], set()
            actions = _bulk_actions(request.body)
            rejected = set()
            for action in actions:
                if self._faults.items_left.get(action.doc_id, 0) > 0:
                    self._faults.items_left[action.doc_id] -= 1
                    rejected.add(action.doc_id)
        return actions, rejected


async def _ask(
    request: _Message,
    body: bytes,
    method: str,
    node_reader: asyncio.StreamReader,
    node_writer: asyncio.StreamWriter,
) -> _Message | None:
    """Send ``request`` with ``body`` to the node and read its answer (``None``: the node hung up)."""
    node_writer.write(request.encode(body))
    await node_writer.drain()
    return await _read_message(node_reader, method)


async def _read_message(reader: asyncio.StreamReader, method: str | None = None) -> _Message | None:
    """The next message on the connection (an answer to ``method`` when given), ``None`` at its end."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if exc.partial:
            raise
        return None
    start, *lines = head.decode("latin-1").rstrip("\r\n").split("\r\n")
    headers = [(key.strip(), value.strip()) for key, value in (line.split(":", 1) for line in lines)]
    message = _Message(start, headers)
    status = _status(message) if method is not None else 0
    if method == "HEAD" or status in (204, 304):
        return message
    if (message.header("transfer-encoding") or "").lower() == "chunked":
        message.body = await _read_chunked(reader)
    elif (length := message.header("content-length")) is not None:
        message.body = await reader.readexactly(int(length))
    elif method is not None:
        message.body = await reader.read()
    return message


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts = []
    while size := int((await reader.readline()).split(b";")[0].strip(), 16):
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)
    while (await reader.readline()).strip():  # trailer fields, then the empty line
        pass
    return b"".join(parts)


def _status(answer: _Message) -> int:
    return int(answer.start.split(" ")[1])


def _answer(request: _Message, status: int, body: dict[str, Any]) -> _Message:
    """An answer as the node frames it: its product header and the media type the client asked for."""
    accept = request.header("accept") or ""
    media = accept if accept.startswith("application/vnd.elasticsearch+json") else "application/json"
    headers = [("X-elastic-product", "Elasticsearch"), ("content-type", media)]
    return _Message(f"HTTP/1.1 {status} {REASONS[status]}", headers, json.dumps(body).encode())


def _bulk_actions(body: bytes) -> list[_Action]:
    """Split an NDJSON bulk body into its actions (``delete`` has no source line)."""
    lines = body.splitlines(keepends=True)
    actions = []
    position = 0
    while position < len(lines):
        header = json.loads(lines[position])
        op = next(iter(header))
        width = 1 if op == "delete" else 2
        meta = header[op]
        chunk = b"".join(lines[position : position + width])
        actions.append(_Action(str(meta.get("_id")), str(meta.get("_index")), op, chunk))
        position += width
    return actions


def _rejected_item(action: _Action) -> dict[str, Any]:
    """The bulk answer's item for an action refused by indexing pressure on its primary shard."""
    reason = ITEM_REJECTION.replace("{size}", str(len(action.lines)))
    error = {"type": "es_rejected_execution_exception", "reason": reason}
    return {action.op: {"_index": action.index, "_id": action.doc_id, "status": 429, "error": error}}


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP reset (linger 0), so the peer sees the connection break, not end cleanly."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
