"""Reading the shared real data files for indexer tests, independently of the code under test."""

from __future__ import annotations

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
