"""What is new, over real HTTP on each storage setup: ``/new``, ``/libraries/{code}/new`` and their Atom
feeds.

The catalogue is built in two generations. The first holds the test records (search_app_catalogue.RECORDS)
but two, and its members are dated 60 days back, as a catalogue would be whose titles entered it then.
The second adds the two left out and a new Bodleian copy of a Lyon map (a new member merged into an old
title). Every expected answer is derived from that difference: what the second generation added to the
network, and what it added at each library.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import feedparser
import lxml.html
import pytest

from indexer.sites import with_sites
from search_app.app import make_app
from search_app.catalogue.new_titles import DEFAULT_DAYS, MAX_DAYS
from search_app.openapi import openapi_document
from tests.search_app.search_app_catalogue import RECORDS, REDIRECTS, SOURCES, Client, ClientFactory, holding
from tests.search_app.test_accessibility import assert_accessible
from unicat.availability import site
from unicat.catalogue import Catalogue
from unicat.clock import TIME_FORMAT, parse_time, utc_now
from unicat.libraries import Library
from unicat.model import SourceRef, UnionRecord
from unicat.settings import Settings
from unicat.union_generation import write_union_generation

DIRECTORY = [
    Library("OXF", "Bodleian Library", source="oxford"),
    Library("MCG", "McGill University Library", source="mcgill"),
    Library("LYO", "Bibliothèque municipale de Lyon", source="lyon"),
]
LEFT_OUT = {"u-faust", "u-quijote"}
OLD = (datetime.now(UTC) - timedelta(days=60)).strftime(TIME_FORMAT)


def second_generation() -> list[UnionRecord]:
    """Every test record, the Lyon map with a Bodleian copy of its own (a new Oxford member)."""
    records = []
    for record in RECORDS:
        record = dataclasses.replace(record)
        if record.id == "u-carte":
            record.holdings = [*record.holdings, holding("oxford", "C 17 (Maps)")]
            record.sources = [*record.sources, SourceRef("oxford", "UkOxUb-carte")]
        records.append(record)
    return records


def placed(records: list[UnionRecord], catalogue: Catalogue) -> list[UnionRecord]:
    directory = catalogue.libraries.directory()
    return [with_sites(dataclasses.replace(record), directory) for record in records]


def held_at(records: list[UnionRecord], code: str) -> set[str]:
    return {record.id for record in records if any(site(h) == code for h in record.holdings)}


FIRST = [record for record in RECORDS if record.id not in LEFT_OUT]
SECOND = second_generation()
NEW_IN_NETWORK = sorted({r.id for r in SECOND} - {r.id for r in FIRST})


@dataclasses.dataclass(frozen=True)
class Generations:
    """The catalogue after both generations, and the clock read around the second's run."""

    catalogue: Catalogue
    first: list[UnionRecord]
    second: list[UnionRecord]
    before: str
    after: str

    def new_at(self, code: str) -> list[str]:
        """Titles the second generation gave a copy at library ``code`` that the first did not: one
        instant, so in the order of their ids."""
        return sorted(held_at(self.second, code) - held_at(self.first, code))


@pytest.fixture
def generations(catalogue_factory: Any) -> Iterator[Generations]:
    catalogue: Catalogue = catalogue_factory(facet_size=20)
    for source in SOURCES:
        catalogue.records.save_source(source)
    catalogue.libraries.put_libraries(DIRECTORY)
    first = placed(FIRST, catalogue)
    seen = {ref.key: OLD for record in first for ref in record.sources}
    held = {
        (ref.source, ref.local_id, site(h)): OLD
        for record in first
        for ref in record.sources
        for h in record.holdings
        if h.library == ref.source
    }
    catalogue.records.restore_first_dates(
        [(*key, date) for key, date in seen.items()], [(*key, date) for key, date in held.items()]
    )
    write_union_generation(catalogue.records, catalogue.index, first, REDIRECTS)
    second = placed(SECOND, catalogue)
    before = utc_now()
    write_union_generation(catalogue.records, catalogue.index, second, REDIRECTS)
    yield Generations(catalogue, first, second, before, utc_now())


@pytest.fixture
async def client(generations: Generations, aiohttp_client: ClientFactory) -> Client:
    return await aiohttp_client(make_app(generations.catalogue, generations.catalogue.index.settings))


async def page(client: Client, path: str, **params: str) -> lxml.html.HtmlElement:
    response = await client.get(path + ("?" + urlencode(params) if params else ""))
    html = await response.text()
    assert response.status == 200, html
    assert_accessible(html)
    return lxml.html.fromstring(html)


def hit_ids(doc: lxml.html.HtmlElement) -> list[str]:
    return [
        a.get("href").removeprefix("/record/") for a in doc.findall(".//h3[@class='result-card__title']/a")
    ]


