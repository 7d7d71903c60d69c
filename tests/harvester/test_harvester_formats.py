"""Every shape MARCXML arrives in over OAI-PMH, harvested over HTTP and read back by the indexer.

The pages are real: DNB's ListRecords page of 50 MARC 21 records (``oai/zdb-oai-marc.xml``, the records
in the MARC 21 slim namespace under a ``slim:`` prefix), the same page with the namespace taken away
(each ``<record>`` then inherits the page's default OAI-PMH namespace, as servers that forget it send),
the same page in MarcXchange (ISO 25577), and the UNIMARC record of ``unimarc/rusmarc.xml`` (RUSMARC's
UNIMARC slim namespace) wrapped in an OAI-PMH page. Expected values are read from the files with lxml.
"""

from __future__ import annotations

import asyncio
import re
import unicodedata
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from lxml import etree

from harvester import harvest_source
from indexer.decoding import decode_fields
from tests.support.shared_data import SHARED_DATA
from unicat.catalogue import Catalogue
from unicat.model import Profile, Source
from unicat.oai_protocol import MARC_NS, OAI_NS
from unicat.settings import Settings

# Served as the whole list: its resumption token (which would ask for DNB's next page) is taken out.
ZDB = re.sub(
    rb"<resumptionToken[^>]*>[^<]*</resumptionToken>",
    b"",
    (SHARED_DATA / "oai" / "zdb-oai-marc.xml").read_bytes(),
)
IDENTIFY = (SHARED_DATA / "oai" / "sickle-samples" / "Identify.xml").read_bytes()
RUSMARC = SHARED_DATA / "unimarc" / "rusmarc.xml"


def _unimarc_page() -> bytes:
    record = etree.parse(str(RUSMARC)).getroot()[0]
    metadata = etree.tostring(record, encoding="unicode")
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><OAI-PMH xmlns="{OAI_NS}"><responseDate>2024-01-01T00:00:00Z'
        f"</responseDate><request>http://example.org/oai</request><ListRecords><record><header>"
        f"<identifier>oai:rusmarc:67183</identifier><datestamp>2024-01-01</datestamp></header><metadata>"
        f"{metadata}</metadata></record></ListRecords></OAI-PMH>"
    ).encode()


PAGES = {
    "slim": ZDB,
    "no-namespace": ZDB.replace(f' xmlns:slim="{MARC_NS}"'.encode(), b"").replace(b"slim:", b""),
    "marcxchange": ZDB.replace(MARC_NS.encode(), b"info:lc/xmlns/marcxchange-v1"),
    "unimarc": _unimarc_page(),
}


def _expected(page: bytes) -> dict[str, str]:
    """OAI identifier → the first 245 $a (MARC 21) or 200 $a (UNIMARC) of its record, read with lxml."""
    root = etree.fromstring(page)
    found = {}
    for record in root.iter(f"{{{OAI_NS}}}record"):
        if record.getparent() is None or etree.QName(record.getparent()).localname != "ListRecords":
            continue
        identifier = record.findtext(f"{{{OAI_NS}}}header/{{{OAI_NS}}}identifier")
        for field in record.iter():
            if etree.QName(field).localname == "datafield" and field.get("tag") in ("245", "200"):
                subfield = next(s for s in field if s.get("code") == "a")
                found[identifier] = subfield.text
                break
    return found


async def _answer(request: web.Request) -> web.Response:
    if request.query.get("verb") == "Identify":
        return web.Response(body=IDENTIFY, content_type="text/xml")
    return web.Response(body=PAGES[request.match_info["shape"]], content_type="text/xml")


@pytest.fixture
async def server() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_get("/{shape}/oai", _answer)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    await runner.cleanup()


@pytest.mark.parametrize("shape", PAGES)
async def test_every_shape_of_marcxml_is_stored_and_reads_back(
    server: str, catalogue: Catalogue, settings: Settings, shape: str
) -> None:
    profile: Profile = "unimarc" if shape == "unimarc" else "marc21"
    source = Source("SHAPE", shape, f"{server}/{shape}/oai", profile=profile)
    report = await asyncio.to_thread(harvest_source, catalogue.records, source, settings)
    expected = _expected(PAGES[shape])
    assert len(expected) == (1 if shape == "unimarc" else 50)
    assert (report.status, report.records, report.quarantined) == ("ok", len(expected), 0), report.error
    for identifier, title in expected.items():
        stored = catalogue.records.get_source_record("SHAPE", identifier)
        assert stored is not None and stored.syntax == "marcxml"
        fields = decode_fields(stored.raw, "marcxml", profile)
        tag = "200" if shape == "unimarc" else "245"
        first = next(content for field_tag, content in fields.fields if field_tag == tag)
        assert isinstance(first, tuple)
        assert dict(first[1])["a"] == unicodedata.normalize("NFC", title)  # the indexer gives NFC
