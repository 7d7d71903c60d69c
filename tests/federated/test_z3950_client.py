"""The Z39.50 client against yaz-ztest, and against two small listeners that misbehave: one that
accepts and never answers, one that accepts and closes."""

from __future__ import annotations

import asyncio
import io
import socket
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from xml.etree import ElementTree

import pymarc
import pytest

from federated.bib1 import describe
from federated.z3950_client import search_z3950
from tests.support.loopback import free_port
from tests.support.yaz_client import yaz_client
from tests.support.yaz_ztest import ZtestServer
from unicat.live_search import LiveTarget, LiveTargetError

COMPUTER = "@attr 1=4 computer"


def _target(address: str, **settings: object) -> LiveTarget:
    return LiveTarget("ztest", "YAZ test server", "z3950", address, **settings)  # type: ignore[arg-type]


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A listener that accepts connections (the kernel does, from its backlog) and never answers."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        yield listener.getsockname()[1]


@pytest.fixture
async def closing_port() -> AsyncIterator[int]:
    """A listener that accepts each connection and closes it at once."""

    async def close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()
        await writer.wait_closed()

    server = await asyncio.start_server(close, "127.0.0.1", 0)
    async with server:
        yield server.sockets[0].getsockname()[1]


async def test_hits_and_records_agree_with_yaz_client(ztest: ZtestServer, tmp_path: Path) -> None:
    answer = await search_z3950(_target(ztest.z3950_address), COMPUTER, 3, 2)
    shown = yaz_client(ztest.z3950_address, COMPUTER, "3+2", tmp_path)
    assert answer.total == shown.hits == 23
    assert [(record.target, record.position, record.syntax) for record in answer.records] == [
        ("ztest", 3, "iso2709"),
        ("ztest", 4, "iso2709"),
    ]
    ours = [pymarc.Record(data=record.data, to_unicode=True) for record in answer.records]
    theirs = list(pymarc.MARCReader(io.BytesIO(shown.records), to_unicode=True))
    assert [[str(field) for field in record.fields] for record in ours] == [
        [str(field) for field in record.fields] for record in theirs if record is not None
    ]
    for record in answer.records:
        assert int(record.data[:5]) == len(record.data)
    assert answer.skipped == 0


@pytest.mark.parametrize("syntax", ["usmarc", "marc21"])
async def test_marc21_targets_get_iso2709(ztest: ZtestServer, syntax: str) -> None:
    answer = await search_z3950(_target(ztest.z3950_address, record_syntax=syntax), COMPUTER, 1, 3)
    assert [record.syntax for record in answer.records] == ["iso2709"] * 3
    assert all(record.data[:5].isdigit() for record in answer.records)


async def test_xml_targets_get_marcxml(ztest: ZtestServer) -> None:
    answer = await search_z3950(_target(ztest.z3950_address, record_syntax="xml"), COMPUTER, 1, 2)
    assert answer.total == 23
    assert [record.syntax for record in answer.records] == ["marcxml", "marcxml"]
    for record in answer.records:
        assert ElementTree.fromstring(record.data).tag == "{http://www.loc.gov/MARC21/slim}record"


async def test_records_past_the_end_are_not_asked(ztest: ZtestServer) -> None:
    answer = await search_z3950(_target(ztest.z3950_address), COMPUTER, 22, 5)
    assert [record.position for record in answer.records] == [22, 23]


async def test_a_bib1_diagnostic_reads_in_words(ztest: ZtestServer) -> None:
    with pytest.raises(LiveTargetError) as raised:
        await search_z3950(_target(f"{ztest.host}:{ztest.port}/Nowhere"), COMPUTER, 1, 2)
    assert raised.value.kind == "diagnostic"
    assert raised.value.message == "database unavailable (Bib-1 109: database Nowhere)"


def test_unsupported_use_attribute_wording() -> None:
    # What Zebra answers for a Bib-1 use attribute it does not index (114, the attribute as addinfo).
    assert describe(114, "Unsupported Use attribute", "9999") == (
        "unsupported search field (Bib-1 114: use attribute 9999)"
    )
    assert describe(1234, "Some new diagnostic", "") == "some new diagnostic (Bib-1 1234)"


async def test_a_refused_port_is_connect() -> None:
    with pytest.raises(LiveTargetError) as raised:
        await search_z3950(_target(f"127.0.0.1:{free_port()}/Default", timeout=5.0), COMPUTER, 1, 2)
    assert raised.value.kind == "connect"
    assert "could not connect to 127.0.0.1:" in raised.value.message


async def test_a_target_that_never_answers_times_out_within_its_timeout(silent_port: int) -> None:
    target = _target(f"127.0.0.1:{silent_port}/Default", timeout=1.0)
    began = time.monotonic()
    with pytest.raises(LiveTargetError) as raised:
        await search_z3950(target, COMPUTER, 1, 2)
    assert raised.value.kind == "timeout"
    assert "within 1 s" in raised.value.message
    # The bound: the target's timeout, with room for a loaded machine.
    assert time.monotonic() - began < target.timeout + 5.0


async def test_a_target_that_closes_the_connection(closing_port: int) -> None:
    with pytest.raises(LiveTargetError) as raised:
        await search_z3950(_target(f"127.0.0.1:{closing_port}/Default", timeout=5.0), COMPUTER, 1, 2)
    assert raised.value.kind in {"closed", "connect"}
    assert f"127.0.0.1:{closing_port}/Default" in raised.value.message
    assert "closed the connection" in raised.value.message


async def test_a_malformed_query_names_the_query_map(ztest: ZtestServer) -> None:
    with pytest.raises(LiveTargetError) as raised:
        await search_z3950(_target(ztest.z3950_address), "@attr 1=4", 1, 2)
    assert raised.value.kind == "diagnostic"
    assert "query map" in raised.value.message


async def test_searches_run_at_once(ztest: ZtestServer, silent_port: int) -> None:
    # A target that never answers does not hold up one that does.
    slow = asyncio.create_task(
        search_z3950(_target(f"127.0.0.1:{silent_port}/D", timeout=3.0), COMPUTER, 1, 1)
    )
    answer = await search_z3950(_target(ztest.z3950_address), COMPUTER, 1, 1)
    assert answer.total == 23 and not slow.done()
    with pytest.raises(LiveTargetError):
        await slow
