"""Inter-library requests over the JSON API (docs/shuttle.md, docs/http-api.md).

``POST /api/requests`` places one for the signed-in patron, routed by :mod:`unicat.shuttle_routing`;
``GET /api/requests`` lists the patron's own (a library's, for its librarians, with ``?library=``:
:mod:`search_app.librarians.requests`); ``GET /api/requests/{id}`` shows one with its history;
``POST /api/requests/{id}/{action}`` changes it.

Who sees what: a request is seen only by its patron, the librarians of the libraries involved and
administrators. To anyone else it does not exist (404, the same answer as for an id never given), so
that request numbers cannot be tried one after another to learn whether they exist. A change the
viewer may see but not make is a 403; a change the request's state does not allow is a 409 saying
the state. Posts carry the CSRF token (header ``X-CSRF-Token``), as every other.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from search_app.auth import check_post_rate, count_post, require_signed_in
from search_app.catalogue.fetch import MAX_ID_LENGTH, find_record
from search_app.json_body import json_body
from search_app.librarians.requests import library_requests
from search_app.parameters import check_api_parameters
from search_app.shuttle_mail import change, place
from search_app.state import CATALOGUE, in_thread
from unicat.accounts import User
from unicat.errors import BadParameter, Conflict, ItemNotFound
from unicat.model import UnionRecord
from unicat.shuttle import MAX_REASON, Event, Request, check_action
from unicat.shuttle_routing import LibraryPlace, candidates_for, position_of, route

LIBRARY_PLACES: web.AppKey[Mapping[str, LibraryPlace]] = web.AppKey("library_places")
"""The network's libraries by code, as routing needs them (coordinates, shuttle flag); a pickup
library must be one of them."""

MAX_TITLE = 500
"""The longest title kept with a request (the record's title when it was placed)."""
_LIBRARY_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}")
_MAX_REQUEST_DIGITS = 18
PLACE_EXAMPLE = '{"record": "u6lqsbyb5cmra", "pickup": "GENT"}'
ACTION_EXAMPLE = '{"reason": "…", "version": 3} (both optional; a refusal needs its reason)'


def request_json(request: Request, events: list[Event] | None = None) -> dict[str, Any]:
    """A request as the API shows it, with its history when given."""
    body: dict[str, Any] = {
        "id": request.id,
        "record": request.record,
        "title": request.title,
        "pickup": request.pickup,
        "holder": request.holder,
        "reason": request.reason,
        "candidates": [{"library": choice.library, "reason": choice.reason} for choice in request.candidates],
        "state": request.state,
        "message": request.message,
        "version": request.version,
        "created": request.created,
        "updated": request.updated,
    }
    if events is not None:
        body["events"] = [
            {
                "action": event.action,
                "from": event.from_state,
                "to": event.to_state,
                "library": event.library,
                "reason": event.reason,
                "at": event.at,
                "user_id": event.user_id,
            }
            for event in events
        ]
    return body


def _object(sent: object, allowed: tuple[str, ...], example: str) -> dict[str, Any]:
    if not isinstance(sent, dict):
        raise BadParameter("body", f"send a JSON object such as {example}")
    unknown = sorted(key for key in sent if key not in allowed)
    if unknown:
        raise BadParameter(unknown[0][:40], f"unknown field; known: {', '.join(allowed)}")
    return sent


def _library_code(value: object, param: str) -> str:
    if not isinstance(value, str) or not _LIBRARY_CODE.fullmatch(value):
        raise BadParameter(param, "a library's code: letters, digits, '_', '.' or '-', at most 64")
    return value


async def _record(request: web.Request, record_id: object) -> UnionRecord:
    """The record to request, following a merge once."""
    if not isinstance(record_id, str) or not 0 < len(record_id) <= MAX_ID_LENGTH:
        raise BadParameter("record", f"a union record's id, at most {MAX_ID_LENGTH} characters")
    found = await find_record(request, record_id)
    if isinstance(found, str):
        found = await find_record(request, found)
    if isinstance(found, str):
        raise ItemNotFound(f"record {record_id!r}")
    return found


