"""A hostile OAI-PMH server on 127.0.0.1, for the harvester's limit tests: one attack per path.

Each path (``{url}/{attack}``) is an OAI-PMH base URL whose ``Identify`` is honest unless the attack
is on ``Identify`` itself, and whose ``ListRecords`` plays the attack:

- ``gzip-bomb``, ``deflate-bomb``: a page that expands to :data:`BOMB_BYTES` (1 GiB) from about a
  megabyte on the wire (``Content-Encoding: gzip``, or ``deflate`` as zlib data); ``identify-bomb``:
  the same gzip bomb as the answer to ``Identify``;
- ``endless``: a page that never ends, sent as fast as the harvester reads it;
- ``trickle``: a page that sends one byte every :attr:`HostileServer.interval` seconds, for ever;
- ``slow-headers``: an answer whose header lines trickle a byte at a time (a raw socket server);
- ``big-record``: a well-formed page of three records whose second holds :data:`BIG_RECORD_BYTES` of
  MARCXML fields;
- ``deep``: a record nested 100,000 elements deep; ``xxe``: a page whose DTD defines an external
  entity on a local file, used in a record; ``laughs``: the same with the "billion laughs" entities.

A bomb is built from blocks compressed once with a full flush, which resets the compressor: the same
compressed block repeated is valid data that inflates to the block each time.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import zlib
from collections.abc import AsyncIterator
from types import TracebackType

from aiohttp import web

from tests.support.served_app import ServedApp
from unicat.oai_protocol import MARC_NS, OAI_NS

BOMB_BYTES = 1 << 30
BIG_RECORD_BYTES = 40 * 1024 * 1024
_BLOCK = 1 << 20
IDENTIFIERS = ("oai:hostile:1", "oai:hostile:2", "oai:hostile:3")


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _identify() -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><OAI-PMH xmlns="{OAI_NS}"><responseDate>{_now()}'
        '</responseDate><request verb="Identify">x</request><Identify><repositoryName>hostile'
        "</repositoryName><baseURL>http://127.0.0.1/</baseURL><protocolVersion>2.0</protocolVersion>"
        "<adminEmail>a@example.org</adminEmail><earliestDatestamp>2000-01-01T00:00:00Z"
        "</earliestDatestamp><deletedRecord>no</deletedRecord><granularity>YYYY-MM-DDThh:mm:ssZ"
        "</granularity></Identify></OAI-PMH>"
    ).encode()


def _page_start(doctype: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>{doctype}<OAI-PMH xmlns="{OAI_NS}"><responseDate>'
        f'{_now()}</responseDate><request verb="ListRecords">x</request><ListRecords>'
    ).encode()


_PAGE_END = b"</ListRecords></OAI-PMH>"


def record(identifier: str, fields: bytes = b"") -> bytes:
    """One OAI record holding a small MARCXML record (title = its identifier), ``fields`` added."""
    return (
        (
            f"<record><header><identifier>{identifier}</identifier><datestamp>2026-01-01T00:00:00Z"
            f'</datestamp></header><metadata><record xmlns="{MARC_NS}"><leader>00000nam a2200000 a 4500'
            f'</leader><controlfield tag="001">{identifier}</controlfield><datafield tag="245" ind1="0" '
            f'ind2="0"><subfield code="a">{identifier}</subfield></datafield>'
        ).encode()
        + fields
        + b"</record></metadata></record>"
    )


def _big_fields() -> bytes:
    field = b'<datafield tag="500" ind1=" " ind2=" "><subfield code="a">note</subfield></datafield>'
    return field * (BIG_RECORD_BYTES // len(field))


class HostileServer:
    """``with HostileServer() as server: server.url + "/gzip-bomb"``; ``interval``: the trickle's pace."""

    def __init__(self, interval: float = 0.25) -> None:
        self.interval = interval
        self.url = ""
        app = web.Application()
        app.cleanup_ctx.append(self._raw_server)
        app.router.add_get("/{attack}", self._answer)
        self._served = ServedApp(app)
        self._big_page = _page_start() + record(IDENTIFIERS[0])
        self._big_page += record(IDENTIFIERS[1], _big_fields()) + record(IDENTIFIERS[2]) + _PAGE_END

    def __enter__(self) -> HostileServer:
        self.url = self._served.__enter__().url
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._served.__exit__(exc_type, exc, tb)

    @property
    def slow_headers_url(self) -> str:
        return f"http://127.0.0.1:{self._raw_port}/slow-headers"

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        attack = request.match_info["attack"]
        verb = request.query.get("verb")
        if verb == "Identify" and attack == "identify-bomb":
            return await self._bomb(request, zlib.MAX_WBITS | 16, "gzip", _identify()[:-10])
        if verb == "Identify":
            return web.Response(body=_identify(), content_type="text/xml")
        if attack in ("gzip-bomb", "deflate-bomb"):
            gzip = attack == "gzip-bomb"
            wbits = zlib.MAX_WBITS | 16 if gzip else zlib.MAX_WBITS
            return await self._bomb(request, wbits, "gzip" if gzip else "deflate", _page_start())
        if attack == "big-record":
            return web.Response(body=self._big_page, content_type="text/xml")
        if attack == "deep":
            depth = 100_000
            nested = b"<a>" * depth + b"x" + b"</a>" * depth
            body = _page_start() + record(IDENTIFIERS[0], nested) + _PAGE_END
            return web.Response(body=body, content_type="text/xml")
        if attack in ("laughs", "xxe"):
            return web.Response(body=_entities(attack == "laughs"), content_type="text/xml")
        return await self._stream(request, attack)

    async def _bomb(self, request: web.Request, wbits: int, coding: str, start: bytes) -> web.StreamResponse:
        compressor = zlib.compressobj(9, zlib.DEFLATED, wbits)
        head = compressor.compress(start) + compressor.flush(zlib.Z_FULL_FLUSH)
        block = compressor.compress(b" " * _BLOCK) + compressor.flush(zlib.Z_FULL_FLUSH)
        response = web.StreamResponse(headers={"Content-Type": "text/xml", "Content-Encoding": coding})
        await response.prepare(request)
        with contextlib.suppress(ConnectionError):
            await response.write(head)
            for _ in range(BOMB_BYTES // _BLOCK):
                await response.write(block)
            await response.write(compressor.flush())
        return response

    async def _stream(self, request: web.Request, attack: str) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/xml"})
        await response.prepare(request)
        with contextlib.suppress(ConnectionError):
            await response.write(_page_start())
            filler = b" " * (1 << 16) if attack == "endless" else b" "
            while True:
                await response.write(filler)
                if attack == "trickle":
                    await asyncio.sleep(self.interval)
        return response

    async def _raw_server(self, _app: web.Application) -> AsyncIterator[None]:
        """A server that reads a request, then sends its answer's header lines a byte at a time."""

        async def trickle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError):
                await reader.readuntil(b"\r\n\r\n")
                writer.write(b"HTTP/1.1 200 OK\r\nX-Padding: ")
                while True:
                    writer.write(b"a")
                    await writer.drain()
                    await asyncio.sleep(self.interval)
            writer.close()

        server = await asyncio.start_server(trickle, "127.0.0.1", 0)
        self._raw_port = server.sockets[0].getsockname()[1]
        async with server:
            yield
            server.close()


def _entities(laughs: bool) -> bytes:
    """A page using an external entity on a local file (XXE), and the billion laughs if ``laughs``."""
    entities = ['<!ENTITY xxe SYSTEM "file:///etc/passwd">']
    used = "&xxe;"
    if laughs:
        entities += ['<!ENTITY lol1 "lol">']
        entities += [f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(2, 10)]
        used += "&lol9;"
    doctype = f"<!DOCTYPE OAI-PMH [{''.join(entities)}]>"
    fields = f'<datafield tag="500" ind1=" " ind2=" "><subfield code="a">{used}</subfield></datafield>'
    return _page_start(doctype) + record(IDENTIFIERS[0], fields.encode()) + _PAGE_END
