"""Alerts of a reader's saved searches on the web: the settings of each search (applied for the form of
``/account/searches``, :mod:`search_app.readers.saved_searches`, and for the ``alert``/``feed`` fields of
``PATCH /api/account/searches/{id}``), the unsubscribe link of the digests, which works without signing
in, and each search's private Atom feed.

- **Settings.** A reader sets the e-mail digest (``off``, ``daily``, ``weekly``: anything else is a
  400 that names the choices) and switches the feed on or off, or gives it a new address (the old one
  answers 404 at once). The digest is written in the language of the page the reader set it from.
- **Unsubscribe.** ``GET /alerts/unsubscribe?search=…&token=…`` only shows what the link would do
  (mail scanners open links: a GET changes nothing); its form POSTs with the CSRF token of signed-out
  pages. A mail provider's RFC 8058 one-click POST (``List-Unsubscribe=One-Click``) needs no CSRF
  token (:data:`search_app.auth.ONE_CLICK_PATH`): the token signed with the search's own key is the
  authority. A link expired, altered, or made for something else gets a page that says so and what to
  do (sign in and manage the alerts), never a 500.
- **Feed.** ``/alerts/feed/{token}.atom``: the search's titles newest first (by the date each became
  new for it), 50 at most, ``Cache-Control: private`` and ``noindex``; the token is the only key.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from search_app.auth import ONE_CLICK_FIELD
from search_app.catalogue.fetch import ids_of_filters
from search_app.feeds.atom import Entry, Feed, write_feed
from search_app.feeds.http import atom_response, feed_base
from search_app.i18n import N_, gettext, request_language
from search_app.readers.accounts import form_fields
from search_app.render import render
from search_app.state import CATALOGUE, SETTINGS, in_thread
from unicat import signed_links
from unicat.alerts import UNSUBSCRIBE, Alert, Frequency, check_frequency, search_libraries
from unicat.catalogue import Catalogue
from unicat.clock import parse_time, utc_now
from unicat.errors import BadParameter, ItemNotFound
from unicat.model import UnionRecord
from unicat.query import parse_search_params
from unicat.saved_searches import query_params
from unicat.settings import Settings
from unicat.stores.alerts import SqlAlertStore

FEED_SIZE = 50
"""Titles a saved search's feed lists at most, the newest first."""
_MAX_FEED_TOKEN = 100  # longer is no token of ours (they are 43 characters)
_MAX_ID_DIGITS = 18
FEED_EXAMPLE = '{"alert": "weekly", "feed": true}'
ALERT_DONE = {
    "alert": N_("The alert is set."),
    "feed": N_("The feed has a new address; the old one no longer works."),
}


def alert_store(request: web.Request) -> SqlAlertStore:
    return SqlAlertStore(request.app[CATALOGUE].database)


def feed_url(base: str, alert: Alert) -> str | None:
    """The absolute address of the search's private feed, ``None`` while it is off."""
    return f"{base}/alerts/feed/{alert.feed_token}.atom" if alert.feed_token else None


def alert_json(alert: Alert, base: str) -> dict[str, Any]:
    """The alert fields of a saved search's JSON."""
    return {"alert": alert.frequency, "alert_language": alert.language, "feed": feed_url(base, alert)}


def check_feed_change(value: object) -> str:
    """The ``feed`` field of the API: ``true`` (on, keeping its address), ``false`` (off) or ``"new"``
    (on, at a new address: the old one stops working)."""
    if value is True:
        return "on"
    if value is False:
        return "off"
    if value == "new":
        return "new"
    raise BadParameter(
        "feed", 'give true (on), false (off) or "new" (a new address; the old one stops working)'
    )


def check_alert_changes(body: Mapping[str, object]) -> tuple[Frequency | None, str | None]:
    """The ``alert`` and ``feed`` changes ``body`` asks for (``None``: left as they are); a 400 naming
    the field for a bad one."""
    frequency = check_frequency(body["alert"]) if "alert" in body else None
    feed = check_feed_change(body["feed"]) if "feed" in body else None
    return frequency, feed


async def apply_changes(
    request: web.Request, user_id: int, search_id: int, body: Mapping[str, object]
) -> None:
    """Apply the ``alert`` and ``feed`` fields of ``body`` (both checked first: a bad one changes
    nothing); :class:`ItemNotFound` when the reader has no such search. The digest is written in the
    language of the page (or API request) that set it."""
    frequency, feed = check_alert_changes(body)
    await in_thread(
        request.app,
        _apply,
        alert_store(request),
        user_id,
        search_id,
        frequency,
        feed,
        request_language(request),
    )


def _apply(
    store: SqlAlertStore,
    user_id: int,
    search_id: int,
    frequency: Frequency | None,
    feed: str | None,
    language: str,
) -> None:
    if frequency is not None and not store.set_alert(user_id, search_id, frequency, language, utc_now()):
        raise ItemNotFound(f"saved search #{search_id} among yours")
    if feed is not None:
        try:
            store.set_feed(user_id, search_id, feed != "off", renew=feed == "new")
        except LookupError as exc:
            raise ItemNotFound(f"saved search #{search_id} among yours") from exc


