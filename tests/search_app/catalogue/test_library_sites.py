"""Copies the directory places at libraries, over real HTTP: the record page groups them by library,
named in the reader's language, each "as of" its source's last harvest; the JSON API's ``as_of`` has
the same codes; the ``held_at`` and ``available_at`` facets and "Available at my library" name the
directory's libraries.

One source, ``city``, holds the copies of two libraries (its branch codes say which); ``west`` is a
source the directory does not list, so its copies show under the source as before.
"""

from __future__ import annotations

from collections.abc import Iterator

import lxml.html
import pytest

from indexer.sites import with_sites
from tests.search_app.accounts_http import Site
from tests.search_app.search_app_catalogue import Client
from unicat.catalogue import Catalogue
from unicat.libraries import Library
from unicat.model import Holding, Source, SourceRef, UnionRecord
from unicat.settings import Settings
from unicat.union_generation import write_union_generation
from unicat_cli.wiring import open_catalogue

CENTRAL = Library(
    "CITY-C", "Bibliothèque centrale", names={"en": "Central Library"}, source="city", branches=("CENTRE",)
)
NORTH = Library(
    "CITY-N", "Médiathèque Nord", names={"en": "North Media Library"}, source="city", branches=("NORD",)
)
DUNE = UnionRecord(
    id="u-dune",
    title="Dune",
    holdings=[
        Holding("city", "City Libraries", "F HER", branch="CENTRE", status="available"),
        Holding("city", "City Libraries", "F HER", branch="NORD", status="on_loan", due_date="2027-03-01"),
        Holding("west", "West Library", "HER D", status="not_for_loan"),
    ],
    sources=[SourceRef("city", "c1"), SourceRef("west", "w1")],
)


@pytest.fixture
def catalogue(settings: Settings) -> Iterator[Catalogue]:
    """Dune at two libraries of the source ``city`` and at ``west``; both sources harvested once, at
    different times; the records indexed with the directory, as `unicat index` does."""
    with open_catalogue(settings) as opened:
        for code, name in (("city", "City Libraries"), ("west", "West Library")):
            opened.records.save_source(Source(code, name, oai_url=f"http://127.0.0.1:9/{code}"))
            run = opened.records.start_harvest(code, "full")
            opened.records.finish_harvest(run.id, "ok")
        opened.libraries.put_libraries([CENTRAL, NORTH])
        placed = with_sites(DUNE, opened.libraries.directory())
        write_union_generation(opened.records, opened.index, [placed], {})
        yield opened


def finished(catalogue: Catalogue, source: str) -> str:
    run = catalogue.records.last_successful_harvest(source)
    assert run is not None and run.finished is not None
    return run.finished


def _text(element: lxml.html.HtmlElement) -> str:
    return " ".join(element.text_content().split())


def as_of_line(catalogue: Catalogue, source: str) -> str:
    """The as-of line of a library of ``source``, as English pages write the harvest's end."""
    return f"as of {finished(catalogue, source)[:19].replace('T', ' ')} UTC"


async def groups(client: Client, path: str) -> dict[str, lxml.html.HtmlElement]:
    response = await client.get(path)
    assert response.status == 200, await response.text()
    doc = lxml.html.fromstring(await response.text())
    return {_text(g.find_class("holdings-library__name")[0]): g for g in doc.find_class("holdings-library")}


async def test_the_record_page_groups_copies_by_the_library_keeping_them(
    client: Client, catalogue: Catalogue
) -> None:
    english = await groups(client, "/record/u-dune?lang=en")

    assert list(english) == ["Central Library CITY-C", "North Media Library CITY-N", "West Library west"]
    central, north = english["Central Library CITY-C"], english["North Media Library CITY-N"]
    assert [_text(td) for td in central.find_class("copy-status")] == ["Available"]
    assert [_text(td) for td in north.find_class("copy-status")] == ["On loan until 2027-03-01"]
    for group in (central, north):
        assert _text(group.find_class("holdings-library__source")[0]) == "in the catalogue of City Libraries"
        assert _text(group.find_class("holdings-library__as-of")[0]) == as_of_line(catalogue, "city")
    west = english["West Library west"]
    assert not west.find_class("holdings-library__source")
    assert _text(west.find_class("holdings-library__as-of")[0]) == as_of_line(catalogue, "west")
    french = await groups(client, "/record/u-dune?lang=fr")
    assert {"Bibliothèque centrale CITY-C", "Médiathèque Nord CITY-N"} <= set(french)


async def test_the_api_as_of_has_the_codes_the_copies_group_under(
    client: Client, catalogue: Catalogue
) -> None:
    city, west = finished(catalogue, "city"), finished(catalogue, "west")
    # The sources' codes as before the directory, and each library's, with its source's time.
    expected = {"city": city, "west": west, "CITY-C": city, "CITY-N": city}

    record = await (await client.get("/api/records/u-dune")).json()
    body = await (await client.get("/api/search", params={"q": "dune"})).json()

    assert [holding.get("site") for holding in record["holdings"]] == ["CITY-C", "CITY-N", None]
    assert record["as_of"] == expected
    assert body["hits"][0]["as_of"] == expected


async def test_the_library_facets_name_the_directory_s_libraries_in_the_reader_s_language(
    client: Client,
) -> None:
    # The JSON API speaks English; the pages the reader's language.
    body = await (await client.get("/api/search", params={"lang": "fr"})).json()
    sidebars, held = {}, {}
    for language in ("en", "fr"):
        doc = lxml.html.fromstring(await (await client.get("/search", params={"lang": language})).text())
        sidebar = doc.get_element_by_id("facet-held_at").getparent()
        sidebars[language] = {_text(label) for label in sidebar.find_class("facet__label")}
        held[language] = _text(doc.find_class("result-card__held")[0])

    def labels(facet: str) -> dict[str, str]:
        return {value["value"]: value["label"] for value in body["facets"][facet]}

    assert labels("held_at") == {
        "CITY-C": "Central Library",
        "CITY-N": "North Media Library",
        "west": "West Library",
    }
    assert labels("available_at") == {"CITY-C": "Central Library"}
    # The sources stay the library facet's values, by the sources' names.
    assert labels("library") == {"city": "City Libraries", "west": "West Library"}
    assert sidebars == {
        "en": {"Central Library", "North Media Library", "West Library"},
        "fr": {"Bibliothèque centrale", "Médiathèque Nord", "West Library"},
    }
    # The result names the same libraries, in the order of the copies.
    assert held["en"] == "Held by 3 libraries: Central Library, North Media Library, West Library"
    assert held["fr"].endswith("Bibliothèque centrale, Médiathèque Nord, West Library")


async def test_available_at_my_library_names_it(site: Site, catalogue: Catalogue) -> None:
    found = {}
    for code, name in (("CITY-C", "Central Library"), ("CITY-N", "North Media Library")):
        reader = await site.signed_in(catalogue.accounts, f"{code.lower()}@example.org", library=code)
        doc = lxml.html.fromstring(await (await reader.get("/search?lang=en")).text())
        links = doc.xpath('//section[@aria-labelledby="facet-available-now"]//a')
        toggles = {_text(a): a.get("href") or "" for a in links}
        mine = f"Available at my library ({name})"
        assert set(toggles) == {"Available now", mine}
        results = lxml.html.fromstring(await (await reader.get(toggles[mine])).text())
        found[code] = [_text(title) for title in results.find_class("result-card__title")]

    # Central's copy is available; North's is on loan.
    assert found == {"CITY-C": ["Dune"], "CITY-N": []}
