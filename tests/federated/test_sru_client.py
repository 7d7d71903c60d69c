"""federated/sru_client.py against real SRU servers on loopback: YAZ's yaz-ztest, Unicat's own /sru over
a catalogue of real MARC records, and small servers that fail in the ways a target fails."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest
from aiohttp import web
from lxml import etree

from federated.query_translation import to_cql
from federated.sru_client import search_sru
from tests.search_app.oai.conftest import open_test_catalogue
from tests.search_app.sru import sru_catalogue
from tests.search_app.sru.sru_catalogue import Served, UvaRecord, matching, served_catalogue
from tests.support.loopback import free_port
from tests.support.yaz_ztest import ZtestServer
from unicat.live_search import LiveTarget, LiveTargetError
from unicat.query import SearchQuery

uva = sru_catalogue.uva
MARC_NS = "http://www.loc.gov/MARC21/slim"


def _target(address: str, timeout: float = 10.0, record_syntax: str = "marcxml") -> LiveTarget:
    return LiveTarget("t", "Target", "sru", address, record_syntax=record_syntax, timeout=timeout)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as opened:
        yield opened


def _marc(data: bytes) -> etree._Element:
    record = etree.fromstring(data)
    assert record.tag == f"{{{MARC_NS}}}record"
    assert record.find(f"{{{MARC_NS}}}leader") is not None
    return record


# yaz-ztest: "computer" finds 23 records (its fixed answer, tests/support/yaz_ztest.py).


@pytest.mark.parametrize("version", ["1.2", "2.0"])
async def test_ztest_paging(session: aiohttp.ClientSession, ztest: ZtestServer, version: str) -> None:
    target = _target(ztest.sru_url)
    first = await search_sru(session, target, "computer", 1, 10, version=version)
    assert first.total == 23
    assert [record.position for record in first.records] == list(range(1, 11))
    last = await search_sru(session, target, "computer", 21, 10, version=version)
    assert [record.position for record in last.records] == [21, 22, 23]
    for record in (*first.records, *last.records):
        assert record.target == "t" and record.syntax == "marcxml"
        _marc(record.data)


async def test_ztest_version_from_the_base_url(session: aiohttp.ClientSession, ztest: ZtestServer) -> None:
    answer = await search_sru(session, _target(f"{ztest.sru_url}?version=2.0"), "computer", 1, 2)
    assert answer.total == 23 and len(answer.records) == 2


async def test_ztest_surrogate_diagnostics_are_skipped_and_counted(
    session: aiohttp.ClientSession, ztest: ZtestServer
) -> None:
    # yaz-ztest sends diagnostic 63 in place of each record of a schema it does not have. It gives no
    # diagnostic for an unknown index (dc.foo=computer finds records): that case is /sru's below.
    answer = await search_sru(session, _target(ztest.sru_url, record_syntax="nonesuch"), "computer", 1, 3)
    assert answer.total == 23 and answer.records == [] and answer.skipped == 3


# Unicat's own /sru over the UVA and MEL records (tests/search_app/sru/sru_catalogue.py).


@pytest.fixture(scope="module")
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, uva: list[UvaRecord]
) -> Iterator[Served]:
    work_dir = tmp_path_factory.mktemp("sru-live")
    with open_test_catalogue("sqlite", request, work_dir) as opened:
        yield from served_catalogue(opened, opened.index.settings, uva, work_dir)


@pytest.mark.parametrize("version", ["1.2", "2.0"])
async def test_unicat_counts_and_records(
    session: aiohttp.ClientSession, served: Served, uva: list[UvaRecord], version: str
) -> None:
    target = _target(f"{served.url}/sru")
    history = matching(uva, lambda r: "history" in r.title)
    # The translated query, limited to the UVA library (the MARC 21 records the expectation reads).
    cql = f"{to_cql(SearchQuery(text='title:history'), target)} and unicat.library=uva"
    answer = await search_sru(session, target, cql, 1, 5, version=version)
    assert answer.total == len(history)
    assert [record.position for record in answer.records] == [1, 2, 3, 4, 5]
    for record in answer.records:
        titles = " ".join(_marc(record.data).itertext()).lower()
        assert "history" in titles
    second = await search_sru(session, target, cql, 5, 3, version=version)
    assert second.records[0].data == answer.records[4].data


async def test_unicat_year_range(
    session: aiohttp.ClientSession, served: Served, uva: list[UvaRecord]
) -> None:
    target = _target(f"{served.url}/sru")
    expected = matching(uva, lambda r: "history" in r.title and r.year is not None and 1900 <= r.year <= 1950)
    query = SearchQuery(text="title:history", year_from=1900, year_to=1950)
    answer = await search_sru(session, target, f"{to_cql(query, target)} and unicat.library=uva", 1, 1)
    assert answer.total == len(expected)


@pytest.mark.parametrize("version", ["1.2", "2.0"])
async def test_unicat_unknown_index_is_a_diagnostic(
    session: aiohttp.ClientSession, served: Served, version: str
) -> None:
    with pytest.raises(LiveTargetError) as caught:
        await search_sru(session, _target(f"{served.url}/sru"), "dc.foo=history", 1, 5, version=version)
    assert caught.value.kind == "diagnostic"
    assert "info:srw/diagnostic/1/16" in caught.value.message and "dc.foo" in caught.value.message


# Faults.


async def _serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}/sru"


async def _answering(status: int, body: str, content_type: str) -> tuple[web.AppRunner, str]:
    async def handle(request: web.Request) -> web.Response:
        return web.Response(status=status, text=body, content_type=content_type)

    app = web.Application()
    app.router.add_get("/sru", handle)
    return await _serve(app)


@pytest.mark.parametrize(
    ("status", "body", "content_type", "kind"),
    [
        (500, "<html><body>Internal error</body></html>", "text/html", "http"),
        (200, "this is not XML", "text/plain", "protocol"),
        (200, "<html><body>Welcome</body></html>", "text/html", "protocol"),
        # Entities are not expanded: the count written as an entity is no count.
        (
            200,
            '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY n "5">]>'
            '<searchRetrieveResponse xmlns="http://www.loc.gov/zing/srw/">'
            "<numberOfRecords>&n;</numberOfRecords></searchRetrieveResponse>",
            "text/xml",
            "protocol",
        ),
    ],
)
async def test_a_bad_answer(
    session: aiohttp.ClientSession, status: int, body: str, content_type: str, kind: str
) -> None:
    runner, url = await _answering(status, body, content_type)
    try:
        with pytest.raises(LiveTargetError) as caught:
            await search_sru(session, _target(url), "x", 1, 5)
        assert caught.value.kind == kind, caught.value.message
    finally:
        await runner.cleanup()


async def test_an_answer_too_large(session: aiohttp.ClientSession, ztest: ZtestServer) -> None:
    with pytest.raises(LiveTargetError) as caught:
        await search_sru(session, _target(ztest.sru_url), "computer", 1, 10, max_bytes=4096)
    assert caught.value.kind == "protocol" and "MAX_ANSWER_BYTES" in caught.value.message


async def _raw_server(then_close: bool) -> tuple[asyncio.Server, str]:
    """A server that sends headers and half a body, then closes or keeps silent."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 5000\r\n\r\n<searchRe")
        await writer.drain()
        if then_close:
            writer.close()
            return
        await asyncio.sleep(3600)

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}/sru"


@pytest.mark.parametrize(("then_close", "kind"), [(True, "closed"), (False, "timeout")])
async def test_an_answer_that_stops(session: aiohttp.ClientSession, then_close: bool, kind: str) -> None:
    server, url = await _raw_server(then_close)
    try:
        with pytest.raises(LiveTargetError) as caught:
            await search_sru(session, _target(url, timeout=1.0), "x", 1, 5)
        assert caught.value.kind == kind, caught.value.message
    finally:
        server.close()


async def test_nobody_listening(session: aiohttp.ClientSession) -> None:
    with pytest.raises(LiveTargetError) as caught:
        await search_sru(session, _target(f"http://127.0.0.1:{free_port()}/sru"), "x", 1, 5)
    assert caught.value.kind == "connect" and "Connection refused" in caught.value.message
