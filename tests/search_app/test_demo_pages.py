"""Pages over the demo catalogue (``unicat demo``), whose records are the expected answers: the home
page's examples find records, "N more editions" leads to them, and only librarians see how a record
was merged and the links to their desk."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import lxml.html
import pytest

from search_app.app import make_app
from tests.search_app.accounts_http import staff_client
from tests.search_app.search_app_catalogue import Client, ClientFactory
from unicat.catalogue import Catalogue
from unicat.query import SearchQuery, parse_search_params
from unicat.settings import Settings

pytest_plugins = ["tests.search_app.demo_catalogue"]

# The ISBN of the demo's Penguin Classics "Pride and prejudice" (pride-and-prejudice-fixed.mrc), whose
# work has more editions in the demo than a record page lists.
PRIDE_ISBN = "9780141439518"


@pytest.fixture
async def demo_client(
    demo_catalogue: Catalogue, demo_settings: Settings, aiohttp_client: ClientFactory
) -> Client:
    return await aiohttp_client(make_app(demo_catalogue, demo_settings))


async def html(client: Client, path: str) -> lxml.html.HtmlElement:
    response = await client.get(path)
    assert response.status == 200, await response.text()
    return lxml.html.fromstring(await response.text())


def home_examples(doc: lxml.html.HtmlElement) -> list[str]:
    """The searches the home page offers: the search box's placeholder ("e.g. A, B, C") and the tips."""
    [box] = doc.cssselect("#home-q")
    placeholder = box.get("placeholder")
    assert placeholder.startswith("e.g. ")
    typed = placeholder.removeprefix("e.g. ").split(", ")
    tips = [parse_qs(urlsplit(a.get("href")).query)["q"][0] for a in doc.cssselect(".hero__example")]
    assert [a.text_content() for a in doc.cssselect(".hero__example code")] == tips
    return typed + tips


async def test_every_example_on_the_home_page_finds_records_in_the_demo(
    demo_client: Client, demo_catalogue: Catalogue, demo_settings: Settings
) -> None:
    examples = home_examples(await html(demo_client, "/"))
    assert len(examples) == 6
    for example in examples:
        # The engine's own count, and the results page a reader gets from the example.
        query: SearchQuery = parse_search_params({"q": [example]}, demo_settings)
        assert demo_catalogue.index.search(query).total >= 1, example
        response = await demo_client.get("/api/search", params={"q": example})
        assert (await response.json())["total"] >= 1, example


async def test_more_editions_links_to_a_search_listing_the_other_editions(
    demo_client: Client, demo_catalogue: Catalogue, demo_settings: Settings
) -> None:
    [hit] = demo_catalogue.index.search(parse_search_params({"q": [PRIDE_ISBN]}, demo_settings)).hits
    record = demo_catalogue.index.get_union_record(hit.id)
    assert record is not None and record.work is not None
    doc = await html(demo_client, f"/record/{record.id}")
    shown = len(doc.cssselect(".edition-list > li"))
    [more] = doc.cssselect(".edition-list__more a")
    assert more.text_content() == f"{len(record.editions) - shown} more editions are in the catalogue"
    assert shown > 0 and len(record.editions) > shown
    # The link's search lists exactly the record's other editions, each of the same work.
    response = await demo_client.get(more.get("href"), params={"page_size": "100", "facets": "0"})
    assert response.status == 200
    listed = lxml.html.fromstring(await response.text())
    ids = {a.get("href").removeprefix("/record/") for a in listed.cssselect(".result-card__title a")}
    assert ids == set(record.editions) and record.id not in ids
    for edition_id in list(ids)[:10]:
        edition = demo_catalogue.index.get_union_record(edition_id)
        assert edition is not None and edition.work == record.work
    chips = [" ".join(a.text_content().split()) for a in listed.cssselect(".active-filters .chip")]
    assert chips == [f"Remove filter Editions of: {record.id}×"]


def librarians_bits(doc: lxml.html.HtmlElement) -> dict[str, int]:
    """What only librarians should see on a page, counted."""
    provenance = doc.cssselect(".record__provenance")[0].text_content()
    return {
        "desk links": len(doc.cssselect("a[href^='/librarians/']")),
        "merge desk": len(doc.cssselect(".record__merge-desk")),
        "merge keys": int("merged by" in provenance)
        + len(doc.cssselect(".record__provenance code"))
        - len(doc.cssselect(".sources-table code")),
    }


async def test_patrons_do_not_see_the_librarians_links_or_merge_keys_and_librarians_do(
    demo_client: Client, demo_catalogue: Catalogue, demo_settings: Settings, aiohttp_client: ClientFactory
) -> None:
    # A union record the demo merged from two libraries' records: it has a merge rule and key.
    merged = next(
        hit
        for hit in demo_catalogue.index.search(parse_search_params({"q": [PRIDE_ISBN]}, demo_settings)).hits
    )
    record = demo_catalogue.index.get_union_record(merged.id)
    assert record is not None and record.merge, "the demo merges this edition's copies"
    path = f"/record/{record.id}"

    patron = await staff_client(
        aiohttp_client,
        make_app(demo_catalogue, demo_settings),
        demo_catalogue.accounts,
        role="patron",
        email="patron-views@example.org",
    )
    librarian = await staff_client(
        aiohttp_client,
        make_app(demo_catalogue, demo_settings),
        demo_catalogue.accounts,
        email="librarian-views@example.org",
    )
    for reader in (demo_client, patron):
        doc = await html(reader, path)
        assert librarians_bits(doc) == {"desk links": 0, "merge desk": 0, "merge keys": 0}
        assert "Harvests (for librarians)" not in doc.cssselect(".site-footer")[0].text_content()
    doc = await html(librarian, path)
    bits = librarians_bits(doc)
    # The header's desk link, the footer's harvests link and the merge desk link; every merge key.
    assert bits["desk links"] == 3 and bits["merge desk"] == 1
    assert bits["merge keys"] == 1 + len(record.merge)
    provenance = " ".join(doc.cssselect(".record__provenance")[0].text_content().split())
    for rule in record.merge:
        assert rule.key in provenance


async def test_the_demo_directory_resolves_each_copy_and_shows_one_source_with_many_libraries(
    demo_client: Client, demo_catalogue: Catalogue
) -> None:
    sites: dict[str, set[str | None]] = {}
    for record in demo_catalogue.index.iter_union_records():
        for holding in record.holdings:
            sites.setdefault(holding.library, set()).add(holding.site)
    directory = demo_catalogue.libraries.directory()

    # Every copy of every demo source is kept by a library of the directory, VIRG's by several; the
    # directory's one other library is the one searched live, whose copies are never in the union.
    assert None not in set().union(*sites.values())
    live = {target.code for target in demo_catalogue.targets.list_targets()}
    assert live == {"AUSC"}
    assert {site for found in sites.values() for site in found} == {
        library.code for library in directory if library.code not in live
    }
    assert sites["VIRG"] == {library.code for library in directory.of_source("VIRG")}
    assert len(sites["VIRG"]) == 6
    listed = await html(demo_client, "/libraries")
    assert len(listed.findall(".//tbody/tr")) == len(directory)
    page = await html(demo_client, "/libraries/AUSB")
    assert "Winchester Road" in page.text_content()
