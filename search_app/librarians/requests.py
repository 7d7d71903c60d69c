"""The requests a library's librarians work through (``GET /api/requests?library=CODE``): those it is
asked to lend (``side=holder``), those it hands over to patrons (``side=pickup``), or both, in one state
or any, oldest first.

A librarian sees only their own library's list (``User.library``); an administrator sees any.
"""

from __future__ import annotations

from aiohttp import web

from search_app.auth import require_staff
from search_app.state import CATALOGUE, in_thread
from unicat.errors import BadParameter, NotAllowed, choice_of
from unicat.ports.shuttle import Side
from unicat.shuttle import Request, check_state

SIDES: tuple[Side, ...] = ("holder", "pickup")


async def library_requests(
    request: web.Request, library: str, side: str | None, state: str | None
) -> list[Request]:
    """The library's requests; 403 for anyone but its librarians and administrators."""
    seen = require_staff(request, "a library's requests")
    assert seen.user is not None
    if seen.user.role != "admin" and seen.user.library != library:
        raise NotAllowed(
            f"you see the requests of your own library ({seen.user.library or 'none set'}) only; "
            "an administrator can set which library you work at"
        )
    chosen_side = None
    if side is not None:
        chosen_side = choice_of(side, SIDES)
        if chosen_side is None:
            raise BadParameter("side", f"one of {', '.join(SIDES)}, or leave it out for both")
    chosen_state = check_state(state) if state is not None else None
    shuttle = request.app[CATALOGUE].shuttle
    return await in_thread(request.app, shuttle.for_library, library, side=chosen_side, state=chosen_state)
