"""Live targets that fail the way real ones do, on 127.0.0.1, for the federated search's fault tests.

- :func:`silent_listener`: accepts TCP connections and never answers (a hung server, a firewall that
  lets the handshake through); the connections stay open until the block ends.
- :func:`closing_listener`: accepts and closes at once; with ``read_first`` it reads the request
  first, then closes without a reply (a server that crashes on the request).
- :func:`malformed_sru_server`: an SRU 1.2 server whose searchRetrieve answers carry good MARCXML,
  malformed MARCXML and a record that is not MARC at all (:func:`mixed_sru_records`).
- :func:`malformed_z3950_server`: Zebra serving ISO2709 records of which some are broken. Zebra's MARC
  readers reject a broken record at indexing, so these records are stored by the ``text`` filter,
  which keeps each file's bytes as they are, and retrieved with the element set ``zebra::data``
  (the stored record, "in exactly the original form", whatever the syntax asked): the server's
  ``retrievalinfo`` maps the USMARC and UNIMARC syntaxes to it, so a client asking for MARC gets the
  broken bytes. The text filter indexes words only under Any; :data:`ALL_RECORDS` finds every record.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from aiohttp import web
from lxml import etree

from tests.support.served_app import ServedApp
from tests.support.shared_data import SHARED_DATA
from tests.support.zebra import ZebraDatabase, ZebraServer, serving

ACCEPT_POLL_SECONDS = 0.1
READ_BYTES = 65536

SRW = "http://www.loc.gov/zing/srw/"
MARCXML_SCHEMA = "info:srw/schema/1/marcxml-v1.1"
DC_SCHEMA = "info:srw/schema/1/dc-v1.1"
MARC_NS = "http://www.loc.gov/MARC21/slim"
OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DEFAULT_PAGE = 10

BROKEN_ISO2709 = SHARED_DATA / "dedup" / "pride-and-prejudice-with-many-errors.mrc"
BROKEN_RECORDS_SERVED = 24
MALFORMED_DATABASE = "malformed"
# Zebra's query for every record of a database (the PQF of CQL's cql.allRecords).
ALL_RECORDS = '@attr 1=_ALLRECORDS @attr 2=103 ""'


@dataclass(frozen=True, slots=True)
class Listener:
    host: str
    port: int

    @property
    def z3950_address(self) -> str:
        return f"{self.host}:{self.port}/Default"

    @property
    def sru_url(self) -> str:
        return f"http://{self.host}:{self.port}/Default"


@contextmanager
def silent_listener() -> Iterator[Listener]:
    """A loopback port that accepts every connection, reads nothing, answers nothing, closes nothing
    until the block ends."""
    held: list[socket.socket] = []
    with _accepting(held.append) as listener:
        try:
            yield listener
        finally:
            for connection in held:
                connection.close()


@contextmanager
def closing_listener(read_first: bool = False) -> Iterator[Listener]:
    """A loopback port that closes every connection it accepts: at once, or once the client's first
    bytes (its request) have arrived, never answering."""

    def close(connection: socket.socket) -> None:
        if read_first:
            connection.settimeout(10)
            with suppress(OSError):
                connection.recv(READ_BYTES)
        connection.close()

    with _accepting(close) as listener:
        yield listener


@contextmanager
def _accepting(handle: Callable[[socket.socket], None]) -> Iterator[Listener]:
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(ACCEPT_POLL_SECONDS)
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            handle(connection)

    thread = threading.Thread(target=accept, name="live-fault-listener", daemon=True)
    thread.start()
    try:
        yield Listener("127.0.0.1", server.getsockname()[1])
    finally:
        stop.set()
        thread.join(timeout=5)
        server.close()


RecordKind = Literal["marc", "malformed", "not-marc"]


@dataclass(frozen=True, slots=True)
class SruRecord:
    """One record the SRU server answers with: its ``recordData`` content, its schema, what it is and
    the file it comes from."""

    data: bytes
    schema: str
    kind: RecordKind
    source: str


def mixed_sru_records() -> list[SruRecord]:
    """Good MARCXML (``marc21/OCLC_814388508.xml`` and the first two records of
    ``marc21/specTestRecs.xml``: valid against the MARC 21 slim schema), the malformed MARCXML of
    ``malformed/*.xml`` (a datafield without its tag, a subfield without its code, ``subfields`` for
    ``subfield``, a datafield without indicators) and one Dublin Core record of a real OAI-PMH page,
    interleaved."""
    good = [
        *_marcxml_records(SHARED_DATA / "marc21" / "OCLC_814388508.xml", "marc")[:1],
        *_marcxml_records(SHARED_DATA / "marc21" / "specTestRecs.xml", "marc")[:2],
    ]
    malformed = [
        record
        for path in sorted((SHARED_DATA / "malformed").glob("*.xml"))
        for record in _marcxml_records(path, "malformed")
    ]
    not_marc = [_dublin_core_record(SHARED_DATA / "oai" / "oaipmh_oai_dc.xml")]
    mixed: list[SruRecord] = []
    for index in range(max(len(good), len(malformed))):
        mixed += good[index : index + 1] + malformed[index : index + 1]
        if index == 1:
            mixed += not_marc
    return mixed


def _marcxml_records(path: Path, kind: RecordKind) -> list[SruRecord]:
    source = path.relative_to(SHARED_DATA).as_posix()
    records = etree.parse(str(path)).getroot().iter(f"{{{MARC_NS}}}record")
    return [
        SruRecord(etree.tostring(record, with_tail=False), MARCXML_SCHEMA, kind, source) for record in records
    ]


def _dublin_core_record(path: Path) -> SruRecord:
    record = next(etree.parse(str(path)).getroot().iter(f"{{{OAI_DC_NS}}}dc"))
    return SruRecord(
        etree.tostring(record, with_tail=False),
        DC_SCHEMA,
        "not-marc",
        path.relative_to(SHARED_DATA).as_posix(),
    )


@dataclass(frozen=True, slots=True)
class SruServer:
    url: str
    records: tuple[SruRecord, ...]


@contextmanager
def malformed_sru_server(records: Sequence[SruRecord] | None = None) -> Iterator[SruServer]:
    """An SRU 1.2 server at ``URL/malformed`` answering every searchRetrieve, whatever its query, with
    ``records`` (default: :func:`mixed_sru_records`) paged by ``startRecord`` and ``maximumRecords``."""
    served = tuple(mixed_sru_records() if records is None else records)
    app = web.Application()

    async def search_retrieve(request: web.Request) -> web.Response:
        return _search_retrieve(request, served)

    app.router.add_get("/malformed", search_retrieve)
    with ServedApp(app) as running:
        yield SruServer(f"{running.url}/malformed", served)


def _search_retrieve(request: web.Request, records: tuple[SruRecord, ...]) -> web.Response:
    query = request.query
    if query.get("operation", "searchRetrieve") != "searchRetrieve":
        return _xml(_diagnostic("4", f"Unsupported operation: {query.get('operation')}"))
    try:
        start = int(query.get("startRecord", "1"))
        maximum = int(query.get("maximumRecords", str(DEFAULT_PAGE)))
    except ValueError:
        return _xml(
            _diagnostic("6", "Unsupported parameter value: startRecord and maximumRecords are numbers")
        )
    page = records[start - 1 : start - 1 + maximum] if start >= 1 else ()
    body = [f'<zs:searchRetrieveResponse xmlns:zs="{SRW}"><zs:version>1.2</zs:version>']
    body.append(f"<zs:numberOfRecords>{len(records)}</zs:numberOfRecords>")
    if page:
        body.append("<zs:records>")
        for position, record in enumerate(page, start):
            body.append(
                f"<zs:record><zs:recordSchema>{record.schema}</zs:recordSchema>"
                "<zs:recordPacking>xml</zs:recordPacking>"
                f"<zs:recordData>{record.data.decode()}</zs:recordData>"
                f"<zs:recordPosition>{position}</zs:recordPosition></zs:record>"
            )
        body.append("</zs:records>")
        if start - 1 + len(page) < len(records):
            body.append(f"<zs:nextRecordPosition>{start + len(page)}</zs:nextRecordPosition>")
    body.append("</zs:searchRetrieveResponse>")
    return _xml("".join(body))


def _diagnostic(code: str, message: str) -> str:
    return (
        f'<zs:searchRetrieveResponse xmlns:zs="{SRW}"><zs:version>1.2</zs:version>'
        "<zs:numberOfRecords>0</zs:numberOfRecords><zs:diagnostics>"
        '<diag:diagnostic xmlns:diag="http://www.loc.gov/zing/srw/diagnostic/">'
        f"<diag:uri>info:srw/diagnostic/1/{code}</diag:uri><diag:message>{message}</diag:message>"
        "</diag:diagnostic></zs:diagnostics></zs:searchRetrieveResponse>"
    )


def _xml(body: str) -> web.Response:
    return web.Response(text='<?xml version="1.0" encoding="UTF-8"?>\n' + body, content_type="text/xml")


# The stored bytes, whatever syntax and element set a client asks for MARC in.
RAW_RETRIEVAL = (
    "<retrievalinfo>\n"
    + "".join(
        f'  <retrieval syntax="{syntax}"{name}><backend syntax="{syntax}" name="zebra::data"/></retrieval>\n'
        for syntax in ("usmarc", "unimarc")
        for name in ("", ' name="F"', ' name="B"')
    )
    + "</retrievalinfo>\n"
)


def broken_iso2709_records() -> list[bytes]:
    """The first :data:`BROKEN_RECORDS_SERVED` records of ``dedup/pride-and-prejudice-with-many-errors.mrc``
    cut at each record terminator (0x1D), as the file has them: directories that do not match their
    fields, lengths that lie. pymarc reads most; some it cannot (the tests count which)."""
    pieces = BROKEN_ISO2709.read_bytes().split(b"\x1d")
    return [piece + b"\x1d" for piece in pieces if piece.strip()][:BROKEN_RECORDS_SERVED]


@contextmanager
def malformed_z3950_server(workdir: Path) -> Iterator[ZebraServer]:
    """Zebra serving :func:`broken_iso2709_records` unchanged in database ``malformed`` (Z39.50 and SRU
    on one loopback port): each record a file of its own, stored by the ``text`` filter."""
    folder = workdir / "records"
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for number, record in enumerate(broken_iso2709_records(), 1):
        path = folder / f"{number:04d}.mrc"
        path.write_bytes(record)
        files.append(path)
    with serving(workdir, [ZebraDatabase(MALFORMED_DATABASE, "text", tuple(files))], RAW_RETRIEVAL) as server:
        yield server
