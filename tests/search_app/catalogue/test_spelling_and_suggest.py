""" "Did you mean" and suggestions as you type, over the web app on each storage setup (SQLite alone;
PostgreSQL + Elasticsearch). Expected answers come from the test records (``RECORDS``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import lxml.html
import pytest

from tests.conftest import build_union_record
from tests.search_app.search_app_catalogue import RECORDS, Client
from unicat.analysis import analyze, tokens
from unicat.catalogue import Catalogue
from unicat.union_generation import write_union_generation


@pytest.fixture
def catalogue(each_setup_catalogue: Catalogue) -> Catalogue:
    return each_setup_catalogue


async def get_json(client: Client, path: str, status: int = 200) -> Any:
    response = await client.get(path)
    assert response.status == status, await response.text()
    assert response.content_type == "application/json"
    return await response.json()


def titles_with(*words: str) -> int:
    """How many test records hold every one of ``words`` in their title."""
    return sum(1 for record in RECORDS if set(words) <= set(tokens(record.title)))


async def test_a_misspelt_search_proposes_the_catalogues_spelling(client: Client) -> None:
    body = await get_json(client, "/api/search?q=pride+and+predjudice")
    assert body["total"] == 0
    assert body["did_you_mean"] == {"q": "pride and prejudice", "total": titles_with("pride", "prejudice")}
    # Field prefixes and operators are kept; only the misspelt word changes.
    body = await get_json(client, "/api/search?q=title%3Apredjudice")
    assert body["did_you_mean"]["q"] == "title:prejudice"


async def test_the_results_page_links_to_the_correction(client: Client) -> None:
    response = await client.get("/search?q=pride+and+predjudice")
    assert response.status == 200
    page = lxml.html.fromstring(await response.text())
    [paragraph] = page.xpath("//p[@class='did-you-mean']")
    [link] = paragraph.xpath(".//a")
    assert "Did you mean" in paragraph.text_content()
    assert link.text_content() == "pride and prejudice"
    assert parse_qs(urlsplit(link.get("href")).query)["q"] == ["pride and prejudice"]
    followed = await get_json(client, "/api/search?" + urlsplit(link.get("href")).query)
    assert followed["total"] == titles_with("pride", "prejudice") > 0


async def test_never_a_suggestion_that_finds_nothing(client: Client) -> None:
    # The speller corrects "predjudice", but no record has the corrected words with Hugo's name.
    assert not any({"prejudice", "hugo"} <= set(analyze([r.title, *r.authors]).split()) for r in RECORDS)
    body = await get_json(client, "/api/search?q=predjudice+hugo")
    assert body["total"] == 0 and body["did_you_mean"] is None
    # A filter that the corrected search keeps and no Pride and Prejudice matches.
    body = await get_json(client, "/api/search?q=predjudice&format=map")
    assert body["did_you_mean"] is None


async def test_a_search_that_finds_enough_is_not_checked(client: Client) -> None:
    body = await get_json(client, "/api/search?q=austen")
    assert body["total"] > 3 and body["did_you_mean"] is None


async def test_the_speller_follows_a_rebuild(client: Client, catalogue: Catalogue) -> None:
    assert (await get_json(client, "/api/search?q=moby+dicck"))["did_you_mean"] is None
    write_union_generation(
        catalogue.records, catalogue.index, [*RECORDS, build_union_record("u-moby", "Moby Dick")], {}
    )
    body = await get_json(client, "/api/search?q=moby+dicck")
    assert body["did_you_mean"] == {"q": "moby dick", "total": 1}
    assert await get_json(client, "/api/suggest?q=moby") == [
        {"text": "Moby Dick", "kind": "title", "count": 1}
    ]


def headings(kind: str) -> dict[str, int]:
    """The test records' headings of ``kind`` with how many records carry each."""
    counted: dict[str, int] = {}
    for record in RECORDS:
        texts = {"title": [record.title], "author": record.authors, "subject": record.subjects}[kind]
        for text in dict.fromkeys(texts):
            counted[text] = counted.get(text, 0) + 1
    return counted


async def test_suggestions_by_prefix_most_used_first(client: Client) -> None:
    found = await get_json(client, "/api/suggest?q=Pri&limit=8")
    expected = {
        (text, kind, count)
        for kind in ("title", "author", "subject")
        for text, count in headings(kind).items()
        if analyze(text).startswith("pri")
    }
    assert {(entry["text"], entry["kind"], entry["count"]) for entry in found} == expected
    assert found[0] == {"text": "Pride and prejudice", "kind": "title", "count": 2}
    # Accents and case folded; previous words complete, the last one a prefix.
    assert [entry["text"] for entry in await get_json(client, "/api/suggest?q=LES+MISÉ")] == [
        "Les Misérables"
    ]
    authors = await get_json(client, "/api/suggest?q=austen%2C+j")
    assert authors == [
        {
            "text": "Austen, Jane, 1775-1817",
            "kind": "author",
            "count": headings("author")["Austen, Jane, 1775-1817"],
        }
    ]
    # A finished word is not a prefix: "pride " does not offer what starts "prided".
    assert all(
        entry["text"].lower().startswith("pride ")
        for entry in await get_json(client, "/api/suggest?q=pride+")
    )
    starting_l = [
        text for kind in ("title", "author", "subject") for text in headings(kind) if analyze(text)[0] == "l"
    ]
    assert len(starting_l) > 2
    assert len(await get_json(client, "/api/suggest?q=l&limit=2")) == 2
    assert await get_json(client, "/api/suggest?q=%20%21") == []


@pytest.mark.parametrize(
    ("query", "param", "names"),
    [
        ("", "q", "required"),
        ("?q=pri&limit=0", "limit", "suggest_max_limit"),
        ("?q=pri&limit=21", "limit", "suggest_max_limit"),
        ("?q=pri&limit=eight", "limit", "whole number"),
        ("?q=pri&q=emma", "q", "once"),
        ("?q=" + "a" * 201, "q", "200"),
    ],
)
async def test_bad_suggestion_parameters_are_a_400(
    client: Client, query: str, param: str, names: str
) -> None:
    error = (await get_json(client, "/api/suggest" + query, status=400))["error"]
    assert error["param"] == param and names in error["message"]
