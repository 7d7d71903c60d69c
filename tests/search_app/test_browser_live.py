"""The live search's results page in the real Chromium: the union's hits at once, then, without a
reload, what the live catalogues answer placed around what the reader already sees.

The app is served over a SQLite catalogue holding half the shared Pride and Prejudice set
(catalogue/live_network.py), with two live targets: Zebra holding the whole set, and a listener that
never answers (tests/support/live_faults.py) with a short timeout. What the page must end up showing
is what the live search's JSON API says of the same run: its statuses and its merged list.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from tests.search_app.live_pages import (
    DONE_SECONDS,
    HUSH_TIMEOUT,
    LIVE_PAGE,
    LiveSite,
    live_done,
    open_when_live_done,
)

if TYPE_CHECKING:
    from tests.support.browser import Browser

pytest_plugins = ["tests.support.browser", "tests.search_app.live_site"]

pytestmark = pytest.mark.e2e


# Runs in the page before its own scripts (Page.addScriptToEvaluateOnNewDocument): once the document
# is parsed, and so before any live answer can have been placed (placing one waits for the network),
# it keeps what the reader sees then, the union's lines and the panel's status lines, and puts the
# focus on the first result's link, as a reader tabbing through the results would have it.
BEFORE_UPDATES = """
window.facetLabels = () => Object.fromEntries(
  Array.from(document.querySelectorAll("[data-facet] .facet__item[data-value]"), (item) => [
    item.closest("[data-facet]").dataset.facet + "=" + item.dataset.value,
    item.querySelector(".facet__label").getBoundingClientRect().width,
  ])
);
document.addEventListener("DOMContentLoaded", () => {
  const lines = Array.from(document.querySelectorAll("[data-results] > [data-hit]"));
  window.unicatBefore = {
    lines: lines,
    ids: lines.map((line) => line.getAttribute("data-hit")),
    statuses: Array.from(document.querySelectorAll("[data-live-target]")).map((line) => line.textContent),
    summary: (document.querySelector("[data-live-summary]") || {}).textContent,
    labels: facetLabels(),
  };
  const link = document.querySelector("[data-results] .result-card__title a");
  if (link) {
    link.focus();
  }
  window.unicatBefore.focused = document.activeElement;
});
"""

# Whether every union line shown before the updates is still in the page, as the same element.
KEPT = """
const before = window.unicatBefore;
return before.lines.every(
  (line, i) =>
    line.isConnected && document.querySelector(`[data-results] > [data-hit="${before.ids[i]}"]`) === line
);
"""
# The facet values whose label is narrower now than before the updates: before, now.
NARROWED = """
const now = facetLabels();
return Object.fromEntries(
  Object.entries(window.unicatBefore.labels)
    .filter(([value, width]) => now[value] !== undefined && now[value] < width - 0.5)
    .map(([value, width]) => [value, [width, now[value]]])
);
"""
LINES = "return Array.from(document.querySelectorAll('[data-results] > [data-hit]'), (l) => l.dataset.hit);"


@pytest.fixture
def watched(browser: Browser) -> Iterator[Browser]:
    """The browser, keeping what each page it opens showed before the live answers came."""
    script = browser.cdp("Page.addScriptToEvaluateOnNewDocument", source=BEFORE_UPDATES)
    yield browser
    browser.cdp("Page.removeScriptToEvaluateOnNewDocument", identifier=script["identifier"])


def get_json(url: str) -> Any:
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(url, timeout=60) as answer:
        return json.load(answer)


def test_the_results_page_takes_in_the_live_answers_without_a_reload(
    watched: Browser, live_site: LiveSite
) -> None:
    browser = watched
    browser.open(live_site.url + LIVE_PAGE)
    before = browser.execute("return window.unicatBefore.ids;")
    assert before, "the union's hits are on the page at once"
    statuses = browser.execute("return window.unicatBefore.statuses;")
    assert statuses == ["Zebra library: waiting…", "Hushed library: waiting…"]
    page = browser.find("html")
    run = browser.find("[data-live-run]").attribute("data-live-run")
    assert run

    browser.wait_for(lambda: live_done(browser), DONE_SECONDS, "the page never showed the live search's end")
    assert browser.find("html").id == page.id, "the page was not loaded again"

    state = get_json(f"{live_site.url}/api/search/live/{run}")
    assert state["done"] is True
    codes = {status["code"]: status for status in state["targets"]}
    zebra, hush = codes["ZEB"], codes["HUSH"]
    assert zebra["state"] == "done" and zebra["hits"] > 0
    assert hush["state"] == "timed_out" and hush["seconds"] >= HUSH_TIMEOUT
    shown = browser.texts("[data-live-statuses] [data-live-target]")
    assert shown[0].startswith(f"Zebra library: {zebra['hits']} hits in "), shown
    assert shown[1].startswith("Hushed library: timed out after "), shown
    live_only = [hit["id"] for hit in state["hits"] if not hit["in_union"]]
    summary = browser.text("[data-live-summary]")
    assert summary == (
        f"Live search done: 1 of 2 live catalogues answered, {len(live_only)} more title"
        + ("" if len(live_only) == 1 else "s")
    )
    assert browser.find("[data-live-summary]").attribute("aria-live") == "polite"

    # What was shown did not move: the same elements, in the same order, still in the page.
    assert browser.execute(KEPT) is True
    # The facets' values kept their room: a "+N live" beside one does not squeeze its label.
    narrowed = browser.execute(NARROWED)
    assert narrowed == {}, narrowed
    lines = browser.execute(LINES)
    assert [line for line in lines if line in before] == before
    # The lines only Zebra holds came in, at their places in the merged list.
    assert live_only and set(live_only) <= set(lines)
    merged = [hit["id"] for hit in state["hits"]]
    assert [line for line in merged if line in lines] == lines
    # The union lines Zebra holds too have its live holding, named.
    joined = [hit["id"] for hit in state["hits"] if hit["in_union"] and "ZEB" in hit["found_by"]]
    assert joined
    for record in joined:
        holdings = browser.find(f'[data-results] > [data-hit="{record}"] [data-live-holdings]')
        assert holdings.find(".live-badge").dom_property("textContent") == "Live"
        assert "found in Zebra library" in holdings.text
    for record in live_only:
        card = browser.find(f'[data-results] > [data-hit="{record}"]')
        assert "result-card--live" in (card.attribute("class") or "")
        assert "found in Zebra library" in card.text
    # The focus stayed on the link the reader was on.
    assert browser.execute("return document.activeElement === window.unicatBefore.focused;") is True
    assert browser.execute("return document.activeElement.tagName;") == "A"
    assert browser.script_errors() == []


def test_without_script_the_page_offers_the_live_results_after_they_answered(
    browser: Browser, live_site: LiveSite
) -> None:
    browser.cdp("Emulation.setScriptExecutionDisabled", value=True)
    try:
        browser.open(live_site.url + LIVE_PAGE)
        assert browser.texts("[data-live-target]") == ["Zebra library: waiting…", "Hushed library: waiting…"]
        union_lines = browser.texts("[data-results] > [data-hit] .result-card__title")
        assert union_lines and not browser.find_all(".result-card--live")
        link = browser.find("[data-live-wait] a")
        assert link.text == "Show live results"
        assert "live=wait" in (link.attribute("href") or "")
        browser.click(link)
        assert "live=wait" in browser.url
        statuses = browser.texts("[data-live-target]")
        assert statuses[0].startswith("Zebra library: ") and " hits in " in statuses[0]
        assert statuses[1].startswith("Hushed library: timed out after ")
        assert browser.find_all(".result-card--live"), "the lines only Zebra holds are in the list"
        assert browser.find_all("[data-results] [data-live-holdings]")
        assert browser.text("[data-live-summary]").startswith(
            "Live search done: 1 of 2 live catalogues answered"
        )
        assert not browser.find_all("[data-live-wait]")
    finally:
        browser.cdp("Emulation.setScriptExecutionDisabled", value=False)


def test_a_facet_value_only_live_hits_have_leads_to_the_live_lines_alone(
    browser: Browser, live_site: LiveSite
) -> None:
    """Zebra stands for no library of the network: its copies count under its code among the libraries
    holding a copy, a value the union lacks. Its link (placed by the page's script) filters the union,
    which then finds nothing, and the live records, which all pass."""
    open_when_live_done(browser, live_site.url + LIVE_PAGE)
    everything = set(browser.execute(LINES))
    link = browser.find('[data-facet="held_at"] [data-value="ZEB"] a.facet__link')
    # The wide layout shows the facets though their <details> (the phone's "Filters") is closed;
    # WebDriver counts a closed <details>' content as not displayed, so it is opened as on a phone.
    browser.execute("document.querySelector('details.filters').open = true;")
    browser.click(link)
    assert "held_at=ZEB" in browser.url
    browser.wait_for(lambda: live_done(browser), DONE_SECONDS, "the filtered page's live search never ended")
    lines = browser.find_all("[data-results] > [data-hit]")
    assert lines
    assert all(line.find_all("[data-live-holdings]") for line in lines)
    shown = {line.attribute("data-hit") for line in lines}
    live_lines = {
        line.attribute("data-hit") for line in browser.find_all("[data-results] > .result-card--live")
    }
    assert live_lines and live_lines <= everything and live_lines <= shown
    # The union's "no titles match" (served: the union has none of the value) gave way to them.
    assert browser.find("[data-live-empty]").dom_property("hidden") is True
    assert browser.script_errors() == []
