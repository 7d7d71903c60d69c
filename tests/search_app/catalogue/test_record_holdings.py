"""The record page and the JSON API show contributors with their roles, the format detail, and the
holdings grouped by library with the names a source's ``[libraries]`` table gives its codes.

The record is modelled on cotes8.mrc's first record (001 054273242: 700 Leroy-Beaulieu $4070, two
995 copies $b751072303 $cBIB01 $dANX1 with barcodes 00000001158900 and 00000001158899, $r DI / CN).
"""

from __future__ import annotations

from collections.abc import Iterator

import lxml.html
import pytest

from tests.search_app.accounts_http import Site
from tests.search_app.search_app_catalogue import Client
from unicat.catalogue import Catalogue
from unicat.model import Contributor, Holding, Source, SourceRef, UnionRecord
from unicat.settings import Settings
from unicat.union_generation import write_union_generation
from unicat_cli.wiring import open_catalogue

SCPO = "Bibliothèque de Sciences Po"
RECORD = UnionRecord(
    id="u-finances",
    title="Traité de la science des finances",
    responsibility="par Paul Leroy-Beaulieu",
    authors=["Leroy-Beaulieu, Paul"],
    contributors=[Contributor("Leroy-Beaulieu, Paul", "author"), Contributor("Guillaumin", None)],
    format="book",
    format_detail="large print",
    holdings=[
        Holding(
            "scpo",
            "Sciences Po",
            "8°007.775(1892-1)",
            branch="751072303",
            branch_name=SCPO,
            depositary="BIB01",
            depositary_name="ANX1",
            barcode="00000001158900",
            item_type="DI",
        ),
        Holding(
            "scpo",
            "Sciences Po",
            "8°007.775(1892-2)",
            branch="751072303",
            branch_name=SCPO,
            depositary="BIB01",
            depositary_name="ANX1",
            barcode="00000001158899",
            item_type="CN",
        ),
        Holding("lyon", "Bibliothèque municipale de Lyon", "R 123"),
    ],
    sources=[SourceRef("scpo", "054273242"), SourceRef("lyon", "l1")],
)
BARCODES = ("00000001158900", "00000001158899")
# A copy the library reports with nothing but its existence (a holdings field whose subfields are
# all unmapped, or a record without one and without a call number).
BARE = UnionRecord(
    id="u-bare",
    title="Annuaire sans cote",
    holdings=[Holding("lyon", "Bibliothèque municipale de Lyon")],
    sources=[SourceRef("lyon", "l2")],
)


@pytest.fixture
def catalogue(settings: Settings) -> Iterator[Catalogue]:
    """A catalogue of RECORD and BARE; the conftest's ``client`` and ``site`` serve it."""
    with open_catalogue(settings) as opened:
        opened.records.save_source(Source("scpo", "Sciences Po", profile="unimarc"))
        opened.records.save_source(Source("lyon", "Bibliothèque municipale de Lyon", profile="unimarc"))
        write_union_generation(opened.records, opened.index, [RECORD, BARE], {})
        yield opened


def _text(element: lxml.html.HtmlElement) -> str:
    return " ".join(element.text_content().split())


async def test_record_page_groups_named_branches_and_shows_roles(client: Client) -> None:
    response = await client.get("/record/u-finances")
    assert response.status == 200
    doc = lxml.html.fromstring(await response.text())
    contributors = [_text(li) for li in doc.find_class("contributor-list")[0].iter("li")]
    assert contributors == ["Leroy-Beaulieu, Paul (author)", "Guillaumin"]
    assert "Book (large print)" in _text(doc.find_class("details")[0])
    groups = doc.find_class("holdings-library")
    # Libraries by name: the named branch of scpo, then Lyon.
    assert [_text(g.find_class("holdings-library__name")[0]) for g in groups] == [
        f"{SCPO} 751072303",
        "Bibliothèque municipale de Lyon lyon",
    ]
    assert "Sciences Po" in _text(groups[0].find_class("holdings-library__source")[0])
    # Signed out: no barcode column, though Sciences Po gives barcodes.
    assert _headers(groups[0]) == ["Branch", "Call number", "Location", "Document type"]
    assert _rows(groups[0]) == [
        [SCPO, "8°007.775(1892-1)", "—deposited at ANX1 (BIB01)", "DI"],
        [SCPO, "8°007.775(1892-2)", "—deposited at ANX1 (BIB01)", "CN"],
    ]
    # Lyon gives a call number and nothing else: no column of dashes beside it.
    assert _headers(groups[1]) == ["Call number"]
    assert _rows(groups[1]) == [["R 123"]]


def _headers(group: lxml.html.HtmlElement) -> list[str]:
    return [_text(th) for th in group.iter("th")]


