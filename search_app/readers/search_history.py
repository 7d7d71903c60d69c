"""Whose search history a request reads and writes, and the writing itself.

A signed-in reader's history is their account's. Before signing in, a browser's history is kept
under a random token in the ``unicat_history`` cookie (HttpOnly: no script reads it; SameSite=Lax;
Secure unless ``cookie_secure`` is off), never in an address that could be shared or logged; the
store holds only its hash (:func:`unicat.saved_searches.visitor_owner`). The cookie is set by the
first search a browser runs, lives ``search_history_visitor_hours``, and goes when its reader signs
in: the browser's history then joins the account's.

Only the search page records (:func:`remember_search`): the JSON API, SRU and OAI-PMH serve programs,
whose requests are not a reader's history.
"""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime, timedelta

from aiohttp import hdrs, web

from search_app.auth import viewer
from search_app.state import CATALOGUE, SETTINGS, in_thread
from unicat.errors import EngineError
from unicat.saved_searches import HistoryEntry, account_owner, canonical_query, visitor_owner

log = logging.getLogger(__name__)

HISTORY_COOKIE = "unicat_history"
_MAX_TOKEN = 128


def request_params(request: web.Request) -> dict[str, list[str]]:
    """The request's query parameters, each with all its values."""
    return {name: request.query.getall(name) for name in dict.fromkeys(request.query)}


def _cookie_token(request: web.Request) -> str | None:
    token = request.cookies.get(HISTORY_COOKIE, "")
    return token if 0 < len(token) <= _MAX_TOKEN else None


def history_owner(request: web.Request) -> str | None:
    """The owner of the request's history: the account's, the browser's, or none yet."""
    user_id = viewer(request).user_id
    if user_id is not None:
        return account_owner(user_id)
    token = _cookie_token(request)
    return visitor_owner(token) if token is not None else None


async def remember_search(request: web.Request, response: web.StreamResponse, total: int) -> None:
    """Put the search page's search at the top of its reader's history, with how many records it
    found (giving a browser its history cookie if it has none yet). A search of nothing (the whole
    catalogue) is not kept, nor a ``HEAD`` (a link checker's, not a reader's). The history is a
    convenience: a store that cannot take the entry is logged, and the reader still gets the results."""
    query = canonical_query(request_params(request))
    if not query or request.method == hdrs.METH_HEAD:
        return
    settings = request.app[SETTINGS]
    owner = history_owner(request)
    if owner is None:
        token = secrets.token_urlsafe(32)
        owner = visitor_owner(token)
        response.set_cookie(
            HISTORY_COOKIE,
            token,
            path="/",
            httponly=True,
            secure=settings.cookie_secure,
            samesite="Lax",
        )
    now = datetime.now(UTC)
    try:
        await in_thread(
            request.app,
            request.app[CATALOGUE].searches.record_search,
            HistoryEntry(owner, query, total),
            settings.search_history_size,
            now - timedelta(days=settings.search_history_days),
            now - timedelta(hours=settings.search_history_visitor_hours),
        )
    except EngineError as exc:
        log.warning("search history not kept: %s", exc)


async def join_browser_history(request: web.Request, response: web.StreamResponse, user_id: int) -> None:
    """On signing in: the browser's history joins the account's, and the browser forgets its cookie."""
    token = _cookie_token(request)
    if token is None:
        return
    await in_thread(
        request.app,
        request.app[CATALOGUE].searches.join_history,
        visitor_owner(token),
        account_owner(user_id),
        request.app[SETTINGS].search_history_size,
    )
    response.del_cookie(HISTORY_COOKIE, path="/")
