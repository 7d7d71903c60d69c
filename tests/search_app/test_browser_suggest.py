"""Suggestions as you type, in a real headless Chromium: the search box is a WAI-ARIA 1.2 combobox
that a reader works with the keyboard alone, under the pages' Content-Security-Policy.

Expected suggestions come from the RECORDS of search_app_catalogue.py: "pri" starts the title "Pride
and prejudice" (two records), the only heading that does.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

import pytest

from search_app.app import make_app
from tests.search_app.search_app_catalogue import RECORDS
from tests.support.served_app import ServedApp
from unicat.analysis import analyze
from unicat.catalogue import Catalogue
from unicat.settings import Settings

if TYPE_CHECKING:
    from tests.support.browser import Browser

pytest_plugins = ["tests.support.browser"]

pytestmark = pytest.mark.e2e

# WebDriver's codes of the keys (W3C WebDriver, "Keyboard actions").
ARROW_DOWN, ARROW_UP, ENTER, ESCAPE = "\ue015", "\ue013", "\ue007", "\ue00c"


@pytest.fixture
def site(catalogue: Catalogue, settings: Settings) -> Iterator[str]:
    with ServedApp(make_app(catalogue, settings)) as served:
        yield served.url


def press(browser: Browser, key: str) -> None:
    browser.fill("#home-q", key, clear=False)


def test_a_reader_chooses_a_suggestion_with_the_keyboard(browser: Browser, site: str) -> None:
    titles = [record.title for record in RECORDS if analyze(record.title).startswith("pri")]
    assert set(titles) == {"Pride and prejudice"}
    browser.open(site + "/")
    box = browser.find("#home-q")
    assert box.attribute("role") == "combobox"
    assert box.attribute("aria-expanded") == "false"
    listbox_id = box.attribute("aria-controls")
    assert listbox_id

    browser.fill("#home-q", "pri")
    browser.wait_for(lambda: box.attribute("aria-expanded") == "true", message="no suggestions shown")
    listbox = browser.find(f"#{listbox_id}")
    assert listbox.attribute("role") == "listbox"
    options = browser.find_all(f"#{listbox_id} [role=option]")
    assert browser.texts(f"#{listbox_id} [role=option] > span:first-child") == ["Pride and prejudice"]
    assert browser.texts(f"#{listbox_id} .suggestions__kind") == ["title"]
    assert len(options) == 1

    # The focus stays in the box; the option moved to is named by aria-activedescendant.
    press(browser, ARROW_DOWN)
    assert box.attribute("aria-activedescendant") == options[0].attribute("id")
    assert options[0].attribute("aria-selected") == "true"
    assert browser.execute("return document.activeElement.id;") == "home-q"

    press(browser, ESCAPE)
    assert box.attribute("aria-expanded") == "false"
    assert box.attribute("aria-activedescendant") is None
    assert browser.execute("return document.getElementById(arguments[0]).hidden;", listbox_id) is True

    browser.fill("#home-q", "pri")
    browser.wait_for(lambda: box.attribute("aria-expanded") == "true", message="no suggestions shown again")
    press(browser, ARROW_DOWN)
    press(browser, ARROW_UP)  # wraps to the last, which is the first: one option
    old_page = browser.find("html")
    press(browser, ENTER)
    browser.wait_for_new_page(old_page)
    assert parse_qs(urlsplit(browser.url).query)["q"] == ["Pride and prejudice"]
    assert browser.text("h1") == "Results for Pride and prejudice"
    assert browser.script_errors() == []


def test_the_form_still_searches_without_a_suggestion(browser: Browser, site: str) -> None:
    browser.open(site + "/")
    browser.fill("#home-q", "austen")
    old_page = browser.find("html")
    press(browser, ENTER)
    browser.wait_for_new_page(old_page)
    assert parse_qs(urlsplit(browser.url).query)["q"] == ["austen"]
