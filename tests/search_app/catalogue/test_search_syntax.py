"""The search box's syntax end to end, through /api/search and /search, on each storage setup.

Expected records come from the test catalogue's table (search_app_catalogue.RECORDS) and from the
searches of single words each operator combines: OR is their union, NOT their difference.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest

from search_app.app import make_app
from tests.search_app.search_app_catalogue import RECORDS, Client, ClientFactory
from unicat.catalogue import Catalogue
from unicat.query import MAX_CLAUSES
from unicat.query_syntax import MAX_DEPTH, NOTICE_MESSAGES

ALL_IDS = {record.id for record in RECORDS}
PRIDE = {record.id for record in RECORDS if "pride" in record.title.lower()}
AUSTEN = {record.id for record in RECORDS if any(author.startswith("Austen") for author in record.authors)}
FAUST = {record.id for record in RECORDS if "faust" in record.title.lower()}
NOVELS = {record.id for record in RECORDS if "novels" in record.title.lower()}


@pytest.fixture
def catalogue(each_setup_catalogue: Catalogue) -> Catalogue:
    return each_setup_catalogue


@pytest.fixture
async def client(catalogue: Catalogue, aiohttp_client: ClientFactory) -> Client:
    return await aiohttp_client(make_app(catalogue, catalogue.index.settings))


async def api(client: Client, q: str, status: int = 200) -> Any:
    response = await client.get("/api/search?" + urlencode({"q": q, "page_size": 100}))
    assert response.status == status, await response.text()
    return await response.json()


async def found(client: Client, q: str) -> set[str]:
    body = await api(client, q)
    assert body["total"] == len(body["hits"])
    return {hit["id"] for hit in body["hits"]}


async def test_the_single_words_find_what_the_data_says(client: Client) -> None:
    # The bases the operators are checked against, each non-empty and not everything.
    assert await found(client, "pride") == PRIDE == {"u-pp1980", "u-pp1990"}
    assert await found(client, "austen") == AUSTEN
    assert await found(client, "faust") == FAUST == {"u-faust"}
    assert await found(client, "novels") == NOVELS


async def test_or_is_the_union_of_the_two_searches(client: Client) -> None:
    assert await found(client, "pride OR faust") == PRIDE | FAUST
    assert await found(client, "pride OU faust") == PRIDE | FAUST
    assert await found(client, "pride OF faust") == PRIDE | FAUST
    assert await found(client, "PRIDE OR FAUST") == PRIDE | FAUST


async def test_not_and_minus_exclude(client: Client) -> None:
    expected = AUSTEN - PRIDE
    assert expected and expected != AUSTEN
    for q in ("austen NOT pride", "austen -pride", "austen SAUF pride", "austen NIET pride"):
        assert await found(client, q) == expected, q
    assert await found(client, 'austen -"pride and prejudice"') == expected


async def test_parentheses_and_precedence(client: Client) -> None:
    assert await found(client, "(pride OR novels) austen") == (PRIDE | NOVELS) & AUSTEN
    # AND before OR: faust, or the Austen novels.
    assert await found(client, "faust OR novels austen") == FAUST | (NOVELS & AUSTEN)
    assert await found(client, 'title:"pride and prejudice" OR title:faust') == PRIDE | FAUST


async def test_and_and_capitals_read_as_the_plain_words(client: Client) -> None:
    words = await found(client, "pride prejudice")
    assert words == PRIDE
    assert await found(client, "pride AND prejudice") == words
    assert await found(client, "PRIDE AND PREJUDICE") == words
    assert await found(client, "pride ET prejudice") == words


async def test_an_unclosed_quote_searches_the_plain_words_with_a_notice(client: Client) -> None:
    body = await api(client, '"pride prejudice')
    assert {hit["id"] for hit in body["hits"]} == await found(client, "pride prejudice")
    assert body["notices"] == [NOTICE_MESSAGES["unclosed_quote"]]
    plain = await api(client, "pride prejudice")
    assert plain["notices"] == []


async def test_a_lone_quote_or_parenthesis_finds_nothing_not_everything(client: Client) -> None:
    for q in ('"', "(", "()", ")", "AND"):
        body = await api(client, q)
        assert (body["total"], body["hits"]) == (0, []), q
        assert body["notices"][-1] == NOTICE_MESSAGES["nothing_to_search"], q


async def test_dangling_operators_and_parentheses_are_dropped_with_a_notice(client: Client) -> None:
    body = await api(client, "pride AND")
    assert {hit["id"] for hit in body["hits"]} == PRIDE
    assert body["notices"] == [NOTICE_MESSAGES["dangling_operator"] % {"word": "AND"}]
    body = await api(client, "(pride OR faust")
    assert {hit["id"] for hit in body["hits"]} == PRIDE | FAUST
    assert body["notices"] == [NOTICE_MESSAGES["unbalanced_parenthesis"]]


async def test_only_exclusions_list_everything_else_with_a_notice(client: Client) -> None:
    body = await api(client, "-austen")
    assert {hit["id"] for hit in body["hits"]} == ALL_IDS - AUSTEN
    assert body["notices"] == [NOTICE_MESSAGES["only_exclusions"]]


async def test_limits_are_400s_that_name_them(client: Client) -> None:
    body = await api(client, " OR ".join(f"w{n}" for n in range(MAX_CLAUSES + 1)), status=400)
    assert "MAX_CLAUSES" in str(body)
    body = await api(client, "(" * (MAX_DEPTH + 1) + "pride", status=400)
    assert f"more than {MAX_DEPTH} deep" in str(body)


async def test_the_results_page_shows_the_notice_and_the_or_branches(client: Client) -> None:
    response = await client.get("/search?" + urlencode({"q": "(pride OR faust"}))
    assert response.status == 200
    html = await response.text()
    assert NOTICE_MESSAGES["unbalanced_parenthesis"] in html
    for record_id in PRIDE | FAUST:
        assert f"/record/{record_id}" in html
    # Both branches of the OR are highlighted.
    assert "<mark>Pride</mark>" in html and "<mark>Faust</mark>" in html
    response = await client.get("/search?" + urlencode({"q": '"'}))
    html = await response.text()
    assert response.status == 200
    assert NOTICE_MESSAGES["nothing_to_search"] in html
    assert "/record/" not in html
