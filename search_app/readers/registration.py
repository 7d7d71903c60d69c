"""Registering an account, without telling anyone which addresses have one.

The form answers the same whether or not the address has an account, after the same work (the
password is hashed either way). With e-mail configured (``smtp_host``), the address's owner alone
learns the outcome: a new address gets a link that creates the account (a single-use token, stored
as its SHA-256, valid 24 hours), an address with an account gets a message saying so, with the way
to sign in. Without e-mail, the account is made at once and the reader is sent to sign in; an
address that had an account keeps it unchanged. What an attacker can still learn then is written in
docs/accounts-and-security.md.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from urllib.parse import urlencode

from aiohttp import web

from search_app.addresses import client_address
from search_app.auth import LIMITS, viewer
from search_app.i18n import LANG_PARAM, N_, current_language
from search_app.outbox import OUTBOX
from search_app.ratelimit import check
from search_app.readers.accounts import form_fields, form_page, hashing, see_other, start_session
from search_app.redirects import safe_next
from search_app.state import ACCOUNTS, SETTINGS, in_thread
from unicat.accounts import (
    REGISTRATION_HOURS,
    User,
    check_display_name,
    check_password,
    hash_password,
    new_registration,
    normalise_email,
    token_hash,
)
from unicat.clock import parse_time
from unicat.errors import BadParameter, UserExists
from unicat.mail import mail_enabled

_MAX_TOKEN = 128
LINK_GONE = N_("this link was used already or is not one of ours: register again to get a new one")
LINK_EXPIRED = f"this link is more than {REGISTRATION_HOURS} hours old: register again to get a new one"
CLOSED = N_("this catalogue does not take new accounts; ask a librarian for one")
ADDRESS_TAKEN = N_("this address has an account already: sign in instead")


async def _send_mail(request: web.Request, email: str, token: str | None, key: str) -> None:
    """The confirmation link (``token``) for a new address, or a message saying that the address has
    an account, in the language the reader registered in; its link opens the page in that language."""
    settings, language = request.app[SETTINGS], current_language()
    site = settings.site_url.rstrip("/")
    values: dict[str, object] = {"catalogue": settings.oai_repository_name, "hours": REGISTRATION_HOURS}
    if token is not None:
        values["link"] = f"{site}/register/confirm?{urlencode({'token': token, LANG_PARAM: language})}"
        template = "registration_confirm"
    else:
        values["link"] = f"{site}/signin?{urlencode({LANG_PARAM: language})}"
        template = "registration_taken"
    await request.app[OUTBOX].send(
        email, template, language, values, kind="registration", key=f"registration:{key}"
    )


async def register_form(request: web.Request) -> web.Response:
    if viewer(request).signed_in:
        return see_other("/account")
    sent = request.query.get("sent") == "1"
    return form_page(request, "register.html", {}, open=request.app[SETTINGS].registration_open, sent=sent)


async def register(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    if not settings.registration_open:
        raise web.HTTPForbidden(
            reason=N_("this catalogue does not take new accounts; ask a librarian for one")
        )
    form = await form_fields(request)
    try:
        email = normalise_email(form.get("email", ""))
        name = check_display_name(form.get("display_name", ""))
        password = check_password(form.get("password", ""), email=email, display_name=name)
        if form.get("password_again", "") != password:
            raise BadParameter("password_again", "the two passwords differ; type the same one twice")
    except BadParameter as exc:
        return form_page(request, "register.html", form, exc, open=True, sent=False)
    limits = request.app[LIMITS]
    check("new accounts from your address", (limits.register_address, client_address(request)))
    limits.register_address.record(client_address(request))
    stored = await hashing(request, hash_password, password)
    accounts = request.app[ACCOUNTS]
    next_path = safe_next(form.get("next"))
    if mail_enabled(settings):
        existing = await in_thread(request.app, accounts.find_user, email)
        token, registration = new_registration(email, name, stored)
        # Kept whether or not the address has an account, so both cost the same; only a new
        # address's owner gets the link that uses it.
        await in_thread(request.app, accounts.save_registration, registration)
        await _send_mail(request, email, token if existing is None else None, registration.token_hash)
        return see_other("/register?sent=1")
    with contextlib.suppress(UserExists):  # answered as a new address is; the account stays as it was
        await in_thread(request.app, accounts.create_user, User(email, name, stored))
    query = {"done": "registered"} | ({"next": next_path} if next_path != "/" else {})
    return see_other("/signin?" + urlencode(query))


def _token(raw: str | None) -> str:
    if not raw or len(raw) > _MAX_TOKEN:
        raise BadParameter("token", LINK_GONE)
    return raw


async def confirm_form(request: web.Request) -> web.Response:
    """``GET /register/confirm?token=…``, the e-mailed link: a page with a button, so that a mail
    scanner that opens links does not use the single-use token up."""
    try:
        token = _token(request.query.get("token"))
        found = await in_thread(request.app, request.app[ACCOUNTS].get_registration, token_hash(token))
        if found is None:
            raise BadParameter("token", LINK_GONE)
    except BadParameter as exc:
        return form_page(request, "register_confirm.html", {}, exc)
    return form_page(request, "register_confirm.html", {"token": token}, email=found.email)


async def confirm(request: web.Request) -> web.Response:
    """``POST /register/confirm``: create the account the link's registration holds, and sign in."""
    form = await form_fields(request)
    accounts = request.app[ACCOUNTS]
    try:
        hashed = token_hash(_token(form.get("token")))
        taken = await in_thread(request.app, accounts.take_registration, hashed)
        if taken is None:
            raise BadParameter("token", LINK_GONE)
        expires = parse_time(taken.expires)
        if expires is None or expires <= datetime.now(UTC):
            raise BadParameter("token", LINK_EXPIRED)
        new = User(taken.email, taken.display_name, taken.password_hash)
        user = await in_thread(request.app, accounts.create_user, new)
    except UserExists:
        return form_page(request, "register_confirm.html", {}, BadParameter("token", ADDRESS_TAKEN))
    except BadParameter as exc:
        return form_page(request, "register_confirm.html", {}, exc)
    return await start_session(request, user, "/account?done=registered")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/register", register_form, name="register_form")
    app.router.add_post("/register", register, name="register")
    app.router.add_get("/register/confirm", confirm_form, name="register_confirm_form")
    app.router.add_post("/register/confirm", confirm, name="register_confirm")
