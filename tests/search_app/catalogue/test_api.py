"""The JSON API, the OpenAPI document and the health check, over a real SQLite catalogue."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from search_app.app import make_app
from search_app.openapi import openapi_document
from tests.search_app.search_app_catalogue import Client, ClientFactory
from unicat.catalogue import Catalogue
from unicat.clock import format_time, parse_time
from unicat.settings import Settings


async def get_json(client: Client, path: str, status: int = 200) -> Any:
    response = await client.get(path, allow_redirects=False)
    assert response.status == status, await response.text()
    assert response.content_type == "application/json"
    return await response.json()


async def test_api_search_shape_and_everything_without_q(client: Client) -> None:
    body = await get_json(client, "/api/search")
    assert set(body) == {
        "total",
        "page",
        "page_size",
        "hits",
        "filters",
        "exclusions",
        "facets",
        "facets_timed_out",
        "notices",
        "took_ms",
        "did_you_mean",
    }
    assert (body["filters"], body["exclusions"]) == ({}, {})
    assert body["did_you_mean"] is None
    assert (body["total"], body["page"], body["page_size"], len(body["hits"])) == (12, 1, 20, 12)
    assert body["facets_timed_out"] == []
    # The sidebar's facets, then those it leaves out (library: the sources; available_at).
    assert set(body["facets"]) == {
        "held_at",
        "available_at",
        "library",
        "format",
        "language",
        "audience",
        "year",
        "subject",
        "availability",
    }
    library = {f["value"]: (f["label"], f["count"]) for f in body["facets"]["library"]}
    assert library == {
        "oxford": ("Bodleian Library, Oxford", 5),
        "mcgill": ("McGill University Library", 5),
        "lyon": ("Bibliothèque municipale de Lyon", 4),
        "scpo": ("Bibliothèque de Sciences Po", 3),
    }
    language = {f["value"]: (f["label"], f["count"]) for f in body["facets"]["language"]}
    assert language == {
        "eng": ("English", 5),
        "fre": ("French", 5),
        "ger": ("German", 1),
        "spa": ("Spanish", 1),
    }
    audience = {f["value"]: (f["label"], f["count"]) for f in body["facets"]["audience"]}
    assert audience == {"general": ("General readers", 1), "adults": ("Adults", 1)}


async def test_api_search_hit_shape(client: Client) -> None:
    body = await get_json(client, "/api/search?q=juglar")
    assert body["total"] == 1
    hit = body["hits"][0]
    # When the record entered the catalogue: the instant the fixture's index generation stamped, in the
    # stored time form, no later than now.
    first_seen = hit.pop("first_seen")
    moment = parse_time(first_seen)
    assert moment is not None and format_time(moment) == first_seen and moment <= datetime.now(UTC)
    assert hit == {
        "id": "u-rapport",
        "title": "Le rapport légal entre l'or et l'argent a-t-il toujours existé ?",
        "authors": ["Juglar, Clément (1819-1905)"],
        "year": 1897,
        "format": "book",
        "language": "fre",
        "publisher": "Imprimerie Chaix",
        "libraries": ["lyon", "scpo"],
        "holdings": [
            {
                "library": "scpo",
                "library_name": "Bibliothèque de Sciences Po",
                "call_number": "MEL8°045(09)",
                "branch": "BIB01",
                "location": "MAG1",
            },
            {
                "library": "lyon",
                "library_name": "Bibliothèque municipale de Lyon",
                "call_number": "SJ IF 432/12",
                "branch": "Part-Dieu",
                "location": "Silo",
            },
        ],
        "rating": None,  # nobody rated it
        "as_of": {},  # no harvest or import ran in this catalogue
    }


async def test_api_search_filters_and_pages(client: Client) -> None:
    body = await get_json(client, "/api/search?language=fre&library=lyon&sort=title&page_size=3&page=2")
    # fre ∩ lyon = rapport, miserables, revue, carte; by title: Carte, Misérables, rapport, Revue
    assert body["total"] == 4
    assert [hit["id"] for hit in body["hits"]] == ["u-revue"]
    body = await get_json(client, "/api/search?audience=adults&audience=children")
    assert [hit["id"] for hit in body["hits"]] == ["u-rapport"]
    body = await get_json(client, "/api/search?q=austen&facets=0")
    assert body["total"] == 4 and body["facets"] == {}


async def test_api_record_and_redirect_and_404(client: Client, catalogue: Catalogue) -> None:
    body = await get_json(client, "/api/records/u-miserables")
    expected = catalogue.index.get_union_record("u-miserables")
    # No harvest or import ran in this catalogue: no library's data has a time it was read.
    assert expected is not None and body == {**expected.to_json(), "as_of": {}}
    assert body["merge"] == [{"rule": "system_number", "key": "frbnf:30616571"}]
    response = await client.get("/api/records/u-old-pp", allow_redirects=False)
    assert response.status == 301
    assert response.headers["Location"] == "/api/records/u-pp1980"
    error = await get_json(client, "/api/records/u-nothing", status=404)
    assert error["error"]["status"] == 404 and "u-nothing" in error["error"]["message"]


async def test_openapi_document_is_served_as_json(client: Client, settings: Settings) -> None:
    document = await get_json(client, "/api/openapi.json")
    assert document["openapi"].startswith("3.1")
    # The served JSON is the document itself: nothing in it was a Python object JSON cannot carry (a
    # tuple would come back a list). tests/search_app/test_openapi.py checks what it says.
    assert document == openapi_document(settings)


async def test_healthz_ok(client: Client) -> None:
    assert await get_json(client, "/healthz") == {"status": "ok"}


async def test_healthz_and_pages_unavailable_when_engine_is_closed(
    catalogue: Catalogue, settings: Settings, aiohttp_client: ClientFactory
) -> None:
    client = await aiohttp_client(make_app(catalogue, settings))
    catalogue.close()  # the index, and the SQLite file it and the stores run on
    body = await get_json(client, "/healthz", status=503)
    assert body["status"] == "unavailable" and body["message"]
    error = await get_json(client, "/api/search?q=austen", status=503)
    assert error["error"]["status"] == 503
    response = await client.get("/search?q=austen")
    assert response.status == 503
    assert response.headers["Retry-After"] == "60"
    assert "not available right now" in await response.text()


def server_timing(header: str) -> dict[str, float]:
    metrics = {}
    for part in header.split(","):
        name, _, duration = part.strip().partition(";dur=")
        metrics[name] = float(duration)
    return metrics


async def test_server_timing_says_what_the_engine_took_of_a_search(client: Client) -> None:
    response = await client.get("/api/search?q=austen")
    assert response.status == 200
    metrics = server_timing(response.headers["Server-Timing"])
    assert set(metrics) == {"engine", "app"}
    assert 0 < metrics["engine"] <= metrics["app"]
    # A page that does not search reports the app's time alone; so does a refused request.
    for path, status in (("/api/openapi.json", 200), ("/api/search?page=0", 400)):
        response = await client.get(path)
        assert response.status == status
        assert set(server_timing(response.headers["Server-Timing"])) == {"app"}


@pytest.mark.elasticsearch
@pytest.mark.postgresql
async def test_healthz_is_unavailable_when_the_store_is_down_and_the_index_answers(
    request: pytest.FixtureRequest, tmp_path: Path, aiohttp_client: ClientFactory
) -> None:
    """Elasticsearch up, PostgreSQL gone: the catalogue cannot serve accounts, so it says so."""
    from tests.conftest import EngineContext, _elasticsearch_engine, stores_beside

    context = EngineContext(request, tmp_path)
    index = _elasticsearch_engine(context)
    scaled_out = stores_beside(index, context)
    try:
        client = await aiohttp_client(make_app(scaled_out, index.settings))
        assert await get_json(client, "/healthz") == {"status": "ok"}
        scaled_out.database.close()
        body = await get_json(client, "/healthz", status=503)
        assert body["status"] == "unavailable" and "PostgreSQL" in body["message"]
        index.ping()  # the index itself still answers
    finally:
        index.delete_catalogue()  # type: ignore[attr-defined]
        index.close()
