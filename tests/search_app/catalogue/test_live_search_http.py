"""Live search through the served app over real HTTP on loopback, with real peers: Zebra loaded with
the shared Pride and Prejudice records (part of which the union holds, harvested from a file by the
real pipeline), a target that never answers, one that closes the connection, and an SRU server whose
records are partly malformed (tests/support/live_faults.py). What must merge comes from the data: the
union and Zebra hold copies of the same records."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lxml.html
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from search_app.app import make_app
from tests.conftest import CatalogueFactory, EngineFactory, _elasticsearch_engine
from tests.search_app.accounts_http import staff_client
from tests.search_app.catalogue.live_network import load_half_pride, zebra_target
from tests.support.live_faults import closing_listener, malformed_sru_server, silent_listener
from tests.support.zebra import ZebraServer
from unicat.catalogue import Catalogue
from unicat.engines.elasticsearch import ElasticsearchEngine
from unicat.engines.postgresql import PostgresDatabase
from unicat.live_search import LiveTarget
from unicat.settings import Settings
from unicat_cli.wiring import open_catalogue, open_live_search

SLOW_TIMEOUT = 8.0


@dataclass
class Network:
    catalogue: Catalogue
    settings: Settings


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory, zebra: ZebraServer) -> Iterator[Network]:
    folder = tmp_path_factory.mktemp("live-http")
    settings = Settings(engine_url=f"sqlite:///{folder / 'unicat.db'}", cookie_secure=False)
    catalogue = open_catalogue(settings)
    with (
        silent_listener() as silent,
        closing_listener(read_first=True) as closing,
        malformed_sru_server() as bad,
    ):
        try:
            load_half_pride(catalogue, folder)
            for target in (
                zebra_target(zebra),
                LiveTarget(
                    "SILENT", "Silent library", "z3950", silent.z3950_address, "usmarc", timeout=SLOW_TIMEOUT
                ),
                LiveTarget("CLOSING", "Closing library", "z3950", closing.z3950_address, "usmarc", timeout=5),
                LiveTarget("BAD", "Malformed library", "sru", bad.url, "marcxml", timeout=5),
            ):
                catalogue.targets.save_target(target)
            yield Network(catalogue, settings)
        finally:
            catalogue.close()


def live_app(network: Network, **changes: Any) -> web.Application:
    settings = network.settings.replace(**changes)
    return make_app(network.catalogue, settings, live=open_live_search(network.catalogue))


async def client_of(aiohttp_client: Any, app: web.Application) -> TestClient[web.Request, web.Application]:
    client: TestClient[web.Request, web.Application] = await aiohttp_client(TestServer(app, host="127.0.0.1"))
    return client


async def final_state(client: TestClient[Any, Any], poll: str) -> dict[str, Any]:
    """Long-poll ``poll`` until the run is done."""
    state: dict[str, Any] = {"version": -1, "done": False}
    for _ in range(20):
        answer = await client.get(
            poll, params={"since": str(state["version"] if state["version"] >= 0 else 0), "wait": "30"}
        )
        assert answer.status == 200, await answer.text()
        state = await answer.json()
        if state["done"]:
            return state
    raise AssertionError(f"the live search never ended: {state}")


def by_code(state: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {status["code"]: status for status in state["targets"]}


async def test_union_results_come_back_while_a_target_never_answers(
    network: Network, aiohttp_client: Any
) -> None:
    client = await client_of(aiohttp_client, live_app(network))
    started = time.monotonic()
    answer = await client.get("/api/search", params=[("q", "pride"), ("target", "ZEB"), ("target", "SILENT")])
    took = time.monotonic() - started
    body = await answer.json()
    assert answer.status == 200, body
    # Generous: well before the silent target's own timeout, which it never beats.
    assert took < SLOW_TIMEOUT / 2
    assert body["total"] > 0 and body["hits"]
    live = body["live"]
    assert [status["code"] for status in live["targets"]] == ["ZEB", "SILENT"]
    assert by_code(live)["SILENT"]["state"] == "waiting"
    page = await client.get("/search", params=[("q", "pride"), ("target", "SILENT")])
    assert page.status == 200
    assert time.monotonic() - started < SLOW_TIMEOUT
    html = await page.text()
    assert "data-live-run=" in html and "Silent library: waiting…" in html
    state = await final_state(client, live["poll"])
    silent = by_code(state)["SILENT"]
    assert silent["state"] == "timed_out" and silent["error"] == "timeout"
    assert silent["seconds"] >= SLOW_TIMEOUT


async def test_a_dead_a_closing_and_a_malformed_target_say_what_happened(
    network: Network, aiohttp_client: Any
) -> None:
    client = await client_of(aiohttp_client, live_app(network))
    params = [("q", "pride"), ("target", "CLOSING"), ("target", "BAD"), ("target", "ZEB")]
    body = await (await client.get("/api/search", params=params)).json()
    state = await final_state(client, body["live"]["poll"])
    statuses = by_code(state)
    assert statuses["CLOSING"]["state"] == "failed" and statuses["CLOSING"]["message"]
    bad = statuses["BAD"]
    # The malformed records are set aside for this search; the good ones go on.
    assert bad["state"] == "done" and bad["rejected"] > 0 and bad["records"] > bad["rejected"]
    assert statuses["ZEB"]["state"] == "done" and statuses["ZEB"]["hits"] > 0
    assert state["done"] is True


def sse_events(text: str) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for block in text.strip().split("\n\n"):
        lines = [line for line in block.split("\n") if not line.startswith(":")]
        if not lines:
            continue
        fields = dict(line.split(": ", 1) for line in lines)
        events.append((fields["event"], json.loads(fields["data"])))
    return events


async def test_the_poll_and_the_stream_give_the_same_final_state(
    network: Network, aiohttp_client: Any
) -> None:
    client = await client_of(aiohttp_client, live_app(network))
    body = await (await client.get("/api/search", params={"q": "pride", "target": "ZEB"})).json()
    live = body["live"]
    stream = await client.get(live["stream"])
    assert stream.headers["Content-Type"].startswith("text/event-stream")
    events = sse_events(await stream.text())
    assert events[-1][0] == "done" and events[-2][0] == "update"
    assert [data["version"] for _, data in events[:-1]] == sorted(
        {data["version"] for _, data in events[:-1]}
    )
    polled = await final_state(client, live["poll"])
    assert events[-1][1] == polled
    lines = await client.get(live["stream"], headers={"Accept": "application/x-ndjson"})
    assert lines.headers["Content-Type"].startswith("application/x-ndjson")
    assert json.loads((await lines.text()).strip().split("\n")[-1]) == polled


async def test_a_zebra_copy_of_a_union_edition_is_one_line_with_its_live_holding(
    network: Network, aiohttp_client: Any
) -> None:
    client = await client_of(aiohttp_client, live_app(network))
    body = await (
        await client.get("/api/search", params={"q": "pride", "target": "ZEB", "page_size": "50"})
    ).json()
    state = await final_state(client, body["live"]["poll"])
    hits = state["hits"]
    ids = [hit["id"] for hit in hits]
    assert len(ids) == len(set(ids))
    joined = [hit for hit in hits if hit["in_union"] and "ZEB" in hit["found_by"]]
    assert joined, "half of Zebra's records are the union's: some must join their union line"
    for hit in joined:
        assert {holding["target"] for holding in hit["live_holdings"]} == {"ZEB"}
        assert "AUS" in {holding["library"] for holding in hit["holdings"]}
    live_only = [hit for hit in hits if not hit["in_union"]]
    for hit in live_only:
        assert hit["found_by"] == ["ZEB"] and hit["id"].startswith("live:ZEB:")
        assert {holding["target"] for holding in hit["holdings"]} == {"ZEB"}
    # Every union line Zebra adds to is held at ZEB live, every live-only line is held there: the live
    # library facet counts exactly those lines.
    expected = len(joined) + len(live_only)
    library = {entry["value"]: entry["count"] for entry in state["facets_live"].get("library", [])}
    assert library.get("ZEB") == expected


async def test_bad_live_parameters_are_400_and_an_unknown_run_404(
    network: Network, aiohttp_client: Any
) -> None:
    client = await client_of(aiohttp_client, live_app(network))
    for params in ({"q": "pride", "live": "maybe"}, {"q": "pride", "target": "NOPE"}):
        for path in ("/api/search", "/search"):
            answer = await client.get(path, params=params)
            assert answer.status == 400, (path, params)
    body = await (await client.get("/api/search", params={"q": "pride", "target": "ZEB"})).json()
    for params in ({"since": "x"}, {"wait": "31"}, {"wait": "-1"}, {"colour": "blue"}):
        answer = await client.get(body["live"]["poll"], params=params)
        assert answer.status == 400, params
        assert (await answer.json())["error"]["message"]
    missing = await client.get("/api/search/live/not-a-run")
    assert missing.status == 404
    assert "search again" in (await missing.json())["error"]["message"]
    assert (await client.get("/api/search/live/not-a-run/events")).status == 404
    none = await (await client.get("/api/search", params={"q": "pride", "live": "0"})).json()
    assert "live" not in none


async def test_live_search_busy_says_so(network: Network, aiohttp_client: Any) -> None:
    client = await client_of(aiohttp_client, live_app(network, live_search_max_runs=1))
    first = await (await client.get("/api/search", params={"q": "pride", "target": "SILENT"})).json()
    assert first["live"]["id"]
    second = await (await client.get("/api/search", params={"q": "pride", "target": "ZEB"})).json()
    assert second["live"]["busy"] is True and "live_search_max_runs" in second["live"]["message"]
    page = await client.get("/search", params={"q": "pride", "target": "ZEB"})
    assert "Live search is busy, try again" in await page.text()


async def test_the_page_without_script_shows_the_merged_list_after_live_wait(
    network: Network, aiohttp_client: Any
) -> None:
    client = await client_of(aiohttp_client, live_app(network))
    page = await client.get("/search", params={"q": "pride", "target": "ZEB"})
    html = await page.text()
    assert "Show live results" in html and "live=wait" in html
    waited = await (
        await client.get("/search", params={"q": "pride", "target": "ZEB", "live": "wait"})
    ).text()
    assert "Zebra library: " in waited and "hits in" in waited
    assert "result-card--live" in waited and "Only in a live catalogue" in waited
    assert "Live search done" in waited and "live.js" not in waited
    assert "+" in waited and "facet__live" in waited


async def test_a_librarian_imports_a_live_only_record(network: Network, aiohttp_client: Any) -> None:
    app = live_app(network)
    client = await staff_client(aiohttp_client, app, network.catalogue.accounts, email="lib-live@example.org")
    body = await (await client.get("/api/search", params={"q": "pride", "target": "ZEB"})).json()
    state = await final_state(client, body["live"]["poll"])
    live_only = next(hit for hit in state["hits"] if not hit["in_union"])
    local_id = live_only["id"].split(":", 2)[2]
    run = body["live"]["id"]
    answer = await client.post(f"/search/live/{run}/import", data={"target": "ZEB", "local_id": local_id})
    assert answer.status == 200, await answer.text()
    assert "after the next index" in await answer.text()
    stored = network.catalogue.records.get_source_record("ZEB", local_id)
    assert stored is not None and stored.raw
    assert network.catalogue.records.get_source("ZEB").oai_url is None
    expired = await client.post("/search/live/gone/import", data={"target": "ZEB", "local_id": local_id})
    assert expired.status == 404
    patron = await staff_client(
        aiohttp_client,
        live_app(network),
        network.catalogue.accounts,
        role="patron",
        email="pat-live@example.org",
    )
    refused = await patron.post(f"/search/live/{run}/import", data={"target": "ZEB", "local_id": local_id})
    assert refused.status == 403
    assert "for librarians" in (await refused.text())


async def merged_search(client: TestClient[Any, Any], targets: list[str]) -> dict[str, Any]:
    params = [("q", "pride"), *(("target", code) for code in targets)]
    body = await (await client.get("/api/search", params=params)).json()
    return await final_state(client, body["live"]["poll"])


def joined_and_live_only(state: dict[str, Any]) -> tuple[set[str], set[str]]:
    """The union lines Zebra's copies joined, and the lines only Zebra holds."""
    joined = {hit["id"] for hit in state["hits"] if hit["in_union"] and "ZEB" in hit["found_by"]}
    return joined, {hit["id"] for hit in state["hits"] if not hit["in_union"]}


