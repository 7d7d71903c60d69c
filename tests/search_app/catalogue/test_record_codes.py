"""The record page and the JSON API name a holding's codes by its source's code tables, keeping the
codes beside the names.

The holdings are modelled on cotes8.mrc's 995 copies ($b 751072303, $c BIB01, $d ANX1, $r DI / CN);
the names are what the test's librarian configures, so they are what the pages must show.
"""

from __future__ import annotations

from collections.abc import Iterator

import lxml.html
import pytest

from tests.search_app.search_app_catalogue import Client
from unicat.catalogue import Catalogue
from unicat.holding_codes import CodeName
from unicat.model import Holding, Source, SourceRef, UnionRecord
from unicat.oai_items import OaiSelection
from unicat.settings import Settings
from unicat.union_generation import write_union_generation
from unicat_cli.wiring import open_catalogue

COTES = "Médiathèque des Cotes"
RECORD = UnionRecord(
    id="u-finances",
    title="Traité de la science des finances",
    format="book",
    holdings=[
        Holding("MEDI", "Médiathèque", "8°007.775(1892-1)", branch="751072303", depositary="BIB01",
                depositary_name="ANX1", location="MAG1", item_type="DI"),
        Holding("MEDI", "Médiathèque", "8°007.775(1892-2)", branch="751072303", depositary="BIB01",
                depositary_name="ANX1", location="MAG1", item_type="CN"),
        # Another source's DI is its own code: MEDI's table does not name it.
        Holding("LYON", "Bibliothèque municipale de Lyon", "R 123", item_type="DI"),
    ],
    sources=[SourceRef("MEDI", "054273242"), SourceRef("LYON", "l1")],
)  # fmt: skip
TABLES = [
    CodeName("branch", "751072303", COTES),
    CodeName("depositary", "BIB01", "Bibliothèque centrale"),
    CodeName("location", "MAG1", "Magasin 1"),
    CodeName("item_type", "DI", "Documentaire"),
    CodeName("item_type", "CN", "Roman"),
]


@pytest.fixture
def catalogue(settings: Settings) -> Iterator[Catalogue]:
    with open_catalogue(settings) as opened:
        opened.records.save_source(Source("MEDI", "Médiathèque", profile="unimarc"))
        opened.records.save_source(Source("LYON", "Bibliothèque municipale de Lyon", profile="unimarc"))
        opened.records.set_holding_codes("MEDI", TABLES)
        write_union_generation(opened.records, opened.index, [RECORD], {})
        yield opened


def _text(element: lxml.html.HtmlElement) -> str:
    return " ".join(element.text_content().split())


def _rows(group: lxml.html.HtmlElement) -> list[list[str]]:
    return [[_text(td) for td in tr.findall("td")] for tr in group.iter("tr") if tr.findall("td")]


async def test_the_record_page_shows_the_configured_names_beside_the_codes(client: Client) -> None:
    response = await client.get("/record/u-finances")
    assert response.status == 200
    doc = lxml.html.fromstring(await response.text())
    # Libraries by name: Lyon, then the named branch.
    lyon, medi = doc.find_class("holdings-library")

    # The branch the table names is a library of its own, in the catalogue of its source.
    assert _text(medi.find_class("holdings-library__name")[0]) == f"{COTES} 751072303"
    assert _rows(medi) == [
        [
            COTES,
            "8°007.775(1892-1)",
            "Magasin 1 MAG1deposited at Bibliothèque centrale (BIB01)",
            "Documentaire DI",
        ],
        [COTES, "8°007.775(1892-2)", "Magasin 1 MAG1deposited at Bibliothèque centrale (BIB01)", "Roman CN"],
    ]
    assert _rows(lyon) == [["R 123", "DI"]]


async def test_the_api_keeps_each_code_and_adds_its_name(client: Client) -> None:
    record = await (await client.get("/api/records/u-finances")).json()
    found = await (await client.get("/api/search", params={"q": "finances"})).json()

    for holdings in (record["holdings"], found["hits"][0]["holdings"]):
        first, _, lyon = holdings
        assert (first["branch"], first["branch_name"]) == ("751072303", COTES)
        assert (first["depositary"], first["depositary_name"]) == ("BIB01", "Bibliothèque centrale")
        assert (first["location"], first["location_name"]) == ("MAG1", "Magasin 1")
        assert (first["item_type"], first["item_type_name"]) == ("DI", "Documentaire")
        assert lyon["item_type"] == "DI" and "item_type_name" not in lyon


async def test_oai_pmh_marcxml_names_the_depositary_by_the_table(client: Client, settings: Settings) -> None:
    identifier = f"oai:{settings.oai_repository_identifier}:u-finances"
    params = {"verb": "GetRecord", "metadataPrefix": "marcxml", "identifier": identifier}
    body = await (await client.get("/oai", params=params)).text()

    # The record's own $d name (ANX1) gives way to the librarian's name of BIB01.
    assert body.count("Deposited at Bibliothèque centrale (BIB01)") == 2
    assert "Deposited at ANX1" not in body


def test_the_feeds_list_names_holdings_as_its_single_record_does(catalogue: Catalogue) -> None:
    [listed] = catalogue.feed.oai_list(OaiSelection(0, 2**62), None, 10, with_records=True)
    single = catalogue.feed.oai_entry("u-finances", with_record=True)

    assert listed.record is not None and single is not None and single.record is not None
    for record in (listed.record, single.record):
        assert [h.item_type_name for h in record.holdings] == ["Documentaire", "Roman", None]


async def test_sru_marcxml_names_the_depositary_by_the_table(client: Client) -> None:
    params = {"operation": "searchRetrieve", "version": "2.0", "query": "title=finances",
              "recordSchema": "info:srw/schema/1/marcxml-v1.1"}  # fmt: skip
    body = await (await client.get("/sru", params=params)).text()

    assert body.count("Deposited at Bibliothèque centrale (BIB01)") == 2
