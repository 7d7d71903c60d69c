"""Who is asking: the session cookie, the CSRF token every change must carry, and the librarians' door.

One middleware does all three, so no route can forget them:

- **Sessions.** A signed-in browser holds a random token in the ``unicat_session`` cookie (HttpOnly:
  no script reads it; Secure unless ``cookie_secure`` is off; SameSite=Lax: another site's page
  cannot send it with a form). The engine stores only the token's SHA-256 (:mod:`unicat.accounts`).
- **CSRF.** Every POST, PUT, PATCH or DELETE must carry the page's token, as the form field ``csrf``
  or the ``X-CSRF-Token`` header: the session's own token when signed in, and before that the
  ``unicat_csrf`` cookie's (a double-submit token, so that registering and signing in are protected
  too: nobody can sign a browser into an account of theirs). ``/oai`` and ``/sru`` are exempt: their
  POSTs are read-only protocol requests from harvesters, which have no page to take a token from.
- **Roles.** Every page under ``/librarians`` needs the librarian or admin role: a patron gets 403,
  someone not signed in is sent to sign in first. The JSON of those pages under ``/api`` (overlap,
  moderation) asks :func:`require_staff` itself: 403 for anyone else.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from aiohttp import hdrs, web

from search_app.addresses import client_address
from search_app.form_body import posted_form
from search_app.i18n import N_
from search_app.ratelimit import RateLimiter, check
from search_app.signin_throttle import SigninThrottle
from search_app.state import ACCOUNTS, SETTINGS, in_thread
from unicat.accounts import SESSION_DAYS, Session, User, token_hash
from unicat.clock import parse_time
from unicat.settings import Settings

SESSION_COOKIE = "unicat_session"
CSRF_COOKIE = "unicat_csrf"
CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"
STAFF_ROLES = ("librarian", "admin")
LIBRARIANS_PREFIX = "/librarians"
# Paths that need neither a viewer nor a CSRF token: files, the health check, and the read-only
# protocols (their POST is a query, sent by harvesters and SRU clients, not by our forms).
_NO_VIEWER = ("/static/", "/healthz")
_PROTOCOL_PATHS = ("/oai", "/sru")
_SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
# RFC 8058 one-click unsubscribe: a mail provider POSTs ``List-Unsubscribe=One-Click`` to the link of
# the message's List-Unsubscribe header, with no browser and so no CSRF cookie. The signed token in
# the link is the authority there (search_app/readers/alerts.py); the confirmation page's own form,
# sent without that body, carries the CSRF token as every form does.
ONE_CLICK_PATH = "/alerts/unsubscribe"
ONE_CLICK_FIELD = ("List-Unsubscribe", "One-Click")
_MAX_TOKEN = 128
_MAX_TOKENS = 3  # session cookies looked up per request, at most
CSRF_MESSAGE = "this form has expired or was sent from another site's page: reload the page and send it again"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class Viewer:
    """The person behind a request: their account and session when signed in, and the CSRF token
    their forms carry."""

    user: User | None
    session: Session | None
    csrf: str

    @property
    def signed_in(self) -> bool:
        return self.user is not None

    @property
    def is_staff(self) -> bool:
        return self.user is not None and self.user.role in STAFF_ROLES

    @property
    def user_id(self) -> int | None:
        return self.user.id if self.user is not None else None


ANONYMOUS = Viewer(None, None, "")
VIEWER = web.RequestKey("viewer", Viewer)


@dataclass(frozen=True, slots=True)
class Limits:
    """The app's rate limits (search_app/ratelimit.py) and sign-in throttling
    (search_app/signin_throttle.py), sized from the settings."""

    signin: SigninThrottle
    register_address: RateLimiter
    post_account: RateLimiter
    post_address: RateLimiter

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(
            SigninThrottle.from_settings(settings),
            RateLimiter(settings.signin_limit_address, settings.signin_window),
            RateLimiter(settings.post_limit_account, settings.post_window),
            RateLimiter(settings.post_limit_address, settings.post_window),
        )


LIMITS = web.AppKey("limits", Limits)
HASHING = web.AppKey("hashing", ThreadPoolExecutor)
"""Where passwords are hashed: 2 threads, so at most 2 × 128 MiB of scrypt at once, apart from the
engine's pool (a burst of sign-ins must not delay searches)."""


def viewer(request: web.Request) -> Viewer:
    """The request's viewer (anonymous on paths the middleware skips, and on its own errors)."""
    found: Viewer = request.get(VIEWER, ANONYMOUS)
    return found


def check_post_rate(request: web.Request, seen: Viewer, what: str) -> None:
    """Raise :class:`~search_app.ratelimit.RateLimited` if the reader or their address has posted
    (comments and their edits, reports, ratings, tags, lists and what is put on them: one budget)
    as much as the window allows."""
    limits = request.app[LIMITS]
    check(what, (limits.post_account, seen.user_id), (limits.post_address, client_address(request)))


def count_post(request: web.Request, seen: Viewer) -> None:
    """Count one post against the reader's and their address's budget (after it was stored)."""
    limits = request.app[LIMITS]
    limits.post_account.record(seen.user_id)
    limits.post_address.record(client_address(request))


def _session_attributes(settings: Settings) -> dict[str, Any]:
    """The session cookie's attributes, the same when it is set and when it is cleared: a browser
    replaces or deletes a cookie only when name, path and domain all match (RFC 6265bis 5.7)."""
    return {"path": "/", "httponly": True, "secure": settings.cookie_secure, "samesite": "Lax"}


