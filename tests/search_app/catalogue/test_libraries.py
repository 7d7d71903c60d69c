"""The public library directory over real HTTP: ``/libraries``, ``/libraries/{code}`` and their JSON.

How many titles a library holds is counted here from the test catalogue's records
(search_app_catalogue.RECORDS), never by the code under test.
"""

from __future__ import annotations

import dataclasses

import lxml.html

from indexer.sites import with_sites
from tests.search_app.search_app_catalogue import RECORDS, REDIRECTS, Client
from tests.search_app.test_accessibility import assert_accessible
from unicat.catalogue import Catalogue
from unicat.libraries import Library
from unicat.union_generation import write_union_generation

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
TAYLOR = Library("OX-TAY", "Taylor Institution Library", source="oxford", branches=("Taylor Institution",))


def held_by(source: str, branches: set[str | None] | None = None) -> int:
    """The test records with a copy of ``source`` (with one of ``branches``, if given)."""
    return sum(
        any(h.library == source and (branches is None or h.branch in branches) for h in record.holdings)
        for record in RECORDS
    )


def place(catalogue: Catalogue, libraries: list[Library]) -> None:
    """Put ``libraries`` in the directory and index the records again, as `unicat index` would after
    `unicat library import`: each copy then carries the library keeping it (on copies of the shared
    test records, which stay as they are)."""
    catalogue.libraries.put_libraries(libraries)
    directory = catalogue.libraries.directory()
    placed = [with_sites(dataclasses.replace(record), directory) for record in RECORDS]
    write_union_generation(catalogue.records, catalogue.index, placed, REDIRECTS)


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
    place(catalogue, [SCIENCES_PO])

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
    assert "/search?held_at=SCPO" in links
    # The count behind the link is the search's: following it finds as many.
    found = await (await client.get("/api/search", params={"held_at": "SCPO"})).json()
    assert found["total"] == held_by("scpo") == 3


async def test_libraries_sharing_a_source_each_count_their_own_copies(
    client: Client, catalogue: Catalogue
) -> None:
    # Oxford's copies: those of the Taylor Institution branch are Taylor's, every other one the
    # Bodleian's (it lists no branch); the Radcliffe claims a branch no copy carries.
    place(catalogue, [BODLEIAN, TAYLOR, RADCLIFFE])
    others = {h.branch for record in RECORDS for h in record.holdings if h.library == "oxford"}
    others.discard("Taylor Institution")

    counts = {}
    for code in ("OX-BOD", "OX-TAY", "OX-RSL"):
        data = await (await client.get(f"/api/libraries/{code}")).json()
        found = await (await client.get(data["holdings"]["search"].replace("/search", "/api/search"))).json()
        assert found["total"] == data["holdings"]["titles"]
        assert data["holdings"]["shared_with"] == 2
        counts[code] = data["holdings"]["titles"]
    page = text(lxml.html.fromstring(await (await client.get("/libraries/OX-TAY")).text()))

    assert counts == {
        "OX-BOD": held_by("oxford", others),
        "OX-TAY": held_by("oxford", {"Taylor Institution"}),
        "OX-RSL": 0,
    }
    assert counts["OX-BOD"] == 3 and counts["OX-TAY"] == 2
    assert counts["OX-BOD"] + counts["OX-TAY"] == held_by("oxford")
    assert f"{counts['OX-TAY']} titles in the union catalogue" in page
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
    place(catalogue, [SCIENCES_PO, BODLEIAN])

    listed = await (await client.get("/api/libraries")).json()
    one = await (await client.get("/api/libraries/SCPO")).json()

    assert [library["code"] for library in listed["libraries"]] == ["OX-BOD", "SCPO"]
    assert listed["libraries"][0]["map"] is None
    assert one == {
        **SCIENCES_PO.to_json(),
        "url": "/libraries/SCPO",
        "map": "https://www.openstreetmap.org/?mlat=48.85410&mlon=2.32810#map=17/48.85410/2.32810",
        "holdings": {
            "library": "SCPO",
            "source": "scpo",
            "titles": 3,
            "shared_with": 0,
            "search": "/search?held_at=SCPO",
        },
    }


async def test_the_site_footer_links_the_directory(client: Client) -> None:
    doc = lxml.html.fromstring(await (await client.get("/")).text())

    assert doc.find(".//footer//a[@href='/libraries']") is not None
