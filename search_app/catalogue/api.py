"""The JSON API of the catalogue: search, records, health, and the OpenAPI document that describes the
whole HTTP interface (the librarians' and readers' JSON routes live beside their pages)."""

from __future__ import annotations

import logging

from aiohttp import web

from search_app.auth import viewer
from search_app.catalogue.fetch import find_record, query_lists, run_search
from search_app.catalogue.live import (
    LIVE_PARAMETERS,
    choose_targets,
    launch_live,
    live_summary_json,
    start_live,
    wait_for_end,
)
from search_app.catalogue.present import record_json, search_json
from search_app.catalogue.spelling import did_you_mean
from search_app.fast_json import json_response
from search_app.openapi import openapi_json
from search_app.parameters import check_api_parameters
from search_app.state import CATALOGUE, LABELS, SETTINGS, SOURCES, in_thread
from unicat.catalogue import Catalogue
from unicat.errors import EngineError
from unicat.query import SEARCH_PARAMETERS

log = logging.getLogger(__name__)


def _ping(catalogue: Catalogue) -> None:
    """Ask the union index, then the store's database (one file with the embedded default)."""
    catalogue.index.ping()
    catalogue.database.ping()


async def healthz(request: web.Request) -> web.Response:
    """200 once the union index and the store answer a ping; 503 with the reason otherwise (for load
    balancers)."""
    try:
        await in_thread(request.app, _ping, request.app[CATALOGUE])
    except Exception as exc:
        # Whatever the failure (unreachable, locked, corrupt), the answer to "can I serve?" is no.
        if not isinstance(exc, EngineError):
            log.warning("health check failed: %r", exc)
        return web.json_response({"status": "unavailable", "message": str(exc)}, status=503)
    return web.json_response({"status": "ok"})


async def api_search(request: web.Request) -> web.Response:
    """``/api/search``: the same parameters as the results page; no ``q`` lists everything. A search
    that asks live targets starts their run and names it in ``live`` (``live=wait``: after its end)."""
    params = query_lists(request)
    check_api_parameters(params, SEARCH_PARAMETERS | LIVE_PARAMETERS)
    choice = await choose_targets(request, params)
    # The hits as stored documents, written straight to JSON, unless a live run takes them as records.
    found = await run_search(request, documents=not choice.chosen)
    live = await start_live(request, found, choice)
    if live.run is not None and choice.waits:
        await wait_for_end(live.run)
    staff = viewer(request).is_staff
    labels = request.app[LABELS]
    as_of = await request.app[SOURCES].as_of()
    body = search_json(
        found.query,
        found.result,
        labels,
        found.library_names,
        found.ratings,
        barcodes=staff,
        as_of=as_of,
        site_names=found.site_names,
    )
    correction = await did_you_mean(request, found)
    body["did_you_mean"] = {"q": correction.q, "total": correction.total} if correction is not None else None
    summary = live_summary_json(request, live)
    if summary is not None:
        body["live"] = summary
    response = _barcodes_kept_private(json_response(body), staff)
    launch_live(request, live)
    return response


async def api_record(request: web.Request) -> web.Response:
    """``/api/records/{id}``: the union record's public JSON, or a 301 to where it now lives."""
    found = await find_record(request, request.match_info["id"])
    if isinstance(found, str):
        raise web.HTTPMovedPermanently(request.app.router["api_record"].url_for(id=found))
    staff = viewer(request).is_staff
    as_of = await request.app[SOURCES].as_of()
    return _barcodes_kept_private(json_response(record_json(found, barcodes=staff, as_of=as_of)), staff)


def _barcodes_kept_private(response: web.Response, staff: bool) -> web.Response:
    """A librarian's answer carries barcodes: no shared cache may keep it and hand it to the public."""
    if staff:
        response.headers["Cache-Control"] = "private, no-store"
    return response


async def api_openapi(request: web.Request) -> web.Response:
    """The OpenAPI 3.1 document of the HTTP interface."""
    return web.Response(body=openapi_json(request.app[SETTINGS]), content_type="application/json")
