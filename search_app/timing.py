"""``Server-Timing`` on every response: how long the app took and, for searches, the engine's share.

Browsers' developer tools and the benchmark read it, so what the web layer adds to a search (``app``
minus ``engine``) is measured on the server, apart from the network and the client.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from aiohttp import web

ENGINE_MS = web.RequestKey("engine_ms", float)
"""Where handlers add up the milliseconds a request spent waiting for the engine."""

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def add_engine_time(request: web.Request, started: float) -> None:
    """Count the time since ``started`` (``time.perf_counter()``) as engine time of this request."""
    request[ENGINE_MS] = request.get(ENGINE_MS, 0.0) + (time.perf_counter() - started) * 1000


@web.middleware
async def server_timing(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.perf_counter()
    response = await handler(request)
    total_ms = (time.perf_counter() - started) * 1000
    parts = []
    if ENGINE_MS in request:
        parts.append(f"engine;dur={request[ENGINE_MS]:.3f}")
    parts.append(f"app;dur={total_ms:.3f}")
    if not response.prepared:
        response.headers["Server-Timing"] = ", ".join(parts)
    return response
