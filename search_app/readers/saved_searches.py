"""A reader's search history and saved searches: their pages (``/account/history``,
``/account/searches``) and their JSON (``/api/account/history``, ``/api/account/searches``).

Who may do what: the history page shows the searches of whoever asks (the account's when signed in,
else the browser's, :mod:`search_app.readers.search_history`); saved searches, and the JSON of both,
are a signed-in reader's. An id that is not the asker's is answered as an id that does not exist
(404): the answer never tells that someone else holds it. Every change carries the CSRF token
(:mod:`search_app.auth`).

A saved search is kept as its canonical query (:mod:`unicat.saved_searches`), checked by the search
itself when saved; running it opens the search page with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from search_app.auth import Viewer, require_signed_in, viewer
from search_app.catalogue.pages import SORT_LABELS
from search_app.feeds.http import feed_base
from search_app.i18n import N_, gettext, link_language, translated
from search_app.json_body import json_body
from search_app.readers.accounts import form_fields, see_other
from search_app.readers.alerts import (
    ALERT_DONE,
    alert_json,
    alert_store,
    apply_changes,
    check_alert_changes,
    feed_url,
)
from search_app.readers.search_history import history_owner
from search_app.render import render
from search_app.state import CATALOGUE, LABELS, SETTINGS, in_thread
from unicat.alerts import Alert
from unicat.errors import BadParameter, ItemNotFound, LimitReached
from unicat.ports.saved_searches import SavedSearchStore
from unicat.query import EXCLUDE_PREFIX
from unicat.saved_searches import (
    MAX_NAME,
    HistoryEntry,
    SavedSearch,
    account_owner,
    check_search_name,
    checked_query,
    query_params,
)

DONE_MESSAGES = {
    "saved": N_("The search is saved."),
    "renamed": N_("The search is renamed."),
    "deleted": N_("The saved search is deleted."),
    "forgotten": N_("The search is taken off your history."),
    "cleared": N_("Your search history is cleared."),
    **ALERT_DONE,
}
# The alert form's choices in the words of its menu (the core's message names the values).
ALERT_CHOICES = N_("choose how often the e-mail comes: no e-mail, a daily digest or a weekly digest")
_MAX_ID_DIGITS = 18  # larger numbers are no entry's id (and overflow the databases' integers)
SEARCH_EXAMPLE = '{"name": "Bach cantatas", "query": {"q": ["bach cantata"], "language": ["ger"]}}'
RENAME_EXAMPLE = '{"name": "Bach cantatas", "alert": "weekly", "feed": true}'


def search_url(query: str, lang: str = "") -> str:
    """The search page of a kept search (in the page's ``lang``, when it was given one)."""
    return "/search?" + query + (f"&{urlencode({'lang': lang})}" if lang else "")


def describe(request: web.Request, query: str) -> str:
    """A kept search in words, as its page lists it: the text in quotes, then each filter, exclusion,
    the years and the order by their titles."""
    labels = request.app[LABELS]
    words: list[str] = []
    for name, values in query_params(query).items():
        if name == "q":
            words.insert(0, f"“{values[0]}”")
        elif name == "sort":
            words.append(f"{gettext('Sort by')}: {gettext(SORT_LABELS.get(values[0], values[0]))}")
        elif name.startswith(EXCLUDE_PREFIX):
            title = labels.facet_title(name.removeprefix(EXCLUDE_PREFIX))
            without = gettext("without %(facet)s: %(values)s")
            words.append(without % {"facet": title, "values": ", ".join(values)})
        else:
            words.append(f"{labels.facet_title(name)}: {', '.join(values)}")
    return " · ".join(words)


def _back(request: web.Request, path: str, done: str) -> web.Response:
    """See the page ``path`` with its notice ``done``, in the language the form was sent from."""
    lang = link_language(request)
    return see_other(f"{path}?{urlencode({'done': done, **({'lang': lang} if lang else {})})}")


def _id(raw: str, what: str) -> int:
    """The id in the address: a whole number, else a 400 that says what an id looks like."""
    if not raw.isdigit() or len(raw) > _MAX_ID_DIGITS:
        raise BadParameter("id", f"{raw[:20]!r} is not the id of {what}: ids are whole numbers")
    return int(raw)


def _store(request: web.Request) -> SavedSearchStore:
    return request.app[CATALOGUE].searches


def _reader(request: web.Request) -> int:
    seen = require_signed_in(request)
    assert seen.user_id is not None
    return seen.user_id


async def _own_search(request: web.Request, user_id: int) -> SavedSearch:
    search_id = _id(request.match_info["id"], "a saved search")
    found = await in_thread(request.app, _store(request).get_search, user_id, search_id)
    if found is None:
        raise ItemNotFound(f"saved search #{search_id} among yours")
    return found


def _search_json(search: SavedSearch, alert: Alert | None, base: str) -> dict[str, Any]:
    alerts = alert_json(alert, base) if alert is not None else {}
    return {**search.to_json(), "url": search_url(search.query), **alerts}


async def _with_alert(request: web.Request, search: SavedSearch) -> dict[str, Any]:
    assert search.id is not None
    alert = await in_thread(request.app, alert_store(request).alert, search.user_id, search.id)
    return _search_json(search, alert, feed_base(request))


def _entry_json(entry: HistoryEntry) -> dict[str, Any]:
    return {**entry.to_json(), "url": search_url(entry.query)}


def _posted_query(raw: object) -> dict[str, list[str]]:
    """A search's parameters as the API takes them: an object of a string or a list of strings each."""
    if not isinstance(raw, Mapping):
        raise BadParameter("query", 'give the search\'s parameters as an object, such as {"q": ["bach"]}')
    params: dict[str, list[str]] = {}
    for name, value in raw.items():
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list) or not all(isinstance(item, str) for item in values):
            raise BadParameter(
                "query", f"the parameter {str(name)[:40]!r} must be a string or a list of strings"
            )
        params[str(name)] = values
    return params


