"""``/librarians/requests``: the shuttle's desk of a library — the requests it is asked to lend (to
accept or refuse with a reason, then send) and those it hands over to its patrons (to mark arrived,
collected, returned), each with its history and why it was routed there.

A librarian works at their own library's desk (:attr:`unicat.accounts.User.library`); an
administrator sees every library's, or one library's with the ``library`` filter. Each form carries
the request's ``version``: when another librarian changed the request meanwhile, nothing is applied
and the page says what the request is now (409). Changes go through
:func:`search_app.readers.shuttle.change_request`, as the JSON API's do.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from aiohttp import web

from search_app.auth import require_staff
from search_app.i18n import N_, translated
from search_app.library_cache import LIBRARIES
from search_app.readers.accounts import form_fields, see_other
from search_app.readers.request_pages import ShownRequest, changed_meanwhile, form_version, shown_requests
from search_app.readers.request_words import STATE_WORDS
from search_app.readers.shuttle import change_request, visible_request
from search_app.render import render
from search_app.state import CATALOGUE, in_thread
from unicat.catalogue import Catalogue
from unicat.errors import BadParameter, Conflict
from unicat.ports.shuttle import Side
from unicat.shuttle import STATES, Action, Request, State, check_action, check_state

# What each side of the desk does next to a request in each state (docs/shuttle.md).
NEXT_ACTIONS: dict[Side, dict[State, tuple[Action, ...]]] = {
    "holder": {"placed": ("accept", "refuse"), "accepted": ("send", "refuse")},
    "pickup": {"sent": ("arrive",), "arrived": ("collect",), "collected": ("return",)},
}
BUTTONS: dict[Action, str] = {
    "accept": N_("Accept"),
    "refuse": N_("Refuse"),
    "send": N_("Mark sent"),
    "arrive": N_("Mark arrived"),
    "collect": N_("Mark collected"),
    "return": N_("Mark returned"),
    "cancel": N_("Cancel"),
    "fail": N_("Mark failed"),
}
DONE = N_("The request was changed.")
SIDES: tuple[tuple[Side, str], ...] = (("holder", N_("To lend")), ("pickup", N_("To hand over")))


@dataclass(frozen=True, slots=True)
class DeskSide:
    """One side of a desk: its heading and its requests, with what may be done to each."""

    side: Side
    heading: str
    requests: list[tuple[ShownRequest, tuple[Action, ...]]]


def _read(catalogue: Catalogue, libraries: list[str], side: Side, state: State | None) -> list[Request]:
    found: dict[int, Request] = {}
    for library in libraries:
        for item in catalogue.shuttle.for_library(library, side=side, state=state):
            assert item.id is not None
            found[item.id] = item
    return sorted(found.values(), key=lambda item: item.id or 0)


async def requests_desk(request: web.Request) -> web.Response:
    """``GET /librarians/requests[?state=…][&library=…]``: the desk of the viewer's library."""
    seen = require_staff(request, "the requests desk")
    assert seen.user is not None
    directory = await request.app[LIBRARIES].by_code()
    state_text = request.query.get("state", "")
    state = check_state(state_text) if state_text else None
    chosen = request.query.get("library", "")
    if seen.user.role == "admin":
        if chosen and chosen not in directory:
            raise BadParameter("library", f"no library {chosen[:40]!r} in the directory")
        libraries = [chosen] if chosen else sorted(directory)
    else:
        libraries = [seen.user.library] if seen.user.library else []
    sides = []
    for side, heading in SIDES:
        found = await in_thread(request.app, _read, request.app[CATALOGUE], libraries, side, state)
        shown = await shown_requests(request, found, seen.user.id)
        actions = NEXT_ACTIONS[side]
        sides.append(DeskSide(side, heading, [(item, actions.get(item.request.state, ())) for item in shown]))
    context = {
        "q": "",
        "sides": sides,
        "libraries": libraries,
        "directory": directory,
        "admin": seen.user.role == "admin",
        "chosen_library": chosen,
        "chosen_state": state_text,
        "states": [(name, STATE_WORDS[name]) for name in STATES],
        "buttons": BUTTONS,
        "back": request.query_string,
        "done": translated(DONE if request.query.get("done") == "changed" else None),
    }
    return render(request, "requests_desk.html", context)


async def act_at_desk(request: web.Request) -> web.Response:
    """``POST /librarians/requests/{id}/{action}`` with ``version`` (and ``reason`` to refuse): 303
    back to the desk; 409 saying what the request is now when someone changed it meanwhile."""
    seen = require_staff(request, "the requests desk")
    assert seen.user is not None
    action = check_action(request.match_info["action"])
    form = await form_fields(request)
    version = form_version(form)
    found = await visible_request(request, seen.user, request.match_info["id"])
    try:
        await change_request(request, seen.user, found, action, form.get("reason", ""), version)
    except Conflict as exc:
        raise await changed_meanwhile(request, found, version, exc) from exc
    kept = {key: form[key] for key in ("state", "library") if form.get(key)}
    return see_other("/librarians/requests?" + urlencode({**kept, "done": "changed"}))


def add_routes(app: web.Application) -> None:
    app.router.add_get("/librarians/requests", requests_desk, name="requests_desk")
    app.router.add_post(
        r"/librarians/requests/{id:\d+}/{action:[a-z]{1,20}}", act_at_desk, name="requests_desk_action"
    )
