"""The librarians' overlap page and ``/api/overlap``, over real HTTP, on the test catalogue.

The expected numbers are counted here from the holdings of the catalogue's records
(search_app_catalogue.RECORDS) by plain set logic, never by the code under test.
"""

from __future__ import annotations

import lxml.html
import pytest

from search_app.app import make_app
from tests.search_app.accounts_http import Site
from tests.search_app.search_app_catalogue import NAMES, RECORDS, Client
from tests.search_app.test_accessibility import assert_accessible
from unicat.catalogue import Catalogue
from unicat.model import UnionRecord
from unicat.overlap import LibraryOverlap
from unicat.settings import Settings
from unicat.union_generation import write_union_generation

HELD = [{holding.library for holding in record.holdings} for record in RECORDS]
CODES = sorted(set().union(*HELD))


def held_by(*libraries: str) -> int:
    """Records of the catalogue that every one of ``libraries`` holds."""
    return sum(set(libraries) <= held for held in HELD)


def held_only_by(library: str) -> int:
    return sum(held == {library} for held in HELD)


def text(element: lxml.html.HtmlElement) -> str:
    return " ".join(element.text_content().split())


def number(cell: str) -> int:
    return int(cell.split()[0].replace(",", ""))


async def fetch_page(client: Client) -> tuple[str, lxml.html.HtmlElement]:
    response = await client.get("/librarians/overlap")
    assert response.status == 200, await response.text()
    assert response.content_type == "text/html"
    html = await response.text()
    return html, lxml.html.fromstring(html)


def test_the_catalogue_makes_every_kind_of_count() -> None:
    """The expectations below mean something: pairs that share and pairs that do not, a library with
    nothing of its own, and one whose every record is its own."""
    assert CODES == ["lyon", "mcgill", "oxford", "scpo"]
    assert held_by("oxford", "mcgill") == 2 and held_by("oxford", "scpo") == 0
    assert held_only_by("lyon") == 1 and held_only_by("scpo") == 1 and held_only_by("oxford") == 2


async def test_the_page_shows_each_library_and_the_pair_matrix(librarian: Client) -> None:
    html, doc = await fetch_page(librarian)
    assert_accessible(html)
    [table] = doc.find_class("overlap-libraries")
    assert [text(th) for th in table.iter("th") if th.get("scope") == "col"] == [
        "Library",
        "Titles held",
        "Unique titles",
        "Share unique",
    ]
    rows = [row for row in table.iter("tr") if row.find("td") is not None]
    assert len(rows) == len(CODES)
    for row, code in zip(rows, CODES, strict=True):
        header = row.find("th")
        assert header is not None and header.get("scope") == "row"
        assert text(header) == f"{NAMES[code]} {code}"
        [link] = header.iter("a")
        assert link.get("href") == f"/search?library={code}"
        held, unique, share = (text(cell) for cell in row.iter("td"))
        total = held_by(code)
        assert (number(held), number(unique)) == (total, held_only_by(code))
        assert share == f"{100 * held_only_by(code) / total:.1f}%"
        # The link searches exactly the titles counted.
        response = await librarian.get(f"/api/search?library={code}&facets=0")
        assert (await response.json())["total"] == total

    [matrix] = doc.find_class("overlap-matrix")
    [head, *body] = list(matrix.iter("tr"))
    columns = [th for th in head.iter("th")]
    assert [th.get("scope") for th in columns] == ["col"] * len(CODES)
    assert [text(th) for th in columns] == CODES
    assert [abbr.get("title") for th in columns for abbr in th.iter("abbr")] == [
        NAMES[code] for code in CODES
    ]
    for row, code in zip(body, CODES, strict=True):
        header = row.find("th")
        assert header is not None and header.get("scope") == "row" and text(header) == f"{NAMES[code]} {code}"
        cells = list(row.iter("td"))
        assert [number(text(cell)) for cell in cells] == [held_by(code, other) for other in CODES]
        assert ["overlap-matrix__self" in cell.get("class", "") for cell in cells] == [
            other == code for other in CODES
        ]
    summary = {
        text(term): text(value)
        for item in doc.find_class("stats__item")
        for term, value in zip(item.iter("dt"), item.iter("dd"), strict=True)
    }
    assert summary == {
        "Titles": str(len(RECORDS)),
        "Libraries": str(len(CODES)),
        "Held by one library": str(sum(len(held) == 1 for held in HELD)),
    }