async def _save(
    request: web.Request, user_id: int, name: str, params: Mapping[str, list[str]]
) -> SavedSearch:
    settings = request.app[SETTINGS]
    query = checked_query(params, settings)
    return await in_thread(
        request.app,
        _store(request).add_search,
        SavedSearch(user_id, name, query),
        settings.saved_searches_max,
    )


# -- pages -----------------------------------------------------------------------------------------
async def _searches_page(
    request: web.Request,
    seen: Viewer,
    form: dict[str, str] | None = None,
    error: Exception | None = None,
    *,
    alert_form: bool = False,
) -> web.Response:
    """The page, with ``error`` shown beside the form it came from: the form to save a search (no
    ``id`` in ``form``), a search's rename form, or its alert form (``alert_form``)."""
    assert seen.user_id is not None
    failed_id = (form or {}).get("id")
    mine = await in_thread(request.app, _store(request).searches_of, seen.user_id)
    alerts = await in_thread(request.app, alert_store(request).alerts_of, seen.user_id)
    base = feed_base(request)
    lang = link_language(request)
    status = 200 if error is None else 409 if isinstance(error, LimitReached) else 400
    context = {
        "q": "",
        "searches": [
            (search, search_url(search.query, lang), describe(request, search.query)) for search in mine
        ],
        "alerts": {search_id: (alert, feed_url(base, alert)) for search_id, alert in alerts.items()},
        "done": translated(DONE_MESSAGES.get(request.query.get("done", ""))),
        "form": {key: value for key, value in (form or {}).items() if key != "csrf"},
        "error": gettext(error.message if isinstance(error, BadParameter) else str(error)) if error else None,
        "error_field": error.param if isinstance(error, BadParameter) else None,
        "error_id": None if alert_form else failed_id,
        "alert_error_id": failed_id if alert_form else None,
        "max_name": MAX_NAME,
    }
    return render(request, "saved_searches.html", context, status=status)


async def searches_page(request: web.Request) -> web.Response:
    """``GET /account/searches``: the signed-in reader's saved searches, by name."""
    seen = viewer(request)
    if seen.user is None:
        return see_other("/signin?next=/account/searches")
    return await _searches_page(request, seen)


async def save_search(request: web.Request) -> web.Response:
    """``POST /account/searches``: save the search ``query`` (a search page's query string) as ``name``."""
    seen = require_signed_in(request)
    assert seen.user_id is not None
    # The query is measured by the saved search's own limit (MAX_QUERY), not the forms' 1,000 characters.
    form = await form_fields(request, long=("query",))
    try:
        name = check_search_name(form.get("name", ""))
        await _save(request, seen.user_id, name, query_params(form.get("query", "")))
    except (BadParameter, LimitReached) as exc:
        return await _searches_page(request, seen, form, exc)
    return _back(request, "/account/searches", "saved")


