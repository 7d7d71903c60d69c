"""Open redirects over real HTTP: whatever ``next`` a link or a form carries, the browser is sent to a
page of this site.

The vectors are those of the OWASP and PortSwigger open-redirect lists that the WHATWG URL Standard
explains: a browser drops tabs and newlines inside a URL, reads ``\\`` as ``/`` in http(s) URLs,
takes ``//host`` as another host, and ``%2e%2e`` as ``..``. Each is sent percent-encoded in the query
string exactly as an attacker's link would carry it. Whether an answer stays on the site is decided
the way a browser decides it: the ``Location`` header resolved against the page's URL by a WHATWG URL
parser (``ada_url``) must have the site's origin; an attack must also land on the home page.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import lxml.html
import pytest
from ada_url import URL as WhatwgURL
from yarl import URL

from search_app.app import make_app
from tests.search_app.accounts_http import PASSWORD, Site, make_account, post_form
from unicat.catalogue import Catalogue
from unicat.settings import Settings

EVIL = "evil.example"
# The value of ``next`` as it stands in the attacker's query string (already percent-encoded).
ATTACKS = [
    f"//{EVIL}",
    f"///{EVIL}",
    f"////{EVIL}/%2e%2e",
    f"/%5C{EVIL}",
    f"%5C/{EVIL}",
    f"/%5C/{EVIL}",
    f"/%09/{EVIL}",
    f"/%0A/{EVIL}",
    f"/%0D/{EVIL}",
    f"/%0D%0ALocation:%20https://{EVIL}",
    "/%0D%0ASet-Cookie:%20unicat_session=forged",
    f"/%00/{EVIL}",
    f"/%7F/{EVIL}",
    f"/%C2%85/{EVIL}",  # NEL, a C1 control
    f"%09//{EVIL}",
    f"%20//{EVIL}",
    f"/.//{EVIL}",
    f"/..//{EVIL}",
    f"/%252e%252e//{EVIL}",  # the server decodes once: "/%2e%2e//…", which a browser reads as "/..//…"
    f"/./%252e//{EVIL}",
    f"@{EVIL}",
    f"//user@{EVIL}",
    f"//127.0.0.1@{EVIL}",
    f"https://{EVIL}/",
    f"https:{EVIL}",
    f"https:/{EVIL}",
    f"http:%5C%5C{EVIL}",
    f"HTTPS://{EVIL}",
    f"%2F%2F{EVIL}",
    f"%2F%5C{EVIL}",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(document.domain)",
    "java%09script:alert(1)",
    "data:text/html,%3Cscript%3Ealert(1)%3C/script%3E",
    "/" + "a" * 5_000,
]
# Paths of this site that look odd but are harmless: (query-string value, the Location expected). A
# browser percent-encodes spaces and non-ASCII characters in paths and queries (WHATWG URL: path
# and query percent-encode sets); ``%2F`` and ``%5C`` stay encoded in a path, which is one segment.
SAME_SITE = [
    ("/search%3Fq%3Dausten", "/search?q=austen"),
    ("/record/u-pp1980%23comments-title", "/record/u-pp1980#comments-title"),
    ("/search?q=caf%C3%A9", "/search?q=caf%C3%A9"),
    ("/%40" + EVIL, "/@" + EVIL),
    ("/javascript:alert(1)", "/javascript:alert(1)"),
    ("/%252F/" + EVIL, "/%2F/" + EVIL),
    ("/%255C" + EVIL, "/%5C" + EVIL),
    ("/%20/" + EVIL, "/%20/" + EVIL),
    ("/%E3%80%80/" + EVIL, "/%E3%80%80/" + EVIL),  # an ideographic space
    ("/%EF%BC%8F%EF%BC%8F" + EVIL, "/%EF%BC%8F%EF%BC%8F" + EVIL),  # fullwidth solidi
    ("/lists/../account", "/account"),
    # A lone surrogate, UTF-8 encoded: each invalid byte decodes as U+FFFD (WHATWG Encoding, UTF-8 decode).
    ("/%ED%A0%80/x", "/%EF%BF%BD%EF%BF%BD%EF%BF%BD/x"),
]


@pytest.fixture
async def site(catalogue: Catalogue, settings: Settings) -> AsyncIterator[Site]:
    served = await Site(make_app(catalogue, settings)).start()
    yield served
    await served.close()


def with_next(site: Site, path: str, encoded_next: str) -> URL:
    """The site's ``path`` with ``next`` exactly as given (no re-encoding by the client)."""
    return URL(str(site.server.make_url(path)) + "?next=" + encoded_next, encoded=True)


def lands_on(page: URL, location: str) -> str:
    """The origin a browser on ``page`` reaches by following ``location``."""
    origin: str = WhatwgURL(location, str(page)).origin
    return origin


def site_origin(page: URL) -> str:
    origin: str = WhatwgURL(str(page)).origin
    return origin


async def test_a_signed_in_reader_sent_elsewhere_lands_on_the_home_page(
    site: Site, catalogue: Catalogue
) -> None:
    # (Signed in already, /signin sends the reader straight on to ``next``.)
    browser = await site.signed_in(catalogue.accounts, "ann@example.org")
    wrong = {}
    for encoded in ATTACKS:
        page = with_next(site, "/signin", encoded)
        answer = await browser.session.get(page, allow_redirects=False)
        location = answer.headers.get("Location", "")
        if answer.status != 303 or location != "/" or lands_on(page, location) != site_origin(page):
            wrong[encoded] = (answer.status, location)
    assert wrong == {}


async def test_a_path_of_this_site_is_kept_as_a_browser_would_write_it(
    site: Site, catalogue: Catalogue
) -> None:
    browser = await site.signed_in(catalogue.accounts, "ann@example.org")
    wrong = {}
    for encoded, expected in SAME_SITE:
        page = with_next(site, "/signin", encoded)
        answer = await browser.session.get(page, allow_redirects=False)
        location = answer.headers.get("Location", "")
        if answer.status != 303 or location != expected or lands_on(page, location) != site_origin(page):
            wrong[encoded] = (answer.status, location)
    assert wrong == {}


async def test_the_sign_in_form_carries_only_a_safe_next_and_signing_in_follows_it(
    site: Site, catalogue: Catalogue
) -> None:
    make_account(catalogue.accounts, "ann@example.org", "Ann")
    for encoded, expected in ((f"/%09/{EVIL}", "/"), ("/search%3Fq%3Dausten", "/search?q=austen")):
        browser = await site.browser()
        form_page = await browser.session.get(with_next(site, "/signin", encoded))
        assert form_page.status == 200
        carried = lxml.html.fromstring(await form_page.text()).xpath("//input[@name='next']/@value")
        assert carried == [expected]
    # A form posted with a hostile ``next`` (a newline once dropped the connection) is answered.
    for hostile in (f"/\t/{EVIL}", f"/\n/{EVIL}", f"/\r\nLocation: https://{EVIL}", f"/\\{EVIL}"):
        browser = await site.browser()
        data = {"email": "ann@example.org", "password": PASSWORD, "next": hostile}
        answer = await post_form(browser, "/signin", data)
        assert answer.status == 303 and answer.headers["Location"] == "/"
