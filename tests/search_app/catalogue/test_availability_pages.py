"""Availability per copy over real HTTP: the record page says per copy whether a reader can have it
and per library as of when; the results say it in a line; "Available now" and "Available at my
library" filter; the JSON API carries status, due_date and as_of.

The copies' statuses are written here as the indexer would have read them (the profiles' rules are
tested in tests/indexer/test_indexer_availability.py); the expected texts are the statuses' meanings.
"""

from __future__ import annotations

from collections.abc import Iterator

import lxml.html
import pytest

from tests.search_app.accounts_http import Site
from tests.search_app.search_app_catalogue import Client
from unicat.catalogue import Catalogue
from unicat.model import Holding, Source, SourceRef, UnionRecord
from unicat.settings import Settings
from unicat.union_generation import write_union_generation
from unicat_cli.wiring import open_catalogue

EMMA = UnionRecord(
    id="u-emma",
    title="Emma",
    holdings=[
        Holding("east", "East Library", "823 AUS", status="available"),
        Holding("east", "East Library", "823 AUS c.2", status="on_loan", due_date="2027-01-15"),
        Holding("west", "West Library", "AUS E", status="not_for_loan"),
    ],
    sources=[SourceRef("east", "e1"), SourceRef("west", "w1")],
)
PERSUASION = UnionRecord(
    id="u-persuasion",
    title="Persuasion",
    holdings=[
        Holding("west", "West Library", "AUS P", status="on_loan", due_date="2027-02-01"),
        Holding("north", "North Library", "AUS P"),
    ],
    sources=[SourceRef("west", "w2"), SourceRef("north", "n1")],
)
MANSFIELD = UnionRecord(
    id="u-mansfield",
    title="Mansfield Park",
    holdings=[Holding("west", "West Library", "AUS M", status="available")],
    sources=[SourceRef("west", "w3")],
)


@pytest.fixture
def catalogue(settings: Settings) -> Iterator[Catalogue]:
    """Three Austen novels at three libraries; East and West harvested once, North never."""
    with open_catalogue(settings) as opened:
        for code, name in (("east", "East Library"), ("west", "West Library"), ("north", "North Library")):
            opened.records.save_source(Source(code, name, oai_url=f"http://127.0.0.1:9/{code}"))
        for code in ("east", "west"):
            run = opened.records.start_harvest(code, "full")
            opened.records.finish_harvest(run.id, "ok")
        write_union_generation(opened.records, opened.index, [EMMA, PERSUASION, MANSFIELD], {})
        yield opened


def finished(catalogue: Catalogue, source: str) -> str:
    """When the source's last harvest ended, as the harvest store keeps it."""
    run = catalogue.records.last_successful_harvest(source)
    assert run is not None and run.finished is not None
    return run.finished


def _text(element: lxml.html.HtmlElement) -> str:
    return " ".join(element.text_content().split())


async def page(client: Client, path: str) -> lxml.html.HtmlElement:
    response = await client.get(path)
    assert response.status == 200, await response.text()
    return lxml.html.fromstring(await response.text())


async def test_the_record_page_says_per_copy_whether_it_can_be_had_and_as_of_when(
    client: Client, catalogue: Catalogue
) -> None:
    doc = await page(client, "/record/u-emma")
    groups = {_text(g.find_class("holdings-library__name")[0]): g for g in doc.find_class("holdings-library")}
    east = groups["East Library east"]
    assert [_text(td) for td in east.find_class("copy-status")] == ["Available", "On loan until 2027-01-15"]
    # As of the end of East's last harvest, written as English pages write times.
    as_of = _text(east.find_class("holdings-library__as-of")[0])
    assert as_of == f"as of {finished(catalogue, 'east')[:19].replace('T', ' ')} UTC"
    assert [_text(td) for td in groups["West Library west"].find_class("copy-status")] == ["Not for loan"]


async def test_a_library_that_sent_no_status_is_status_unknown_and_never_harvested_has_no_time(
    client: Client,
) -> None:
    doc = await page(client, "/record/u-persuasion")
    groups = {_text(g.find_class("holdings-library__name")[0]): g for g in doc.find_class("holdings-library")}
    north = groups["North Library north"]
    assert _text(north.find_class("holdings-library__as-of")[0]) == "Status unknown"
    assert not north.find_class("copy-status")


async def test_the_record_page_writes_the_due_date_as_the_readers_language_does(client: Client) -> None:
    doc = await page(client, "/record/u-emma?lang=fr")
    statuses = [_text(td) for td in doc.find_class("copy-status")]
    # Babel's French medium date; the words are the source text until the catalogue is translated.
    assert any(status.endswith("15 janv. 2027") for status in statuses), statuses


async def test_the_results_say_in_a_line_where_it_is_available_else_why_not(client: Client) -> None:
    doc = await page(client, "/search?sort=title")
    lines = {
        _text(card.find_class("result-card__title")[0]): _text(
            card.find_class("result-card__availability")[0]
        )
        for card in doc.find_class("result-card")
    }
    assert lines == {
        "Emma": "Available at 1 library",
        "Mansfield Park": "Available at 1 library",
        # No copy available: the one on loan comes back first.
        "Persuasion": "On loan until 2027-02-01",
    }


async def test_available_now_and_available_at_my_library(site: Site, catalogue: Catalogue) -> None:
    anonymous = await site.browser()
    doc = lxml.html.fromstring(await (await anonymous.get("/search")).text())
    toggles = {
        _text(a): a.get("href") for a in doc.xpath('//section[@aria-labelledby="facet-available-now"]//a')
    }
    assert set(toggles) == {"Available now"}
    now = lxml.html.fromstring(await (await anonymous.get(toggles["Available now"])).text())
    found = {_text(card.find_class("result-card__title")[0]) for card in now.find_class("result-card")}
    assert found == {"Emma", "Mansfield Park"}

    reader = await site.signed_in(catalogue.accounts, "reader@example.org", library="west")
    doc = lxml.html.fromstring(await (await reader.get("/search")).text())
    toggles = {
        _text(a): a.get("href") for a in doc.xpath('//section[@aria-labelledby="facet-available-now"]//a')
    }
    # The reader's library by its name: without a directory, a library is its source.
    assert set(toggles) == {"Available now", "Available at my library (West Library)"}
    mine = lxml.html.fromstring(
        await (await reader.get(toggles["Available at my library (West Library)"])).text()
    )
    # At West: Mansfield Park is available; Emma's copy there is not for loan, Persuasion's on loan.
    found = {_text(card.find_class("result-card__title")[0]) for card in mine.find_class("result-card")}
    assert found == {"Mansfield Park"}


async def test_the_api_carries_status_due_date_and_as_of(client: Client, catalogue: Catalogue) -> None:
    record = await (await client.get("/api/records/u-persuasion")).json()
    assert [(h["library"], h.get("status"), h.get("due_date")) for h in record["holdings"]] == [
        ("west", "on_loan", "2027-02-01"),
        ("north", None, None),
    ]
    assert record["as_of"] == {"west": finished(catalogue, "west")}
    body = await (await client.get("/api/search?availability=available&available_at=east")).json()
    assert [hit["id"] for hit in body["hits"]] == ["u-emma"]
    assert body["hits"][0]["as_of"] == {
        "east": finished(catalogue, "east"),
        "west": finished(catalogue, "west"),
    }
    assert {value["value"] for value in body["facets"]["availability"]} == {
        "available",
        "on_loan",
        "not_for_loan",
    }
    # A status outside the vocabulary is no copy's: nothing found, not an error.
    none = await (await client.get("/api/search?availability=maybe")).json()
    assert none["total"] == 0
