"""Search history and saved searches over real HTTP (search_app/readers/saved_searches.py): what the
search page records and what it does not, a browser's history under its cookie joining the account's on
sign-in, saving, renaming and deleting by the pages and the JSON API, and the attacks: another reader's
ids (404, as ids that do not exist), changes without the CSRF token, and bad input (400 with a message).

Expected counts come from the test catalogue's records (tests/search_app/search_app_catalogue.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import lxml.html
import pytest
from aiohttp.test_utils import TestClient

from search_app.app import make_app
from search_app.readers.search_history import HISTORY_COOKIE
from tests.search_app.accounts_http import PASSWORD, Site, csrf_of, post_form
from tests.search_app.search_app_catalogue import RECORDS
from unicat.catalogue import Catalogue
from unicat.saved_searches import MAX_NAME

FRENCH = sum(record.language == "fre" for record in RECORDS)
Client = TestClient[Any, Any]


@pytest.fixture
async def site(catalogue: Catalogue) -> AsyncIterator[Site]:
    served = await Site(make_app(catalogue, catalogue.index.settings)).start()
    yield served
    await served.close()


async def history_rows(client: Client, path: str = "/account/history") -> list[tuple[str, str]]:
    """The history page's entries: each link's address and the facts beside it."""
    response = await client.get(path)
    assert response.status == 200
    doc = lxml.html.fromstring(await response.text())
    return (
        [
            (item.find("a").get("href"), item.find_class("kept-searches__facts")[0].text_content())
            for item in doc.find_class("kept-searches")[0].findall("li")
        ]
        if doc.find_class("kept-searches")
        else []
    )


async def api(client: Client, method: str, path: str, **kwargs: Any) -> Any:
    headers = {"X-CSRF-Token": await csrf_of(client)}
    return await client.request(method, path, headers=headers, **kwargs)


async def test_the_search_page_records_one_entry_per_search_under_an_httponly_cookie(site: Site) -> None:
    browser = await site.browser()
    first = await browser.get("/search", params={"q": "austen"})
    assert first.status == 200
    cookie = first.cookies[HISTORY_COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and len(cookie.value) >= 32
    assert cookie.value not in str(first.url) and cookie.value not in await first.text()
    austen = (await (await browser.get("/api/search", params={"q": "austen"})).json())["total"]
    await browser.get("/search", params={"language": "fre"})
    await browser.get("/search", params={"q": "austen", "page": "2", "page_size": "1"})  # the same search
    await browser.get("/api/search", params={"q": "faust"})  # programs' searches are no reader's
    await browser.get("/sru", params={"operation": "searchRetrieve", "version": "2.0", "query": "faust"})
    rows = await history_rows(browser)
    assert [url for url, _ in rows] == ["/search?q=austen", "/search?language=fre"]
    assert rows[0][1].startswith(f"{austen} titles") and rows[1][1].startswith(f"{FRENCH} titles")
    other = await site.browser()
    assert await history_rows(other) == []  # another browser has a history of its own


async def test_deleting_and_clearing_the_history(site: Site, catalogue: Catalogue) -> None:
    browser = await site.browser()
    for words in ("austen", "faust", "quijote"):
        await browser.get("/search", params={"q": words})
    doc = lxml.html.fromstring(await (await browser.get("/account/history")).text())
    faust = doc.xpath("//li[a[@href='/search?q=faust']]/@id")[0].removeprefix("entry-")
    stranger = await site.browser()
    await stranger.get("/search", params={"q": "misérables"})
    refused = await post_form(stranger, f"/account/history/{faust}/delete", {})
    assert refused.status == 404  # not theirs: as if there were no such entry
    deleted = await post_form(browser, f"/account/history/{faust}/delete", {})
    assert (deleted.status, deleted.headers["Location"]) == (303, "/account/history?done=forgotten")
    assert [url for url, _ in await history_rows(browser)] == ["/search?q=quijote", "/search?q=austen"]
    no_token = await browser.post("/account/history/clear", data={}, allow_redirects=False)
    assert no_token.status == 403
    cleared = await post_form(browser, "/account/history/clear?lang=fr", {})
    assert cleared.headers["Location"] == "/account/history?done=cleared&lang=fr"
    assert await history_rows(browser) == []
    assert len(await history_rows(stranger)) == 1


async def test_signing_in_joins_the_browsers_history_to_the_account(site: Site, catalogue: Catalogue) -> None:
    reader = await site.signed_in(catalogue.accounts, "reader@example.org")
    await reader.get("/search", params={"q": "austen"})
    laptop = await site.browser()
    await laptop.get("/search", params={"q": "faust"})
    answer = await post_form(laptop, "/signin", {"email": "reader@example.org", "password": PASSWORD})
    assert answer.status == 303
    assert answer.cookies[HISTORY_COOKIE].value == ""  # the browser forgets its token
    expected = ["/search?q=faust", "/search?q=austen"]
    assert [url for url, _ in await history_rows(laptop)] == expected
    assert [url for url, _ in await history_rows(reader)] == expected
    entries = (await (await reader.get("/api/account/history")).json())["entries"]
    assert [(e["query"], e["url"]) for e in entries] == [
        ({"q": ["faust"]}, expected[0]),
        ({"q": ["austen"]}, expected[1]),
    ]


async def test_a_reader_saves_renames_runs_and_deletes_a_search(site: Site, catalogue: Catalogue) -> None:
    reader = await site.signed_in(catalogue.accounts, "reader@example.org")
    page = await reader.get("/search", params={"q": "austen", "language": "eng", "page": "1", "lang": "fr"})
    form = lxml.html.fromstring(await page.text()).xpath("//form[@action='/account/searches?lang=fr']")[0]
    assert form.xpath(".//input[@name='csrf']/@value") == [await csrf_of(reader)]
    query = form.xpath(".//input[@name='query']/@value")[0]
    assert query == "language=eng&q=austen"
    saved = await post_form(
        reader, "/account/searches?lang=fr", {"name": "  Austen  in English ", "query": query}
    )
    assert (saved.status, saved.headers["Location"]) == (303, "/account/searches?done=saved&lang=fr")
    listed = (await (await reader.get("/api/account/searches")).json())["searches"]
    assert [(s["name"], s["query"], s["url"]) for s in listed] == [
        ("Austen in English", {"language": ["eng"], "q": ["austen"]}, "/search?language=eng&q=austen")
    ]
    assert set(listed[0]) == {
        "id",
        "name",
        "query",
        "url",
        "created",
        "updated",
        "alert",
        "alert_language",
        "feed",
    }
    number = listed[0]["id"]
    doc = lxml.html.fromstring(await (await reader.get("/account/searches?lang=nl")).text())
    assert doc.xpath(f"//li[@id='search-{number}']/a/@href") == ["/search?language=eng&q=austen&lang=nl"]
    run = await reader.get("/search?language=eng&q=austen")
    assert run.status == 200
    renamed = await post_form(reader, f"/account/searches/{number}", {"name": "Jane"})
    assert renamed.status == 303
    one = await (await reader.get(f"/api/account/searches/{number}")).json()
    assert one["name"] == "Jane"
    patched = await api(reader, "PATCH", f"/api/account/searches/{number}", json={"name": "Jane Austen"})
    assert (patched.status, (await patched.json())["name"]) == (200, "Jane Austen")
    deleted = await post_form(reader, f"/account/searches/{number}/delete", {})
    assert deleted.status == 303
    assert (await (await reader.get("/api/account/searches")).json())["searches"] == []


async def test_bad_input_is_a_400_with_a_message(site: Site, catalogue: Catalogue) -> None:
    reader = await site.signed_in(catalogue.accounts, "reader@example.org")
    await post_form(reader, "/account/searches", {"name": "Faust", "query": "q=faust"})
    cases = [
        ({"name": "   ", "query": "q=faust"}, "name"),
        ({"name": "x" * (MAX_NAME + 1), "query": "q=faust"}, "name"),
        ({"name": "Faust", "query": "q=goethe"}, "name"),  # taken
        ({"name": "Loud", "query": "q=faust&sort=loudest"}, "sort"),
        ({"name": "Nothing", "query": "page=2"}, "query"),
    ]
    for data, param in cases:
        page = await post_form(reader, "/account/searches", data)
        assert page.status == 400, data
        doc = lxml.html.fromstring(await page.text())
        assert doc.find_class("form-error")[0].text_content().strip(), data
        body = {
            "name": data["name"],
            "query": {k: v for k, v in [pair.split("=") for pair in data["query"].split("&")]},
        }
        answer = await api(reader, "POST", "/api/account/searches", json=body)
        error = (await answer.json())["error"]
        assert (answer.status, error["param"]) == (400, param), data
        assert error["message"]
    not_json = await api(reader, "POST", "/api/account/searches", data=b"{name")
    assert not_json.status == 400
    bad_id = await reader.get("/api/account/searches/abc")
    assert bad_id.status == 400 and (await bad_id.json())["error"]["param"] == "id"
    assert (await (await reader.get("/account/searches")).text()).count("Faust") >= 1


async def test_the_limit_names_its_setting(catalogue: Catalogue) -> None:
    served = await Site(make_app(catalogue, catalogue.index.settings.replace(saved_searches_max=2))).start()
    try:
        reader = await served.signed_in(catalogue.accounts, "reader@example.org")
        for number in range(2):
            made = await api(
                reader,
                "POST",
                "/api/account/searches",
                json={"name": f"S{number}", "query": {"q": f"w{number}"}},
            )
            assert made.status == 201
        refused = await api(
            reader, "POST", "/api/account/searches", json={"name": "S3", "query": {"q": "w3"}}
        )
        assert refused.status == 409
        assert "saved_searches_max" in (await refused.json())["error"]["message"]
        page = await post_form(reader, "/account/searches", {"name": "S3", "query": "q=w3"})
        assert page.status == 409 and "saved_searches_max" in await page.text()
    finally:
        await served.close()


async def test_another_readers_ids_are_not_found(site: Site, catalogue: Catalogue) -> None:
    alice = await site.signed_in(catalogue.accounts, "alice@example.org")
    bob = await site.signed_in(catalogue.accounts, "bob@example.org")
    made = await api(alice, "POST", "/api/account/searches", json={"name": "Mine", "query": {"q": "faust"}})
    number = (await made.json())["id"]
    await alice.get("/search", params={"q": "austen"})
    entry = (await (await alice.get("/api/account/history")).json())["entries"][0]["id"]
    missing = number + 1000
    for target in (number, missing):
        assert (await bob.get(f"/api/account/searches/{target}")).status == 404
        assert (
            await api(bob, "PATCH", f"/api/account/searches/{target}", json={"name": "Stolen"})
        ).status == 404
        assert (await api(bob, "DELETE", f"/api/account/searches/{target}")).status == 404
        assert (await post_form(bob, f"/account/searches/{target}", {"name": "Stolen"})).status == 404
        assert (await post_form(bob, f"/account/searches/{target}/delete", {})).status == 404
    assert (await api(bob, "DELETE", f"/api/account/history/{entry}")).status == 404
    assert (await post_form(bob, f"/account/history/{entry}/delete", {})).status == 404
    assert (await (await bob.get("/api/account/searches")).json())["searches"] == []
    assert "Mine" not in await (await bob.get("/account/searches")).text()
    kept = await (await alice.get(f"/api/account/searches/{number}")).json()
    assert kept["name"] == "Mine"
    assert len((await (await alice.get("/api/account/history")).json())["entries"]) == 1


async def test_changes_need_the_csrf_token_and_an_account(site: Site, catalogue: Catalogue) -> None:
    reader = await site.signed_in(catalogue.accounts, "reader@example.org")
    made = await api(reader, "POST", "/api/account/searches", json={"name": "Mine", "query": {"q": "faust"}})
    number = (await made.json())["id"]
    assert (await reader.post("/api/account/searches", json={"name": "X", "query": {"q": "x"}})).status == 403
    assert (await reader.delete(f"/api/account/searches/{number}")).status == 403
    assert (await reader.delete("/api/account/history")).status == 403
    no_token = await reader.post(f"/account/searches/{number}/delete", data={}, allow_redirects=False)
    assert no_token.status == 403
    assert (await (await reader.get(f"/api/account/searches/{number}")).json())["name"] == "Mine"
    stranger = await site.browser()
    assert (await stranger.get("/api/account/searches")).status == 403
    assert (await post_form(stranger, "/account/searches", {"name": "X", "query": "q=x"})).status == 403
    signin = await stranger.get("/account/searches", allow_redirects=False)
    assert signin.headers["Location"] == "/signin?next=/account/searches"


async def test_a_search_longer_than_a_form_field_is_saved_whole(site: Site, catalogue: Catalogue) -> None:
    reader = await site.signed_in(catalogue.accounts, "reader@example.org")
    # Four subjects of 290 characters (a filter value takes 300) and the words.
    subjects = sorted(f"{letter} " * 145 for letter in "abcd")
    query = urlencode([("q", "austen"), *(("subject", subject) for subject in subjects)])
    assert len(query) > 1_000
    saved = await post_form(reader, "/account/searches", {"name": "Long", "query": query})
    assert saved.status == 303
    listed = (await (await reader.get("/api/account/searches")).json())["searches"]
    assert listed[0]["query"] == {"q": ["austen"], "subject": subjects}
    assert listed[0]["url"] == f"/search?{query}"
