"""The JSON API of live search: a run's latest state as a poll (``/api/search/live/{id}``, long-polled
with ``since`` and ``wait``) or as a stream (``/api/search/live/{id}/events``: server-sent events, or
one JSON line per version with ``Accept: application/x-ndjson``). ``/api/search`` starts the run and
names both (search_app/catalogue/api.py)."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from search_app.auth import viewer
from search_app.catalogue.fetch import query_lists
from search_app.catalogue.live import find_run, run_json
from search_app.catalogue.live_runs import MAX_WAIT, LiveRun
from search_app.parameters import check_api_parameters
from search_app.state import SOURCES
from unicat.errors import BadParameter

NDJSON = "application/x-ndjson"
KEEPALIVE_SECONDS = 15.0
"""A stream with nothing new sends a comment this often, so that proxies keep it open."""


def _number(request: web.Request, name: str, default: float, low: float, high: float) -> float:
    values = request.query.getall(name, [])
    if not values:
        return default
    try:
        number = float(values[0]) if len(values) == 1 else float("nan")
    except ValueError:
        number = float("nan")
    if not low <= number <= high:
        raise BadParameter(name, f"give one number from {low:g} to {high:g}")
    return number


async def _state(request: web.Request, run: LiveRun) -> dict[str, Any]:
    sources = request.app[SOURCES]
    return run_json(
        run, await sources.names(), barcodes=viewer(request).is_staff, as_of=await sources.as_of()
    )


def _private(response: web.StreamResponse, request: web.Request) -> None:
    """A run is one reader's search, and a librarian's carries barcodes: no shared cache keeps it."""
    response.headers["Cache-Control"] = (
        "private, no-store" if viewer(request).is_staff else "private, no-cache"
    )


async def api_live(request: web.Request) -> web.Response:
    """``/api/search/live/{id}``: the run's latest state; with ``since=VERSION`` and ``wait=SECONDS``
    the answer waits (at most ``wait``, ≤ 30 s) for a version after ``since`` or the run's end."""
    check_api_parameters(query_lists(request), ("since", "wait"))
    since = _number(request, "since", -1, 0, 2**31)
    wait = _number(request, "wait", 0.0, 0.0, MAX_WAIT)
    run = find_run(request, request.match_info["id"])
    if since >= 0 and wait > 0:
        await run.newer_than(int(since), wait)
    response = web.json_response(await _state(request, run))
    _private(response, request)
    return response


async def api_live_events(request: web.Request) -> web.StreamResponse:
    """``/api/search/live/{id}/events``: every version of the run as it comes, then the end (see the
    module docstring). Versions that come while one is being sent are sent as one, the latest."""
    check_api_parameters(query_lists(request), ())
    run = find_run(request, request.match_info["id"])
    ndjson = NDJSON in request.headers.get("Accept", "")
    response = web.StreamResponse(headers={"X-Accel-Buffering": "no"})
    response.content_type = NDJSON if ndjson else "text/event-stream"
    _private(response, request)
    await response.prepare(request)
    sent = -1
    while True:
        if run.version > sent or run.done:
            sent = run.version
            state = json.dumps(await _state(request, run), ensure_ascii=False, separators=(",", ":"))
            if ndjson:
                await response.write(f"{state}\n".encode())
            else:
                await response.write(f"event: update\nid: {sent}\ndata: {state}\n\n".encode())
            if run.done:
                if not ndjson:
                    await response.write(f"event: done\nid: {sent}\ndata: {state}\n\n".encode())
                break
        await run.newer_than(sent, KEEPALIVE_SECONDS)
        if run.version == sent and not run.done and not ndjson:
            await response.write(b": waiting\n\n")
    await response.write_eof()
    return response
