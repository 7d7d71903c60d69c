"""Every kind of page on a 360 px wide phone screen, in the real Chromium: no page is wider than the
screen (the page never scrolls sideways), and on the results page a "Filters" control comes before the
first result, holding the facets, which a wide screen shows beside the results instead.

The catalogue is the demo's (tests/search_app/demo_catalogue.py): real records, real harvest
histories, merged editions and five libraries, whose long titles, URLs and tables are what overflowed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from search_app.app import make_app
from tests.search_app.accounts_http import PASSWORD, make_account
from tests.search_app.librarians.test_mail_desk import failed_and_interrupted
from tests.search_app.live_pages import LIVE_PAGE, WAITED_PAGE, LiveSite, open_when_live_done
from tests.search_app.readers.test_request_pages import a_request
from tests.search_app.test_axe import alert_pages
from tests.support.served_app import ServedApp
from unicat.catalogue import Catalogue
from unicat.query import parse_search_params
from unicat.settings import Settings

if TYPE_CHECKING:
    from tests.support.browser import Browser

pytest_plugins = ["tests.support.browser", "tests.search_app.demo_catalogue", "tests.search_app.live_site"]

pytestmark = pytest.mark.e2e

PHONE_WIDTH = 360

# The elements that stick out past the screen's right edge (not those inside a box that scrolls or
# clips them, which does not widen the page): what a failure names.
OVERFLOWING = """
const width = document.documentElement.clientWidth;
const clipped = (element) => {
  for (let up = element.parentElement; up && up !== document.body; up = up.parentElement) {
    if (getComputedStyle(up).overflowX !== 'visible') return true;
  }
  return false;
};
const out = [];
for (const element of document.querySelectorAll('body *')) {
  const box = element.getBoundingClientRect();
  if (box.right > width + 0.5 && box.width > 0 && !clipped(element)) {
    out.push(`${element.tagName.toLowerCase()}.${element.className}: right edge at ${Math.round(box.right)}`);
  }
}
return out.slice(0, 8);
"""


# How a table shows: its body rows, the label its first row's cells show before their values, whether
# its heading row is on screen, and whether its wrapper has to scroll sideways.
REFLOWED = """
const table = document.querySelector(arguments[0]);
const wrap = table.closest('.table-wrap');
const cells = [...table.querySelectorAll('tbody tr:first-child td')];
return {
  rows: table.querySelectorAll('tbody tr').length,
  labels: cells.map((cell) => getComputedStyle(cell, '::before').content.replace(/^"|"$/g, '')),
  heads_shown: table.querySelector('thead').getBoundingClientRect().height > 1,
  scrolls: wrap.scrollWidth > wrap.clientWidth,
};
"""


@pytest.fixture
def site(demo_catalogue: Catalogue, demo_settings: Settings) -> Iterator[str]:
    with ServedApp(make_app(demo_catalogue, demo_settings)) as served:
        yield served.url


def as_phone(browser: Browser) -> Browser:
    """The window as a phone's: 360 CSS pixels wide, a touch screen that honours the viewport tag."""
    browser.cdp(
        "Emulation.setDeviceMetricsOverride", width=PHONE_WIDTH, height=780, deviceScaleFactor=2, mobile=True
    )
    return browser


@pytest.fixture
def phone(browser: Browser) -> Iterator[Browser]:
    yield as_phone(browser)
    browser.cdp("Emulation.clearDeviceMetricsOverride")


def page_width(browser: Browser, url: str) -> tuple[int, list[str]]:
    browser.open(url)
    width: Any = browser.execute("return document.documentElement.scrollWidth;")
    return int(width), browser.execute(OVERFLOWING)


def too_wide(browser: Browser, site: str, paths: list[str]) -> dict[str, tuple[int, list[str]]]:
    """The pages among ``paths`` wider than the phone's screen, with what sticks out of each."""
    found = {}
    for path in paths:
        width, sticking_out = page_width(browser, site + path)
        assert browser.find("h1").text, f"{path} has a heading"
        if width > PHONE_WIDTH:
            found[path] = (width, sticking_out)
    return found


def sign_in(browser: Browser, site: str, email: str) -> None:
    browser.open(site + "/signin")
    browser.fill("#field-email", email)
    browser.fill("#field-password", PASSWORD)
    browser.submit("#field-email")
    assert browser.url == site + "/"


