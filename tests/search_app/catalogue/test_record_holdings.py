"""The record page and the JSON API show contributors with their roles, the format detail, and the
holdings grouped by library with the names a source's ``[libraries]`` table gives its codes.

The record is modelled on cotes8.mrc's first record (001 054273242: 700 Leroy-Beaulieu $4070, two
995 copies $b751072303 $cBIB01 $dANX1 with barcodes 00000001158900 and 00000001158899, $r DI / CN).
"""

from __future__ import annotations

from collections.abc import Iterator

import lxml.html
import pytest

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


@pytest.fixture
def catalogue(settings: Settings) -> Iterator[Catalogue]:
    """A catalogue of RECORD alone; the conftest's ``client`` serves it."""
    with open_catalogue(settings) as opened:
        opened.records.save_source(Source("scpo", "Sciences Po", profile="unimarc"))
        opened.records.save_source(Source("lyon", "Bibliothèque municipale de Lyon", profile="unimarc"))
        write_union_generation(opened.records, opened.index, [RECORD], {})
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
    rows = [[_text(td) for td in tr.findall("td")] for tr in groups[0].iter("tr") if tr.findall("td")]
    assert rows == [
        [SCPO, "8°007.775(1892-1)", "—deposited at ANX1 (BIB01)", "DI", "00000001158900"],
        [SCPO, "8°007.775(1892-2)", "—deposited at ANX1 (BIB01)", "CN", "00000001158899"],
    ]
    # Lyon gives no barcodes: no barcode column there.
    headers = [_text(th) for th in groups[1].iter("th")]
    assert "Barcode" not in headers and "Document type" in headers


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
