"""The web app's searches sent to the nodes over a plain aiohttp session: the body posted as bytes, the
answer read and parsed by orjson, nothing else.

Why not the Elasticsearch client's asynchronous transport, which runs over aiohttp too: per search it
builds the request through the client's parameter rewriting, its headers, its node pool and its response
objects. The same search of 20 hits, awaited back to back against one node, cost the process 470-510 µs
of CPU through the client and 360-390 µs through this session: a tenth of a millisecond of the app's
single event loop per search, out of its ~1.3 ms (bench/README.md, *app_vs_bare.py*). What a search
needs of that transport is kept, with its figures:
the nodes taken in turn; a node whose connection fails (down, killed) set aside for one second, doubling
with each failure in a row up to 30, and the request sent to another; answers 429, 502, 503 and 504 sent
again; ``es_bulk_retries`` more attempts at most; each attempt within the query time; and the same
errors, worded by :mod:`unicat.engines.elasticsearch.connection`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import aiohttp
import orjson
from yarl import URL

from unicat.engines.elasticsearch.connection import error_text, refused, too_slow, unreachable

RETRIED_STATUSES = frozenset((429, 502, 503, 504))
FIRST_REST = 1.0
LONGEST_REST = 30.0
_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}


class SearchSession:
    """POSTs of JSON bodies to one cluster's nodes (``node_urls``), opened in the running event loop
    at the first request and closed by :meth:`close`."""

    def __init__(self, node_urls: Sequence[str], timeout: float, retries: int) -> None:
        self._nodes = tuple(node_urls)
        self._named = ",".join(node_urls)
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._retries = retries
        self._turn = 0
        # Nodes whose connection failed: consecutive failures, and until when each is set aside.
        self._failures: dict[str, int] = {}
        self._resting: dict[str, float] = {}
        self._session: aiohttp.ClientSession | None = None
        self._targets: dict[tuple[str, str], URL] = {}

    async def post(self, path: str, body: bytes, what: str) -> dict[str, Any]:
        """The parsed answer of ``body`` posted to ``path`` (``/index/_search``) on a node; raises
        Unicat's errors (:class:`~unicat.errors.QueryTimeout`, :class:`~unicat.errors.EngineUnavailable`,
        :class:`~unicat.errors.EngineError`) naming ``what`` was asked."""
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        attempt = 0
        while True:
            node = self._node()
            try:
                target = self._targets.get((node, path)) or self._target(node, path)
                async with self._session.post(target, data=body, headers=_HEADERS) as response:
                    status, raw = response.status, await response.read()
                    reason = response.reason or ""
            except TimeoutError as exc:
                # As the client's transport: a slow answer is not sent again (the search would likely
                # be as slow on another node, and the reader waits).
                raise too_slow(self._named, what) from exc
            except aiohttp.ClientError as exc:
                self._set_aside(node)
                if attempt < self._retries:
                    attempt += 1
                    continue
                raise unreachable(self._named, exc) from exc
            if node in self._failures:
                self._failures.pop(node)
                self._resting.pop(node, None)
            if status in RETRIED_STATUSES and attempt < self._retries:
                attempt += 1
                continue
            answer = _parsed(raw)
            if status >= 400:
                raise refused(self._named, what, status, error_text(status, answer, reason))
            if not isinstance(answer, dict):
                raise refused(self._named, what, status, f"HTTP {status}: not a JSON object")
            return answer

    def _target(self, node: str, path: str) -> URL:
        """The URL of ``path`` on ``node``, parsed once (yarl's parsing costs a search's microseconds)."""
        target = self._targets[(node, path)] = URL(node + path, encoded=True)
        return target

    def _node(self) -> str:
        """The next node in turn among those not set aside; when all are, the one back soonest."""
        self._turn += 1
        if not self._resting:
            return self._nodes[self._turn % len(self._nodes)]
        now = time.monotonic()
        ready = [node for node in self._nodes if self._resting.get(node, 0.0) <= now]
        if not ready:
            return min(self._nodes, key=lambda node: self._resting[node])
        return ready[self._turn % len(ready)]

    def _set_aside(self, node: str) -> None:
        if len(self._nodes) == 1:
            return
        failures = self._failures.get(node, 0) + 1
        self._failures[node] = failures
        self._resting[node] = time.monotonic() + min(FIRST_REST * 2 ** (failures - 1), LONGEST_REST)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _parsed(raw: bytes) -> object:
    """The answer's JSON, or ``None`` for an empty or unreadable body (a proxy's error page)."""
    try:
        return orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        return None
