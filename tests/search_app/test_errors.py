"""Bad input is a 400 with the parameter named, never a 500; slow searches are a 503; bugs a bare 500."""

from __future__ import annotations

from pathlib import Path

import lxml.html
import pytest
from aiohttp import web

from search_app.app import make_app
from tests.search_app.search_app_catalogue import RECORDS, Client, ClientFactory, catalogue_settings, fill
from unicat.catalogue import Catalogue
from unicat.model import Holding, UnionRecord
from unicat.query import FACET_FIELDS
from unicat.settings import Settings
from unicat.union_generation import write_union_generation
from unicat_cli.wiring import open_catalogue

# (query string, the parameter the 400 must name)
BAD_PARAMETERS = [
    ("page=abc", "page"),
    ("page=0", "page"),
    ("page=-3", "page"),
    ("page=1.5", "page"),
    ("page=99999999999999999999999", "page"),
    ("page=1&page=2", "page"),
    ("page_size=0", "page_size"),
    ("page_size=1000000", "page_size"),
    ("page_size=%FF", "page_size"),
    ("sort=random", "sort"),
    ("sort=title&sort=year_asc", "sort"),
    ("sort=%00", "sort"),
    ("year=nineteen", "year"),
    ("year=1999-1990", "year"),
    ("year=12345", "year"),
    ("year=99999999999999999999", "year"),
    ("year=%C2%B2", "year"),
    ("year=%D9%A3%D9%A3", "year"),
    ("year=1990-99999", "year"),
    ("year=-", "year"),
    ("year=1990&year=1991", "year"),
    ("facets=maybe", "facets"),
    ("q=a&q=b", "q"),
    ("q=" + "x" * 1001, "q"),
    ("q=" + "+".join(["w"] * 40), "q"),
    ("library=" + "L" * 301, "library"),
    ("format=" + "f" * 500, "format"),
    ("editions_of=u-pp1980&editions_of=u-pp1990", "editions_of"),
    ("facet_more=nothing", "facet_more"),
    ("facet_more=", "facet_more"),
    ("facet_more=tag", "facet_more"),
    ("not_language=" + "x" * 301, "not_language"),
    ("new_since=yesterday", "new_since"),
    ("new_since=2026-13-01", "new_since"),
    ("new_since=2026-12-01T08:00:00", "new_since"),
    ("new_since=2026-12-01&new_since=2026-12-02", "new_since"),
    ("new_since=%00", "new_since"),
    ("new_at=BNF", "new_at"),
    ("new_at=" + "L" * 301 + "&new_since=2026-12-01", "new_at"),
]
# Unknown parameter names (a page ignores them, the API refuses them): test_unknown_parameters.py.

# Strange but acceptable input: answered with a page, never an error.
ODD_BUT_FINE = [
    "q=%FF%FE%FD",
    "q=%C3%A9t%C3%A9",
    "q=%00",
    "q=%E2%80%AE%F0%9F%93%9A",
    'q=title:"',
    "q=***",
    "q=author:",
    "q=AND+OR+NOT+NEAR+(",
    "q=%22%22%22",
    "q=-austen",
    "q=" + "x" * 1000,
    "library=%FF",
    "library=&format=&language=",
    "library=nowhere",
    "year=&sort=&page=&page_size=",
    "year=+1990+-+1999+",
    "year=-1800",
    "new_since=2026-12-01",
    "new_since=2026-12-01T08:00:00Z&new_at=nowhere&sort=newest",
    "new_since=2026-12-01T09:00:00%2B01:00",
    "sort=newest",
    "page=10000",
]


def fill_with_bulk(catalogue: Catalogue) -> None:
    """The catalogue plus 3,000 plain records: enough rows that counting them takes more than one
    progress check of the SQLite index, so a limit already over when the first check comes is hit."""
    fill(catalogue)
    bulk = [
        UnionRecord(
            id=f"u-bulk-{n:05d}",
            title=f"Annual report {n}",
            year=1900 + n % 100,
            format="book",
            holdings=[Holding("lyon", "Bibliothèque municipale de Lyon", f"R {n}")],
        )
        for n in range(3000)
    ]
    write_union_generation(catalogue.records, catalogue.index, [*RECORDS, *bulk], {})


