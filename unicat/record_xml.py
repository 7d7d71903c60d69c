"""A union record as XML text: MARC21 slim and simple Dublin Core (``oai_dc``), for every feed.

The OAI-PMH provider, SRU and ``unicat export --format marcxml`` all serialise through here, so a
record reads the same whichever way it leaves. Text is built as strings rather than element trees:
the provider serves thousands of records a second, and building an lxml tree per record and
serialising it cost 101 µs a record against 19 µs for these strings (5,000 records of
``bench/corpus.py``, best of 5, pure Python, on the 2-core development machine). Every value goes
through :func:`escape`, which also drops the characters XML 1.0 cannot carry (control codes from
damaged records), so the output is always well-formed; the tests parse it and validate it against the
MARC21 slim and oai_dc schemas.

MARCXML mapping (MARC21 bibliographic, UTF-8, leader/09 ``a``):
leader/06-07 from the format; 001 union id; 008/07-10 year and 008/35-37 language; 020 $a ISBN-13;
022 $a ISSN; 035 $a system numbers as ``(org)number``; 100 $a first author, 700 $a the others;
245 $a title $c responsibility; 250 $a edition; 260 $a place $b publisher $c year; 300 $a physical
description; 490 $a series; 500 $a notes; 650 $a subjects; one 852 per holding ($a library code,
$b branch, $c location, $h call number, $p barcode, $x item type, $z note, and a second $z
"Deposited at …" for a copy deposited at another library). A barcode identifies one physical copy and
is for the libraries' staff: only ``unicat export`` asks for it (``barcodes=True``); the OAI-PMH, SRU
and reading-list feeds are public and leave $p out. A copy whose library sent its status has, right
after its 852, the MARC 21 Holdings item field **876** $j item status in words (``available``, ``on
loan``, ``not for loan``, ``lost``, ``damaged``, ``withdrawn``: what mappings/marc21.toml reads back),
linked as embedded holdings are: 852 $8 sequence number ``n``, 876 $8 field link ``n.1``. The due date
of a copy on loan is left out: MARC 21 gives it no subfield (Koha's 952 $q is a local field).

Provenance lives in local fields, because a 035 cannot say which library a local number belongs to:
- **901** — one per member source record: $a source (library) code, $b local id in that source.
- **902** — one per merge rule that linked the members: $a rule (``isbn``, ``system_number``…),
  $b the shared key.

Dublin Core mapping: title; creator (authors) and contributor (the other named contributors);
subject; description (notes); publisher; date (year); type (the DCMI Type of the format, then the
format's own word); format (physical description); identifier (``URN:ISBN:``, ``URN:ISSN:``, the
record page's address when known); language; relation (series).
"""

from __future__ import annotations

import re

from unicat.model import Holding, UnionRecord
from unicat.oai_protocol import DC_NS, MARC_NS, MARC_SCHEMA, OAI_DC_NS, OAI_DC_SCHEMA, XSI_NS

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

# Format → DCMI Type Vocabulary term (https://www.dublincore.org/specifications/dublin-core/dcmi-type-vocabulary/).
DCMI_TYPE: dict[str, str] = {
    "book": "Text",
    "serial": "Text",
    "article": "Text",
    "manuscript": "Text",
    "music score": "Text",
    "image": "StillImage",
    "map": "StillImage",
    "object": "PhysicalObject",
    "sound recording": "Sound",
    "video": "MovingImage",
    "computer file": "Software",
    "mixed": "Collection",
}

# What XML 1.0 cannot carry (C0 controls but tab, newline, return; lone surrogates; U+FFFE/U+FFFF),
# and what must be escaped in text and in double-quoted attributes.
_UNSAFE = re.compile('[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff&<>"]')
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}


def _replace(match: re.Match[str]) -> str:
    return _ESCAPES.get(match.group(), "")


def escape(text: str) -> str:
    """``text`` ready for XML content or a double-quoted attribute; characters XML cannot hold are
    dropped (they come from damaged records and have no meaning to keep)."""
    if _UNSAFE.search(text) is None:
        return text
    return _UNSAFE.sub(_replace, text)


def _datafield(
    parts: list[str], tag: str, subfields: list[tuple[str, str | None]], ind1: str = " ", ind2: str = " "
) -> None:
    """A datafield with the subfields that have a value; nothing when none has one."""
    present = [(code, value) for code, value in subfields if value]
    if not present:
        return
    parts.append(f'<datafield tag="{tag}" ind1="{ind1}" ind2="{ind2}">')
    for code, value in present:
        parts.append(f'<subfield code="{code}">{escape(value)}</subfield>')
    parts.append("</datafield>")


def fixed_data(record: UnionRecord) -> str:
    """008: date type ``s`` and year at 06-10, language at 35-37, the rest blank or fill."""
    chars = [" "] * 40
    if record.year is not None and 0 <= record.year <= 9999:
        chars[6] = "s"
        chars[7:11] = f"{record.year:04d}"
    language = record.language if record.language and record.language.isascii() else "und"
    chars[35:38] = language[:3].ljust(3)
    chars[39] = "d"
    return "".join(chars)