async def test_the_api_gives_the_same_numbers_with_the_names(librarian: Client) -> None:
    response = await librarian.get("/api/overlap")
    assert response.status == 200 and response.content_type == "application/json"
    assert await response.json() == {
        "records": len(RECORDS),
        "libraries": [
            {
                "code": code,
                "name": NAMES[code],
                "records": held_by(code),
                "unique": held_only_by(code),
                "shared": {
                    other: held_by(code, other) for other in CODES if other != code and held_by(code, other)
                },
            }
            for code in CODES
        ],
    }


async def test_the_counts_are_kept_until_the_index_changes(
    librarian: Client, catalogue: Catalogue, monkeypatch: pytest.MonkeyPatch
) -> None:
    counted: list[LibraryOverlap] = []
    count = catalogue.index.library_overlap

    def counting() -> LibraryOverlap:
        counted.append(count())
        return counted[-1]

    monkeypatch.setattr(catalogue.index, "library_overlap", counting)
    first = await (await librarian.get("/api/overlap")).json()
    await fetch_page(librarian)
    assert await (await librarian.get("/api/overlap")).json() == first
    assert len(counted) == 1

    changed = [*RECORDS[:2], UnionRecord(id="u-new", title="New", holdings=[])]
    write_union_generation(catalogue.records, catalogue.index, changed, {})
    after = await (await librarian.get("/api/overlap")).json()
    assert len(counted) == 2
    held = [{holding.library for holding in record.holdings} for record in RECORDS[:2]]
    assert after["records"] == 3
    assert {entry["code"]: entry["records"] for entry in after["libraries"]} == {
        code: sum(code in libraries for libraries in held) for code in sorted(set().union(*held))
    }


async def test_an_empty_catalogue_says_so(librarian: Client, catalogue: Catalogue) -> None:
    write_union_generation(catalogue.records, catalogue.index, [], {})
    html, doc = await fetch_page(librarian)
    assert_accessible(html)
    assert "No library holds any title yet" in text(doc)
    assert not doc.find_class("overlap-matrix")
    assert await (await librarian.get("/api/overlap")).json() == {"records": 0, "libraries": []}


async def test_the_librarians_pages_link_to_each_other(librarian: Client) -> None:
    for path in (
        "/librarians/harvests",
        "/librarians/quarantine",
        "/librarians/merges",
        "/librarians/overlap",
    ):
        response = await librarian.get(path)
        assert response.status == 200, path
        doc = lxml.html.fromstring(await response.text())
        [nav] = doc.find_class("librarians-nav")
        links = {link.get("href"): link.get("aria-current") for link in nav.iter("a")}
        assert "/librarians/overlap" in links and links[path] == "page", path


async def test_the_page_is_for_librarians(client: Client) -> None:
    response = await client.get("/librarians/overlap", allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"].startswith("/signin?")


async def test_the_api_is_for_librarians_too(
    client: Client, catalogue: Catalogue, settings: Settings
) -> None:
    # The page sends whoever is not signed in to sign in; its JSON refuses them (a script has no page
    # to sign in on), and a reader's account alike: the counts describe the libraries' collections.
    anonymous = await client.get("/api/overlap", allow_redirects=False)
    assert anonymous.status == 403
    error = (await anonymous.json())["error"]
    assert "for librarians" in error["message"] and "records" not in await anonymous.text()
    site = await Site(make_app(catalogue, settings)).start()
    try:
        reader = await site.signed_in(catalogue.accounts, "ann@example.org")
        refused = await reader.get("/api/overlap", allow_redirects=False)
        assert refused.status == 403 and "for librarians" in (await refused.json())["error"]["message"]
    finally:
        await site.close()
