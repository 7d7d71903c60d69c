"""Reading the shared real data files for indexer tests, independently of the code under test."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lxml import etree

from tests.support.shared_data import SHARED_DATA
from unicat.model import Source, SourceRecord
from unicat.oai_protocol import MARC_NS, OAI_DC_NS, OAI_NS
from unicat.ports.records import RecordStore

DATA = SHARED_DATA
END_OF_RECORD = b"\x1d"


def iso2709_records(relative: str) -> list[bytes]:
    """The raw records of an ISO 2709 file, split on the record terminator (no parsing)."""
    data = (DATA / relative).read_bytes()
    return [chunk + END_OF_RECORD for chunk in data.split(END_OF_RECORD) if chunk.strip()]


def unreadable_record() -> bytes:
    """A real record no reader can split into fields: the second of marc4j's
    ``bad_oversize_field_bad_directory.mrc``, whose directory is 217 bytes long, not a whole number of
    12-byte entries (ISO 2709 4.4), so neither the directory nor a count of field terminators can be
    trusted."""
    record = iso2709_records("malformed/bad_oversize_field_bad_directory.mrc")[1]
    assert (int(record[12:17]) - 25) % 12, "the chosen record's directory is whole: pick another"
    return record


def control_number(raw: bytes) -> str | None:
    """001 of a raw ISO 2709 record, read through the directory by hand (``None`` if absent)."""
    found = field_bytes(raw, b"001")
    return found.decode("ascii") if found is not None else None


def field_bytes(raw: bytes, tag: bytes) -> bytes | None:
    """The bytes of the first field ``tag`` of a raw ISO 2709 record, without its field terminator,
    read through the directory by hand (``None`` if absent)."""
    base = int(raw[12:17])
    directory = raw[24 : base - 1]
    for start in range(0, len(directory), 12):
        entry = directory[start : start + 12]
        if entry[:3] == tag:
            length, offset = int(entry[3:7]), int(entry[7:12])
            return raw[base + offset : base + offset + length - 1]
    return None


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


def store_own_libraries(store: RecordStore, relative: str, positions: Sequence[int]) -> None:
    """Store the records at ``positions`` (0-based, file order) of an ISO 2709 file, each in a library
    of its own (``L{position}``, local id ``r``), as libraries holding copies of one edition would."""
    raws = iso2709_records(relative)
    for position in positions:
        code = f"L{position}"
        store.save_source(Source(code, f"Library {position}"))
        store.store_page(
            code, [SourceRecord(code, "r", raws[position], "iso2709", "2024-01-01T00:00:00Z")], None
        )


# Four records of dedup/pride-and-prejudice-fixed.mrc (0-based, file order), read with pymarc: 27 and 30
# are the 2003 Penguin *Pride and prejudice* (both ISBN 0141439513, LCCN 2003265779), 31 the 2003
# Penguin *Sense and sensibility* (another work), 19 the 1994 Penguin *Pride and prejudice* (another
# edition of the first work). The merge-decision tests index them, each in a library of its own.
PRIDE_2003_A, PRIDE_2003_B, SENSE_2003, PRIDE_1994 = 27, 30, 31, 19
PENGUIN_RECORDS = (PRIDE_2003_A, PRIDE_2003_B, SENSE_2003, PRIDE_1994)


def store_penguin_records(store: RecordStore) -> None:
    store_own_libraries(store, "dedup/pride-and-prejudice-fixed.mrc", PENGUIN_RECORDS)


def home(store: RecordStore, position: int) -> str:
    """The union id of the record stored by :func:`store_own_libraries` from ``position``."""
    return store.memberships()[(f"L{position}", "r")]
