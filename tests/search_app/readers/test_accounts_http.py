"""Accounts over real HTTP: registering, signing in and out, changing one's password, the session
cookie's attributes, the CSRF token every change needs, rate limits on sign-in, and the librarians'
door (403 for patrons, sign-in first for everyone else).

Expected answers come from the brief and the standards: RFC 6265bis for cookie attributes, the
OWASP advice of one answer for a wrong address and a wrong password.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from search_app.app import make_app
from search_app.auth import CSRF_COOKIE, SESSION_COOKIE
from search_app.signin_throttle import KNOWN_BROWSER_COOKIE
from tests.search_app.accounts_http import (
    PASSWORD,
    Site,
    csrf_of,
    make_account,
    me,
    post_form,
    register,
    sign_in,
)
from unicat.accounts import SESSION_DAYS, new_session, token_hash, verify_password
from unicat.catalogue import Catalogue
from unicat.settings import Settings


@pytest.fixture
async def site(catalogue: Catalogue, settings: Settings) -> AsyncIterator[Site]:
    served = await Site(make_app(catalogue, settings)).start()
    yield served
    await served.close()


def set_cookies(response: Any) -> dict[str, Any]:
    """The response's Set-Cookie headers, parsed, by cookie name."""
    parsed: dict[str, Any] = {}
    for header in response.headers.getall("Set-Cookie", []):
        cookie: SimpleCookie = SimpleCookie()
        cookie.load(header)
        for name, morsel in cookie.items():
            parsed[name] = (morsel, header)
    return parsed


async def test_a_reader_registers_and_gets_a_secure_http_only_same_site_session(
    site: Site, catalogue: Catalogue
) -> None:
    browser = await site.browser()
    answer = await register(browser, "  Jane.Doe@Example.ORG ", "Jane D.")
    # Without e-mail the account is made at once, and the reader signs in (the answer is the same
    # for an address that had an account: tests/search_app/readers/test_registration_http.py).
    assert answer.status == 303 and answer.headers["Location"] == "/signin?done=registered"
    assert SESSION_COOKIE not in set_cookies(answer)
    answer = await sign_in(browser, "jane.doe@example.org")
    assert answer.status == 303
    morsel, header = set_cookies(answer)[SESSION_COOKIE]
    assert morsel["httponly"] and morsel["secure"] and morsel["samesite"] == "Lax" and morsel["path"] == "/"
    assert int(morsel["max-age"]) == SESSION_DAYS * 86_400
    assert "HttpOnly" in header and "Secure" in header
    # The store has the account under its normalised address, a scrypt hash, never the password,
    # and the session only as the SHA-256 of the cookie's token.
    stored = catalogue.accounts.find_user("jane.doe@example.org")
    assert stored is not None and stored.role == "patron" and stored.display_name == "Jane D."
    assert stored.password_hash.startswith("scrypt$") and PASSWORD not in stored.password_hash
    assert verify_password(PASSWORD, stored.password_hash)
    session = catalogue.accounts.get_session(token_hash(morsel.value))
    assert session is not None and session.user_id == stored.id
    assert (await me(browser)) == stored.to_json()
    page = await browser.get("/account")
    text = await page.text()
    assert page.status == 200 and "Jane D." in text and "jane.doe@example.org" in text
    assert page.headers["Cache-Control"] == "private, no-store"


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"email": ""}, "email", "give an e-mail address"),
        ({"email": "not-an-address"}, "email", "is not an e-mail address"),
        ({"display_name": "   "}, "display_name", "give the name to show"),
        ({"display_name": "x" * 81}, "display_name", "at most 80 characters"),
        ({"password": "short", "password_again": "short"}, "password", "at least 10 characters"),
        ({"password_again": "something else entirely"}, "password_again", "the two passwords differ"),
        ({"password": "p" * 257, "password_again": "p" * 257}, "password", "at most 256 characters"),
        # NIST SP 800-63B: a password of the common list (the shipped list's most common one of 10
        # characters), one character repeated, a sequence, the account's own address.
        ({"password": "1234567890", "password_again": "1234567890"}, "password", "most common ones"),
        ({"password": "x" * 12, "password_again": "x" * 12}, "password", "repeats one character"),
        ({"password": "bcdefghijk", "password_again": "bcdefghijk"}, "password", "run of a sequence"),
        ({"password": "ann@example.org!", "password_again": "ann@example.org!"}, "password", "your e-mail"),
    ],
)
async def test_a_bad_registration_is_shown_again_with_what_is_wrong(
    site: Site, catalogue: Catalogue, fields: dict[str, str], field: str, message: str
) -> None:
    browser = await site.browser()
    data = {"email": "ann@example.org", "display_name": "Ann <b>", "password": PASSWORD}
    data["password_again"] = PASSWORD
    data.update(fields)
    answer = await post_form(browser, "/register", data)
    text = await answer.text()
    assert answer.status == 400 and message in text.lower()
    assert f'id="field-{field}"' in text and 'aria-invalid="true"' in text
    # What was typed comes back escaped, the password never.
    if "display_name" not in fields:
        assert 'value="Ann &lt;b&gt;"' in text
    assert PASSWORD not in text
    assert catalogue.accounts.list_users() == [] and SESSION_COOKIE not in set_cookies(answer)


