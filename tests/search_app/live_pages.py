"""What the browser tests of the live search open and wait for, on the site of
tests/search_app/live_site.py (a plugin module: its fixture is there, these helpers here, so that a
test module may import them without importing the plugin before pytest does)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from unicat.catalogue import Catalogue

if TYPE_CHECKING:
    from tests.support.browser import Browser

HUSH_TIMEOUT = 3.0
SEARCH = [("q", "pride"), ("target", "ZEB"), ("target", "HUSH")]
LIVE_PAGE = f"/search?{urlencode(SEARCH)}"
WAITED_PAGE = f"{LIVE_PAGE}&live=wait"
# Long enough for the silent target's timeout and the page's last update, with room on a busy machine.
DONE_SECONDS = HUSH_TIMEOUT + 30


@dataclass
class LiveSite:
    url: str
    catalogue: Catalogue


def live_done(browser: Browser) -> bool:
    """Whether the page says its live search ended (static/live.js marks the panel)."""
    done = browser.execute("return document.querySelector('[data-live-run]')?.dataset.liveDone === 'true';")
    return bool(done)


def open_when_live_done(browser: Browser, url: str) -> None:
    """Open the live results page and wait until the page took in the live search's last answer."""
    browser.open(url)
    browser.wait_for(lambda: live_done(browser), DONE_SECONDS, "the page never showed the live search's end")