async def rename_search(request: web.Request) -> web.Response:
    """``POST /account/searches/{id}``: give one's saved search a new name."""
    seen = require_signed_in(request)
    assert seen.user_id is not None
    found = await _own_search(request, seen.user_id)
    form = await form_fields(request)
    try:
        name = check_search_name(form.get("name", ""))
        await in_thread(request.app, _store(request).rename_search, found.with_changes(name=name, updated=""))
    except BadParameter as exc:
        return await _searches_page(request, seen, {**form, "id": str(found.id)}, exc)
    return _back(request, "/account/searches", "renamed")


async def set_alert(request: web.Request) -> web.Response:
    """``POST /account/searches/{id}/alert``: the e-mail digest (``alert``) and the feed (``feed``
    checked or not; ``feed=new`` for a new address) of one's saved search. A bad choice redraws the
    page with the message in that search's alert form (400), and changes nothing."""
    seen = require_signed_in(request)
    assert seen.user_id is not None
    # Another reader's search is not found, whatever the form says.
    found = await _own_search(request, seen.user_id)
    assert found.id is not None
    form = await form_fields(request)
    changes: dict[str, object] = {"alert": form.get("alert", "")}
    changes["feed"] = "new" if form.get("feed") == "new" else form.get("feed") == "on"
    try:
        await apply_changes(request, seen.user_id, found.id, changes)
    except BadParameter as exc:
        shown = BadParameter(exc.param, ALERT_CHOICES) if exc.param == "alert" else exc
        return await _searches_page(request, seen, {"id": str(found.id)}, shown, alert_form=True)
    done = "feed" if form.get("feed") == "new" else "alert"
    lang = link_language(request)
    query = urlencode({"done": done, **({"lang": lang} if lang else {})})
    return see_other(f"/account/searches?{query}#search-{found.id}")


async def delete_search(request: web.Request) -> web.Response:
    """``POST /account/searches/{id}/delete``: forget one's saved search."""
    user_id = _reader(request)
    found = await _own_search(request, user_id)
    assert found.id is not None
    await in_thread(request.app, _store(request).delete_search, user_id, found.id)
    return _back(request, "/account/searches", "deleted")


async def history_page(request: web.Request) -> web.Response:
    """``GET /account/history``: the searches this reader (or this browser) ran last, newest first."""
    owner = history_owner(request)
    size = request.app[SETTINGS].search_history_size
    entries = await in_thread(request.app, _store(request).history, owner, size) if owner else []
    lang = link_language(request)
    context = {
        "q": "",
        "entries": [
            (entry, search_url(entry.query, lang), describe(request, entry.query)) for entry in entries
        ],
        "done": translated(DONE_MESSAGES.get(request.query.get("done", ""))),
        "max_name": MAX_NAME,
    }
    return render(request, "search_history.html", context)


async def forget_entry(request: web.Request) -> web.Response:
    """``POST /account/history/{id}/delete``: take one search off the history."""
    entry_id = _id(request.match_info["id"], "a search of your history")
    owner = history_owner(request)
    deleted = await in_thread(request.app, _store(request).delete_history, owner, entry_id) if owner else 0
    if not deleted:
        raise ItemNotFound(f"search #{entry_id} in your history")
    return _back(request, "/account/history", "forgotten")


async def clear_history(request: web.Request) -> web.Response:
    """``POST /account/history/clear``: forget every search of the history."""
    owner = history_owner(request)
    if owner is not None:
        await in_thread(request.app, _store(request).delete_history, owner)
    return _back(request, "/account/history", "cleared")


# -- JSON ------------------------------------------------------------------------------------------
def _private(body: object, status: int = 200) -> web.Response:
    # A reader's own searches: no cache keeps them.
    return web.json_response(body, status=status, headers={"Cache-Control": "private, no-store"})


async def api_history(request: web.Request) -> web.Response:
    """``GET /api/account/history``: the signed-in reader's history, newest first."""
    owner = account_owner(_reader(request))
    size = request.app[SETTINGS].search_history_size
    entries = await in_thread(request.app, _store(request).history, owner, size)
    return _private({"entries": [_entry_json(entry) for entry in entries]})


async def api_clear_history(request: web.Request) -> web.Response:
    """``DELETE /api/account/history``: forget the whole history."""
    owner = account_owner(_reader(request))
    deleted = await in_thread(request.app, _store(request).delete_history, owner)
    return _private({"deleted": deleted})


