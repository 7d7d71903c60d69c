"""Export round-trip: JSON Lines back to equal records, MARCXML that parses and pymarc reads back."""

from __future__ import annotations

import io
import json
from collections.abc import Callable

import pymarc
from lxml import etree

from unicat.export import MARC_NS, write_jsonl, write_marcxml
from unicat.model import Holding, MergeRule, SourceRef, UnionRecord


def parse_xml(source: object) -> list[pymarc.Record]:
    """pymarc's MARCXML reader (untyped in pymarc), as the independent reference."""
    reader: Callable[[object], list[pymarc.Record]] = pymarc.parse_xml_to_array
    return reader(source)


def _records() -> list[UnionRecord]:
    return [
        UnionRecord(
            id="u1abc",
            title="Traité de la science des finances",
            responsibility="par Paul Leroy-Beaulieu",
            authors=["Leroy-Beaulieu, Paul", "Second, Author"],
            subjects=["Finances publiques -- France"],
            isbns=["9780141439518"],
            issns=["0955-2359"],
            system_numbers=["ocolc:10698981"],
            year=1892,
            language="fre",
            publisher="Guillaumin",
            place="Paris",
            edition="5e éd.",
            format="book",
            series=["Economistes et publicistes contemporains"],
            physical="2 vol. ; 22 cm",
            notes=["Index (vol. 2)"],
            holdings=[
                Holding("SCPO", "Sciences Po", call_number="8°007.775", branch="751072303", barcode="0001"),
                Holding("OXF", "Bodleian", call_number="M94.G00395", note="In place"),
            ],
            sources=[SourceRef("SCPO", "054273242"), SourceRef("OXF", "UkOxUb1")],
            merge=[MergeRule("isbn", "9780141439518")],
            updated="2024-01-01T00:00:00Z",
        ),
        UnionRecord(id="u2def", title="Łódź \x07bell", format="serial"),
    ]


def test_jsonl_round_trip() -> None:
    out = io.StringIO()
    assert write_jsonl(_records(), out) == 2
    lines = out.getvalue().splitlines()
    assert "Traité" in lines[0]  # ensure_ascii=False
    back = [UnionRecord.from_json(json.loads(line)) for line in lines]
    assert back == _records()


def test_marcxml_parses_and_pymarc_reads_it_back() -> None:
    out = io.BytesIO()
    assert write_marcxml(_records(), out) == 2
    root = etree.fromstring(out.getvalue())
    assert root.tag == f"{{{MARC_NS}}}collection"
    assert len(root) == 2
    read = parse_xml(io.BytesIO(out.getvalue()))
    assert len(read) == 2
    first = read[0]
    assert first["001"].data == "u1abc"
    assert first["245"].get_subfields("a", "c") == [
        "Traité de la science des finances",
        "par Paul Leroy-Beaulieu",
    ]
    assert first["020"]["a"] == "9780141439518"
    assert first["035"]["a"] == "(ocolc)10698981"
    assert first["100"]["a"] == "Leroy-Beaulieu, Paul"
    assert [f["a"] for f in first.get_fields("700")] == ["Second, Author"]
    fixed = first["008"].data or ""
    assert fixed[7:11] == "1892" and fixed[35:38] == "fre"
    assert first.leader[6:8] == "am" and read[1].leader[6:8] == "as"
    holdings = first.get_fields("852")
    assert [(h["a"], h.get("h")) for h in holdings] == [("SCPO", "8°007.775"), ("OXF", "M94.G00395")]
    assert holdings[0]["b"] == "751072303" and holdings[1]["z"] == "In place"
    # Barcodes only when asked for (the operator's `unicat export`; a reader's list export does not).
    assert holdings[0].get("p") is None
    with_barcodes = io.BytesIO()
    write_marcxml(_records(), with_barcodes, barcodes=True)
    assert parse_xml(io.BytesIO(with_barcodes.getvalue()))[0]["852"]["p"] == "0001"
    assert [(f["a"], f["b"]) for f in first.get_fields("901")] == [("SCPO", "054273242"), ("OXF", "UkOxUb1")]
    assert [(f["a"], f["b"]) for f in first.get_fields("902")] == [("isbn", "9780141439518")]
    # A control character from a damaged record is dropped, not written as invalid XML.
    assert read[1]["245"]["a"] == "Łódź bell"
