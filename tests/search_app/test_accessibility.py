"""Basic accessibility of every page: language, one h1, heading order, labelled controls, skip link."""

from __future__ import annotations

import itertools

import lxml.html
import pytest

from tests.search_app.search_app_catalogue import Client

PAGES = [
    ("/", 200),
    ("/search", 200),
    ("/search?q=austen&library=mcgill&page_size=2&page=2", 200),
    ("/search?q=zzyzx", 200),
    ("/record/u-pp1980", 200),
    ("/record/u-nothing", 404),
    ("/search?page=abc", 400),
    ("/librarians/harvests", 200),
    ("/librarians/harvests?runs=many", 400),
    ("/signin", 200),
    ("/register", 200),
    ("/account", 200),
]


@pytest.mark.parametrize(("path", "status"), PAGES)
async def test_page_structure_is_accessible(
    client: Client, librarian: Client, path: str, status: int
) -> None:
    # The librarians' pages and the account page are seen signed in (as a librarian).
    response = await (librarian if path.startswith(("/librarians/", "/account")) else client).get(path)
    assert response.status == status
    assert_accessible(await response.text())


def assert_accessible(html: str) -> None:
    """The checks every page passes (also run by other tests on pages they filled)."""
    doc = lxml.html.fromstring(html)
    assert doc.get("lang") == "en"
    assert len(doc.findall(".//h1")) == 1
    # Headings never skip a level going down (h1 → h3 without an h2).
    levels = [int(str(h.tag)[1]) for h in doc.iter("h1", "h2", "h3", "h4", "h5", "h6")]
    assert levels[0] == 1
    assert all(later <= earlier + 1 for earlier, later in itertools.pairwise(levels))
    # The skip link is the first link and points at main.
    first_link = next(doc.iter("a"))
    assert first_link.get("href") == "#main" and "skip" in first_link.get("class", "")
    main = doc.find(".//main")
    assert main is not None and main.get("id") == "main"
    for landmark in ("header", "nav", "main", "footer"):
        assert doc.find(f".//{landmark}") is not None, landmark
    # Every visible form control has a label pointing at it.
    labelled = {label.get("for") for label in doc.iter("label")}
    for control in doc.xpath("//input[not(@type='hidden')] | //select | //textarea"):
        assert control.get("id") in labelled, lxml.html.tostring(control)
    for image in doc.iter("img"):
        assert image.get("alt") is not None
    for svg in doc.iter("svg"):
        assert svg.get("aria-hidden") == "true"


async def test_stylesheet_has_visible_focus_and_a_phone_layout(client: Client) -> None:
    css = await (await client.get("/static/unicat.css")).text()
    assert ":focus-visible" in css and "outline" in css
    assert "@media (max-width: 560px)" in css