async def api_forget_entry(request: web.Request) -> web.Response:
    """``DELETE /api/account/history/{id}``: forget one search of the history."""
    owner = account_owner(_reader(request))
    entry_id = _id(request.match_info["id"], "a search of your history")
    if not await in_thread(request.app, _store(request).delete_history, owner, entry_id):
        raise ItemNotFound(f"search #{entry_id} in your history")
    return web.Response(status=204)


async def api_searches(request: web.Request) -> web.Response:
    """``GET /api/account/searches``: the signed-in reader's saved searches, by name."""
    user_id = _reader(request)
    mine = await in_thread(request.app, _store(request).searches_of, user_id)
    alerts = await in_thread(request.app, alert_store(request).alerts_of, user_id)
    base = feed_base(request)
    return _private({"searches": [_search_json(search, alerts.get(search.id or 0), base) for search in mine]})


async def api_save_search(request: web.Request) -> web.Response:
    """``POST /api/account/searches`` with ``{"name", "query"}``: save a search; 201 with it."""
    user_id = _reader(request)
    body = await json_body(request, SEARCH_EXAMPLE)
    if not isinstance(body, dict):
        raise BadParameter("body", f"send an object: {SEARCH_EXAMPLE}")
    raw_name = body.get("name")
    if not isinstance(raw_name, str):
        raise BadParameter("name", f"give the search's name as a string: {SEARCH_EXAMPLE}")
    name = check_search_name(raw_name)
    saved = await _save(request, user_id, name, _posted_query(body.get("query")))
    return _private(await _with_alert(request, saved), status=201)


async def api_search(request: web.Request) -> web.Response:
    """``GET /api/account/searches/{id}``: one of the reader's saved searches."""
    return _private(await _with_alert(request, await _own_search(request, _reader(request))))


async def api_rename_search(request: web.Request) -> web.Response:
    """``PATCH /api/account/searches/{id}`` with any of ``{"name", "alert", "feed"}``: rename a saved
    search, set its e-mail digest and its feed (:mod:`search_app.readers.alerts`). Every field is
    checked before anything changes."""
    found = await _own_search(request, _reader(request))
    assert found.id is not None
    body = await json_body(request, RENAME_EXAMPLE)
    if not isinstance(body, dict) or not {"name", "alert", "feed"} & body.keys():
        raise BadParameter("body", f"give a new name, an alert or a feed: {RENAME_EXAMPLE}")
    name: str | None = None
    if "name" in body:
        raw_name = body["name"]
        if not isinstance(raw_name, str):
            raise BadParameter("name", f"give the new name as a string: {RENAME_EXAMPLE}")
        name = check_search_name(raw_name)
    check_alert_changes(body)
    if name is not None:
        await in_thread(request.app, _store(request).rename_search, found.with_changes(name=name, updated=""))
    await apply_changes(request, found.user_id, found.id, body)
    return _private(await _with_alert(request, await _own_search(request, found.user_id)))


async def api_delete_search(request: web.Request) -> web.Response:
    """``DELETE /api/account/searches/{id}``: forget a saved search."""
    found = await _own_search(request, _reader(request))
    assert found.id is not None
    await in_thread(request.app, _store(request).delete_search, found.user_id, found.id)
    return web.Response(status=204)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/account/history", history_page, name="search_history")
    app.router.add_post("/account/history/clear", clear_history, name="clear_search_history")
    app.router.add_post("/account/history/{id}/delete", forget_entry, name="forget_search")
    app.router.add_get("/account/searches", searches_page, name="saved_searches")
    app.router.add_post("/account/searches", save_search, name="save_search")
    app.router.add_post("/account/searches/{id}", rename_search, name="rename_search")
    app.router.add_post("/account/searches/{id}/delete", delete_search, name="delete_search")
    app.router.add_post("/account/searches/{id}/alert", set_alert, name="set_alert")
    app.router.add_get("/api/account/history", api_history, name="api_search_history")
    app.router.add_delete("/api/account/history", api_clear_history, name="api_clear_search_history")
    app.router.add_delete("/api/account/history/{id}", api_forget_entry, name="api_forget_search")
    app.router.add_get("/api/account/searches", api_searches, name="api_saved_searches")
    app.router.add_post("/api/account/searches", api_save_search, name="api_save_search")
    app.router.add_get("/api/account/searches/{id}", api_search, name="api_saved_search")
    app.router.add_patch("/api/account/searches/{id}", api_rename_search, name="api_rename_search")
    app.router.add_delete("/api/account/searches/{id}", api_delete_search, name="api_delete_search")