@pytest.mark.parametrize("engine_factory", [_elasticsearch_engine], ids=["scaled-out"], indirect=True)
async def test_on_postgresql_and_elasticsearch_the_live_search_merges_as_on_sqlite(
    engine_factory: EngineFactory,  # the setup: named here so that the parameter chooses it
    catalogue_factory: CatalogueFactory,
    zebra: ZebraServer,
    network: Network,
    tmp_path: Path,
    aiohttp_client: Any,
) -> None:
    """The union in Elasticsearch and the stores in PostgreSQL: the merger looks the live records'
    editions up in Elasticsearch and reads their members from PostgreSQL, and the page and the API
    answer what the same search answers over the same records on SQLite."""
    catalogue = catalogue_factory()
    assert isinstance(catalogue.index, ElasticsearchEngine)
    assert isinstance(catalogue.database, PostgresDatabase)
    load_half_pride(catalogue, tmp_path)
    with silent_listener() as silent:
        catalogue.targets.save_target(zebra_target(zebra))
        catalogue.targets.save_target(
            LiveTarget("SILENT", "Silent library", "z3950", silent.z3950_address, "usmarc", timeout=2)
        )
        settings = Settings(cookie_secure=False)
        app = make_app(catalogue, settings, live=open_live_search(catalogue))
        client = await client_of(aiohttp_client, app)
        state = await merged_search(client, ["ZEB", "SILENT"])
        statuses = by_code(state)
        assert statuses["SILENT"]["state"] == "timed_out" and statuses["SILENT"]["error"] == "timeout"
        on_sqlite = await merged_search(await client_of(aiohttp_client, live_app(network)), ["ZEB"])
        assert statuses["ZEB"]["state"] == "done"
        assert statuses["ZEB"]["hits"] == by_code(on_sqlite)["ZEB"]["hits"] > 0
        joined, live_only = joined_and_live_only(state)
        assert joined, "half of Zebra's records are the union's: some must join their union line"
        assert (joined, live_only) == joined_and_live_only(on_sqlite)
        for hit in state["hits"]:
            if hit["id"] in joined:
                assert {holding["target"] for holding in hit["live_holdings"]} == {"ZEB"}
                assert "AUS" in {holding["library"] for holding in hit["holdings"]}

        page = await client.get("/search", params=[("q", "pride"), ("target", "ZEB"), ("live", "wait")])
        html = await page.text()
        assert page.status == 200, html
        assert f"Zebra library: {statuses['ZEB']['hits']} hits in" in html
        assert "result-card--live" in html and "found in Zebra library" in html
        assert all(f'data-live-holdings="{record}"' in html for record in joined)


