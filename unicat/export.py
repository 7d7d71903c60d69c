"""Union records out: JSON Lines, and a MARC21-slim MARCXML ``<collection>``.

Both writers stream: one record is built, written and dropped at a time, so exporting a large
catalogue needs no more memory than a small one. The MARCXML of a record is :mod:`unicat.record_xml`'s,
the same the OAI-PMH provider and SRU serve (its docstring gives the mapping).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import BinaryIO, TextIO

from unicat.model import UnionRecord
from unicat.oai_protocol import MARC_NS, MARC_SCHEMA, XSI_NS
from unicat.record_xml import marcxml

__all__ = ["MARC_NS", "write_jsonl", "write_marcxml"]


def write_jsonl(records: Iterable[UnionRecord], out: TextIO) -> int:
    """One ``record.to_json()`` per line, UTF-8 text kept as is; returns how many were written."""
    count = 0
    for record in records:
        out.write(json.dumps(record.to_json(), ensure_ascii=False))
        out.write("\n")
        count += 1
    return count


def write_marcxml(records: Iterable[UnionRecord], out: BinaryIO, *, barcodes: bool = False) -> int:
    """A MARC21-slim ``<collection>`` of the records; returns how many were written. Barcodes only
    with ``barcodes`` (the operator's ``unicat export``, not a reader's list)."""
    count = 0
    out.write(
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        + f'<collection xmlns="{MARC_NS}" xmlns:xsi="{XSI_NS}" '
        f'xsi:schemaLocation="{MARC_NS} {MARC_SCHEMA}">'.encode()
    )
    for record in records:
        out.write(marcxml(record, namespace=False, barcodes=barcodes).encode("utf-8"))
        count += 1
    out.write(b"</collection>\n")
    return count