def merged_record(catalogue: Catalogue, settings: Settings) -> str:
    """A record the demo merged from several libraries' records, with other editions: the richest page."""
    query = parse_search_params({"q": ["pride and prejudice"], "page_size": ["100"]}, settings)
    for hit in catalogue.index.search(query).hits:
        record = catalogue.index.get_union_record(hit.id)
        if record is not None and record.merge and len(record.sources) > 1 and record.editions:
            return record.id
    raise AssertionError("the demo has a merged Pride and prejudice with other editions")


def test_no_page_is_wider_than_a_phone(
    phone: Browser,
    open_browser: Callable[[], Browser],
    site: str,
    demo_catalogue: Catalogue,
    demo_settings: Settings,
) -> None:
    record = merged_record(demo_catalogue, demo_settings)
    public = [
        "/",
        "/search?q=pride+and+prejudice",
        "/search?q=revue&language=fre",
        "/search",
        f"/record/{record}",
        "/signin",
        "/register",
        "/record/u-nowhere",  # 404
        "/search?page=abc",  # 400
        "/librarians/harvests",  # 403 for a reader signed out: the sign-in page
        "/libraries",
        "/libraries/VIRG-SEL",
        "/libraries/MEDI",
        "/new",
        "/new?q=astronomie&days=90",
        "/libraries/VIRG-SEL/new",
        "/new?days=abc",  # 400
    ]
    # Every page is visited before the verdict, so a failure names all that are too wide.
    wide = too_wide(phone, site, public)

    reader = make_account(demo_catalogue.accounts, "phone-patron@example.org", "Pat Phone", "patron", "SCPO")
    assert reader.id is not None
    requested = demo_catalogue.index.get_union_record(record)
    assert requested is not None
    a_request(
        demo_catalogue, reader.id, record, requested.title, "SCPO"
    )  # on the patron's and the desk's pages
    sign_in(phone, site, "phone-patron@example.org")
    phone.open(site + "/lists")
    phone.fill("#field-name", "Novels for the summer holidays and the long train journeys")
    phone.submit("#field-name")
    list_path = phone.url.removeprefix(site)
    assert list_path.startswith("/lists/")
    phone.open(f"{site}/record/{record}")
    phone.open(f"{site}/search?q=austen&language=eng")
    phone.click(".keep-search__save summary")
    phone.fill("#save-search-name", "Jane Austen's novels in English, for the long train journeys")
    phone.submit("#save-search-name")
    assert phone.url == f"{site}/account/searches?done=saved"
    [saved] = demo_catalogue.searches.searches_of(reader.id)
    patron = [
        "/account",
        "/account/requests",
        "/lists",
        list_path,
        f"/record/{record}",
        "/search?q=austen&language=eng",
        "/account/history",
        "/account/searches",
        *alert_pages(demo_catalogue, reader.id, saved),
        "/librarians/overlap",
    ]  # the last: 403
    wide |= {f"patron {path}": found for path, found in too_wide(phone, site, patron).items()}

    librarian = as_phone(open_browser())
    make_account(demo_catalogue.accounts, "phone-librarian@example.org", "Lee Librarian", "librarian", "SCPO")
    failed_and_interrupted(demo_catalogue)  # the mail desk's table of failures
    sign_in(librarian, site, "phone-librarian@example.org")
    desk = [
        "/librarians/harvests",
        "/librarians/harvests?runs=20",
        "/librarians/quarantine",
        "/librarians/merges",
        f"/librarians/merges/{record}",
        "/librarians/moderation",
        "/librarians/overlap",
        "/librarians/mail",
        "/librarians/requests",
        "/librarians/libraries",
        f"/record/{record}",
        "/account",
        "/search?q=austen",
    ]
    wide |= {f"librarian {path}": found for path, found in too_wide(librarian, site, desk).items()}
    # The harvests' tables reflow: one block per library, each value beside its column's name, and
    # nothing left to scroll sideways inside the table's wrapper either.
    librarian.open(site + "/librarians/harvests")
    reflowed = librarian.execute(REFLOWED, ".status-table")
    assert reflowed["rows"] == len(demo_catalogue.records.list_sources())
    assert reflowed["labels"][:3] == ["Health", "Live", "Deleted"]
    assert reflowed["heads_shown"] is False and reflowed["scrolls"] is False
    librarian.open(site + "/librarians/overlap")
    reflowed = librarian.execute(REFLOWED, ".overlap-libraries")
    assert reflowed["rows"] == len(demo_catalogue.records.list_sources())
    assert reflowed["labels"] == ["Titles held", "Unique titles", "Share unique"]
    assert reflowed["heads_shown"] is False and reflowed["scrolls"] is False
    assert wide == {}, "\n".join(
        f"{path}: {width} px, {', '.join(out)}" for path, (width, out) in wide.items()
    )