async def feed(client: Client, path: str, **params: str) -> Any:
    response = await client.get(path + ("?" + urlencode(params) if params else ""))
    body = await response.read()
    assert response.status == 200, body
    assert response.content_type == "application/atom+xml"
    parsed = feedparser.parse(body)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    return parsed


def entry_ids(parsed: Any) -> list[str]:
    return [entry.id.rsplit("/record/", 1)[1] for entry in parsed.entries]


async def test_the_network_page_lists_what_the_second_generation_added(
    client: Client, generations: Generations
) -> None:
    doc = await page(client, "/new")

    assert hit_ids(doc) == NEW_IN_NETWORK == ["u-faust", "u-quijote"]
    # Each hit says since when it is in the catalogue: the day of the second generation.
    dates = [" ".join(p.text_content().split()) for p in doc.find_class("result-card__new")]
    assert dates == [f"In the catalogue since {generations.before[:10]}"] * 2
    # Over 90 days the first generation (60 days old) follows, newest first.
    longer = await page(client, "/new", days="90")
    assert hit_ids(longer)[:2] == NEW_IN_NETWORK
    assert set(hit_ids(longer)) == {record.id for record in RECORDS}
    current = longer.find(".//nav[@class='new-titles__periods']//a[@aria-current='page']")
    assert current is not None and current.text_content() == "Last 90 days"


async def test_a_library_page_lists_the_titles_first_held_there(
    client: Client, generations: Generations
) -> None:
    oxford = await page(client, "/libraries/OXF/new")
    mcgill = await page(client, "/libraries/MCG/new")
    lyon = await page(client, "/libraries/LYO/new")

    # The map is old in the network, new at the Bodleian only.
    assert hit_ids(oxford) == generations.new_at("OXF") == ["u-carte", "u-faust", "u-quijote"]
    assert hit_ids(mcgill) == generations.new_at("MCG") == ["u-quijote"]
    assert hit_ids(lyon) == generations.new_at("LYO") == []
    assert "u-carte" not in hit_ids(await page(client, "/new"))
    dates = {" ".join(p.text_content().split()) for p in oxford.find_class("result-card__new")}
    assert dates == {f"At this library since {generations.before[:10]}"}
    assert oxford.findtext(".//h1") == "New at Bodleian Library"
    # The library's page links to it.
    library = await page(client, "/libraries/OXF")
    assert "/libraries/OXF/new" in [a.get("href") for a in library.iter("a")]


async def test_facets_filters_and_the_search_box_narrow_within_the_new_titles(
    client: Client, generations: Generations
) -> None:
    doc = await page(client, "/libraries/OXF/new")
    german = [a.get("href") for a in doc.iter("a") if a.get("href", "").endswith("?language=ger")]
    assert german == ["/libraries/OXF/new?language=ger"]
    assert hit_ids(await page(client, german[0])) == ["u-faust"]
    form = doc.find(".//form[@class='search-form new-titles__search']")
    assert form is not None and form.get("action") == "/libraries/OXF/new"
    assert hit_ids(await page(client, "/libraries/OXF/new", q="quijote")) == ["u-quijote"]
    # Filters and the period survive paging.
    paged = await page(client, "/new", days="90", language="fre", page_size="2")
    french = sorted((r for r in RECORDS if r.language == "fre"), key=lambda r: r.id)
    assert len(hit_ids(paged)) == 2
    assert "/new?language=fre&page_size=2&page=2&days=90" in [a.get("href") for a in paged.iter("a")]
    second_page = await page(client, "/new", days="90", language="fre", page_size="2", page="2")
    assert set(hit_ids(paged) + hit_ids(second_page)) < {r.id for r in french}


async def test_the_feeds_list_the_new_titles_dated_when_they_became_new(
    client: Client, generations: Generations
) -> None:
    network = await feed(client, "/new.atom")
    oxford = await feed(client, "/libraries/OXF/new.atom")
    french_at_oxford = await feed(client, "/libraries/OXF/new.atom", language="fre")
    lyon = await feed(client, "/libraries/LYO/new.atom")

    assert entry_ids(network) == NEW_IN_NETWORK
    assert entry_ids(oxford) == generations.new_at("OXF")
    assert entry_ids(french_at_oxford) == ["u-carte"]
    for parsed in (network, oxford):
        for entry in parsed.entries:
            assert generations.before <= entry.updated <= generations.after
        assert parsed.feed.updated == max(entry.updated for entry in parsed.entries)
    assert lyon.entries == [] and lyon.feed.updated == "1970-01-01T00:00:00Z"
    assert network.feed.links[0].href.endswith("/new.atom")


