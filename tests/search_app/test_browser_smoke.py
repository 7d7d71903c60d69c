"""A real headless Chromium walks today's pages: home, search, results, a record and its holdings.

This is the proof that the browser harness (tests/support/browser.py) works against the app as ``unicat
serve`` runs it, over the small real catalogue of search_app_catalogue.py on SQLite; the readers' and
librarians' stories of later work build on it. The second half checks the harness itself, on a tiny
page of its own, for what today's pages cannot show: cookie flags, a script error, a fresh browser.
"""

from __future__ import annotations

import struct
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from aiohttp import web

from search_app.app import make_app
from tests.support.served_app import ServedApp
from unicat.catalogue import Catalogue
from unicat.settings import Settings

if TYPE_CHECKING:  # imported by pytest as a plugin (below), so that its asserts are rewritten
    from tests.support.browser import Browser

pytest_plugins = ["tests.support.browser"]

pytestmark = pytest.mark.e2e

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# From the RECORDS table of search_app_catalogue.py: the four records with Austen as an author
# (u-pp1980, u-pp1990, u-novels, u-complete).
AUSTEN_TITLES = sorted(
    [
        "Pride and prejudice",
        "Pride and prejudice",
        "The novels of Jane Austen",
        "Complete novels of Jane Austen",
    ]
)


@pytest.fixture
def site(catalogue: Catalogue, settings: Settings) -> Iterator[str]:
    """The app over the filled SQLite catalogue, served on 127.0.0.1: its root URL."""
    with ServedApp(make_app(catalogue, settings)) as served:
        yield served.url


def test_a_reader_finds_where_a_book_is_held(browser: Browser, site: str, tmp_path: Path) -> None:
    browser.open(site + "/")
    assert browser.text("h1") == "Find a book in every library of the network"

    browser.fill("#home-q", "austen")
    browser.submit("#home-q")
    assert browser.url == site + "/search?q=austen"
    assert browser.text("h1") == "Results for austen"  # the quotation marks are CSS (q::before)
    assert sorted(browser.texts(".result-card__title")) == AUSTEN_TITLES
    assert "of 4 titles" in browser.text(".results-count")

    # Two editions share the title; the 1980 Penguin one is held by Oxford (twice) and McGill.
    browser.click(".result-card__title a[href='/record/u-pp1980']")
    assert browser.url == site + "/record/u-pp1980"
    assert browser.text("h1") == "Pride and prejudice"
    assert "Held by 2 libraries" in browser.text(".record__availability")
    # Each library's heading: its name, then its code.
    libraries = browser.texts("#holdings .holdings-library__name")
    assert libraries == ["Bodleian Library, Oxford oxford", "McGill University Library mcgill"]
    assert browser.texts("#holdings .call-number") == ["M94.G00395", "M94.G00396", "PR4034 .P7 1980b"]

    shot = browser.screenshot(tmp_path / "record.png")
    data = shot.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    (width,) = struct.unpack(">I", data[16:20])  # the IHDR chunk: the image's width first
    assert width == 1280  # the window's width (--window-size); its height is the viewport's
    assert len(data) > 20_000, "a screenshot of a whole record page is more than a blank window"

    assert browser.script_errors() == []
    # The pages name their icon, which loads: the browser does not ask for a /favicon.ico that is not
    # there (its 404 would be an error line in every page's console).
    icon = browser.execute("return document.querySelector('link[rel=icon]').href;")
    assert icon == site + "/static/favicon.svg"
    with urllib.request.urlopen(icon, timeout=10) as answer:
        assert answer.headers.get_content_type() == "image/svg+xml" and answer.read().startswith(b"<svg")
        assert answer.headers.get_content_charset() == "utf-8"  # every textual answer names its charset
    # The cookies an anonymous reader gets: the forms' CSRF token (SameSite=Strict) and, having searched,
    # the search history's token (SameSite=Lax, so that following a link to the catalogue keeps the
    # history); both HttpOnly (no script reads them), Secure and gone when the browser closes. The
    # browser started with none.
    cookies = sorted((c.name, c.http_only, c.secure, c.same_site, c.expiry) for c in browser.cookies())
    assert cookies == [
        ("unicat_csrf", True, True, "Strict", None),
        ("unicat_history", True, True, "Lax", None),
    ]
    assert browser.execute("return document.cookie;") == ""


def test_a_record_title_with_markup_is_shown_as_text_and_never_runs(browser: Browser, site: str) -> None:
    browser.open(site + "/search?q=tricks")
    browser.click(".result-card__title a[href='/record/u-script']")
    assert browser.text("h1") == "<script>alert('owned')</script> & other tricks"
    assert browser.alert_text() is None
    assert browser.script_errors() == []


def _harness_page() -> web.Application:
    """A page of the harness's own: it sets cookies with every flag, and its script fails."""

    async def page(request: web.Request) -> web.Response:
        response = web.Response(
            text="<!doctype html><title>harness</title><p id=ok>page</p>"
            "<script>document.getElementById('ok').textContent = 'ran'; null.boom;</script>",
            content_type="text/html",
        )
        response.set_cookie("session", "s3cret", httponly=True, secure=True, samesite="Strict")
        response.set_cookie("prefs", "dark", samesite="Lax", max_age=3600)
        return response

    async def forbidden_style(request: web.Request) -> web.Response:
        """A page whose policy forbids its own inline style: the browser refuses it and says so."""
        return web.Response(
            text="<!doctype html><title>harness</title><style>p { color: red }</style><p id=ok>page</p>",
            content_type="text/html",
            headers={"Content-Security-Policy": "default-src 'none'"},
        )

    app = web.Application()
    app.router.add_get("/", page)
    app.router.add_get("/csp", forbidden_style)
    return app


@pytest.fixture
def harness_site() -> Iterator[str]:
    with ServedApp(_harness_page()) as served:
        yield served.url


def test_the_browser_reads_cookie_flags_and_script_errors(browser: Browser, harness_site: str) -> None:
    browser.open(harness_site + "/")
    assert browser.wait_for(lambda: browser.text("#ok") == "ran", message="the page's script did not run")

    session = browser.cookie("session")
    assert (session.value, session.http_only, session.secure) == ("s3cret", True, True)
    assert session.same_site == "Strict"
    assert session.expiry is None
    prefs = browser.cookie("prefs")
    assert (prefs.http_only, prefs.secure, prefs.same_site) == (False, False, "Lax")
    assert prefs.expiry is not None
    # An HttpOnly cookie is the browser's alone: the page's own script cannot read it.
    assert browser.execute("return document.cookie;") == "prefs=dark"

    errors = browser.script_errors()
    assert len(errors) == 1 and "TypeError" in errors[0].message, errors
    assert browser.script_errors() == []  # each console line is handed out once
    browser.open(harness_site + "/csp")
    errors = browser.script_errors()
    assert len(errors) == 1 and "Content Security Policy" in errors[0].message, errors

    browser.reset()
    browser.open(harness_site + "/nothing-here")  # the same site again, a page that sets nothing
    assert browser.cookies() == []


def test_a_second_browser_is_a_different_person(
    browser: Browser, open_browser: Callable[[], Browser], harness_site: str
) -> None:
    browser.open(harness_site + "/")
    assert {cookie.name for cookie in browser.cookies()} == {"session", "prefs"}
    other = open_browser()
    other.open(harness_site + "/nothing-here")
    assert other.cookies() == []
    assert other.session_id != browser.session_id