async def test_an_address_registers_once(site: Site, catalogue: Catalogue) -> None:
    make_account(catalogue.accounts, "ann@example.org", "Ann")
    answer = await register(await site.browser(), "ANN@example.org", "Another Ann", "a different passphrase")
    # The answer a new address gets (it must not tell that this one has an account); nothing changes.
    assert answer.status == 303 and answer.headers["Location"] == "/signin?done=registered"
    assert [user.display_name for user in catalogue.accounts.list_users()] == ["Ann"]
    assert (await sign_in(await site.browser(), "ann@example.org", "a different passphrase")).status == 400


async def test_registration_can_be_closed(catalogue: Catalogue, settings: Settings) -> None:
    site = await Site(make_app(catalogue, settings.replace(registration_open=False))).start()
    try:
        browser = await site.browser()
        page = await browser.get("/register")
        assert page.status == 200 and "does not take new accounts" in await page.text()
        answer = await register(browser, "ann@example.org", "Ann")
        assert answer.status == 403 and catalogue.accounts.list_users() == []
    finally:
        await site.close()


async def test_sign_in_sign_out_and_a_signed_out_cookie_is_worth_nothing(
    site: Site, catalogue: Catalogue
) -> None:
    make_account(catalogue.accounts, "ann@example.org", "Ann")
    browser = await site.browser()
    wrong = await sign_in(browser, "ann@example.org", "not the password")
    unknown = await sign_in(browser, "nobody@example.org")
    # One answer for a wrong password and an unknown address: the form does not tell who has an account.
    assert wrong.status == unknown.status == 400
    for answer in (wrong, unknown):
        assert "The e-mail address or the password is wrong." in await answer.text()
    assert await me(browser) is None

    answer = await post_form(
        browser, "/signin", {"email": "Ann@Example.org", "password": PASSWORD, "next": "/search?q=austen"}
    )
    assert answer.status == 303 and answer.headers["Location"] == "/search?q=austen"
    token = set_cookies(answer)[SESSION_COOKIE][0].value
    assert (await me(browser) or {})["email"] == "ann@example.org"
    # A signed-in page names the reader and offers to sign out.
    page = await (await browser.get("/")).text()
    assert "Ann" in page and 'action="/signout"' in page

    out = await post_form(browser, "/signout", {})
    assert out.status == 303 and out.headers["Location"] == "/"
    assert set_cookies(out)[SESSION_COOKIE][0].value == ""
    # Clear-Site-Data (W3C): a quoted list of what the browser must forget of this site.
    cleared = {part.strip() for part in out.headers["Clear-Site-Data"].split(",")}
    assert {'"cache"', '"storage"'} <= cleared
    assert catalogue.accounts.get_session(token_hash(token)) is None and await me(browser) is None
    # Someone who kept a copy of the cookie gets nothing from it, and the stale cookie is cleared.
    replay = await site.browser()
    replay.session.cookie_jar.update_cookies({SESSION_COOKIE: token})
    answered = await replay.get("/api/me")
    assert (await answered.json())["user"] is None
    assert set_cookies(answered)[SESSION_COOKIE][0].value == ""