# -- unsubscribe -------------------------------------------------------------------------------------
class LinkProblem(Exception):
    """Why a link opens nothing: the page's status and its message (translated when shown)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _checked_link(store: SqlAlertStore, raw_id: str, token: str, now: datetime) -> Alert:
    """The search an unsubscribe link opens, or :class:`LinkProblem` saying why not."""
    broken = LinkProblem(
        400,
        N_(
            "This link is not complete or was changed. Copy the whole link from the e-mail, "
            "or sign in to manage your alerts."
        ),
    )
    if not raw_id.isdigit() or len(raw_id) > _MAX_ID_DIGITS or not token:
        raise broken
    alert = store.by_search_id(int(raw_id))
    if alert is None or alert.key is None:
        raise LinkProblem(410, N_("This saved search no longer exists: there is nothing to stop."))
    try:
        subject = signed_links.verify(alert.key, token, UNSUBSCRIBE, now)
    except signed_links.Expired as exc:
        raise LinkProblem(
            410,
            N_("This link has expired. Sign in to manage your alerts, or use the link of a newer e-mail."),
        ) from exc
    except signed_links.LinkError as exc:
        raise broken from exc
    if subject != str(alert.search_id):
        raise broken
    return alert


async def _link_page(request: web.Request, raw_id: str, token: str, action: str) -> web.Response:
    store = alert_store(request)
    now = datetime.now(UTC)
    try:
        alert = await in_thread(request.app, _checked_link, store, raw_id, token, now)
        if action == "stop":
            await in_thread(request.app, store.unsubscribe, alert.search_id)
    except LinkProblem as problem:
        context: dict[str, Any] = {"q": "", "problem": gettext(problem.message), "alert": None}
        return _no_referrer(render(request, "alert_unsubscribe.html", context, status=problem.status))
    context = {
        "q": "",
        "problem": None,
        "alert": alert,
        "stopped": action == "stop",
        "search_id": raw_id,
        "token": token,
    }
    return _no_referrer(render(request, "alert_unsubscribe.html", context))


def _no_referrer(response: web.Response) -> web.Response:
    # The token is in the address: no Referer carries it on, no search engine keeps the page.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Cache-Control"] = "private, no-store"
    return response


async def unsubscribe_page(request: web.Request) -> web.Response:
    """``GET /alerts/unsubscribe?search=…&token=…``: what the link does, with a button to do it."""
    return await _link_page(request, request.query.get("search", ""), request.query.get("token", ""), "ask")


async def unsubscribe(request: web.Request) -> web.Response:
    """``POST /alerts/unsubscribe``: the e-mail digest of the link's search off (the confirmation
    page's form, or a mail provider's one-click POST to the link itself)."""
    form = await form_fields(request)
    name, value = ONE_CLICK_FIELD
    one_click = form.get(name) == value
    # One-click POSTs go to the link itself (RFC 8058): the search and token are in its query string.
    raw_id = request.query.get("search", "") if one_click else form.get("search", "")
    token = request.query.get("token", "") if one_click else form.get("token", "")
    return await _link_page(request, raw_id, token, "stop")


# -- the private feed --------------------------------------------------------------------------------
def _feed_records(
    catalogue: Catalogue, settings: Settings, alert: Alert
) -> list[tuple[UnionRecord, str | None]]:
    """The search's newest titles, each with the date it became new for it."""
    params = {name: values for name, values in query_params(alert.query).items() if name != "sort"}
    libraries = search_libraries(params)
    params.update(sort=["newest"], page_size=[str(min(FEED_SIZE, settings.max_page_size))], facets=["0"])
    if len(libraries) == 1:  # newest by the date that library first held it
        params.update(new_at=[libraries[0]], new_since=["1970-01-01"])
    query = ids_of_filters(catalogue, parse_search_params(params, settings))
    hits = catalogue.index.search(query).hits
    records = catalogue.index.get_union_records([hit.id for hit in hits])
    by_id = {record.id: record for record in records}
    found = []
    for hit in hits:
        record = by_id.get(hit.id)
        if record is not None:
            held = [record.held_since[code] for code in libraries if code in record.held_since]
            found.append((record, max(held) if held else record.first_seen))
    return found


async def private_feed(request: web.Request) -> web.Response:
    """``GET /alerts/feed/{token}.atom``: a saved search's private feed; 404 for any other token."""
    token = request.match_info["token"]
    if len(token) > _MAX_FEED_TOKEN:
        raise ItemNotFound("feed")
    alert = await in_thread(request.app, alert_store(request).by_feed_token, token)
    if alert is None or not secrets.compare_digest(alert.feed_token or "", token):
        raise ItemNotFound("feed")
    settings = request.app[SETTINGS]
    found = await in_thread(request.app, _feed_records, request.app[CATALOGUE], settings, alert)
    base = feed_base(request)
    never = datetime(1970, 1, 1, tzinfo=UTC)
    entries = [Entry(record, parse_time(date) or never) for record, date in found]
    updated = max((entry.updated for entry in entries), default=never)
    address = feed_url(base, alert)
    assert address is not None
    feed = Feed(
        id=f"{base}/account/searches#search-{alert.search_id}",  # the same when the address is renewed
        title=gettext("New titles for “%(search)s”") % {"search": alert.name},
        updated=updated,
        self_url=address,
        page_url=f"{base}/search?{alert.query}",
        author=settings.oai_repository_name,
        language=alert.language,
    )
    return atom_response(request, write_feed(feed, entries, base), updated, private=True)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/alerts/unsubscribe", unsubscribe_page, name="alert_unsubscribe_page")
    app.router.add_post("/alerts/unsubscribe", unsubscribe, name="alert_unsubscribe")
    app.router.add_get("/alerts/feed/{token}.atom", private_feed, name="alert_feed")
