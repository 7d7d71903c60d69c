"""The librarians' library directory: ``/librarians/libraries``.

Administrators add, change and remove libraries; a librarian changes the opening hours and contact of
the library they work at (:attr:`unicat.accounts.User.library`) and nothing else; other librarians
read the directory only (403 on a change). A field the directory refuses is a 400 page that names it
and keeps what was typed. A change is seen at once by routing and the record pages' catalogue links
(:mod:`search_app.library_cache`).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from aiohttp import web

from search_app.auth import Viewer, viewer
from search_app.catalogue.libraries import WEEKDAY_NAMES
from search_app.i18n import N_, gettext, translated
from search_app.library_cache import LIBRARIES
from search_app.readers.accounts import form_fields, see_other
from search_app.render import render
from search_app.state import CATALOGUE, in_thread
from unicat.errors import BadParameter, ItemNotFound
from unicat.libraries import LANGUAGES, WEEKDAYS, Library

CONTACT_FIELDS = ("email", "phone", "website", *(f"hours_{day}" for day in WEEKDAYS))
"""What the librarians of a library may change on their own library's page."""
TEXT_FIELDS = (
    "name",
    "source",
    "street",
    "postcode",
    "city",
    "country",
    "email",
    "phone",
    "website",
    "opac_url",
)
DONE_MESSAGES = {
    "added": N_("The library was added. Run unicat index for its copies to be resolved to it."),
    "saved": N_("The changes were saved."),
    "removed": N_("The library was removed from the directory."),
}
ADMIN_ONLY = N_("administrators change any library; a librarian, the hours and contact of their own library")


def _is_admin(seen: Viewer) -> bool:
    return seen.user is not None and seen.user.role == "admin"


def _may_edit(seen: Viewer, code: str) -> bool:
    return _is_admin(seen) or (seen.user is not None and seen.user.library == code)


def _form_of(library: Library) -> dict[str, str]:
    form = {name: str(getattr(library, name) or "") for name in TEXT_FIELDS}
    form["code"] = library.code
    form |= {f"name_{language}": library.names.get(language, "") for language in LANGUAGES}
    form["branches"] = " ".join(library.branches)
    form["latitude"] = "" if library.latitude is None else str(library.latitude)
    form["longitude"] = "" if library.longitude is None else str(library.longitude)
    form |= {f"hours_{day}": library.opening_hours.get(day, "") for day in WEEKDAYS}
    if library.shuttle:
        form["shuttle"] = "1"
    return form


def _library_of(form: dict[str, str]) -> Library:
    """The library an administrator's form describes (every field)."""
    data: dict[str, Any] = {name: form.get(name, "") or None for name in TEXT_FIELDS}
    data["code"] = form.get("code", "").strip()
    data["name"] = form.get("name", "")
    data["names"] = {language: form.get(f"name_{language}", "") for language in LANGUAGES}
    data["branches"] = form.get("branches", "").replace(",", " ").split()
    data["latitude"] = form.get("latitude", "").strip() or None
    data["longitude"] = form.get("longitude", "").strip() or None
    data["opening_hours"] = {day: form.get(f"hours_{day}", "") for day in WEEKDAYS}
    data["shuttle"] = form.get("shuttle") == "1"
    return Library.from_json(data)


def _contact_of(library: Library, form: dict[str, str]) -> Library:
    """``library`` with the hours and contact its own librarians' form gives (nothing else changes)."""
    return dataclasses.replace(
        library,
        email=form.get("email", "") or None,
        phone=form.get("phone", "") or None,
        website=form.get("website", "") or None,
        opening_hours={day: form.get(f"hours_{day}", "") for day in WEEKDAYS},
    )


def _field_of(param: str) -> str:
    """The form field of a refused library field (``opening_hours.monday`` → ``hours_monday``)."""
    if param.startswith("opening_hours."):
        return "hours_" + param.split(".", 1)[1]
    if param.startswith("names."):
        return "name_" + param.split(".", 1)[1]
    return param


def _context(form: dict[str, str], error: BadParameter | None) -> dict[str, Any]:
    return {
        "q": "",
        "form": {key: value for key, value in form.items() if key != "csrf"},
        "error": f"{error.param}: {gettext(error.message)}" if error else None,
        "error_field": _field_of(error.param) if error else None,
        "weekday_names": WEEKDAY_NAMES,
        "languages": LANGUAGES,
    }


