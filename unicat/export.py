"""Union records out: JSON Lines, and MARC21-slim MARCXML (also used by the OAI-PMH provider).

Both writers stream: one record is built, written and dropped at a time, so exporting a large
catalogue needs no more memory than a small one.

MARCXML mapping of a union record (MARC21 bibliographic, UTF-8, leader/09 ``a``):
leader/06-07 from the format; 001 union id; 008/07-10 year and 008/35-37 language; 020 $a ISBN-13;
022 $a ISSN; 035 $a system numbers as ``(org)number``; 100 $a first author, 700 $a the others;
245 $a title $c responsibility; 250 $a edition; 260 $a place $b publisher $c year; 300 $a physical
description; 490 $a series; 500 $a notes; 650 $a subjects; one 852 per holding ($a library code,
$b branch, $c location, $h call number, $p barcode, $z note, $x item type).

Provenance lives in local fields, because a 035 cannot say which library a local number belongs to:
- **901** — one per member source record: $a source (library) code, $b local id in that source.
- **902** — one per merge rule that linked the members: $a rule (``isbn``, ``system_number``…),
  $b the shared key.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import BinaryIO, TextIO

from lxml import etree

from unicat.model import UnionRecord

MARC_NS = "http://www.loc.gov/MARC21/slim"
_Q = "{" + MARC_NS + "}"

# Format → leader/06 (type of record) and /07 (bibliographic level).
FORMAT_LEADER: dict[str, str] = {
    "book": "am",
    "serial": "as",
    "article": "ab",
    "image": "km",
    "object": "rm",
    "map": "em",
    "music score": "cm",
    "sound recording": "jm",
    "video": "gm",
    "computer file": "mm",
    "manuscript": "tm",
    "mixed": "pc",
    "other": "rm",
}


def write_jsonl(records: Iterable[UnionRecord], out: TextIO) -> int:
    """One ``record.to_json()`` per line, UTF-8 text kept as is; returns how many were written."""
    count = 0
    for record in records:
        out.write(json.dumps(record.to_json(), ensure_ascii=False))
        out.write("\n")
        count += 1
    return count


def write_marcxml(records: Iterable[UnionRecord], out: BinaryIO) -> int:
    """A MARC21-slim ``<collection>`` of the records (mapping in the module docstring)."""
    count = 0
    with etree.xmlfile(out, encoding="utf-8") as xml:
        xml.write_declaration()
        with xml.element(_Q + "collection", nsmap={None: MARC_NS}):
            for record in records:
                xml.write(to_marcxml(record))
                count += 1
    return count


def to_marcxml(record: UnionRecord) -> etree._Element:
    """One union record as a MARC21-slim ``<record>`` element."""
    element = etree.Element(_Q + "record", nsmap={None: MARC_NS})
    kind = FORMAT_LEADER.get(record.format, FORMAT_LEADER["other"])
    etree.SubElement(element, _Q + "leader").text = f"00000n{kind} a2200000   4500"
    _control(element, "001", record.id)
    _control(element, "008", _fixed_data(record))
    for isbn in record.isbns:
        _data(element, "020", [("a", isbn)])
    for issn in record.issns:
        _data(element, "022", [("a", issn)])
    for number in record.system_numbers:
        org, _, local = number.partition(":")
        _data(element, "035", [("a", f"({org}){local}" if local else number)])
    if record.authors:
        _data(element, "100", [("a", record.authors[0])], "1")
    _data(element, "245", [("a", record.title), ("c", record.responsibility)], "0", "0")
    _data(element, "250", [("a", record.edition)])
    year = str(record.year) if record.year is not None else None
    _data(element, "260", [("a", record.place), ("b", record.publisher), ("c", year)])
    _data(element, "300", [("a", record.physical)])
    for series in record.series:
        _data(element, "490", [("a", series)], "0")
    for note in record.notes:
        _data(element, "500", [("a", note)])
    for subject in record.subjects:
        _data(element, "650", [("a", subject)], " ", "4")
    for author in record.authors[1:]:
        _data(element, "700", [("a", author)], "1")
    for holding in record.holdings:
        _data(
            element,
            "852",
            [
                ("a", holding.library),
                ("b", holding.branch),
                ("c", holding.location),
                ("h", holding.call_number),
                ("p", holding.barcode),
                ("x", holding.item_type),
                ("z", holding.note),
            ],
        )
    for ref in record.sources:
        _data(element, "901", [("a", ref.source), ("b", ref.local_id)])
    for rule in record.merge:
        _data(element, "902", [("a", rule.rule), ("b", rule.key)])
    return element


def _fixed_data(record: UnionRecord) -> str:
    """008: date type ``s`` and year at 06-10, language at 35-37, the rest blank or fill."""
    chars = [" "] * 40
    if record.year is not None:
        chars[6] = "s"
        chars[7:11] = f"{record.year:04d}"[:4]
    chars[35:38] = (record.language or "und")[:3].ljust(3)
    chars[39] = "d"
    return "".join(chars)


def _control(parent: etree._Element, tag: str, value: str) -> None:
    etree.SubElement(parent, _Q + "controlfield", tag=tag).text = value


def _data(
    parent: etree._Element,
    tag: str,
    subfields: list[tuple[str, str | None]],
    ind1: str = " ",
    ind2: str = " ",
) -> None:
    """A datafield with the subfields that have a value; nothing when none has one."""
    present = [(code, value) for code, value in subfields if value]
    if not present:
        return
    field = etree.SubElement(parent, _Q + "datafield", tag=tag, ind1=ind1, ind2=ind2)
    for code, value in present:
        etree.SubElement(field, _Q + "subfield", code=code).text = _xml_safe(value)


def _xml_safe(text: str) -> str:
    """Drop characters XML 1.0 cannot carry (control codes from damaged records)."""
    if text.isprintable():
        return text
    return "".join(ch for ch in text if ch in "\t\n\r" or ord(ch) >= 0x20)
