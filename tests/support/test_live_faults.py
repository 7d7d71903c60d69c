"""The fault servers behave as their names say: silent, closing, serving malformed records."""

from __future__ import annotations

import io
import socket
import subprocess
import urllib.parse
import urllib.request
from copy import deepcopy
from pathlib import Path

import pymarc
import pytest
from lxml import etree

from tests.support.live_faults import (
    ALL_RECORDS,
    MALFORMED_DATABASE,
    SRW,
    broken_iso2709_records,
    closing_listener,
    malformed_sru_server,
    malformed_z3950_server,
    mixed_sru_records,
    silent_listener,
)
from tests.support.oai_schemas import validate_xml

# How long a test waits to see that nothing comes: a bound on the test, not on the server.
QUIET_SECONDS = 0.5
REQUEST = b"GET /Default?version=1.2&operation=searchRetrieve&query=x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


def test_the_silent_listener_accepts_and_holds_connections_without_a_word() -> None:
    with silent_listener() as listener:
        first = socket.create_connection((listener.host, listener.port), timeout=QUIET_SECONDS)
        second = socket.create_connection((listener.host, listener.port), timeout=QUIET_SECONDS)
        first.sendall(REQUEST)
        for connection in (first, second):
            with pytest.raises(TimeoutError):
                connection.recv(1)
    # The block's end closes what it held: each client reads the end of the stream.
    with first, second:
        assert _end_of_stream(first) and _end_of_stream(second)


def test_the_closing_listener_closes_before_any_request() -> None:
    with (
        closing_listener() as listener,
        socket.create_connection((listener.host, listener.port), timeout=5) as connection,
    ):
        assert _end_of_stream(connection)


def test_the_reading_variant_waits_for_the_request_then_closes_without_a_reply() -> None:
    with (
        closing_listener(read_first=True) as listener,
        socket.create_connection((listener.host, listener.port), timeout=QUIET_SECONDS) as connection,
    ):
        with pytest.raises(TimeoutError):
            connection.recv(1)
        connection.settimeout(5)
        connection.sendall(REQUEST)
        assert _end_of_stream(connection)


def _end_of_stream(connection: socket.socket) -> bool:
    try:
        return connection.recv(1) == b""
    except ConnectionResetError:
        return True


def _search(url: str, **parameters: str) -> etree._Element:
    query = urllib.parse.urlencode(
        {"version": "1.2", "operation": "searchRetrieve", "query": "x", **parameters}
    )
    with urllib.request.urlopen(f"{url}?{query}", timeout=30) as answer:
        return etree.fromstring(answer.read())


def test_the_sru_server_pages_good_malformed_and_foreign_records_with_true_positions() -> None:
    records = mixed_sru_records()
    with malformed_sru_server() as server:
        pages = [_search(server.url, startRecord=str(start), maximumRecords="3") for start in (1, 4, 7)]
    srw = f"{{{SRW}}}"
    assert {page.findtext(f"{srw}numberOfRecords") for page in pages} == {str(len(records))}
    positions = [int(p.text or "") for page in pages for p in page.iter(f"{srw}recordPosition")]
    assert positions == list(range(1, len(records) + 1))
    assert [page.findtext(f"{srw}nextRecordPosition") for page in pages] == ["4", "7", None]
    served = [_alone(data[0]) for page in pages for data in page.iter(f"{srw}recordData")]
    assert served == [_alone(etree.fromstring(record.data)) for record in records]


def _alone(element: etree._Element) -> bytes:
    """The element as a document of its own, without the namespaces of the answer around it."""
    copy = deepcopy(element)
    etree.cleanup_namespaces(copy)
    return etree.tostring(copy, with_tail=False)


def test_the_sru_records_are_what_their_kind_says() -> None:
    records = mixed_sru_records()
    assert {record.kind for record in records} == {"marc", "malformed", "not-marc"}
    for record in records:
        if record.kind == "malformed":
            with pytest.raises(AssertionError, match="not valid"):
                validate_xml(record.data, record.source)
        else:
            validate_xml(record.data, record.source)
        is_marc = etree.QName(etree.fromstring(record.data)).namespace == "http://www.loc.gov/MARC21/slim"
        assert is_marc == (record.kind != "not-marc")


@pytest.mark.peers
def test_the_z3950_server_returns_the_broken_records_byte_for_byte(tmp_path: Path) -> None:
    records = broken_iso2709_records()
    unreadable = [record for record in records if _unreadable(record)]
    assert 0 < len(unreadable) < len(records)
    dump = tmp_path / "served.mrc"
    with malformed_z3950_server(tmp_path / "zebra") as server:
        script = (
            f"open tcp:{server.z3950_address(MALFORMED_DATABASE)}\nset_marcdump {dump}\n"
            f"find {ALL_RECORDS}\nformat usmarc\nshow 1+{len(records)}\nquit\n"
        )
        out = subprocess.run(
            ["yaz-client"], input=script.encode(), capture_output=True, timeout=60, check=False
        ).stdout.decode(errors="replace")
    assert f"Number of hits: {len(records)}," in out
    assert dump.read_bytes() == b"".join(records)


def _unreadable(record: bytes) -> bool:
    reader = pymarc.MARCReader(io.BytesIO(record), to_unicode=True, permissive=True)
    return all(parsed is None for parsed in reader)
