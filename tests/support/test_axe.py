"""The axe-core harness (tests/support/axe.py) finds what WCAG forbids, on a tiny page of its own whose
faults are known: an image without a text alternative, a button without a name, grey text on white
below 4.5:1, no page language. A harness that found nothing there would make every audit worthless."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING

import pytest
from aiohttp import web

from tests.support.axe import audit
from tests.support.served_app import ServedApp

if TYPE_CHECKING:
    from tests.support.browser import Browser

pytest_plugins = ["tests.support.browser"]

pytestmark = pytest.mark.e2e

FAULTY = """<!doctype html><html><head><title>Faults</title></head><body><main>
<h1>Faults</h1>
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
<button></button>
<p style="color:#aaaaaa;background:#ffffff">Grey on white: about 2.3 to 1.</p>
</main></body></html>"""

FAULTLESS = """<!doctype html><html lang="en"><head><title>Fine</title></head><body><main>
<h1>Fine</h1><p>Black on white.</p><button type="button">Go</button>
</main></body></html>"""


def _page(html: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(text=html, content_type="text/html")

    return handler


@pytest.fixture
def site() -> Iterator[str]:
    app = web.Application()
    app.router.add_get("/faulty", _page(FAULTY))
    app.router.add_get("/fine", _page(FAULTLESS))
    with ServedApp(app) as served:
        yield served.url


def test_known_faults_are_found_and_a_fine_page_passes(browser: Browser, site: str) -> None:
    browser.open(site + "/faulty")
    rules = {violation.rule for violation in audit(browser)}
    assert {"image-alt", "button-name", "color-contrast", "html-has-lang"} <= rules
    browser.open(site + "/fine")
    assert audit(browser) == []
