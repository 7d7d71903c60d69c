"""Serving an Atom document over HTTP: its media type, validators, and answers to conditional GETs.

Feed readers poll, many every few minutes. Each response carries a strong ``ETag`` (a hash of the
document) and ``Last-Modified`` (the feed's ``updated``), and a poll that sends either back
unchanged gets ``304 Not Modified`` without the body (RFC 9110 §13). ``If-None-Match`` wins over
``If-Modified-Since`` when both are sent, as §13.2.2 orders.

A private feed (a saved search's, behind a token in its address) is ``Cache-Control: private`` so
that no shared cache keeps one reader's feed for another, and is kept out of search engines and
Referer headers.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from email.utils import format_datetime

from aiohttp import web

from search_app.feeds.atom import ATOM_MEDIA_TYPE
from search_app.state import SETTINGS

PUBLIC_MAX_AGE = 300
"""Seconds a shared cache may serve a public feed without asking again: new titles arrive by the day."""


def feed_base(request: web.Request) -> str:
    """The catalogue's absolute address that a feed's links and ids are built on: the ``site_url``
    setting where set (stable, whatever name the server was reached by), else the request's origin."""
    site = request.app[SETTINGS].site_url.rstrip("/")
    return site or str(request.url.origin())


def atom_response(request: web.Request, document: str, updated: datetime, private: bool) -> web.Response:
    """``document`` (from :func:`search_app.feeds.atom.write_feed`) as the answer to ``request``, or
    ``304 Not Modified`` when the reader's copy is current. ``updated`` is the feed's own (aware)."""
    body = document.encode("utf-8")
    etag = hashlib.sha256(body).hexdigest()[:32]
    modified = updated.astimezone(UTC).replace(microsecond=0)
    headers = {
        "ETag": f'"{etag}"',
        "Last-Modified": _http_date(modified),
        "Cache-Control": "private, no-cache" if private else f"public, max-age={PUBLIC_MAX_AGE}",
    }
    if private:
        headers["X-Robots-Tag"] = "noindex, nofollow"
        headers["Referrer-Policy"] = "no-referrer"
    if _not_modified(request, etag, modified):
        return web.Response(status=304, headers=headers)
    return web.Response(body=body, headers=headers, content_type=ATOM_MEDIA_TYPE, charset="utf-8")


def _not_modified(request: web.Request, etag: str, modified: datetime) -> bool:
    if request.method not in ("GET", "HEAD"):
        return False
    if "If-None-Match" in request.headers:
        # Weak comparison (§13.1.2): a W/ tag from a proxy that recompressed still names this body.
        return any(tag.value in (etag, "*") for tag in request.if_none_match or ())
    since = request.if_modified_since
    return since is not None and modified <= since


def _http_date(moment: datetime) -> str:
    """An IMF-fixdate (RFC 9110 §5.6.7), ``Mon, 07 Dec 2026 09:30:00 GMT``, whatever the locale."""
    return format_datetime(moment, usegmt=True)