def marcxml(record: UnionRecord, *, namespace: bool = True, barcodes: bool = False) -> str:
    """One union record as a MARC21-slim ``<record>`` (mapping in the module docstring).

    With ``namespace`` the element declares the MARC namespace and its schema location, as a record
    standing alone inside an OAI-PMH ``<metadata>`` must; without, it relies on an enclosing
    ``<collection>`` that declares it. Barcodes (852 $p) only with ``barcodes``: a feed forgetting
    to ask leaks nothing."""
    parts: list[str] = [
        f'<record xmlns="{MARC_NS}" xmlns:xsi="{XSI_NS}" xsi:schemaLocation="{MARC_NS} {MARC_SCHEMA}">'
        if namespace
        else "<record>"
    ]
    kind = FORMAT_LEADER.get(record.format, FORMAT_LEADER["other"])
    parts.append(f"<leader>00000n{kind} a2200000   4500</leader>")
    parts.append(f'<controlfield tag="001">{escape(record.id)}</controlfield>')
    parts.append(f'<controlfield tag="008">{escape(fixed_data(record))}</controlfield>')
    for isbn in record.isbns:
        _datafield(parts, "020", [("a", isbn)])
    for issn in record.issns:
        _datafield(parts, "022", [("a", issn)])
    for number in record.system_numbers:
        org, _, local = number.partition(":")
        _datafield(parts, "035", [("a", f"({org}){local}" if local else number)])
    if record.authors:
        _datafield(parts, "100", [("a", record.authors[0])], "1")
    _datafield(parts, "245", [("a", record.title or "[untitled]"), ("c", record.responsibility)], "0", "0")
    _datafield(parts, "250", [("a", record.edition)])
    year = str(record.year) if record.year is not None else None
    _datafield(parts, "260", [("a", record.place), ("b", record.publisher), ("c", year)])
    _datafield(parts, "300", [("a", record.physical)])
    for series in record.series:
        _datafield(parts, "490", [("a", series)], "0")
    for note in record.notes:
        _datafield(parts, "500", [("a", note)])
    for subject in record.subjects:
        _datafield(parts, "650", [("a", subject)], " ", "4")
    for author in record.authors[1:]:
        _datafield(parts, "700", [("a", author)], "1")
    for sequence, holding in enumerate(record.holdings, start=1):
        deposited = None
        if holding.depositary:
            name = holding.depositary_name
            deposited = (
                f"Deposited at {name} ({holding.depositary})"
                if name
                else f"Deposited at {holding.depositary}"
            )
        link = str(sequence) if holding.status else None
        _datafield(
            parts,
            "852",
            [
                ("8", link),
                ("a", holding.library),
                ("b", holding.branch),
                ("c", holding.location),
                ("h", holding.call_number),
                ("p", holding.barcode if barcodes else None),
                ("x", holding.item_type),
                ("z", holding.note),
                ("z", deposited),
            ],
        )
        _item_status(parts, holding, link)
    for ref in record.sources:
        _datafield(parts, "901", [("a", ref.source), ("b", ref.local_id)])
    for rule in record.merge:
        _datafield(parts, "902", [("a", rule.rule), ("b", rule.key)])
    parts.append("</record>")
    return "".join(parts)


# A copy's status (unicat/availability.py) as 876 $j item status words, those the MARC 21 profile reads.
ITEM_STATUS = {
    "available": "available",
    "on_loan": "on loan",
    "not_for_loan": "not for loan",
    "lost": "lost",
    "damaged": "damaged",
    "withdrawn": "withdrawn",
}


def _item_status(parts: list[str], holding: Holding, link: str | None) -> None:
    """The 876 of a copy whose status its library sent, linked to its 852 (sequence ``link``)."""
    if holding.status in ITEM_STATUS and link is not None:
        _datafield(parts, "876", [("8", f"{link}.1"), ("j", ITEM_STATUS[holding.status])])


def _dc(parts: list[str], element: str, value: str | None) -> None:
    if value:
        parts.append(f"<dc:{element}>{escape(value)}</dc:{element}>")


def oai_dc(record: UnionRecord, *, record_url: str | None = None) -> str:
    """One union record as an ``<oai_dc:dc>`` element (mapping in the module docstring);
    ``record_url`` is the record page's address, given as one more identifier."""
    parts: list[str] = [
        f'<oai_dc:dc xmlns:oai_dc="{OAI_DC_NS}" xmlns:dc="{DC_NS}" xmlns:xsi="{XSI_NS}" '
        f'xsi:schemaLocation="{OAI_DC_NS} {OAI_DC_SCHEMA}">'
    ]
    _dc(parts, "title", record.title)
    for author in record.authors:
        _dc(parts, "creator", author)
    authors = set(record.authors)
    for contributor in record.contributors:
        if contributor.name not in authors:
            _dc(parts, "contributor", contributor.name)
    for subject in record.subjects:
        _dc(parts, "subject", subject)
    for note in record.notes:
        _dc(parts, "description", note)
    _dc(parts, "publisher", record.publisher)
    _dc(parts, "date", str(record.year) if record.year is not None else None)
    _dc(parts, "type", DCMI_TYPE.get(record.format))
    _dc(parts, "type", record.format)
    _dc(parts, "format", record.physical)
    for isbn in record.isbns:
        _dc(parts, "identifier", f"URN:ISBN:{isbn}")
    for issn in record.issns:
        _dc(parts, "identifier", f"URN:ISSN:{issn}")
    _dc(parts, "identifier", record_url)
    _dc(parts, "language", record.language)
    for series in record.series:
        _dc(parts, "relation", series)
    parts.append("</oai_dc:dc>")
    return "".join(parts)
