"""Reading the shared real data files for indexer tests, independently of the code under test."""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from tests.shared_data import SHARED_DATA

DATA = SHARED_DATA
END_OF_RECORD = b"\x1d"


def iso2709_records(relative: str) -> list[bytes]:
    """The raw records of an ISO 2709 file, split on the record terminator (no parsing)."""
    data = (DATA / relative).read_bytes()
    return [chunk + END_OF_RECORD for chunk in data.split(END_OF_RECORD) if chunk.strip()]


def control_number(raw: bytes) -> str | None:
    """001 of a raw ISO 2709 record, read through the directory by hand (``None`` if absent)."""
    base = int(raw[12:17])
    directory = raw[24 : base - 1]
    for start in range(0, len(directory), 12):
        entry = directory[start : start + 12]
        if entry[:3] == b"001":
            length, offset = int(entry[3:7]), int(entry[7:12])
            return raw[base + offset : base + offset + length - 1].decode("ascii")
    return None


OAI_NS = "http://www.openarchives.org/OAI/2.0/"
OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
MARC_NS = "http://www.loc.gov/MARC21/slim"


@dataclass(frozen=True)
class OaiDcRecord:
    """One record of a captured OAI-PMH response: header identifier, datestamp, and the ``<oai_dc:dc>``
    element serialised as UTF-8 with its namespaces (what the harvester stores as ``raw``)."""

    identifier: str
    datestamp: str
    raw: bytes


def oai_dc_records(relative: str) -> list[OaiDcRecord]:
    """The records with ``oai_dc`` metadata of an OAI-PMH response file (deleted ones have none)."""
    root = etree.parse(str(DATA / relative)).getroot()
    found = []
    for record in root.iter(f"{{{OAI_NS}}}record"):
        dc = record.find(f".//{{{OAI_DC_NS}}}dc")
        if dc is None:
            continue
        found.append(
            OaiDcRecord(
                record.findtext(f"{{{OAI_NS}}}header/{{{OAI_NS}}}identifier", "").strip(),
                record.findtext(f"{{{OAI_NS}}}header/{{{OAI_NS}}}datestamp", "").strip(),
                etree.tostring(dc, encoding="utf-8"),
            )
        )
    return found


def marcxml_records(relative: str) -> list[bytes]:
    """Each MARCXML ``<record>`` of a file, serialised on its own."""
    root = etree.parse(str(DATA / relative)).getroot()
    return [etree.tostring(record, encoding="utf-8") for record in root.iter(f"{{{MARC_NS}}}record")]