@pytest.mark.parametrize(("query", "param"), BAD_PARAMETERS)
@pytest.mark.parametrize("path", ["/search", "/api/search"])
async def test_bad_parameters_are_400_naming_the_parameter(
    client: Client, path: str, query: str, param: str
) -> None:
    response = await client.get(f"{path}?{query}")
    assert response.status == 400, query
    if path.startswith("/api"):
        error = (await response.json())["error"]
        assert error["status"] == 400 and error["param"] == param and error["message"]
    else:
        doc = lxml.html.fromstring(await response.text())
        assert param in doc.find_class("error-message")[0].text_content()


@pytest.mark.parametrize("query", ODD_BUT_FINE)
@pytest.mark.parametrize("path", ["/search", "/api/search"])
async def test_odd_input_still_answers(client: Client, path: str, query: str) -> None:
    response = await client.get(f"{path}?{query}")
    assert response.status == 200, (query, await response.text())


@pytest.mark.parametrize(
    "path",
    [
        "/record/" + "x" * 5000,
        "/record/%FF%FE",
        "/record/%00",
        "/api/records/%C0%AF",
        "/nowhere",
        "/api/nowhere",
    ],
)
async def test_unknown_addresses_are_404(client: Client, path: str) -> None:
    response = await client.get(path)
    assert response.status == 404
    if path.startswith("/api"):
        assert (await response.json())["error"]["status"] == 404
    else:
        assert response.content_type == "text/html"


async def test_wrong_method_is_405_not_500(client: Client) -> None:
    response = await client.post("/search", data={"q": "x"})
    assert response.status == 405
    assert "GET" in response.headers["Allow"]


async def test_search_past_its_time_limit_is_503(tmp_path: Path, aiohttp_client: ClientFactory) -> None:
    settings = catalogue_settings(tmp_path, query_timeout=1e-9)
    with open_catalogue(settings) as catalogue:
        fill_with_bulk(catalogue)
        client = await aiohttp_client(make_app(catalogue, settings))
        response = await client.get("/api/search?q=annual")
        assert response.status == 503
        assert (await response.json())["error"]["message"] == "the search took too long, try a narrower query"
        response = await client.get("/search?q=annual")
        assert response.status == 503
        assert "The search took too long, try a narrower query." in await response.text()


async def test_facets_dropped_for_time_are_reported(tmp_path: Path, aiohttp_client: ClientFactory) -> None:
    settings = catalogue_settings(tmp_path, facet_timeout=1e-9)
    with open_catalogue(settings) as catalogue:
        fill_with_bulk(catalogue)
        client = await aiohttp_client(make_app(catalogue, settings))
        body = await (await client.get("/api/search")).json()
        assert body["total"] == 3012
        assert set(body["facets_timed_out"]) == set(FACET_FIELDS)
        response = await client.get("/search")
        assert response.status == 200
        doc = lxml.html.fromstring(await response.text())
        assert "left out to keep this page fast" in doc.find_class("notice")[0].text_content()
        assert len(doc.find_class("result-card")) == 20


async def test_a_bug_is_a_generic_500_with_the_traceback_logged(
    catalogue: Catalogue, settings: Settings, aiohttp_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(catalogue, settings)

    async def broken(request: web.Request) -> web.Response:
        raise RuntimeError("secret internal detail")

    app.router.add_get("/api/broken", broken)
    app.router.add_get("/broken", broken)
    client = await aiohttp_client(app)
    response = await client.get("/api/broken")
    assert response.status == 500
    body = await response.text()
    assert "secret internal detail" not in body
    assert (await response.json())["error"]["status"] == 500
    response = await client.get("/broken")
    assert response.status == 500 and "secret internal detail" not in await response.text()
    assert "secret internal detail" in caplog.text and "Traceback" in caplog.text
