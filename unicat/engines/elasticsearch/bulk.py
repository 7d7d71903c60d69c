"""Bulk writes: several requests in flight, bounded memory, backoff on overload and on a lost node, and a
second chance for each failed item.

Each action is serialised once, on the caller's thread, into its two NDJSON lines; lines are cut into
requests of at most ``es_bulk_chunk`` actions and ``MAX_CHUNK_BYTES`` bytes, and ``SENDERS`` threads
post them while the caller builds the next ones (the node indexes while Python prepares). At most
``2 * SENDERS`` requests are prepared or in flight, so a rebuild of a million records never holds more
than a few chunks. A request that fails as a whole (node unreachable, reset, 429/503 for the whole
request) is sent again after 0.5 s, 1 s, 2 s… (``es_bulk_retries`` times), then the error is raised;
items the node refused for overload (429/503) are sent again the same way. These pauses are the only
retries: the client's transport, which resends 429/503 answers and lost connections at once, is told
not to for bulk requests (immediate resendings would hammer an overloaded node and multiply the
budget). An item that failed for any other reason is sent once more on its own (a transient shard
problem often clears), and only then reported back, with the node's reason, for the caller to decide
(quarantine it, or abort). A conflict (409) is reported at once. Callers that rely on retries being
harmless use ``index`` actions with deterministic ids: a request sent twice writes the same documents
twice, never two documents. A write that had to send anything again says so in the log, with how many
requests and documents, once it has ended.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from elasticsearch import ApiError, ConnectionError, Elasticsearch

from unicat.engines.elasticsearch.connection import OVERLOAD_STATUSES
from unicat.settings import Settings

T = TypeVar("T")
logger = logging.getLogger(__name__)
# Seconds before the first retry; doubles on each further retry.
INITIAL_BACKOFF = 0.5
# Bulk requests posted at once: two keep a 2-core node busy while Python prepares the next chunk.
SENDERS = 2
# Larger requests stop helping well below the node's 100 MB limit and only cost memory.
MAX_CHUNK_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class FailedItem:
    """A bulk action the node refused twice: the action itself, the HTTP status and the node's reason."""

    action: dict[str, Any]
    status: int
    reason: str


@dataclass(frozen=True, slots=True)
class _Item:
    """An action and its NDJSON lines, serialised once and resent as they are on a retry."""

    action: dict[str, Any]
    lines: bytes


class WriteAbandoned(Exception):
    """Another request of the same write already failed for good: stop retrying this one."""


def _item_error(result: dict[str, Any]) -> tuple[int, str]:
    error = result.get("error")
    if isinstance(error, dict):
        reason = f"{error.get('type', 'error')}: {error.get('reason', '')}"
        caused = error.get("caused_by")
        if isinstance(caused, dict):
            reason += f" ({caused.get('type', '')}: {caused.get('reason', '')})"
    else:
        reason = str(error or result.get("result", "failed"))
    return int(result.get("status", 500)), reason


def _already_gone(item: _Item, result: dict[str, Any]) -> bool:
    """Whether ``result`` is a delete of a document that was not there: the outcome it wanted."""
    return item.action["_op_type"] == "delete" and result.get("status") == 404


def _chunks(
    client: Elasticsearch, actions: Iterable[dict[str, Any]], max_items: int
) -> Iterator[list[_Item]]:
    """Serialise each action once and group them into requests bounded by count and bytes."""
    dumps = client.transport.serializers.get_serializer("application/json").dumps
    chunk: list[_Item] = []
    size = 0
    for action in actions:
        header = {action["_op_type"]: {"_index": action["_index"], "_id": action["_id"]}}
        if action["_op_type"] == "delete":
            lines = b"%b\n" % dumps(header)
        else:
            lines = b"%b\n%b\n" % (dumps(header), dumps(action["_source"]))
        if chunk and (len(chunk) >= max_items or size + len(lines) > MAX_CHUNK_BYTES):
            yield chunk
            chunk, size = [], 0
        chunk.append(_Item(action, lines))
        size += len(lines)
    if chunk:
        yield chunk


def _post_lines(client: Elasticsearch, body: bytes) -> Any:
    """One ``_bulk`` request of ready NDJSON lines (the client's types only name unserialised actions,
    but its serializer sends bytes as they are, as its own helpers rely on)."""
    return client.bulk(operations=cast("Sequence[Mapping[str, Any]]", body))


