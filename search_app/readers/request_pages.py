"""The shuttle's pages for patrons: "Request this book" on a record's page, and their requests with
their history in their account (``/account/requests``), where they may cancel one until it is sent.

Placing and cancelling go through the very functions the JSON API calls
(:func:`search_app.readers.shuttle.place_for`, :func:`~search_app.readers.shuttle.change_request`), so
that the rules, the limits and what follows a change are the same whichever way it was made.

The form shows only when a library of the shuttle has a copy **available** now: routing asks only
those (docs/shuttle.md), so a request for a book on loan everywhere would be refused anyway.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from aiohttp import web

from search_app.auth import require_signed_in, viewer
from search_app.i18n import N_, current_language, gettext, link_language, translated
from search_app.library_cache import LIBRARIES
from search_app.readers.accounts import form_fields, see_other
from search_app.readers.request_words import STATE_WORDS, HistoryLine, history_lines
from search_app.readers.shuttle import change_request, place_for, visible_request
from search_app.render import render
from search_app.state import CATALOGUE, in_thread
from unicat.errors import BadParameter, Conflict, ItemNotFound
from unicat.libraries import Library
from unicat.model import UnionRecord
from unicat.shuttle import Request
from unicat.shuttle_routing import candidates_for, position_of, route

Offer = Literal["sign_in", "choose_home", "ready", "none_now"]
DONE_MESSAGES = {
    "placed": N_("Your request was placed: the library asked first sees it on its desk now."),
    "cancelled": N_("The request was cancelled."),
}


@dataclass(frozen=True, slots=True)
class RequestOffer:
    """What the record page offers: to sign in, to choose a home library, the form (with the pickup
    library and the library asked first, and why), or nothing to do now for this reader."""

    offer: Offer
    pickup: str | None = None
    pickup_name: str | None = None
    first: str | None = None
    first_name: str | None = None
    reason: str | None = None


def _name(libraries: dict[str, Library], code: str) -> str:
    library = libraries.get(code)
    return library.name_in(current_language()) if library else code


async def request_offer(request: web.Request, record: UnionRecord) -> dict[str, Any]:
    """The record page's ``request_offer`` (``None``: no shuttle library can lend a copy now, or the
    reader is a librarian)."""
    libraries = await request.app[LIBRARIES].by_code()
    candidates = candidates_for(record, libraries, {})
    if not any(c.has_available_copy and c.in_shuttle for c in candidates):
        return {"request_offer": None}
    seen = viewer(request)
    if seen.user is None:
        return {"request_offer": RequestOffer("sign_in")}
    if seen.is_staff:
        return {"request_offer": None}
    pickup = seen.user.library
    if pickup is None or pickup not in libraries:
        return {"request_offer": RequestOffer("choose_home")}
    counts = await in_thread(request.app, request.app[CATALOGUE].shuttle.open_counts)
    chosen = route(candidates_for(record, libraries, counts), pickup, position_of(libraries[pickup]))
    if not chosen:
        return {"request_offer": RequestOffer("none_now", pickup, _name(libraries, pickup))}
    first = chosen[0]
    offer = RequestOffer(
        "ready",
        pickup,
        _name(libraries, pickup),
        first.library,
        _name(libraries, first.library),
        first.reason,
    )
    return {"request_offer": offer}


async def place_from_record(request: web.Request) -> web.Response:
    """``POST /record/{id}/request``: place the request; 303 to the patron's requests. A page opened
    with ``lang`` (a shared link) posts with it: the request is placed in the language the patron
    read, which its e-mails are written in, and the next page stays in it."""
    seen = require_signed_in(request)
    await place_for(request, seen, request.match_info["id"], None)
    lang = link_language(request)
    return see_other("/account/requests?done=placed" + (f"&lang={lang}" if lang else ""))


@dataclass(frozen=True, slots=True)
class ShownRequest:
    """A request and its history, as a page lists it."""

    request: Request
    state: str
    history: list[HistoryLine]
    pickup_name: str
    holder_name: str


async def shown_requests(
    request: web.Request, found: list[Request], viewer_id: int | None
) -> list[ShownRequest]:
    """Each request with its state in words, its history and its libraries' names."""
    libraries = await request.app[LIBRARIES].by_code()
    ids = [item.id for item in found if item.id is not None]
    histories = await in_thread(request.app, request.app[CATALOGUE].shuttle.histories, ids)
    shown = []
    for item in found:
        assert item.id is not None
        events = histories[item.id]
        shown.append(
            ShownRequest(
                item,
                gettext(STATE_WORDS[item.state]),
                await history_lines(request, events, item.patron_id, viewer_id),
                _name(libraries, item.pickup),
                _name(libraries, item.holder),
            )
        )
    return shown


async def my_requests(request: web.Request) -> web.Response:
    """``GET /account/requests``: the patron's requests, newest first, each with its history."""
    seen = viewer(request)
    if seen.user is None or seen.user.id is None:
        return see_other("/signin?next=/account/requests")
    found = await in_thread(request.app, request.app[CATALOGUE].shuttle.for_patron, seen.user.id)
    context = {
        "q": "",
        "requests": await shown_requests(request, found, seen.user.id),
        "done": translated(DONE_MESSAGES.get(request.query.get("done", ""))),
    }
    return render(request, "account_requests.html", context)


def form_version(form: dict[str, str]) -> int:
    """The request's version the form was made from."""
    text = form.get("version", "")
    if not text.isdigit() or len(text) > 18 or int(text) < 1:
        raise BadParameter("version", "the form lost the request's version: reload the page and try again")
    return int(text)


async def changed_meanwhile(request: web.Request, found: Request, version: int, exc: Conflict) -> Conflict:
    """The conflict to show when a change failed: when the request changed since the page was made,
    say what it is now (someone else acted meanwhile); otherwise the change's own refusal."""
    assert found.id is not None
    latest = await in_thread(request.app, request.app[CATALOGUE].shuttle.get, found.id)
    if latest is None or latest.version == version:
        return exc
    now = gettext(STATE_WORDS[latest.state]).lower()
    return Conflict(
        gettext("this request was changed by someone else meanwhile: it is now “%(state)s”; nothing was done")
        % {"state": now}
    )


async def cancel_mine(request: web.Request) -> web.Response:
    """``POST /account/requests/{id}/cancel``: cancel one's own request; 303 back to the list. Another
    patron's request does not exist here (404)."""
    seen = require_signed_in(request)
    assert seen.user is not None
    form = await form_fields(request)
    version = form_version(form)
    found = await visible_request(request, seen.user, request.match_info["id"])
    if found.patron_id != seen.user.id:
        # A librarian of the library may see it, but this page is the patron's own.
        raise ItemNotFound(f"request {found.id}")
    try:
        await change_request(request, seen.user, found, "cancel", "", version)
    except Conflict as exc:
        raise await changed_meanwhile(request, found, version, exc) from exc
    return see_other("/account/requests?done=cancelled")


def add_routes(app: web.Application) -> None:
    app.router.add_post("/record/{id}/request", place_from_record, name="record_request")
    app.router.add_get("/account/requests", my_requests, name="account_requests")
    app.router.add_post(r"/account/requests/{id:\d+}/cancel", cancel_mine, name="account_request_cancel")