def test_the_filters_come_before_the_results_on_a_phone_and_beside_them_on_a_wide_screen(
    browser: Browser, site: str
) -> None:
    browser.open(site + "/search?q=pride+and+prejudice")
    # Wide (the harness's 1280 px window): no button, the facets to the left of the results.
    assert (
        browser.execute("return getComputedStyle(document.querySelector('.filters__toggle')).display;")
        == "none"
    )
    facets = browser.execute("return document.querySelector('.facets').getBoundingClientRect().toJSON();")
    first = browser.execute("return document.querySelector('.result-card').getBoundingClientRect().toJSON();")
    assert facets["width"] > 0 and facets["height"] > 0 and facets["right"] <= first["left"]

    as_phone(browser)
    try:
        browser.open(site + "/search?q=pride+and+prejudice")
        toggle = browser.execute(
            "return document.querySelector('.filters__toggle').getBoundingClientRect().toJSON();"
        )
        first = browser.execute(
            "return document.querySelector('.result-card').getBoundingClientRect().toJSON();"
        )
        assert browser.text(".filters__toggle") == "Filters"
        assert toggle["height"] > 0 and toggle["bottom"] <= first["top"], (toggle, first)
        # Closed, it takes a line; opened, it shows the facets, still above the first result.
        assert browser.execute("return document.querySelector('.facets').checkVisibility();") is False
        assert first["top"] < 780, "the first result is on the first screen"
        browser.click(".filters__toggle")
        assert browser.execute("return document.querySelector('.facets').checkVisibility();") is True
        facets = browser.execute("return document.querySelector('.facets').getBoundingClientRect().toJSON();")
        first = browser.execute(
            "return document.querySelector('.result-card').getBoundingClientRect().toJSON();"
        )
        assert facets["bottom"] <= first["top"]
        # A chosen filter is counted on the closed button.
        browser.click(".facet__link")
        assert browser.text(".filters__toggle") == "Filters (1 chosen)"
        assert browser.execute("return document.documentElement.scrollWidth;") <= PHONE_WIDTH
    finally:
        browser.cdp("Emulation.clearDeviceMetricsOverride")


# How the live panel shows: its box, and each status line's box, font size and whether its text is cut.
LIVE_PANEL = """
const panel = document.querySelector('.live-panel');
const box = panel.getBoundingClientRect();
return {
  left: box.left,
  right: box.right,
  lines: Array.from(panel.querySelectorAll('[data-live-target], [data-live-summary]'), (line) => {
    const lineBox = line.getBoundingClientRect();
    return {
      text: line.textContent,
      left: lineBox.left,
      right: lineBox.right,
      cut: line.scrollWidth > line.clientWidth + 0.5,
      font: parseFloat(getComputedStyle(line).fontSize),
      shown: line.checkVisibility(),
    };
  }),
};
"""


def test_the_live_results_fit_a_phone(phone: Browser, live_site: LiveSite) -> None:
    """The results page once the live catalogues answered (placed by static/live.js), and the page of
    ``live=wait``: no wider than the phone, and the panel's status lines whole, on screen, readable."""
    wide: dict[str, tuple[int, list[str]]] = {}
    panels = {}
    for path in (LIVE_PAGE, WAITED_PAGE):
        if path == LIVE_PAGE:
            open_when_live_done(phone, live_site.url + path)
        else:
            phone.open(live_site.url + path)
        assert phone.find_all(".result-card--live"), f"{path}: the live lines are on the page"
        width = int(phone.execute("return document.documentElement.scrollWidth;"))
        if width > PHONE_WIDTH:
            wide[path] = (width, phone.execute(OVERFLOWING))
        panels[path] = phone.execute(LIVE_PANEL)
    assert wide == {}, "\n".join(
        f"{path}: {width} px, {', '.join(out)}" for path, (width, out) in wide.items()
    )
    for path, panel in panels.items():
        assert panel["left"] >= 0 and panel["right"] <= PHONE_WIDTH, (path, panel)
        assert len(panel["lines"]) == 3, (path, panel)  # two targets and the summary
        for line in panel["lines"]:
            assert line["shown"] and line["text"], (path, line)
            assert line["left"] >= 0 and line["right"] <= PHONE_WIDTH and not line["cut"], (path, line)
            assert line["font"] >= 12, (path, line)