class _Sender:
    """Posts chunks with retries; shared by the sender threads of one write."""

    def __init__(self, client: Elasticsearch, settings: Settings) -> None:
        # Without this, each attempt below would be 1 + ``es_bulk_retries`` immediate ones by the transport.
        self.client = client.options(max_retries=0)
        self.retries = settings.es_bulk_retries
        self.abandoned = threading.Event()
        self.failure: BaseException | None = None
        self._counting = threading.Lock()
        self.resent_requests = 0
        self.resent_items = 0

    def _resent(self, items: int) -> None:
        with self._counting:
            self.resent_requests += 1
            self.resent_items += items

    def _give_up(self, exc: BaseException) -> None:
        """Remember the first error that ends the write, and stop the other requests' retries."""
        if self.failure is None:
            self.failure = exc
        self.abandoned.set()

    def result(self, future: Future[list[FailedItem]]) -> list[FailedItem]:
        """A chunk's failed items; raises the error that ended the write, whichever request met it."""
        try:
            return future.result()
        except WriteAbandoned:
            if self.failure is None:
                raise
        # Raised outside the handler: raising it inside would make WriteAbandoned its context and
        # hide the cause its message is read from (e.g. "connection refused").
        raise self.failure

    def _patiently(self, request: Callable[[], T], items: int) -> T:
        """``request()`` (of ``items`` actions), retried with growing pauses while the node is
        unreachable or overloaded."""
        for attempt in range(self.retries + 1):
            if self.abandoned.is_set():
                raise WriteAbandoned("another bulk request of this write failed")
            if attempt:
                self._resent(items)
            try:
                return request()
            except ConnectionError as exc:
                if attempt == self.retries:
                    self._give_up(exc)
                    raise
            except ApiError as exc:
                if exc.status_code not in OVERLOAD_STATUSES or attempt == self.retries:
                    self._give_up(exc)
                    raise
            time.sleep(INITIAL_BACKOFF * 2**attempt)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _post(self, items: list[_Item]) -> list[tuple[_Item, dict[str, Any]]]:
        """Post ``items`` as one request; the (item, result) pairs the node did not accept."""
        answer = self._patiently(
            lambda: _post_lines(self.client, b"".join(item.lines for item in items)), len(items)
        )
        if not answer["errors"]:
            return []
        refused = []
        for item, outcome in zip(items, answer["items"], strict=True):
            result = next(iter(outcome.values()))
            if result.get("status", 500) >= 300 and not _already_gone(item, result):
                refused.append((item, result))
        return refused

    def send(self, chunk: list[_Item]) -> list[FailedItem]:
        """Write one chunk; the items that failed even when retried (overload) or sent alone (others)."""
        refused = self._post(chunk)
        for attempt in range(self.retries):
            overloaded = [item for item, result in refused if result.get("status") in OVERLOAD_STATUSES]
            if not overloaded:
                break
            time.sleep(INITIAL_BACKOFF * 2**attempt)
            self._resent(len(overloaded))
            refused = [
                pair for pair in refused if pair[1].get("status") not in OVERLOAD_STATUSES
            ] + self._post(overloaded)
        failed: list[FailedItem] = []
        for item, result in refused:
            status, reason = _item_error(result)
            if status == 409:
                # A conflict is an answer, not a hiccup: the same id was given twice.
                failed.append(FailedItem(item.action, status, reason))
                continue
            still = self._alone(item)
            if still is not None:
                failed.append(still)
        return failed

    def _alone(self, item: _Item) -> FailedItem | None:
        """Send one item by itself; ``None`` when it is now stored."""
        answer = self._patiently(lambda: _post_lines(self.client, item.lines), 1)
        result = next(iter(answer["items"][0].values()))
        if result.get("status", 500) < 300 or _already_gone(item, result):
            return None
        status, reason = _item_error(result)
        return FailedItem(item.action, status, reason)


def write_all(
    client: Elasticsearch, actions: Iterable[dict[str, Any]], settings: Settings
) -> Iterator[FailedItem]:
    """Write every action (each with ``_op_type``, ``_index``, ``_id``, and ``_source`` unless it is a
    ``delete``, which succeeds when the document was already gone); yield the ones
    that failed even when retried alone. A node that stays unreachable raises (the client's
    ``ConnectionError``) once the retries are spent; an exception of ``actions`` itself propagates."""
    sender = _Sender(client, settings)
    pending: deque[Future[list[FailedItem]]] = deque()
    with ThreadPoolExecutor(SENDERS, thread_name_prefix="es-bulk") as pool:
        try:
            for chunk in _chunks(client, actions, max(settings.es_bulk_chunk, 1)):
                pending.append(pool.submit(sender.send, chunk))
                while len(pending) >= 2 * SENDERS or (pending and pending[0].done()):
                    yield from sender.result(pending.popleft())
            while pending:
                yield from sender.result(pending.popleft())
        except BaseException:
            # Requests still queued must not start, nor in-flight ones retry, once the write has failed.
            sender.abandoned.set()
            for future in pending:
                future.cancel()
            raise
        finally:
            if sender.resent_requests:
                logger.warning(
                    "bulk write: sent again %d times (%d documents in all) after a lost connection, a "
                    "lost node or an overloaded one",
                    sender.resent_requests,
                    sender.resent_items,
                )
