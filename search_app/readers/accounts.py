"""Signing in and out, and one's own account (name and password); registering is registration.py.

Forms that fail are shown again with what was wrong and what was typed (never the password), with
status 400. Passwords are hashed in the app's hashing pool (scrypt takes half a second and 128 MiB),
never on the event loop. Sign-in attempts are slowed down, not locked out
(search_app/signin_throttle.py); a wrong address and a wrong password get the same answer after the
same work, so the form does not tell which addresses have an account.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Any, TypeVar

from aiohttp import web

from search_app.addresses import client_address
from search_app.auth import HASHING, LIMITS, clear_session_cookie, require_signed_in, session_cookie, viewer
from search_app.form_body import posted_form
from search_app.i18n import N_, gettext, translated
from search_app.readers.search_history import join_browser_history
from search_app.redirects import safe_next
from search_app.render import render
from search_app.signin_throttle import is_known_browser, remember_browser
from search_app.state import ACCOUNTS, CONTRIBUTIONS, SETTINGS, in_thread
from unicat.accounts import (
    User,
    check_display_name,
    check_password,
    hash_password,
    needs_rehash,
    new_session,
    normalise_email,
    verify_password,
)
from unicat.errors import BadParameter

T = TypeVar("T")
MAX_FIELD = 1_000
MAX_LONG_FIELD = 100_000
MY_COMMENTS = 100
WRONG_CREDENTIALS = N_("the e-mail address or the password is wrong")
DONE_MESSAGES = {
    "password": N_("Your password is changed; you were signed out everywhere else."),
    "name": N_("Your display name is changed."),
    "registered": N_("Welcome! Your account is ready and you are signed in."),
    "library": N_("Your home library is changed."),
}
# The account page shows the role by name (unicat.accounts.ROLES), translated.
ROLE_NAMES = (N_("patron"), N_("librarian"), N_("admin"))
# After registering without e-mail confirmation: the same words whether or not the address was new.
REGISTERED_SIGN_IN = N_(
    "Thank you. Sign in with the address and the password you gave. If that address had an account "
    "already, it is unchanged: sign in with its own password."
)
# What a sign-in with an unknown address is checked against, so it costs what a real one costs.
_DUMMY_HASH = "scrypt$131072$8$1$c2lnbi1pbi10aW1pbmc=$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="


async def hashing(request: web.Request, call: Callable[..., T], *args: Any) -> T:
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(request.app[HASHING], functools.partial(call, *args))


async def form_fields(request: web.Request, long: tuple[str, ...] = ()) -> dict[str, str]:
    """A posted form's text fields, each at most 1,000 characters but those named in ``long`` (a
    comment), which their own check measures with a message of its own."""
    posted = await posted_form(request)
    form = {key: value for key, value in posted.items() if isinstance(value, str)}
    for key, value in form.items():
        limit = MAX_LONG_FIELD if key in long else MAX_FIELD
        if len(value) > limit:
            raise BadParameter(key, f"at most {limit:,} characters")
    return form


def see_other(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location})


async def start_session(request: web.Request, user: User, location: str) -> web.Response:
    assert user.id is not None
    token, session = new_session(user.id)
    await in_thread(request.app, request.app[ACCOUNTS].save_session, session)
    response = see_other(location)
    await join_browser_history(request, response, user.id)
    session_cookie(response, token, request.app[SETTINGS])
    remember_browser(response, user, request.app[SETTINGS])
    return response


def form_page(
    request: web.Request, name: str, form: dict[str, str], error: BadParameter | None = None, **extra: Any
) -> web.Response:
    shown = {key: value for key, value in form.items() if "password" not in key and key != "csrf"}
    context = {
        "q": "",
        "form": shown,
        # Messages are written in English, their ids: translated here, where the reader's language is known.
        "error": gettext(error.message) if error else None,
        "error_field": error.param if error else None,
        "next": safe_next(form.get("next") or request.query.get("next")),
        **extra,
    }
    return render(request, name, context, status=400 if error else 200)


async def sign_in_form(request: web.Request) -> web.Response:
    if viewer(request).signed_in:
        return see_other(safe_next(request.query.get("next")))
    done = gettext(REGISTERED_SIGN_IN) if request.query.get("done") == "registered" else None
    return form_page(request, "signin.html", {}, done=done)


async def sign_in(request: web.Request) -> web.Response:
    form = await form_fields(request)
    try:
        email = normalise_email(form.get("email", ""))
        password = form.get("password", "")
        if not password:
            raise BadParameter("password", "give your password")
    except BadParameter as exc:
        return form_page(request, "signin.html", form, exc, done=None)
    throttle = request.app[LIMITS].signin
    address = client_address(request)
    user = await in_thread(request.app, request.app[ACCOUNTS].find_user, email)
    known = is_known_browser(request, user)
    throttle.attempt("sign-in attempts", email, address, known)
    good = await hashing(request, verify_password, password, user.password_hash if user else _DUMMY_HASH)
    if user is None or not good:
        return form_page(request, "signin.html", form, BadParameter("password", WRONG_CREDENTIALS), done=None)
    throttle.succeeded(email, address, known)
    if needs_rehash(user.password_hash):
        user = user.with_changes(password_hash=await hashing(request, hash_password, password))
        await in_thread(request.app, request.app[ACCOUNTS].update_user, user)
    return await start_session(request, user, safe_next(form.get("next")))


async def sign_out(request: web.Request) -> web.Response:
    seen = viewer(request)
    if seen.session is not None:
        await in_thread(
            request.app, request.app[ACCOUNTS].delete_sessions, token_hash=seen.session.token_hash
        )
    response = see_other("/")
    clear_session_cookie(response, request.app[SETTINGS])
    # What the browser kept of the signed-in pages goes too (a shared computer's next user); not its
    # cookies: the known-browser one spares the owner the sign-in throttling, and holds no session.
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response


async def account(request: web.Request) -> web.Response:
    """One's account, the forms to change it, and one's comments (with what librarians did to them)."""
    seen = viewer(request)
    if seen.user is None or seen.user.id is None:
        return see_other("/signin?next=/account")
    done = translated(DONE_MESSAGES.get(request.query.get("done", "")))
    comments = await in_thread(request.app, request.app[CONTRIBUTIONS].comments_by, seen.user.id)
    from search_app.readers.home_library import home_choices  # it builds on this module's helpers

    choices = await home_choices(request)
    form = {"library": seen.user.library or ""}
    return form_page(
        request, "account.html", form, done=done, my_comments=comments[:MY_COMMENTS], home_choices=choices
    )


async def change_password(request: web.Request) -> web.Response:
    seen = require_signed_in(request)
    assert seen.user is not None and seen.user.id is not None
    form = await form_fields(request)
    user = seen.user
    throttle = request.app[LIMITS].signin
    address = client_address(request)
    known = is_known_browser(request, user)
    try:
        throttle.attempt("password attempts", user.email, address, known)
        if not await hashing(request, verify_password, form.get("current", ""), user.password_hash):
            raise BadParameter("current", "this is not your current password")
        throttle.succeeded(user.email, address, known)
        password = check_password(form.get("password", ""), email=user.email, display_name=user.display_name)
        if form.get("password_again", "") != password:
            raise BadParameter("password_again", "the two passwords differ; type the same one twice")
    except BadParameter as exc:
        return form_page(request, "account.html", form, exc, done=None, my_comments=[])
    changed = user.with_changes(password_hash=await hashing(request, hash_password, password))
    accounts = request.app[ACCOUNTS]
    await in_thread(request.app, accounts.update_user, changed)
    # Whoever else knew the old password is signed out; this browser gets a new session (and a
    # known-browser cookie of the new password: those of the old one are void).
    await in_thread(request.app, accounts.delete_sessions, user_id=user.id)
    return await start_session(request, changed, "/account?done=password")


async def change_name(request: web.Request) -> web.Response:
    seen = require_signed_in(request)
    assert seen.user is not None
    form = await form_fields(request)
    try:
        name = check_display_name(form.get("display_name", ""))
    except BadParameter as exc:
        return form_page(request, "account.html", form, exc, done=None, my_comments=[])
    await in_thread(request.app, request.app[ACCOUNTS].update_user, seen.user.with_changes(display_name=name))
    return see_other("/account?done=name")


async def api_me(request: web.Request) -> web.Response:
    """``GET /api/me``: the signed-in account (``null`` if none) and the CSRF token that the JSON
    API's changes must send as ``X-CSRF-Token``."""
    seen = viewer(request)
    return web.json_response({"user": seen.user.to_json() if seen.user else None, "csrf": seen.csrf})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/signin", sign_in_form, name="signin_form")
    app.router.add_post("/signin", sign_in, name="signin")
    app.router.add_post("/signout", sign_out, name="signout")
    app.router.add_get("/account", account, name="account")
    app.router.add_post("/account/password", change_password, name="account_password")
    app.router.add_post("/account/name", change_name, name="account_name")
    app.router.add_get("/api/me", api_me, name="api_me")
