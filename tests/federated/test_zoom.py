"""The ZOOM binding against a real Z39.50 server, yaz-ztest, with yaz-client as the second opinion."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pymarc
import pytest

from federated.zoom import Connection, Query, ZoomError
from tests.support.loopback import free_port
from tests.support.yaz_client import yaz_client
from tests.support.yaz_ztest import ZtestServer

MARCXML = "{http://www.loc.gov/MARC21/slim}"
COMPUTER = "@attr 1=4 computer"


def _connection(server: ZtestServer, database: str = "Default", syntax: str = "usmarc") -> Connection:
    connection = Connection({"databaseName": database, "preferredRecordSyntax": syntax, "timeout": "10"})
    connection.connect(f"tcp:{server.host}", server.port)
    return connection


def _fields(iso2709: bytes) -> list[list[str]]:
    """Each record's fields as text, in their order: what a record says, whatever its directory's
    layout (YAZ writes the directory anew when it renders a record)."""
    records = pymarc.MARCReader(io.BytesIO(iso2709), to_unicode=True)
    return [[str(field) for field in record.fields] for record in records if record is not None]


def test_hit_count_is_what_yaz_client_finds(ztest: ZtestServer, tmp_path: Path) -> None:
    with _connection(ztest) as connection, Query.pqf(COMPUTER) as query, connection.search(query) as result:
        size = result.size
    # yaz-ztest's documented fixed answer for "computer", and what YAZ's own client counts.
    assert size == 23
    assert yaz_client(ztest.z3950_address, COMPUTER, "1", tmp_path).hits == 23


def test_records_are_iso2709_whose_leader_gives_their_length(ztest: ZtestServer) -> None:
    with _connection(ztest) as connection, Query.pqf(COMPUTER) as query, connection.search(query) as result:
        records = result.records(1, 5)
    assert [record.position for record in records] == [1, 2, 3, 4, 5]
    for record in records:
        assert record.error is None and record.data is not None
        assert record.syntax.lower() == "usmarc"
        assert int(record.data[:5]) == len(record.data)
        assert record.data.endswith(b"\x1d")


def test_a_range_of_records_is_what_yaz_client_shows(ztest: ZtestServer, tmp_path: Path) -> None:
    with _connection(ztest) as connection, Query.pqf(COMPUTER) as query, connection.search(query) as result:
        records = result.records(3, 2)
    shown = yaz_client(ztest.z3950_address, COMPUTER, "3+2", tmp_path).records
    assert [record.position for record in records] == [3, 4]
    assert _fields(b"".join(record.data or b"" for record in records)) == _fields(shown)
    assert len(_fields(shown)) == 2


def test_records_rendered_as_marcxml(ztest: ZtestServer) -> None:
    with _connection(ztest) as connection, Query.pqf(COMPUTER) as query, connection.search(query) as result:
        iso = result.records(1, 1)[0]
        xml = result.records(1, 1, "xml")[0]
    assert iso.data is not None and xml.data is not None
    root = ElementTree.fromstring(xml.data)
    assert root.tag == f"{MARCXML}record"
    control = {field.get("tag"): field.text for field in root.iter(f"{MARCXML}controlfield")}
    (record,) = pymarc.MARCReader(io.BytesIO(iso.data), to_unicode=True)
    assert record is not None
    assert control["001"] == record["001"].data


def test_a_diagnostic_carries_its_set_code_and_addinfo(ztest: ZtestServer) -> None:
    # yaz-ztest serves databases named Default, db… and Slow…; any other is Bib-1 109.
    with (
        _connection(ztest, database="Nowhere") as connection,
        Query.pqf(COMPUTER) as query,
        pytest.raises(ZoomError) as raised,
    ):
        connection.search(query)
    assert (raised.value.diagset, raised.value.code) == ("Bib-1", 109)
    assert raised.value.message == "Database unavailable"
    assert raised.value.addinfo == "Nowhere"


def test_a_refused_connection_is_zoom_connect_failed() -> None:
    with Connection({"timeout": "5"}) as connection, pytest.raises(ZoomError) as raised:
        connection.connect("tcp:127.0.0.1", free_port())
    assert (raised.value.diagset, raised.value.code, raised.value.message) == (
        "ZOOM",
        10000,
        "Connect failed",
    )


@pytest.mark.parametrize("pqf", ["@attr 1=4", "@and computer", "@attr x=4 computer"])
def test_a_malformed_pqf_is_refused_before_it_is_sent(pqf: str) -> None:
    with pytest.raises(ZoomError) as raised:
        Query.pqf(pqf)
    assert raised.value.code == 10010


def test_closing_twice_frees_once(ztest: ZtestServer) -> None:
    connection = _connection(ztest)
    query = Query.pqf(COMPUTER)
    result = connection.search(query)
    for owner in (result, query, connection):
        owner.close()
        owner.close()
    with pytest.raises(ValueError, match="closed"):
        connection.search(Query.pqf(COMPUTER))


def test_a_missing_library_names_the_debian_package() -> None:
    # A fresh interpreter in which libyaz.so.5 cannot be found (the name is changed before loading).
    script = (
        "import federated.zoom as zoom\n"
        "zoom.LIBRARY = 'libyaz-not-here.so.5'\n"
        "try:\n    zoom.Query()\n"
        "except zoom.ZoomUnavailable as error:\n    print(error)\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert "libyaz5" in run.stdout and "apt-get install libyaz5" in run.stdout


def _resident_bytes() -> int:
    for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("/proc/self/status has no VmRSS line")


def test_searches_in_a_loop_free_what_they_allocate(ztest: ZtestServer) -> None:
    def search() -> None:
        with (
            _connection(ztest) as connection,
            Query.pqf(COMPUTER) as query,
            connection.search(query) as result,
        ):
            assert len(result.records(1, 10)) == 10
            assert len(result.records(1, 10, "xml")) == 10

    for _ in range(50):  # allocator pools and caches reach their working size
        search()
    before = _resident_bytes()
    for _ in range(500):
        search()
    # A connection, a result set or a query left behind per search is megabytes by now (some 10, 18
    # and 3.5 MB); a search that frees all it allocates leaves a few kilobytes.
    assert _resident_bytes() - before < 2 * 1024 * 1024