async def place_request(request: web.Request) -> web.Response:
    """``POST /api/requests`` with ``{"record": …, "pickup"?: …}``: 201 and the request, routed."""
    seen = require_signed_in(request)
    user = seen.user
    assert user is not None and user.id is not None
    sent = _object(await json_body(request, PLACE_EXAMPLE), ("record", "pickup"), PLACE_EXAMPLE)
    places = request.app[LIBRARY_PLACES]
    pickup_sent = sent.get("pickup", user.library)
    if pickup_sent is None:
        raise BadParameter(
            "pickup", "your account has no home library: send the code of the library you will collect it at"
        )
    pickup = _library_code(pickup_sent, "pickup")
    if pickup not in places:
        raise BadParameter("pickup", f"no library {pickup!r} in the network's directory")
    check_post_rate(request, seen, "requests")
    record = await _record(request, sent.get("record"))
    shuttle = request.app[CATALOGUE].shuttle
    counts = await in_thread(request.app, shuttle.open_counts)
    chosen = route(candidates_for(record, places, counts), pickup, position_of(places[pickup]))
    if not chosen:
        raise Conflict(
            "no library of the shuttle has a copy of this record available now; try again when one is back"
        )
    first, *rest = chosen
    new = Request(
        user.id, record.id, record.title[:MAX_TITLE], pickup, first.library, first.reason, tuple(rest)
    )
    stored = await place(request, user, new)
    count_post(request, seen)
    return web.json_response(
        request_json(stored, []), status=201, headers={"Location": f"/api/requests/{stored.id}"}
    )


async def list_requests(request: web.Request) -> web.Response:
    """``GET /api/requests``: the viewer's own requests, newest first; with ``library``, that library's
    (for its librarians), filtered by ``side`` and ``state``."""
    check_api_parameters(request.query, ("library", "side", "state"))
    seen = require_signed_in(request)
    assert seen.user is not None and seen.user.id is not None
    library = request.query.get("library")
    if library is not None:
        found = await library_requests(
            request, _library_code(library, "library"), request.query.get("side"), request.query.get("state")
        )
    else:
        if "side" in request.query or "state" in request.query:
            raise BadParameter("library", "side and state filter a library's requests: name the library")
        found = await in_thread(request.app, request.app[CATALOGUE].shuttle.for_patron, seen.user.id)
    return web.json_response({"requests": [request_json(item) for item in found]})


async def _visible(request: web.Request, user: User) -> Request:
    """The request of the path, if the viewer may see it; 404 otherwise, as for one that does not exist."""
    text = request.match_info["id"]
    request_id = int(text) if len(text) <= _MAX_REQUEST_DIGITS else 0
    found = await in_thread(request.app, request.app[CATALOGUE].shuttle.get, request_id)
    if found is None or not found.visible_to(user):
        raise ItemNotFound(f"request {text[:_MAX_REQUEST_DIGITS]}")
    return found


async def show_request(request: web.Request) -> web.Response:
    """``GET /api/requests/{id}``: the request with its history."""
    seen = require_signed_in(request)
    assert seen.user is not None
    found = await _visible(request, seen.user)
    assert found.id is not None
    events = await in_thread(request.app, request.app[CATALOGUE].shuttle.events, found.id)
    return web.json_response(request_json(found, events))


async def act_on_request(request: web.Request) -> web.Response:
    """``POST /api/requests/{id}/{action}`` with ``{"reason"?, "version"?}``: the changed request."""
    seen = require_signed_in(request)
    assert seen.user is not None
    action = check_action(request.match_info["action"])
    found = await _visible(request, seen.user)
    assert found.id is not None
    # No body at all is an empty object: most changes need nothing more.
    body = await json_body(request, ACTION_EXAMPLE) if (await request.read()).strip() else {}
    sent = _object(body, ("reason", "version"), ACTION_EXAMPLE)
    reason = sent.get("reason", "")
    if not isinstance(reason, str) or len(reason) > MAX_REASON:
        raise BadParameter("reason", f"text of at most {MAX_REASON} characters")
    version = sent.get("version")
    if version is not None and (not isinstance(version, int) or isinstance(version, bool) or version < 1):
        raise BadParameter("version", "the request's version you saw: a whole number from 1")
    changed, _ = await change(request, found, action, seen.user, reason, version)
    events = await in_thread(request.app, request.app[CATALOGUE].shuttle.events, found.id)
    return web.json_response(request_json(changed, events))


def add_routes(app: web.Application) -> None:
    app[LIBRARY_PLACES] = {}
    app.router.add_post("/api/requests", place_request, name="api_place_request")
    app.router.add_get("/api/requests", list_requests, name="api_requests")
    app.router.add_get(r"/api/requests/{id:\d+}", show_request, name="api_request")
    app.router.add_post(
        r"/api/requests/{id:\d+}/{action:[a-z]{1,20}}", act_on_request, name="api_request_action"
    )