async def test_an_expired_session_signs_nobody_in(site: Site, catalogue: Catalogue) -> None:
    ann = make_account(catalogue.accounts, "ann@example.org", "Ann")
    assert ann.id is not None
    token, session = new_session(ann.id)
    catalogue.accounts.save_session(dataclasses.replace(session, expires="2020-01-01T00:00:00Z"))
    browser = await site.browser()
    browser.session.cookie_jar.update_cookies({SESSION_COOKIE: token})
    assert await me(browser) is None


@pytest.mark.parametrize(
    "target", ["//evil.example/steal", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"]
)
async def test_sign_in_never_sends_the_reader_to_another_site(
    site: Site, catalogue: Catalogue, target: str
) -> None:
    make_account(catalogue.accounts, "ann@example.org", "Ann")
    browser = await site.browser()
    answer = await post_form(
        browser, "/signin", {"email": "ann@example.org", "password": PASSWORD, "next": target}
    )
    assert answer.status == 303 and answer.headers["Location"] == "/"


async def test_every_change_needs_the_pages_csrf_token(site: Site, catalogue: Catalogue) -> None:
    make_account(catalogue.accounts, "ann@example.org", "Ann")
    browser = await site.browser()
    form = {"email": "ann@example.org", "password": PASSWORD}
    # No token, and a made-up one: refused before anything is done (no session, no account).
    for data in (form, {**form, "csrf": "made-up-token-of-some-length"}):
        answer = await browser.post("/signin", data=data, allow_redirects=False)
        assert answer.status == 403 and "reload the page" in await answer.text()
    answer = await browser.post("/register", data={**form, "display_name": "X", "password_again": PASSWORD})
    assert answer.status == 403 and len(catalogue.accounts.list_users()) == 1
    # A page's token works; once signed in, the session's own token replaces the anonymous one.
    anonymous = await csrf_of(browser)
    assert (await post_form(browser, "/signin", form)).status == 303
    signed = await csrf_of(browser)
    assert signed != anonymous
    for data in ({}, {"csrf": anonymous}):
        answer = await browser.post("/signout", data=data, allow_redirects=False)
        assert answer.status == 403
    assert await me(browser) is not None
    # The JSON way: the header.
    answer = await browser.post(
        "/account/name",
        data={"display_name": "Ann B."},
        headers={"X-CSRF-Token": signed},
        allow_redirects=False,
    )
    renamed = catalogue.accounts.find_user("ann@example.org")
    assert answer.status == 303 and renamed is not None and renamed.display_name == "Ann B."
    # A form from another site's page has the cookie but not the token (SameSite aside).
    answer = await browser.post(
        "/account/name",
        data={"display_name": "Pwned"},
        headers={"Origin": "http://evil.example"},
        allow_redirects=False,
    )
    assert answer.status == 403


async def signed_in_then_out(site: Site, email: str, address: str) -> Any:
    """A browser at ``address`` that signed in to ``email`` once and signed out: it keeps the
    known-browser cookie, as the owner's own browser does."""
    browser = await site.browser(address)
    assert (await sign_in(browser, email)).status == 303
    assert (await post_form(browser, "/signout", {})).status == 303 and await me(browser) is None
    return browser


async def test_a_guesser_at_one_account_is_slowed_and_the_owner_still_gets_in(
    catalogue: Catalogue, settings: Settings
) -> None:
    throttled = settings.replace(
        signin_free_attempts=3, signin_limit_account=6, signin_limit_address=1000, signin_backoff=60
    )
    site = await Site(make_app(catalogue, throttled)).start()
    try:
        make_account(catalogue.accounts, "ann@example.org", "Ann")
        own_browser = await signed_in_then_out(site, "ann@example.org", "127.0.0.2")
        # A guesser at 127.0.0.3: three failures are free, then each try waits (signin_backoff after
        # the third, doubled after each further failure); a refused try is not counted, and the
        # answer says how long (the wait less the moments since the failure).
        guesser = await site.browser("127.0.0.3")
        for _ in range(3):
            assert (await sign_in(guesser, "ann@example.org", "guess guess guess")).status == 400
        slowed = await sign_in(guesser, "ann@example.org", "guess guess guess")
        assert slowed.status == 429 and 50 < int(slowed.headers["Retry-After"]) <= 60
        assert "Too many sign-in attempts; try again in" in await slowed.text()
        # Guessers at more addresses: past the account's 6 failures from unknown browsers and
        # addresses, a new address is slowed at its first try, the owner's password or not.
        helper = await site.browser("127.0.0.4")
        for _ in range(3):
            assert (await sign_in(helper, "ann@example.org", "guess guess guess")).status == 400
        stranger = await site.browser("127.0.0.5")
        # A known-browser cookie made up for Ann's account (without her password hash) spares nothing.
        ann = catalogue.accounts.find_user("ann@example.org")
        assert ann is not None
        stranger.session.cookie_jar.update_cookies({KNOWN_BROWSER_COOKIE: f"{ann.id}.made-up.{'0' * 64}"})
        refused = await sign_in(stranger, "ann@example.org")
        assert refused.status == 429 and 50 < int(refused.headers["Retry-After"]) <= 60
        assert await me(stranger) is None
        # The owner is not locked out: her own browser (it signed in before) gets in at once, from
        # anywhere; so does a new browser at the address she signed in from.
        for browser in (own_browser, await site.browser("127.0.0.2")):
            assert (await sign_in(browser, "ann@example.org")).status == 303
            assert (await me(browser) or {}).get("email") == "ann@example.org"
        # Her success cleared the account's count: the stranger's next try is checked again.
        assert (await sign_in(stranger, "ann@example.org")).status == 303
        # The guesser's own wait stands: its address is still slowed for this account.
        assert (await sign_in(guesser, "ann@example.org")).status == 429
    finally:
        await site.close()


async def test_an_account_that_does_not_exist_is_throttled_alike(
    catalogue: Catalogue, settings: Settings
) -> None:
    # Throttling must not tell which addresses have an account: the same tries get the same answers.
    throttled = settings.replace(
        signin_free_attempts=2, signin_limit_account=3, signin_limit_address=1000, signin_backoff=60
    )
    site = await Site(make_app(catalogue, throttled)).start()
    try:
        make_account(catalogue.accounts, "ann@example.org", "Ann")
        answers = {}
        for email, addresses in (
            ("ann@example.org", ("127.0.1.1", "127.0.1.2")),
            ("no@example.org", ("127.0.2.1", "127.0.2.2")),
        ):
            statuses = []
            for address in addresses:
                browser = await site.browser(address)
                for _ in range(3):
                    statuses.append((await sign_in(browser, email, "guess guess guess")).status)
            answers[email] = statuses
        assert answers["ann@example.org"] == answers["no@example.org"] == [400, 400, 429, 400, 429, 429]
    finally:
        await site.close()


async def test_a_guesser_at_many_accounts_from_one_address_is_slowed_but_not_its_neighbours(
    catalogue: Catalogue, settings: Settings
) -> None:
    throttled = settings.replace(
        signin_free_attempts=100, signin_limit_account=100, signin_limit_address=4, signin_backoff=60
    )
    site = await Site(make_app(catalogue, throttled)).start()
    try:
        make_account(catalogue.accounts, "ann@example.org", "Ann")
        own_browser = await signed_in_then_out(site, "ann@example.org", "127.0.0.9")
        guesser = await site.browser("127.0.0.9")  # the same address: a campus NAT, say
        for number in range(4):
            assert (await sign_in(guesser, f"reader{number}@example.org", "guess guess guess")).status == 400
        refused = await sign_in(guesser, "reader9@example.org", "guess guess guess")
        assert refused.status == 429 and 50 < int(refused.headers["Retry-After"]) <= 60
        # A browser that signed in to its account before is not slowed by its address's guessers.
        assert (await sign_in(own_browser, "ann@example.org")).status == 303
        # Another address is not slowed either.
        assert (await sign_in(await site.browser("127.0.0.10"), "ann@example.org")).status == 303
    finally:
        await site.close()


async def test_a_password_change_signs_out_every_other_browser(site: Site, catalogue: Catalogue) -> None:
    make_account(catalogue.accounts, "ann@example.org", "Ann")
    laptop, phone = await site.browser(), await site.browser()
    for browser in (laptop, phone):
        assert (await sign_in(browser, "ann@example.org")).status == 303
    new = "a much longer new passphrase"
    wrong = await post_form(
        laptop, "/account/password", {"current": "not it at all", "password": new, "password_again": new}
    )
    assert wrong.status == 400 and "not your current password" in await wrong.text()
    short = await post_form(
        laptop, "/account/password", {"current": PASSWORD, "password": "short", "password_again": "short"}
    )
    assert short.status == 400 and "at least 10 characters" in await short.text()
    weak_ones = [("qwertyuiop", "most common"), ("ann@example.org forever", "your e-mail address")]
    for weak, why in weak_ones:
        refused = await post_form(
            laptop, "/account/password", {"current": PASSWORD, "password": weak, "password_again": weak}
        )
        assert refused.status == 400 and why in await refused.text()
    done = await post_form(
        laptop, "/account/password", {"current": PASSWORD, "password": new, "password_again": new}
    )
    assert done.status == 303 and done.headers["Location"] == "/account?done=password"
    assert await me(laptop) is not None and await me(phone) is None
    stored = catalogue.accounts.find_user("ann@example.org")
    assert stored is not None and verify_password(new, stored.password_hash)
    other = await site.browser()
    assert (await sign_in(other, "ann@example.org")).status == 400
    assert (await sign_in(other, "ann@example.org", new)).status == 303


@pytest.mark.parametrize("path", ["/librarians/harvests", "/librarians/quarantine", "/librarians/merges"])
async def test_librarians_pages_are_for_librarians(site: Site, catalogue: Catalogue, path: str) -> None:
    anonymous = await site.browser()
    answer = await anonymous.get(path, allow_redirects=False)
    location = urlsplit(answer.headers["Location"])
    assert (
        answer.status == 303 and location.path == "/signin" and parse_qs(location.query) == {"next": [path]}
    )
    patron = await site.signed_in(catalogue.accounts, "pat@example.org")
    refused = await patron.get(path)
    assert refused.status == 403 and "for librarians" in await refused.text()
    librarian = await site.signed_in(catalogue.accounts, "lib@example.org", role="librarian")
    assert (await librarian.get(path)).status == 200
    admin = await site.signed_in(catalogue.accounts, "boss@example.org", role="admin")
    assert (await admin.get(path)).status == 200


async def test_a_patron_cannot_make_merge_decisions(site: Site, catalogue: Catalogue) -> None:
    patron = await site.signed_in(catalogue.accounts, "pat@example.org")
    form = {"action": "force", "record": "u-pp1980", "other": "u-pp1990"}
    answer = await post_form(patron, "/librarians/merges", form)
    assert answer.status == 403 and catalogue.records.merge_decisions() == []
    anonymous = await site.browser()
    assert (await post_form(anonymous, "/librarians/merges", form)).status == 403
    librarian = await site.signed_in(catalogue.accounts, "lib@example.org", role="librarian")
    assert (await post_form(librarian, "/librarians/merges", form)).status == 303
    [decision] = catalogue.records.merge_decisions()
    assert decision.by == "Lib <lib@example.org>"


async def test_a_librarians_own_library_comes_first_in_holdings(site: Site, catalogue: Catalogue) -> None:
    # u-pp1980 is held by Bodleian (oxford) and McGill: by name, Bodleian comes first.
    patron = await site.signed_in(catalogue.accounts, "pat@example.org")
    page = await (await patron.get("/record/u-pp1980")).text()
    assert page.index("Bodleian Library") < page.index("McGill University Library")
    librarian = await site.signed_in(
        catalogue.accounts, "lib@example.org", role="librarian", library="mcgill"
    )
    page = await (await librarian.get("/record/u-pp1980")).text()
    assert page.index("McGill University Library") < page.index("Bodleian Library")


async def test_anonymous_pages_get_a_strict_csrf_cookie_once(site: Site) -> None:
    browser = await site.browser()
    # The JSON API and the protocols set no cookie: their answers stay the same for everyone.
    for path in ("/api/search?q=austen", "/api/records/u-pp1980", "/oai?verb=Identify", "/healthz"):
        assert "Set-Cookie" not in (await browser.get(path)).headers, path
    first = await browser.get("/")
    morsel, _ = set_cookies(first)[CSRF_COOKIE]
    assert morsel["httponly"] and morsel["samesite"] == "Strict"
    again = await browser.get("/search?q=austen")
    assert CSRF_COOKIE not in set_cookies(again)
    assert morsel.value in await (await browser.get("/signin")).text()


@pytest.mark.parametrize("stale", ["signed-out", "forged"])
async def test_signing_in_works_with_a_stale_or_forged_session_cookie(
    site: Site, catalogue: Catalogue, stale: str
) -> None:
    make_account(catalogue.accounts, "ann@example.org", "Ann")
    browser = await site.browser()
    form = {"csrf": await csrf_of(browser), "email": "ann@example.org", "password": PASSWORD}
    # The cookie goes stale while the sign-in form is open (signed out in another tab, expired), or
    # was never ours: it is still sent with the form.
    if stale == "signed-out":
        ann = catalogue.accounts.find_user("ann@example.org")
        assert ann is not None and ann.id is not None
        token, session = new_session(ann.id)
        catalogue.accounts.save_session(dataclasses.replace(session, expires="2020-01-01T00:00:00Z"))
    else:
        token = "forged-" + "x" * 40
    browser.session.cookie_jar.update_cookies({SESSION_COOKIE: token})
    answer = await browser.post("/signin", data=form, allow_redirects=False)
    assert answer.status == 303
    # One Set-Cookie for the session: the new one, with the attributes of the one it replaces.
    headers = [h for h in answer.headers.getall("Set-Cookie") if h.startswith(SESSION_COOKIE + "=")]
    assert len(headers) == 1, headers
    morsel, _ = set_cookies(answer)[SESSION_COOKIE]
    assert morsel.value and morsel["path"] == "/" and not morsel["domain"] and morsel["httponly"]
    assert int(morsel["max-age"]) == SESSION_DAYS * 86_400
    assert (await me(browser) or {}).get("email") == "ann@example.org"


async def test_a_forged_cookie_beside_the_real_one_neither_hides_nor_clears_it(
    site: Site, catalogue: Catalogue
) -> None:
    # Another site of the same domain may set a cookie of the same name (cookie tossing): the browser
    # then sends both, in an order the server does not choose.
    make_account(catalogue.accounts, "ann@example.org", "Ann")
    browser = await site.browser()
    assert (await sign_in(browser, "ann@example.org")).status == 303
    real = browser.session.cookie_jar.filter_cookies(site.server.make_url("/"))[SESSION_COOKIE].value
    orders = [(f"{SESSION_COOKIE}=forged", f"{SESSION_COOKIE}={real}")]
    orders.append(orders[0][::-1])
    for cookies in orders:
        header = "; ".join(cookies)
        fresh = await site.browser()
        answer = await fresh.get("/api/me", headers={"Cookie": header})
        assert (await answer.json())["user"]["email"] == "ann@example.org", header
        assert SESSION_COOKIE not in set_cookies(answer)