def facet_value(html: str, facet: str, value: str) -> Any:
    """The ``<li>`` of ``value`` in the sidebar's facet ``facet`` (None when not listed)."""
    found = lxml.html.fromstring(html).xpath(f'//section[@data-facet="{facet}"]//li[@data-value="{value}"]')
    return found[0] if found else None


async def test_a_facet_value_only_live_hits_have_filters_to_the_live_lines(
    network: Network, aiohttp_client: Any
) -> None:
    """Zebra stands for no library of the network: its copies are counted under its own code in the
    facet of the libraries holding a copy, a value the union has none of. Its link filters the union
    (nothing left) and the live records (every one Zebra sent)."""
    client = await client_of(aiohttp_client, live_app(network))
    everything = await merged_search(client, ["ZEB"])
    _, live_only = joined_and_live_only(everything)
    assert live_only
    waited = await (
        await client.get("/search", params={"q": "pride", "target": "ZEB", "live": "wait"})
    ).text()
    item = facet_value(waited, "held_at", "ZEB")
    assert item is not None and "facet__item--live" in item.get("class")
    [link] = item.xpath(".//a[@href]")
    href = link.get("href")
    assert "held_at=ZEB" in href and "target=ZEB" in href

    # The page with script: the union has nothing, its live search starts.
    filtered = await client.get(href)
    html = await filtered.text()
    assert filtered.status == 200, html
    assert "data-live-run=" in html and "No titles match" in html
    # Its fragment, which static/live.js places, offers the same link, now to take the filter off.
    run = lxml.html.fromstring(html).xpath("//*[@data-live-run]")[0]
    await final_state(client, f"/api/search/live/{run.get('data-live-run')}")
    fragment = await (await client.get(run.get("data-live-fragment"))).text()
    [chosen] = lxml.html.fromstring(fragment).xpath('//*[@data-facet="held_at"]/li[@data-value="ZEB"]//a')
    assert "is-selected" in chosen.get("class") and "held_at=ZEB" not in chosen.get("href")

    # The page without script: only what Zebra holds, every line Zebra sent that the union lacks.
    waited = await (await client.get(href + "&live=wait")).text()
    page = lxml.html.fromstring(waited)
    lines = page.xpath("//ol[@data-results]/li[@data-hit]")
    assert lines
    assert all(line.xpath(".//*[@data-live-holdings]") for line in lines)
    shown_live = {line.get("data-hit") for line in lines if "result-card--live" in line.get("class")}
    assert shown_live == live_only
    # The union has no facet left to show; the chosen filter's chip takes it off.
    [chip] = page.xpath('//a[@class="chip"]')
    assert "held_at" not in chip.get("href") and "target=ZEB" in chip.get("href")
