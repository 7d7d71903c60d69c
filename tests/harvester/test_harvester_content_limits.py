"""Content limits at intake, and MARCXML files that break, on a real SQLite record store.

Expected counts come from the bytes, read with Python's own expat parser (not lxml, which the code
under test uses), or from the limits' definitions.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path
from xml.parsers import expat

import pymarc
import pytest
from aiohttp import web

from harvester import harvest_source
from harvester.importer import import_files
from tests.support.shared_data import SHARED_DATA
from unicat.catalogue import Catalogue
from unicat.content_limits import EXCERPT_BYTES, ContentLimits
from unicat.model import Source
from unicat.oai_protocol import MARC_NS, OAI_NS
from unicat.settings import Settings

SOURCE = Source(code="FILES", name="File imports")
SPEC = SHARED_DATA / "marc21" / "specTestRecs.xml"
IDENTIFY = (SHARED_DATA / "oai" / "sickle-samples" / "Identify.xml").read_bytes()


def _complete_records(prefix: bytes) -> tuple[list[str | None], int]:
    """The 001s of the ``<record>`` elements that end in ``prefix``, and the byte after the last one's
    end tag, by expat fed the prefix as an unfinished document."""
    parser = expat.ParserCreate(namespace_separator=" ")
    found: list[str | None] = []
    state = {"end": 0, "in_001": False, "text": ""}

    def start(name: str, attributes: dict[str, str]) -> None:
        if name.endswith("controlfield") and attributes.get("tag") == "001":
            state["in_001"], state["text"] = True, ""

    def data(text: str) -> None:
        if state["in_001"]:
            state["text"] = str(state["text"]) + text

    def end(name: str) -> None:
        if name.endswith("controlfield") and state["in_001"]:
            state["in_001"] = False
        if name.split(" ")[-1] == "record":
            found.append(str(state["text"]).strip() or None)
            state["text"] = ""
            state["end"] = prefix.index(b">", parser.CurrentByteIndex) + 1

    parser.StartElementHandler, parser.CharacterDataHandler, parser.EndElementHandler = start, data, end
    parser.Parse(prefix, False)
    return found, int(state["end"])


def _stored_ids(catalogue: Catalogue) -> list[str]:
    return sorted(r.local_id for r in catalogue.records.iter_source_records() if r.source == "FILES")


@pytest.mark.parametrize("nth", [1, 38, 76])
def test_a_real_file_cut_inside_a_record_keeps_every_record_before_the_cut(
    catalogue: Catalogue, tmp_path: Path, nth: int
) -> None:
    data = SPEC.read_bytes()
    starts = [m.start() for m in re.finditer(rb"<record>", data)]
    cut = data[: starts[nth - 1] + (data.index(b"</record>", starts[nth - 1]) - starts[nth - 1]) // 2]
    path = tmp_path / "cut.xml"
    path.write_bytes(cut)
    expected, end = _complete_records(cut)
    assert len(expected) == nth - 1

    report = import_files(catalogue.records, SOURCE, [path])

    assert (report.records, report.quarantined) == (nth - 1, 1)
    # Records without a 001 (or with one used before) are stored as FILE:INDEX.
    named = {i for i in _stored_ids(catalogue) if not i.startswith("cut.xml:")}
    assert named == {i for i in expected if i is not None}
    (entry,) = catalogue.records.list_quarantine("FILES")
    assert entry.stage == "import" and entry.raw == cut[end:]
    assert f"after {nth - 1:,} records" in entry.reason


def test_junk_after_a_large_file_loses_no_record(catalogue: Catalogue, tmp_path: Path) -> None:
    """The audit's case: the break comes in the last piece the parser reads, after many records."""
    data = SPEC.read_bytes()
    body = data[data.index(b"<record>") : data.rindex(b"</collection>")]
    whole = data[: data.index(b"<record>")] + body * 30 + b"</collection>"
    path = tmp_path / "tail.xml"
    path.write_bytes(whole + b"\n<trailing junk & more")
    expected, end = _complete_records(whole)
    assert len(whole) > 4 * 2**20 and len(expected) == 76 * 30

    report = import_files(catalogue.records, SOURCE, [path])

    assert report.records == len(expected)
    (entry,) = catalogue.records.list_quarantine("FILES")
    assert entry.raw == whole[end:] + b"\n<trailing junk & more"


def _marcxml(titles: list[str]) -> bytes:
    records = "".join(
        f'<record><controlfield tag="001">r{i}</controlfield><datafield tag="245" ind1="0" ind2="0">'
        f'<subfield code="a">{title}</subfield></datafield></record>'
        for i, title in enumerate(titles)
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><collection xmlns="{MARC_NS}">{records}</collection>'.encode()
    )