def _rows(group: lxml.html.HtmlElement) -> list[list[str]]:
    return [[_text(td) for td in tr.findall("td")] for tr in group.iter("tr") if tr.findall("td")]


async def test_api_record_has_contributors_and_named_holdings(client: Client) -> None:
    response = await client.get("/api/records/u-finances")
    data = await response.json()
    assert data["authors"] == ["Leroy-Beaulieu, Paul"]
    assert data["contributors"] == [
        {"name": "Leroy-Beaulieu, Paul", "role": "author"},
        {"name": "Guillaumin", "role": None},
    ]
    assert data["format"] == "book" and data["format_detail"] == "large print"
    first = data["holdings"][0]
    assert (first["branch"], first["branch_name"]) == ("751072303", SCPO)
    assert (first["depositary"], first["depositary_name"]) == ("BIB01", "ANX1")


async def test_where_to_find_it_comes_right_under_the_title_block(client: Client) -> None:
    doc = lxml.html.fromstring(await (await client.get("/record/u-finances")).text())
    [article] = doc.find_class("record")
    blocks = [child for child in article if child.tag in ("header", "section")]
    assert blocks[0].tag == "header" and blocks[0].find(".//h1") is not None
    assert [_text(block.xpath("h2")[0]) for block in blocks[1:3]] == ["Where to find it", "Description"]


async def test_a_copy_with_no_details_says_so_instead_of_an_empty_table(client: Client) -> None:
    doc = lxml.html.fromstring(await (await client.get("/record/u-bare")).text())
    [group] = doc.find_class("holdings-library")
    assert group.findall(".//table") == []
    assert "1 copy; the library gives no call number or location" in _text(group)


SRU_MARCXML = "info:srw/schema/1/marcxml-v1.1"
OAI_REPOSITORY = Settings().oai_repository_identifier
# Everything that shows a record's holdings: the page, the JSON API, OAI-PMH and SRU.
HOLDINGS_PATHS = {
    "page": "/record/u-finances",
    "api record": "/api/records/u-finances",
    "api search": "/api/search",
    "oai": f"/oai?verb=GetRecord&metadataPrefix=marcxml&identifier=oai:{OAI_REPOSITORY}:u-finances",
    "sru": f"/sru?operation=searchRetrieve&version=2.0&query=finances&recordSchema={SRU_MARCXML}",
}


async def _barcodes_seen(browser: Client) -> dict[str, list[str]]:
    """Which of RECORD's barcodes each way of reading its holdings shows to ``browser``."""
    seen: dict[str, list[str]] = {}
    for name, path in HOLDINGS_PATHS.items():
        response = await browser.get(path)
        assert response.status == 200, (name, await response.text())
        text = await response.text()
        # The holdings are there (Sciences Po's branch code), so a missing barcode was left out.
        assert "751072303" in text, name
        seen[name] = [barcode for barcode in BARCODES if barcode in text]
    return seen


async def test_barcodes_are_for_librarians_not_the_public(site: Site, catalogue: Catalogue) -> None:
    public: dict[str, list[str]] = {name: [] for name in HOLDINGS_PATHS}
    assert await _barcodes_seen(await site.browser()) == public
    patron = await site.signed_in(catalogue.accounts, "reader@example.org")
    assert await _barcodes_seen(patron) == public
    librarian = await site.signed_in(catalogue.accounts, "staff@example.org", role="librarian")
    # OAI-PMH and SRU are harvested feeds for anyone: they never carry barcodes.
    assert await _barcodes_seen(librarian) == {
        "page": list(BARCODES),
        "api record": list(BARCODES),
        "api search": list(BARCODES),
        "oai": [],
        "sru": [],
    }


async def test_a_librarians_barcodes_are_kept_out_of_shared_caches(site: Site, catalogue: Catalogue) -> None:
    librarian = await site.signed_in(catalogue.accounts, "staff@example.org", role="librarian")
    for path in (HOLDINGS_PATHS["api record"], HOLDINGS_PATHS["api search"], HOLDINGS_PATHS["page"]):
        response = await librarian.get(path)
        assert response.headers["Cache-Control"] == "private, no-store", path


async def test_a_librarian_sees_barcodes_in_their_own_column(site: Site, catalogue: Catalogue) -> None:
    librarian = await site.signed_in(catalogue.accounts, "staff@example.org", role="librarian")
    doc = lxml.html.fromstring(await (await librarian.get("/record/u-finances")).text())
    groups = doc.find_class("holdings-library")
    assert _headers(groups[0]) == ["Branch", "Call number", "Location", "Document type", "Barcode"]
    assert [row[-1] for row in _rows(groups[0])] == list(BARCODES)
    # Lyon gives no barcode: no barcode column there, even for a librarian.
    assert _headers(groups[1]) == ["Call number"]
