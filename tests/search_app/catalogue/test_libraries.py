"""The public library directory over real HTTP: ``/libraries``, ``/libraries/{code}`` and their JSON.

How many titles a library holds is counted here from the test catalogue's records
(search_app_catalogue.RECORDS), never by the code under test.
"""

from __future__ import annotations

import lxml.html

from tests.search_app.search_app_catalogue import RECORDS, Client
from tests.search_app.test_accessibility import assert_accessible
from unicat.catalogue import Catalogue
from unicat.libraries import Library

SCIENCES_PO = Library(
    "SCPO",
    "Bibliothèque de Sciences Po",
    names={"en": "Sciences Po Library"},
    source="scpo",
    street="27 rue Saint-Guillaume",
    postcode="75007",
    city="Paris",
    latitude=48.8541,
    longitude=2.3281,
    opening_hours={"monday": "09:00-12:30, 14:00-19:00", "sunday": "closed"},
    email="bibliotheque@example.org",
    shuttle=True,
)
BODLEIAN = Library("OX-BOD", "Bodleian Library", source="oxford", city="Oxford")
RADCLIFFE = Library("OX-RSL", "Radcliffe Science Library", source="oxford", branches=("RSL",), city="Oxford")


def held_by(source: str) -> int:
    return sum(any(holding.library == source for holding in record.holdings) for record in RECORDS)


def text(doc: lxml.html.HtmlElement) -> str:
    return " ".join(doc.text_content().split())


async def test_the_directory_lists_every_library_in_the_reader_s_language(
    client: Client, catalogue: Catalogue
) -> None:
    catalogue.libraries.put_libraries([SCIENCES_PO, BODLEIAN, RADCLIFFE])

    response = await client.get("/libraries", params={"lang": "en"})

    assert response.status == 200
    html = await response.text()
    assert_accessible(html)
    rows = lxml.html.fromstring(html).findall(".//tbody/tr")
    assert [text(row) for row in rows] == [
        "Bodleian Library Oxford no",
        "Radcliffe Science Library Oxford no",
        "Sciences Po Library Paris yes",
    ]
    assert rows[2].find(".//a").get("href") == "/libraries/SCPO"
    french = await (await client.get("/libraries", params={"lang": "fr"})).text()
    assert "Bibliothèque de Sciences Po" in french and "Sciences Po Library" not in french


async def test_a_library_page_shows_address_hours_contact_map_and_holdings(
    client: Client, catalogue: Catalogue
) -> None:
    catalogue.libraries.put_libraries([SCIENCES_PO])

    response = await client.get("/libraries/SCPO")

    assert response.status == 200
    html = await response.text()
    assert_accessible(html)
    doc = lxml.html.fromstring(html)
    page = text(doc)
    assert "27 rue Saint-Guillaume" in page and "75007 Paris" in page
    assert "Monday 09:00-12:30, 14:00-19:00" in page and "Sunday closed" in page and "Tuesday closed" in page
    assert doc.find(".//a[@href='mailto:bibliotheque@example.org']") is not None
    links = [a.get("href") for a in doc.iter("a")]
    assert "https://www.openstreetmap.org/?mlat=48.85410&mlon=2.32810#map=17/48.85410/2.32810" in links
    assert f"{held_by('scpo')} titles in the union catalogue" in page
    assert "/search?library=scpo" in links
    # The count behind the link is the search's: following it finds as many.
    found = await (await client.get("/api/search", params={"library": "scpo"})).json()
    assert found["total"] == held_by("scpo") == 3


async def test_a_source_shared_by_libraries_is_counted_whole_and_said_so(
    client: Client, catalogue: Catalogue
) -> None:
    catalogue.libraries.put_libraries([BODLEIAN, RADCLIFFE])

    page = text(lxml.html.fromstring(await (await client.get("/libraries/OX-RSL")).text()))

    assert f"shared with 1 other libraries: {held_by('oxford')} titles in all" in page
    assert "No opening hours given" in page


async def test_an_unknown_library_is_a_404_page_and_json(client: Client) -> None:
    page = await client.get("/libraries/NOPE")
    api = await client.get("/api/libraries/NOPE")

    assert page.status == 404
    assert "There is no library 'NOPE' in the directory." in text(lxml.html.fromstring(await page.text()))
    assert api.status == 404
    assert (await api.json())["error"]["message"] == "there is no library 'NOPE' in the directory"


async def test_the_json_gives_every_field_with_the_page_map_and_holdings(
    client: Client, catalogue: Catalogue
) -> None:
    catalogue.libraries.put_libraries([SCIENCES_PO, BODLEIAN])

    listed = await (await client.get("/api/libraries")).json()
    one = await (await client.get("/api/libraries/SCPO")).json()

    assert [library["code"] for library in listed["libraries"]] == ["OX-BOD", "SCPO"]
    assert listed["libraries"][0]["map"] is None
    assert one == {
        **SCIENCES_PO.to_json(),
        "url": "/libraries/SCPO",
        "map": "https://www.openstreetmap.org/?mlat=48.85410&mlon=2.32810#map=17/48.85410/2.32810",
        "holdings": {"source": "scpo", "titles": 3, "shared_with": 0, "search": "/search?library=scpo"},
    }


async def test_the_site_footer_links_the_directory(client: Client) -> None:
    doc = lxml.html.fromstring(await (await client.get("/")).text())

    assert doc.find(".//footer//a[@href='/libraries']") is not None
