"""Facets that combine on the results page and in the API: several values of a facet (OR), facets
together (AND), excluded values, "Show more". Every count comes from search_app_catalogue.RECORDS."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import lxml.html

from search_app.app import make_app
from tests.search_app.search_app_catalogue import NAMES, RECORDS, Client, ClientFactory
from unicat.catalogue import Catalogue
from unicat.model import UnionRecord
from unicat.settings import Settings

LANGUAGES = {"eng": "English", "fre": "French", "ger": "German", "spa": "Spanish"}


async def page(client: Client, path: str) -> lxml.html.HtmlElement:
    response = await client.get(path)
    assert response.status == 200, await response.text()
    return lxml.html.fromstring(await response.text())


def text_of(element: lxml.html.HtmlElement) -> str:
    return " ".join(element.text_content().split())


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def count_line(doc: lxml.html.HtmlElement) -> str:
    return text_of(doc.find_class("results-count")[0])


def section(doc: lxml.html.HtmlElement, facet: str) -> lxml.html.HtmlElement:
    found = doc.get_element_by_id(f"facet-{facet}").getparent()
    assert found is not None
    return found


def shown(doc: lxml.html.HtmlElement, facet: str) -> dict[str, int]:
    """Label → count of every value the sidebar shows for ``facet``."""
    counts = {}
    for link in section(doc, facet).find_class("facet__link"):
        label = text_of(link.find_class("facet__label")[0]).removeprefix("Remove filter: ")
        counts[label] = int(text_of(link.find_class("facet__count")[0]).split()[0].replace(",", ""))
    return counts


def exclude_links(doc: lxml.html.HtmlElement, facet: str) -> dict[str, str]:
    """Accessible name → link of every "Exclude" control of ``facet``."""
    links = {}
    for link in section(doc, facet).find_class("facet__exclude"):
        assert text_of(link) == "Exclude"
        links[link.get("aria-label") or ""] = link.get("href") or ""
    return links


def languages(records: list[UnionRecord]) -> dict[str, int]:
    return {LANGUAGES[code]: n for code, n in Counter(r.language for r in records if r.language).items()}


def libraries(records: list[UnionRecord]) -> dict[str, int]:
    return {NAMES[code]: n for code, n in Counter(c for r in records for c in r.libraries).items()}


def where(test: Callable[[UnionRecord], bool]) -> list[UnionRecord]:
    return [r for r in RECORDS if test(r)]


async def test_a_chosen_language_keeps_the_others_and_a_second_one_adds_up(client: Client) -> None:
    french = where(lambda r: r.language == "fre")
    doc = await page(client, "/search?language=fre")
    assert f"of {len(french)} titles" in count_line(doc)
    # Every language is still offered with its count over the whole catalogue.
    assert shown(doc, "language") == languages(RECORDS)
    assert shown(doc, "held_at") == libraries(french)
    english = next(a for a in section(doc, "language").find_class("facet__link") if "English" in text_of(a))
    assert query_of(english.get("href") or "") == {"language": ["fre", "eng"]}
    both = await page(client, english.get("href") or "")
    assert f"of {len(where(lambda r: r.language in ('fre', 'eng')))} titles" in count_line(both)
    assert len(both.find_class("is-selected")) == 2


async def test_facets_narrow_each_other_and_count_without_their_own_choice(client: Client) -> None:
    doc = await page(client, "/search?held_at=oxford&language=eng")
    assert "of 2 titles" in count_line(doc)
    assert shown(doc, "held_at") == libraries(where(lambda r: r.language == "eng"))
    assert shown(doc, "language") == languages(where(lambda r: "oxford" in r.libraries))


async def test_a_value_can_be_excluded_and_the_exclusion_removed(client: Client) -> None:
    doc = await page(client, "/search")
    exclude = exclude_links(doc, "language")
    assert set(exclude) == {f"Exclude {label}" for label in LANGUAGES.values()}
    assert query_of(exclude["Exclude English"]) == {"not_language": ["eng"]}
    # Decades are one range, chosen or not: they have no exclude control.
    assert not section(doc, "year").find_class("facet__exclude")
    without = await page(client, exclude["Exclude English"])
    not_english = where(lambda r: r.language != "eng")
    assert f"of {len(not_english)} titles" in count_line(without)
    assert shown(without, "language") == languages(not_english)
    chip = without.find_class("chip")[0]
    assert text_of(chip) == "Remove filter Language: not English×"
    assert "of 12 titles" in count_line(await page(client, chip.get("href") or ""))


async def test_excluding_beside_a_choice(client: Client) -> None:
    doc = await page(client, "/search?language=fre")
    lyon = exclude_links(doc, "held_at")["Exclude Bibliothèque municipale de Lyon"]
    assert query_of(lyon) == {"language": ["fre"], "not_held_at": ["lyon"]}
    narrowed = await page(client, lyon)
    chosen = where(lambda r: r.language == "fre" and "lyon" not in r.libraries)
    assert {text_of(h) for h in narrowed.find_class("result-card__title")} == {r.title for r in chosen}
    chips = [text_of(chip) for chip in narrowed.find_class("chip")]
    assert "Remove filter Library: not Bibliothèque municipale de Lyon×" in chips
    assert "Remove filter Language: French×" in chips


async def test_show_more_past_the_first_values(
    catalogue: Catalogue, settings: Settings, aiohttp_client: ClientFactory
) -> None:
    client = await aiohttp_client(make_app(catalogue, settings.replace(facet_size=2)))
    every = languages(RECORDS)
    # eng 5 and fre 5 first; German and Spanish wait for "Show more".
    doc = await page(client, "/search")
    assert shown(doc, "language") == {"English": 5, "French": 5}
    more = section(doc, "language").find_class("facet__more")[0].find("a")
    assert text_of(more) == "Show more" and more.get("aria-label") == "Show more: Language"
    assert query_of(more.get("href") or "") == {"facet_more": ["language"]}
    expanded = await page(client, more.get("href") or "")
    assert shown(expanded, "language") == every
    fewer = section(expanded, "language").find_class("facet__more")[0].find("a")
    assert text_of(fewer) == "Show fewer" and query_of(fewer.get("href") or "") == {}
    # Links made on the expanded page keep the facet expanded.
    german = exclude_links(expanded, "language")["Exclude German"]
    assert query_of(german) == {"not_language": ["ger"], "facet_more": ["language"]}
    # A facet with no more values than shown has no "Show more": two audiences in the data.
    assert len({value for r in RECORDS for value in r.audience}) == 2
    assert not section(doc, "audience").find_class("facet__more")


async def get_json(client: Client, path: str, status: int = 200) -> Any:
    response = await client.get(path)
    assert response.status == status, await response.text()
    return await response.json()


async def test_api_echoes_choices_and_exclusions_and_counts_multi_select(client: Client) -> None:
    body = await get_json(client, "/api/search?language=fre&language=dut&not_library=lyon")
    assert body["filters"] == {"language": ["fre", "dut"]}
    assert body["exclusions"] == {"library": ["lyon"]}
    chosen = where(lambda r: r.language in ("fre", "dut") and "lyon" not in r.libraries)
    assert {hit["id"] for hit in body["hits"]} == {r.id for r in chosen} == {"u-interets"}
    outside_lyon = where(lambda r: "lyon" not in r.libraries)
    language = {f["value"]: f["count"] for f in body["facets"]["language"]}
    assert language == dict(Counter(r.language for r in outside_lyon if r.language))
    assert "lyon" not in {f["value"] for f in body["facets"]["library"]}


async def test_api_facet_more(
    catalogue: Catalogue, settings: Settings, aiohttp_client: ClientFactory
) -> None:
    client = await aiohttp_client(make_app(catalogue, settings.replace(facet_size=2)))
    assert len((await get_json(client, "/api/search"))["facets"]["language"]) == 2
    body = await get_json(client, "/api/search?facet_more=language&facet_more=year")
    assert len(body["facets"]["language"]) == len(LANGUAGES)
    decades = {r.year - r.year % 10 for r in RECORDS if r.year is not None}
    assert len(body["facets"]["year"]) == len(decades) > 2
    assert len(body["facets"]["library"]) == 2
