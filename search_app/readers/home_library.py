"""A patron's home library: the library of the network's shuttle where they collect what they ask for,
kept as their account's ``library`` (:attr:`unicat.accounts.User.library`).

The account page's form (``POST /account/library``) and the JSON API (``PUT /api/account/library``)
choose it among the libraries of the directory that take part in the shuttle. A librarian's
``library`` is the library they work at, which gives them rights over its page in the directory: it
is set by an administrator (``unicat users set-role``), never by the librarian, so both refuse staff
accounts (403).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from search_app.auth import Viewer, require_signed_in
from search_app.i18n import N_, current_language
from search_app.json_body import json_body
from search_app.readers.accounts import form_fields, form_page, see_other
from search_app.state import ACCOUNTS, CATALOGUE, in_thread
from unicat.catalogue import Catalogue
from unicat.errors import BadParameter
from unicat.libraries import Library

STAFF_LIBRARY = N_(
    "a librarian's library is the one they work at: an administrator sets it (unicat users set-role)"
)
EXAMPLE = '{"library": "CODE"}'


def shuttle_libraries(catalogue: Catalogue) -> list[Library]:
    """The libraries a patron may collect at: those of the directory in the shuttle."""
    return [library for library in catalogue.libraries.list_libraries() if library.shuttle]


async def home_choices(request: web.Request) -> list[Library]:
    """The shuttle's libraries by their name in the reader's language, for the account page's form."""
    libraries = await in_thread(request.app, shuttle_libraries, request.app[CATALOGUE])
    language = current_language()
    return sorted(libraries, key=lambda library: library.name_in(language).casefold())


def _check_choice(catalogue: Catalogue, code: str | None) -> str | None:
    """``code`` when a library of the shuttle has it (``None`` or "" forgets the choice)."""
    if not code:
        return None
    library = catalogue.libraries.get_library(code)
    if library is None:
        raise BadParameter(
            "library", f"there is no library {code[:40]!r} in the directory (/libraries lists them)"
        )
    if not library.shuttle:
        raise BadParameter(
            "library", f"{library.name} does not take part in the shuttle: choose one that does"
        )
    return library.code


async def _save(request: web.Request, seen: Viewer, code: str | None) -> str | None:
    assert seen.user is not None
    if seen.is_staff:
        raise web.HTTPForbidden(reason=STAFF_LIBRARY)
    chosen = await in_thread(request.app, _check_choice, request.app[CATALOGUE], code)
    await in_thread(request.app, request.app[ACCOUNTS].update_user, seen.user.with_changes(library=chosen))
    return chosen


async def choose_home_library(request: web.Request) -> web.Response:
    """``POST /account/library``: the form's choice (``library``; empty forgets it); 303 to the
    account page, or the page again (400) naming what is wrong."""
    seen = require_signed_in(request)
    form = await form_fields(request)
    try:
        await _save(request, seen, form.get("library", "").strip())
    except BadParameter as exc:
        choices = await home_choices(request)
        return form_page(request, "account.html", form, exc, done=None, my_comments=[], home_choices=choices)
    return see_other("/account?done=library")


async def api_home_library(request: web.Request) -> web.Response:
    """``PUT /api/account/library`` with ``{"library": CODE}`` (``null`` forgets it): the signed-in
    patron's home library; answers ``{"library": CODE}``."""
    seen = require_signed_in(request)
    body: Any = await json_body(request, EXAMPLE)
    if not isinstance(body, dict) or set(body) != {"library"}:
        raise BadParameter("body", f"send {EXAMPLE} (null forgets the choice)")
    code = body["library"]
    if code is not None and (not isinstance(code, str) or len(code) > 100):
        raise BadParameter("library", "a library's code, as /api/libraries lists them, or null")
    return web.json_response({"library": await _save(request, seen, code)})


def add_routes(app: web.Application) -> None:
    app.router.add_post("/account/library", choose_home_library, name="account_library")
    app.router.add_put("/api/account/library", api_home_library, name="api_account_library")
