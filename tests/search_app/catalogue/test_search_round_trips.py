"""What one ``/api/search`` asks of the Elasticsearch node: one request, whatever the search.

The app talks to a real node through a counting proxy on 127.0.0.1 (every request passed on as it
came, its answer passed back), with its stores in a real PostgreSQL database. A search with facets, a
selective one and a page of hits with readers' ratings (on a record and on one merged into it) each
cost the node one request: the look-ups of ratings and redirects go to the stores, never to the node.
"""

from __future__ import annotations

import asyncio
import http.client
import http.server
import threading
import time
import urllib.parse
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from search_app.app import make_app
from tests.search_app.accounts_http import Site
from tests.search_app.search_app_catalogue import fill
from tests.support.postgres import Cluster, fresh_database
from unicat.catalogue import Catalogue
from unicat.engines.elasticsearch import ElasticsearchEngine
from unicat.readers import Rating
from unicat.settings import Settings
from unicat_cli.wiring import open_catalogue


class CountingProxy:
    """Passes every request on to the node and counts them, by method and path. It serves from a
    thread of its own: the catalogue is opened (and the node pinged through it) outside the test's
    event loop."""

    def __init__(self, node_url: str) -> None:
        node = urllib.parse.urlsplit(node_url)
        self.requests: list[str] = []
        proxy = self

        class PassOn(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _pass_on(self) -> None:
                proxy.requests.append(f"{self.command} {urllib.parse.urlsplit(self.path).path}")
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                upstream = http.client.HTTPConnection(node.hostname or "127.0.0.1", node.port, timeout=60)
                try:
                    upstream.request(self.command, self.path, body=body, headers=headers)
                    answer = upstream.getresponse()
                    data = answer.read()
                finally:
                    upstream.close()
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _pass_on

            def log_message(self, format: str, *args: object) -> None:
                pass  # the test reads the counts, not a log

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), PassOn)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


@pytest.fixture
def database_url(postgres_cluster: Cluster) -> Iterator[str]:
    with fresh_database(postgres_cluster) as url:
        yield url


@pytest.fixture
def proxy(elasticsearch_url: str) -> Iterator[CountingProxy]:
    counting = CountingProxy(elasticsearch_url)
    yield counting
    counting.close()


@pytest.fixture
def settings(proxy: CountingProxy, database_url: str, tmp_path: Path) -> Settings:
    prefix = f"trips-{uuid.uuid4().hex[:8]}"
    return Settings(data_dir=tmp_path, engine_url=f"{proxy.url}/{prefix}", store_url=database_url)


@pytest.fixture
def catalogue(settings: Settings) -> Iterator[Catalogue]:
    with open_catalogue(settings) as opened:
        fill(opened)
        try:
            yield opened
        finally:
            engine = ElasticsearchEngine(settings.engine_url, settings)
            engine.delete_catalogue()
            engine.close()


@pytest.fixture
async def site(catalogue: Catalogue, settings: Settings) -> AsyncIterator[Site]:
    served = await Site(make_app(catalogue, settings)).start()
    yield served
    await served.close()


@pytest.mark.parametrize(
    "query",
    [
        "q=pride",  # every facet counted beside the hits
        "q=pride&facets=0",
        "q=9780140057744",  # one ISBN: one hit, and the speller asked whether to correct it
        "q=zzyzx",  # nothing found
    ],
)
async def test_one_search_is_one_request_to_the_node(
    proxy: CountingProxy, catalogue: Catalogue, site: Site, query: str
) -> None:
    # Ratings on a record of the page and on the id merged into it (search_app_catalogue.REDIRECTS):
    # both are read from the stores.
    for email, record, stars in (("ann@example.org", "u-pp1980", 4), ("bob@example.org", "u-old-pp", 2)):
        await site.signed_in(catalogue.accounts, email)
        reader = catalogue.accounts.find_user(email)
        assert reader is not None and reader.id is not None
        catalogue.contributions.set_rating(Rating(record, reader.id, stars))
    browser = await site.browser()
    first = await browser.get(f"/api/search?{query}")  # the app's caches filled (the speller's words)
    assert first.status == 200
    proxy.requests.clear()
    answer = await browser.get(f"/api/search?{query}")
    assert answer.status == 200
    body = await answer.json()
    assert len(proxy.requests) == 1, proxy.requests
    assert proxy.requests[0].rsplit("/", 1)[1] in ("_search", "_msearch")
    if query.startswith("q=pride"):
        rated = {hit["id"]: hit["rating"] for hit in body["hits"]}
        assert rated["u-pp1980"] == {"count": 2, "average": 3.0}


async def test_a_rating_another_process_commits_shows_in_the_next_searches(
    catalogue: Catalogue, settings: Settings, site: Site
) -> None:
    """The app skips the stores' read for hits its marks know carry nothing
    (unicat/engines/postgresql/hit_marks.py): a rating committed through another pool of connections,
    as another process's, must still reach the answers, as soon as its notice has arrived."""
    browser = await site.browser()
    before = await (await browser.get("/api/search?q=pride&facets=0")).json()
    assert {hit["id"]: hit["rating"] for hit in before["hits"]}["u-pp1980"] is None
    with open_catalogue(settings) as other:
        await site.signed_in(other.accounts, "ann@example.org")
        reader = other.accounts.find_user("ann@example.org")
        assert reader is not None and reader.id is not None
        other.contributions.set_rating(Rating("u-pp1980", reader.id, 4))
    deadline = time.monotonic() + 10.0
    while True:
        body = await (await browser.get("/api/search?q=pride&facets=0")).json()
        rating = {hit["id"]: hit["rating"] for hit in body["hits"]}["u-pp1980"]
        if rating is not None or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.01)
    assert rating == {"count": 1, "average": 4.0}