async def test_a_reindex_of_the_same_data_adds_nothing(client: Client, generations: Generations) -> None:
    before = await client.get("/libraries/OXF/new.atom")
    body = await before.read()

    write_union_generation(
        generations.catalogue.records, generations.catalogue.index, generations.second, REDIRECTS
    )

    after = await client.get("/libraries/OXF/new.atom")
    assert await after.read() == body
    assert after.headers["ETag"] == before.headers["ETag"]
    assert hit_ids(await page(client, "/new")) == NEW_IN_NETWORK


async def test_pages_name_their_feed_for_autodiscovery(client: Client) -> None:
    doc = await page(client, "/libraries/OXF/new", language="fre")
    [alternate] = doc.findall(".//head/link[@type='application/atom+xml']")
    assert alternate.get("rel") == "alternate"
    assert alternate.get("href") == "/libraries/OXF/new.atom?language=fre"
    visible = doc.find(".//p[@class='new-titles__feed']/a")
    assert visible is not None and visible.get("href") == alternate.get("href")
    assert entry_ids(await feed(client, alternate.get("href"))) == ["u-carte"]
    footer = await page(client, "/")
    assert "/new" in [a.get("href").split("?")[0] for a in footer.iter("a")]


async def test_a_poll_with_the_validators_is_not_modified(client: Client) -> None:
    first = await client.get("/new.atom")
    assert first.headers["Cache-Control"] == "public, max-age=300"
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert parse_time(feedparser.parse(await first.read()).feed.updated) == parse_time(
        datetime.strptime(modified, "%a, %d %b %Y %H:%M:%S GMT").strftime(TIME_FORMAT)
    )

    by_tag = await client.get("/new.atom", headers={"If-None-Match": etag})
    by_date = await client.get("/new.atom", headers={"If-Modified-Since": modified})

    assert by_tag.status == by_date.status == 304
    assert await by_tag.read() == b""


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/new?days=0", "days"),
        ("/new?days=abc", "days"),
        ("/new?days=400", "days"),
        ("/new?days=7&days=30", "days"),
        ("/new.atom?days=-1", "days"),
        ("/new?sort=title", "sort"),
        ("/libraries/OXF/new?new_at=MCG", "new_at"),
        ("/libraries/OXF/new.atom?new_since=2020-01-01", "new_since"),
        ("/new?language=fre&page=0", "page"),
    ],
)
async def test_bad_parameters_are_a_400_naming_them(client: Client, path: str, name: str) -> None:
    response = await client.get(path)

    assert response.status == 400
    assert name in await response.text()


async def test_an_unknown_library_is_a_404(client: Client) -> None:
    for path in ("/libraries/NOPE/new", "/libraries/NOPE/new.atom"):
        response = await client.get(path)
        assert response.status == 404
        shown = lxml.html.fromstring(await response.text()).text_content()
        assert "There is no library 'NOPE' in the directory." in " ".join(shown.split())


def test_the_openapi_document_states_the_period_the_code_takes() -> None:
    schema = openapi_document(Settings())["components"]["parameters"]["new.days"]["schema"]

    assert (schema["minimum"], schema["maximum"], schema["default"]) == (1, MAX_DAYS, DEFAULT_DAYS)


async def test_a_feed_lists_the_newest_new_feed_entries(
    generations: Generations, aiohttp_client: ClientFactory
) -> None:
    settings = generations.catalogue.index.settings.replace(new_feed_entries=3)
    client = await aiohttp_client(make_app(generations.catalogue, settings))

    parsed = await feed(client, "/new.atom", days="90", page_size="20", page="2")

    # The two of the second generation, then the first of the older ones by id (one instant each).
    older = sorted(record.id for record in generations.first)
    assert entry_ids(parsed) == [*NEW_IN_NETWORK, older[0]]


async def test_the_record_page_says_since_when_the_title_and_each_library_have_it(
    client: Client, generations: Generations
) -> None:
    old_day, new_days = OLD[:10], {generations.before[:10], generations.after[:10]}
    for record in generations.second:
        doc = await page(client, f"/record/{record.id}")
        [since] = doc.cssselect(".record__since")
        day = since.text_content().removeprefix("In the catalogue since ")
        assert day == old_day if record.id not in LEFT_OUT else day in new_days
        shown = {
            group.cssselect(".holdings-library__name .holdings-library__code")[0].text_content(): (
                group.cssselect(".holdings-library__since")[0].text_content()
            )
            for group in doc.cssselect(".holdings-library")
        }
        # Every library keeping a copy says since when (the Lyon map's Bodleian copy: the second run's day).
        assert set(shown) == {site(h) for h in record.holdings}
        for code, text in shown.items():
            day = text.removeprefix("At this library since ")
            held_before = record.id in held_at(generations.first, code)
            assert day == old_day if held_before else day in new_days, (record.id, code, text)