def test_an_oversized_subfield_is_quarantined_once_with_a_bounded_copy(
    catalogue: Catalogue, tmp_path: Path
) -> None:
    """At the default limits: a 2 MB title is over record_max_bytes, a 150 kB one over subfield_max_bytes."""
    huge, long = "T" * 2_000_000, "é" * 75_000
    path = tmp_path / "big.xml"
    path.write_bytes(_marcxml(["Short", huge, long, "Also short"]))
    for _ in range(2):  # imported twice, quarantined once
        report = import_files(catalogue.records, SOURCE, [path])
        assert (report.records, report.quarantined) == (2, 2)
    assert _stored_ids(catalogue) == ["r0", "r3"]
    entries = {e.local_id: e for e in catalogue.records.list_quarantine("FILES")}
    assert sorted(entries) == ["r1", "r2"]
    assert "(setting record_max_bytes)" in entries["r1"].reason
    assert len(entries["r1"].raw) == EXCERPT_BYTES
    kept = re.search(
        r"keeps the first ([\d,]+) of ([\d,]+) bytes \(sha256 [0-9a-f]{64}\)", entries["r1"].reason
    )
    assert kept is not None and int(kept[1].replace(",", "")) == EXCERPT_BYTES
    assert int(kept[2].replace(",", "")) > len(huge) and entries["r1"].raw.startswith(b"<record")
    assert entries["r2"].reason == (
        "subfield 245 $a is 150,000 bytes, over the limit of 100,000 (setting subfield_max_bytes)"
    )
    assert entries["r2"].raw.count("é".encode()) == 75_000  # under record_max_bytes: kept whole


def test_iso2709_subfield_over_the_limit(catalogue: Catalogue, tmp_path: Path) -> None:
    records = []
    for number, title in (("a1", "A" * 500), ("a2", "B" * 5_000), ("a3", "C" * 40)):
        record = pymarc.Record()
        record.add_field(pymarc.Field(tag="001", data=number))
        record.add_field(
            pymarc.Field(
                tag="245", indicators=pymarc.Indicators("0", "0"), subfields=[pymarc.Subfield("a", title)]
            )
        )
        records.append(record.as_marc())
    path = tmp_path / "records.mrc"
    path.write_bytes(b"".join(records))
    limits = ContentLimits(record_max_bytes=100_000, subfield_max_bytes=1_000)

    report = import_files(catalogue.records, SOURCE, [path], limits=limits)

    assert (report.records, report.quarantined) == (2, 1)
    (entry,) = catalogue.records.list_quarantine("FILES")
    assert entry.local_id == "a2" and entry.raw == records[1]
    # The 5,000 bytes of the title and its subfield code.
    assert entry.reason == (
        "a field or subfield is 5,001 bytes, over the limit of 1,000 (setting subfield_max_bytes)"
    )


def _page(titles: list[str]) -> bytes:
    items = "".join(
        f"<record><header><identifier>oai:x:{i}</identifier><datestamp>2024-01-01</datestamp></header>"
        f"<metadata>{_marcxml([title]).split(b'?>', 1)[1].decode()}</metadata></record>"
        for i, title in enumerate(titles)
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><OAI-PMH xmlns="{OAI_NS}"><responseDate>2024-01-01T00:00:00Z'
        f"</responseDate><request>http://example.org/oai</request><ListRecords>{items}</ListRecords></OAI-PMH>"
    ).encode()


PAGE = _page(["Short", "L" * 9_000_000, "M" * 200_000])


async def _answer(request: web.Request) -> web.Response:
    body = IDENTIFY if request.query.get("verb") == "Identify" else PAGE
    return web.Response(body=body, content_type="text/xml")


@pytest.fixture
async def server() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_get("/oai", _answer)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}/oai"
    await runner.cleanup()


async def test_a_harvested_record_over_a_limit_is_quarantined_not_stored(
    server: str, catalogue: Catalogue, settings: Settings
) -> None:
    source = Source("BIG", "big", server)
    report = await asyncio.to_thread(harvest_source, catalogue.records, source, settings)
    assert (report.status, report.records, report.quarantined) == ("ok", 1, 2), report.error
    assert catalogue.records.get_source_record("BIG", "oai:x:0") is not None
    assert catalogue.records.get_source_record("BIG", "oai:x:1") is None
    entries = {e.local_id: e for e in catalogue.records.list_quarantine("BIG")}
    # The 9 MB record is measured while its page is parsed: never built, only its header is kept.
    assert "record_max_bytes" in entries["oai:x:1"].reason
    assert b"<identifier>oai:x:1</identifier>" in entries["oai:x:1"].raw
    assert len(entries["oai:x:1"].raw) < EXCERPT_BYTES
    assert entries["oai:x:2"].reason.startswith("subfield 245 $a is 200,000 bytes")