async def _directory_page(
    request: web.Request, form: dict[str, str] | None = None, error: BadParameter | None = None
) -> web.Response:
    seen = viewer(request)
    libraries = await in_thread(request.app, request.app[CATALOGUE].libraries.list_libraries)
    context = {
        **_context(form or {}, error),
        "libraries": libraries,
        "admin": _is_admin(seen),
        "own": seen.user.library if seen.user is not None else None,
        "done": translated(DONE_MESSAGES.get(request.query.get("done", ""))),
    }
    return render(request, "librarians_libraries.html", context, status=400 if error else 200)


async def _library_page(
    request: web.Request,
    library: Library,
    form: dict[str, str] | None = None,
    error: BadParameter | None = None,
) -> web.Response:
    seen = viewer(request)
    context = {
        **_context(form or _form_of(library), error),
        "library": library,
        "admin": _is_admin(seen),
        "done": translated(DONE_MESSAGES.get(request.query.get("done", ""))),
    }
    return render(request, "librarians_library.html", context, status=400 if error else 200)


async def _stored(request: web.Request) -> Library:
    code = request.match_info["code"]
    library = await in_thread(request.app, request.app[CATALOGUE].libraries.get_library, code)
    if library is None:
        raise ItemNotFound(f"library {code[:40]!r} in the directory")
    return library


async def directory_desk(request: web.Request) -> web.Response:
    """``GET /librarians/libraries``: every library, the one the librarian works at to change, and
    for administrators the form that adds one."""
    return await _directory_page(request)


async def add_library(request: web.Request) -> web.Response:
    """``POST /librarians/libraries``: an administrator adds a library; 303 to its page."""
    if not _is_admin(viewer(request)):
        raise web.HTTPForbidden(reason=ADMIN_ONLY)
    form = await form_fields(request)
    try:
        library = _library_of(form)
        await in_thread(request.app, request.app[CATALOGUE].libraries.add_library, library)
    except BadParameter as exc:
        return await _directory_page(request, form, exc)
    request.app[LIBRARIES].forget()
    return see_other(f"/librarians/libraries/{library.code}?done=added")


async def library_desk(request: web.Request) -> web.Response:
    """``GET /librarians/libraries/{code}``: the form that changes a library (hours and contact for
    its own librarians, everything for administrators); 403 for other librarians."""
    library = await _stored(request)
    if not _may_edit(viewer(request), library.code):
        raise web.HTTPForbidden(reason=ADMIN_ONLY)
    return await _library_page(request, library)


async def update_library(request: web.Request) -> web.Response:
    """``POST /librarians/libraries/{code}``: save the form; 303 back to the page."""
    library = await _stored(request)
    seen = viewer(request)
    if not _may_edit(seen, library.code):
        raise web.HTTPForbidden(reason=ADMIN_ONLY)
    form = await form_fields(request)
    try:
        if _is_admin(seen):
            changed = _library_of({**form, "code": library.code})
        else:
            changed = _contact_of(library, form)
        await in_thread(request.app, request.app[CATALOGUE].libraries.update_library, changed)
    except BadParameter as exc:
        return await _library_page(request, library, {**form, "code": library.code}, exc)
    request.app[LIBRARIES].forget()
    return see_other(f"/librarians/libraries/{library.code}?done=saved")


async def remove_library(request: web.Request) -> web.Response:
    """``POST /librarians/libraries/{code}/remove``: an administrator removes a library."""
    library = await _stored(request)
    if not _is_admin(viewer(request)):
        raise web.HTTPForbidden(reason=ADMIN_ONLY)
    await in_thread(request.app, request.app[CATALOGUE].libraries.remove_library, library.code)
    request.app[LIBRARIES].forget()
    return see_other("/librarians/libraries?done=removed")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/librarians/libraries", directory_desk, name="libraries_desk")
    app.router.add_post("/librarians/libraries", add_library, name="add_library")
    app.router.add_get("/librarians/libraries/{code}", library_desk, name="library_desk")
    app.router.add_post("/librarians/libraries/{code}", update_library, name="update_library")
    app.router.add_post("/librarians/libraries/{code}/remove", remove_library, name="remove_library")
