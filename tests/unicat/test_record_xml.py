"""A union record as MARC21 slim and oai_dc text: the mapping the module documents, and text that is
always well-formed XML whatever a damaged record holds."""

from __future__ import annotations

import io
from dataclasses import replace

import pymarc
from lxml import etree

from indexer.extract import extract
from indexer.profiles import builtin_profile
from tests.support.oai_schemas import require_schemas
from unicat.model import Contributor, Holding, MergeRule, Source, SourceRef, UnionRecord
from unicat.record_xml import DC_NS, MARC_NS, escape, marcxml, oai_dc

NS = {"m": MARC_NS, "dc": DC_NS}

RECORD = UnionRecord(
    id="u-1",
    title='Tom & Jerry <the> "story"',
    responsibility="by A. Author",
    authors=["Author, A.", "Second, B."],
    contributors=[Contributor("Author, A.", "author"), Contributor("Drawer, C.", "illustrator")],
    subjects=["Cats -- Fiction"],
    isbns=["9780141439518"],
    issns=["0028-0836"],
    system_numbers=["ocolc:51033055"],
    year=2003,
    language="fre",
    publisher="Penguin",
    place="London",
    edition="2nd ed.",
    format="sound recording",
    series=["Classics"],
    physical="1 disc",
    notes=["A note\x07 with a bell"],
    holdings=[
        Holding("BR", "Bibliothèque royale", call_number="8° Z 123", branch="MAIN", barcode="123"),
        Holding("MEL", "Melun", depositary="CEN", depositary_name="Centrale"),
    ],
    sources=[SourceRef("BR", "b1"), SourceRef("MEL", "m1")],
    merge=[MergeRule("isbn", "9780141439518")],
)


def _subfields(root: etree._Element, tag: str, code: str) -> list[str]:
    return [
        str(v)
        for v in root.xpath(f"m:datafield[@tag='{tag}']/m:subfield[@code='{code}']/text()", namespaces=NS)
    ]


def test_marcxml_follows_the_documented_mapping() -> None:
    root = etree.fromstring(marcxml(RECORD))
    assert root.tag == f"{{{MARC_NS}}}record"
    assert root.findtext("m:leader", namespaces=NS) == "00000njm a2200000   4500"
    assert root.xpath("m:controlfield[@tag='001']/text()", namespaces=NS) == ["u-1"]
    fixed = root.xpath("m:controlfield[@tag='008']/text()", namespaces=NS)[0]
    assert (len(fixed), fixed[6:11], fixed[35:38]) == (40, "s2003", "fre")
    assert _subfields(root, "020", "a") == ["9780141439518"]
    assert _subfields(root, "022", "a") == ["0028-0836"]
    assert _subfields(root, "035", "a") == ["(ocolc)51033055"]
    assert _subfields(root, "100", "a") == ["Author, A."] and _subfields(root, "700", "a") == ["Second, B."]
    assert _subfields(root, "245", "a") == ['Tom & Jerry <the> "story"']
    assert _subfields(root, "260", "c") == ["2003"]
    assert _subfields(root, "852", "a") == ["BR", "MEL"]
    assert _subfields(root, "852", "h") == ["8° Z 123"]
    assert _subfields(root, "852", "z") == ["Deposited at Centrale (CEN)"]
    # A barcode is for the libraries' staff: only asked for, as `unicat export` does.
    assert _subfields(root, "852", "p") == []
    assert _subfields(etree.fromstring(marcxml(RECORD, barcodes=True)), "852", "p") == ["123"]
    assert _subfields(root, "901", "b") == ["b1", "m1"]
    assert _subfields(root, "902", "a") == ["isbn"]
    # The bell (U+0007) of a damaged note cannot be in XML 1.0: it is dropped, the rest kept.
    assert _subfields(root, "500", "a") == ["A note with a bell"]


def test_dublin_core_follows_the_documented_mapping() -> None:
    root = etree.fromstring(oai_dc(RECORD, record_url="http://example.org/record/u-1"))
    values = {name: [str(v) for v in root.xpath(f"dc:{name}/text()", namespaces=NS)] for name in (
        "title", "creator", "contributor", "subject", "description", "publisher", "date", "type",
        "format", "identifier", "language", "relation",
    )}  # fmt: skip
    assert values == {
        "title": ['Tom & Jerry <the> "story"'],
        "creator": ["Author, A.", "Second, B."],
        "contributor": ["Drawer, C."],
        "subject": ["Cats -- Fiction"],
        "description": ["A note with a bell"],
        "publisher": ["Penguin"],
        "date": ["2003"],
        "type": ["Sound", "sound recording"],
        "format": ["1 disc"],
        "identifier": ["URN:ISBN:9780141439518", "URN:ISSN:0028-0836", "http://example.org/record/u-1"],
        "language": ["fre"],
        "relation": ["Classics"],
    }


def test_escape_keeps_text_and_drops_what_xml_cannot_carry() -> None:
    assert escape("plain") == "plain"
    assert escape('a&b<c>"d"') == "a&amp;b&lt;c&gt;&quot;d&quot;"
    assert escape("x\x00y\x1fz\ufffe\ud800") == "xyz"
    assert escape("tab\tline\nreturn\r") == "tab\tline\nreturn\r"


STATUSES = ("available", "on_loan", "not_for_loan", "lost", "damaged", "withdrawn", None)


def test_each_copy_s_status_is_an_876_item_status_linked_to_its_852() -> None:
    copies = [
        Holding("BR", "Bibliothèque royale", call_number=f"C {n}", status=status, due_date=None)
        for n, status in enumerate(STATUSES, start=1)
    ]
    root = etree.fromstring(marcxml(replace(RECORD, holdings=copies)))

    schema = etree.XMLSchema(etree.parse(str(require_schemas() / "MARC21slim.xsd")))
    assert schema.validate(root), schema.error_log
    # MARC 21 Holdings: 852 $8 sequence number, 876 $8 "that number.1", $j item status; a copy whose
    # library sent no status has neither.
    fields = [
        (f.get("tag"), f.findtext("m:subfield[@code='8']", namespaces=NS)) for f in _holding_fields(root)
    ]
    assert fields == [
        *(pair for n in range(1, 7) for pair in (("852", str(n)), ("876", f"{n}.1"))),
        ("852", None),
    ]
    assert _subfields(root, "876", "j") == [
        "available",
        "on loan",
        "not for loan",
        "lost",
        "damaged",
        "withdrawn",
    ]


def test_the_item_statuses_read_back_as_the_same_statuses_by_the_marc21_profile() -> None:
    copies = [
        Holding("BR", "Bibliothèque royale", call_number=f"C {n}", status=status)
        for n, status in enumerate(STATUSES, start=1)
    ]
    text = marcxml(replace(RECORD, holdings=copies))
    parsed = pymarc.parse_xml_to_array(io.BytesIO(text.encode()))[0]

    read = extract(parsed, builtin_profile("marc21"), Source("BR", "Bibliothèque royale"), "u-1").holdings

    assert [(holding.call_number, holding.status) for holding in read] == [
        (copy.call_number, copy.status) for copy in copies
    ]


def _holding_fields(root: etree._Element) -> list[etree._Element]:
    return list(root.xpath("m:datafield[@tag='852' or @tag='876']", namespaces=NS))