def session_cookie(response: web.StreamResponse, token: str, settings: Settings) -> None:
    response.set_cookie(SESSION_COOKIE, token, max_age=SESSION_DAYS * 86_400, **_session_attributes(settings))
    response.del_cookie(CSRF_COOKIE, path="/")


def clear_session_cookie(response: web.StreamResponse, settings: Settings) -> None:
    """Tell the browser to forget its session cookie, unless the response sets a new one: a response
    holds one Set-Cookie per name, so clearing after setting would sign the reader out again."""
    if SESSION_COOKIE not in response.cookies:
        response.del_cookie(SESSION_COOKIE, **_session_attributes(settings))


def _csrf_cookie(response: web.StreamResponse, token: str, settings: Settings) -> None:
    response.set_cookie(
        CSRF_COOKIE, token, path="/", httponly=True, secure=settings.cookie_secure, samesite="Strict"
    )


def _session_tokens(request: web.Request) -> list[str]:
    """Every session token the request carries, in order. A browser sends two cookies of one name
    when another site of the domain set one (cookie tossing) or an old one lingers at another path;
    ``request.cookies`` keeps only the last, which may be the wrong one."""
    tokens: list[str] = []
    for header in request.headers.getall(hdrs.COOKIE, []):
        for pair in header.split(";"):
            name, _, value = pair.strip().partition("=")
            if name == SESSION_COOKIE and 0 < len(value) <= _MAX_TOKEN and len(tokens) < _MAX_TOKENS:
                tokens.append(value)
    return tokens


async def _signed_in(request: web.Request) -> Viewer | None:
    """The viewer of the first valid session among the request's session cookies, if any."""
    app = request.app
    for token in _session_tokens(request):
        found = await in_thread(app, app[ACCOUNTS].session_user, token_hash(token))
        if found is None:
            continue
        session, user = found
        expires = parse_time(session.expires)
        if expires is not None and expires > datetime.now(UTC):
            return Viewer(user, session, session.csrf)
    return None


async def _posted_token(request: web.Request) -> str:
    header = request.headers.get(CSRF_HEADER)
    if header is not None:
        return header
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await posted_form(request)  # aiohttp keeps it: the handler reads the same form
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else ""
    return ""


async def _one_click(request: web.Request) -> bool:
    """Whether this is a mail provider's one-click unsubscribe POST (see :data:`ONE_CLICK_PATH`)."""
    if request.path != ONE_CLICK_PATH or request.method != "POST":
        return False
    if request.content_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return False
    name, value = ONE_CLICK_FIELD
    return (await posted_form(request)).get(name) == value


def sign_in_url(request: web.Request) -> str:
    return "/signin?" + urlencode({"next": request.path_qs})


@web.middleware
async def session_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Find the viewer, refuse a change without its CSRF token, keep patrons off librarians' pages."""
    path = request.path
    if path.startswith(_NO_VIEWER) or path in _PROTOCOL_PATHS or request.match_info.http_exception:
        return await handler(request)  # (the last: no such page, or not this method: 404 or 405)
    settings = request.app[SETTINGS]
    found = await _signed_in(request)
    stale_cookie = found is None and SESSION_COOKIE in request.cookies
    new_csrf = ""
    if found is None:
        csrf = request.cookies.get(CSRF_COOKIE, "")
        if not csrf or len(csrf) > _MAX_TOKEN:
            csrf = new_csrf = secrets.token_urlsafe(24)
        found = Viewer(None, None, csrf)
    request[VIEWER] = found
    if request.method not in _SAFE_METHODS and not await _one_click(request):
        given = await _posted_token(request)
        if new_csrf or not given or not hmac.compare_digest(given.encode(), found.csrf.encode()):
            raise web.HTTPForbidden(reason=CSRF_MESSAGE)
    if path == LIBRARIANS_PREFIX or path.startswith(LIBRARIANS_PREFIX + "/"):
        if not found.signed_in:
            if request.method in _SAFE_METHODS:
                raise web.HTTPSeeOther(sign_in_url(request))
            raise web.HTTPForbidden(reason=N_("sign in as a librarian first"))
        if not found.is_staff:
            raise web.HTTPForbidden(reason=N_("this page is for librarians; your account is a reader's"))
    response = await handler(request)
    if new_csrf and (response.content_type == "text/html" or path == "/api/me"):
        _csrf_cookie(response, new_csrf, settings)  # for the page's forms; the JSON API needs none
    if stale_cookie:
        clear_session_cookie(response, settings)
    return response


def require_staff(request: web.Request, what: str) -> Viewer:
    """The viewer, who must be a librarian or an admin (403 otherwise, signed in or not): for the
    JSON under ``/api`` that librarians' pages show, which the door of ``/librarians`` does not
    guard; ``what`` names it in the refusal."""
    found = viewer(request)
    if not found.is_staff:
        raise web.HTTPForbidden(reason=f"{what} is for librarians: sign in with a librarian's account")
    return found


def require_signed_in(request: web.Request) -> Viewer:
    """The viewer, who must be signed in (403 otherwise: a change needs an account)."""
    found = viewer(request)
    if found.user is None:
        raise web.HTTPForbidden(reason=N_("sign in first: only readers with an account can do this"))
    return found
