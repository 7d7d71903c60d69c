"""The librarians' merge desk: why a union record holds its members, and their splits and forced merges.

``GET /librarians/merges`` lists every decision; ``GET /librarians/merges/{id}`` shows one union
record's members, the rules and keys that merged them and the decisions about them, with the forms
to split a member off or force a merge; ``POST /librarians/merges`` takes those forms (and undo), then
sends the librarian back with what was done (303). ``GET /api/records/{id}/merge`` and
``GET /api/merges`` give the same as JSON. The decisions are made by :mod:`unicat.merges`, as
``unicat merge`` makes them.

Like every page under ``/librarians``, they need a librarian's account, and their forms carry the
session's CSRF token (search_app/auth.py), so another site's page cannot make decisions in a
librarian's browser.
"""

from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web

from search_app.auth import viewer
from search_app.catalogue.fetch import find_record
from search_app.form_body import posted_form
from search_app.i18n import N_, translated
from search_app.librarians.reindex import REINDEXER
from search_app.links import api_record_url, merge_desk_url
from search_app.render import render
from search_app.state import CATALOGUE, RECORDS, SOURCES, in_thread
from unicat import merges
from unicat.errors import BadParameter
from unicat.model import SourceRef

ACTIONS = ("split", "force", "undo")
MAX_FIELD = 1_000
DONE_MESSAGES = {
    "split": N_("The member will be kept apart from the others."),
    "force": N_("The two records will be one edition."),
    "undo": N_("The decision is forgotten: the rules decide again."),
}


async def record_merge(request: web.Request) -> web.Response:
    """One union record's members, merge rules and decisions, with the forms to change them."""
    found = await find_record(request, request.match_info["id"])
    if isinstance(found, str):
        raise web.HTTPMovedPermanently(merge_desk_url(found))
    explanation = await in_thread(request.app, merges.explain, request.app[CATALOGUE], found)
    context = {
        "q": "",
        "explanation": explanation,
        "record": found,
        "library_names": await request.app[SOURCES].names(),
        "done": translated(DONE_MESSAGES.get(request.query.get("done", ""))),
        "reindex": request.app[REINDEXER].state,
    }
    return render(request, "merge.html", context)


async def decisions(request: web.Request) -> web.Response:
    """Every decision, newest first."""
    stored = await in_thread(request.app, request.app[RECORDS].merge_decisions)
    context = {
        "q": "",
        "decisions": list(reversed(stored)),
        "library_names": await request.app[SOURCES].names(),
        "done": translated(DONE_MESSAGES.get(request.query.get("done", ""))),
        "reindex": request.app[REINDEXER].state,
    }
    return render(request, "merges.html", context)


def _field(form: dict[str, str], name: str, required: bool = True) -> str:
    value = form.get(name, "").strip()
    if required and not value:
        raise BadParameter(name, "required")
    if len(value) > MAX_FIELD:
        raise BadParameter(name, f"at most {MAX_FIELD} characters")
    return value


async def decide(request: web.Request) -> web.Response:
    """Take a split, force or undo form; 303 back to the page it came from."""
    posted = await posted_form(request)
    form = {key: value for key, value in posted.items() if isinstance(value, str)}
    action = _field(form, "action")
    if action not in ACTIONS:
        raise BadParameter("action", f"one of {', '.join(ACTIONS)}")
    catalogue = request.app[CATALOGUE]
    reason, by = _field(form, "reason", required=False), _field(form, "by", required=False)
    librarian = viewer(request).user
    if not by and librarian is not None:
        by = f"{librarian.display_name} <{librarian.email}>"  # the desk knows who decides
    if action == "undo":
        number = _field(form, "decision")
        if not number.isdigit():
            raise BadParameter("decision", "a decision number")
        if not await in_thread(request.app, catalogue.records.remove_merge_decision, int(number)):
            raise BadParameter("decision", f"no decision #{number}")
        back = "/librarians/merges"
    else:
        union_id = _field(form, "record")
        if action == "split":
            member = SourceRef.parse(_field(form, "member"), "member")
            await in_thread(
                request.app, merges.split_member, catalogue, union_id, member, reason=reason, by=by
            )
        else:
            other = _field(form, "other")
            await in_thread(request.app, merges.force_merge, catalogue, union_id, other, reason=reason, by=by)
        back = merge_desk_url(union_id)
    if form.get("apply") == "1":
        request.app[REINDEXER].request()
    raise web.HTTPSeeOther(f"{back}?{urlencode({'done': action})}")


async def api_record_merge(request: web.Request) -> web.Response:
    """``GET /api/records/{id}/merge``: the explanation as JSON (301 to a merged record's new id)."""
    found = await find_record(request, request.match_info["id"])
    if isinstance(found, str):
        raise web.HTTPMovedPermanently(api_record_url(found) + "/merge")
    explanation = await in_thread(request.app, merges.explain, request.app[CATALOGUE], found)
    return web.json_response(explanation.to_json())


async def api_decisions(request: web.Request) -> web.Response:
    """``GET /api/merges``: every decision, oldest first, as ``unicat merge list --json``."""
    stored = await in_thread(request.app, request.app[RECORDS].merge_decisions)
    return web.json_response([decision.to_json() for decision in stored])


def add_routes(app: web.Application) -> None:
    app.router.add_get("/librarians/merges", decisions, name="merges")
    app.router.add_post("/librarians/merges", decide, name="merge_decide")
    app.router.add_get("/librarians/merges/{id}", record_merge, name="record_merge")
    app.router.add_get("/api/records/{id}/merge", api_record_merge, name="api_record_merge")
    app.router.add_get("/api/merges", api_decisions, name="api_merges")
