"""An Atom feed served over real HTTP on 127.0.0.1: its media type and validators, and the answers to
conditional GETs that RFC 9110 §13 prescribes (304 for a current copy, ``If-None-Match`` first)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

import feedparser
from aiohttp import web
from aiohttp.test_utils import TestClient

from search_app.feeds.atom import Entry, Feed, write_feed
from search_app.feeds.http import atom_response, feed_base
from search_app.state import SETTINGS
from unicat.model import UnionRecord
from unicat.settings import Settings

UPDATED = datetime(2026, 12, 7, 6, 0, 30, tzinfo=UTC)
Client = TestClient[web.Request, web.Application]


def app(site_url: str = "") -> web.Application:
    async def feed(request: web.Request) -> web.Response:
        base = feed_base(request)
        about = Feed(f"{base}/new", "New", UPDATED, f"{base}/new.atom", f"{base}/new", "Unicat")
        document = write_feed(about, [Entry(UnionRecord(id="u1", title="Une île"), UPDATED)], base)
        return atom_response(request, document, UPDATED, private=request.match_info["kind"] == "private")

    application = web.Application()
    application[SETTINGS] = Settings().replace(site_url=site_url)
    application.router.add_get("/{kind}.atom", feed)
    return application


async def client_of(aiohttp_client: Callable[..., Awaitable[Any]], site_url: str = "") -> Client:
    client: Client = await aiohttp_client(app(site_url))
    return client


async def test_a_feed_is_atom_in_utf8_with_its_validators(aiohttp_client: Any) -> None:
    client = await client_of(aiohttp_client)
    response = await client.get("/public.atom")
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    assert response.headers["Last-Modified"] == "Mon, 07 Dec 2026 06:00:30 GMT"
    assert response.headers["ETag"].startswith('"') and response.headers["ETag"].endswith('"')
    assert response.headers["Cache-Control"].startswith("public")
    parsed = feedparser.parse(await response.read())
    assert parsed.bozo == 0 and parsed.entries[0].title == "Une île"
    assert parsed.entries[0].id == f"http://{client.host}:{client.port}/record/u1"  # the request's origin


async def test_site_url_builds_the_links_whatever_host_was_asked(aiohttp_client: Any) -> None:
    client = await client_of(aiohttp_client, "https://catalogue.example.org/")
    parsed = feedparser.parse(await (await client.get("/public.atom")).read())
    assert parsed.entries[0].id == "https://catalogue.example.org/record/u1"
    assert parsed.feed.id == "https://catalogue.example.org/new"


async def test_a_current_copy_gets_304_without_a_body(aiohttp_client: Any) -> None:
    client = await client_of(aiohttp_client)
    first = await client.get("/public.atom")
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    for headers in ({"If-None-Match": etag}, {"If-None-Match": f'"other", W/{etag}'}, {"If-None-Match": "*"},
                    {"If-Modified-Since": modified}):  # fmt: skip
        again = await client.get("/public.atom", headers=headers)
        assert again.status == 304, headers
        assert await again.read() == b""
        assert again.headers["ETag"] == etag


async def test_a_stale_copy_gets_the_feed(aiohttp_client: Any) -> None:
    client = await client_of(aiohttp_client)
    earlier = format_datetime(datetime(2026, 12, 7, 6, 0, 29, tzinfo=UTC), usegmt=True)
    later = "Thu, 01 Jan 2099 00:00:00 GMT"
    # The last: If-None-Match is judged alone when both are sent (RFC 9110 §13.2.2).
    for headers in ({"If-None-Match": '"other"'}, {"If-Modified-Since": earlier},
                    {"If-None-Match": '"other"', "If-Modified-Since": later}):  # fmt: skip
        response = await client.get("/public.atom", headers=headers)
        assert response.status == 200, headers
        assert b"<feed" in await response.read()


async def test_a_private_feed_is_kept_out_of_shared_caches_and_search_engines(aiohttp_client: Any) -> None:
    client = await client_of(aiohttp_client)
    response = await client.get("/private.atom")
    assert response.status == 200
    assert response.headers["Cache-Control"].split(",")[0] == "private"
    assert "noindex" in response.headers["X-Robots-Tag"]
    assert response.headers["Referrer-Policy"] == "no-referrer"
    revalidated = await client.get("/private.atom", headers={"If-None-Match": response.headers["ETag"]})
    assert revalidated.status == 304 and revalidated.headers["Cache-Control"].startswith("private")
