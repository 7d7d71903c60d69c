"""Cut MARC dump files into raw records without decoding them: ISO 2709 and MARCXML.

Splitting is byte work only, so a record with a bad charset or a broken directory is still stored
whole and left to the indexer to judge; only what cannot be cut out as a record at all (a truncated
tail, bytes between records) comes back as :class:`Garbage`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from lxml import etree

from harvester.namespaces import marc
from unicat.errors import UnicatError
from unicat.model import RecordSyntax
from unicat.oai_protocol import MARC_NS

FileFormat = Literal["iso2709", "marcxml"]

RECORD_TERMINATOR = 0x1D
FIELD_TERMINATOR = 0x1E
_LEADER_LENGTH = 24
_DIRECTORY_ENTRY = 12
_SNIFF_BYTES = 512


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One record's bytes as found in the file, and its 001 when it could be read."""

    raw: bytes
    syntax: RecordSyntax
    control_number: str | None


@dataclass(frozen=True, slots=True)
class Garbage:
    """Bytes that are not a record, with where they were and why they were refused, and the 001 its
    directory still gives when it does (so the entry is named after the record a librarian knows)."""

    raw: bytes
    reason: str
    control_number: str | None = None


def sniff(path: Path) -> FileFormat:
    """Tell ISO 2709 (five digits of record length) from MARCXML (an XML document) by content."""
    with path.open("rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    if len(head) >= 5 and head[:5].isdigit():
        return "iso2709"
    if head.removeprefix(b"\xef\xbb\xbf").lstrip().startswith(b"<"):
        _check_root(path, _root_tag(path))
        return "marcxml"
    raise UnicatError(
        f"{path}: not a MARC file: ISO 2709 starts with a 5-digit record length and MARCXML is XML; "
        f"this starts with {head[:16]!r}"
    )


def split_iso2709(data: bytes) -> Iterator[RawRecord | Garbage]:
    """Records of an ISO 2709 stream, trusting the length field only when the terminator agrees.

    When the declared length does not land just after a record terminator (0x1D), the record ends
    at the next terminator instead. Line breaks some tools put between records are skipped.
    """
    position, size = 0, len(data)
    while position < size:
        if data[position] in b"\r\n":
            position += 1
            continue
        declared = data[position : position + 5]
        end = position + int(declared) if declared.isdigit() else -1
        if not (position + _LEADER_LENGTH < end <= size and data[end - 1] == RECORD_TERMINATOR):
            terminator = data.find(bytes([RECORD_TERMINATOR]), position)
            if terminator < 0:
                tail = data[position:]
                reason = f"truncated data at byte {position}: no record terminator (0x1D)"
                yield Garbage(tail, reason, control_number_iso2709(tail))
                return
            end = terminator + 1
        chunk = data[position:end]
        if not chunk[:5].isdigit():
            reason = f"bytes {position}-{end} do not start with a 5-digit record length"
            yield Garbage(chunk, reason, control_number_iso2709(chunk))
        else:
            yield RawRecord(chunk, "iso2709", control_number_iso2709(chunk))
        position = end


def control_number_iso2709(record: bytes) -> str | None:
    """The 001 of a raw record read from its directory, or None if the directory does not allow it."""
    base = record[12:17]
    if not base.isdigit():
        return None
    base_address = int(base)
    directory_end = record.find(bytes([FIELD_TERMINATOR]), _LEADER_LENGTH)
    if directory_end < 0 or directory_end > base_address:
        return None
    for start in range(_LEADER_LENGTH, directory_end - _DIRECTORY_ENTRY + 1, _DIRECTORY_ENTRY):
        entry = record[start : start + _DIRECTORY_ENTRY]
        if entry[:3] != b"001" or not entry[3:].isdigit():
            continue
        length, offset = int(entry[3:7]), int(entry[7:12])
        value = record[base_address + offset : base_address + offset + length]
        text = value.rstrip(bytes([FIELD_TERMINATOR, RECORD_TERMINATOR])).decode("utf-8", "replace")
        return text.strip() or None
    return None


def split_marcxml(path: Path) -> Iterator[RawRecord | Garbage]:
    """``<record>`` elements of a MARCXML file, namespaced or not, streamed with lxml.

    A file whose XML breaks part way yields the records before the break, then one :class:`Garbage`
    holding the whole file (its reader cannot be cut further) with the parser's message.
    """
    wanted = {marc("record"), "record"}
    root_tag: str | None = None
    try:
        for event, element in etree.iterparse(
            str(path), events=("start", "end"), huge_tree=True, resolve_entities=False, no_network=True
        ):
            if event == "start":
                if root_tag is None:
                    root_tag = _check_root(path, etree.QName(element).text)
                continue
            if element.tag in wanted and (element.tag != "record" or root_tag in ("collection", "record")):
                yield RawRecord(
                    etree.tostring(element, encoding="utf-8"), "marcxml", _control_number_xml(element)
                )
                element.clear(keep_tail=True)
    except etree.XMLSyntaxError as exc:
        yield Garbage(path.read_bytes(), f"{path.name}: XML error, nothing after it could be read: {exc}")


def _root_tag(path: Path) -> str:
    try:
        for _event, element in etree.iterparse(
            str(path), events=("start",), resolve_entities=False, no_network=True
        ):
            return etree.QName(element).text
    except etree.XMLSyntaxError as exc:
        raise UnicatError(f"{path}: starts like XML but is not readable XML: {exc}") from exc
    raise UnicatError(f"{path}: an XML file without any element")


def _check_root(path: Path, tag: str) -> str:
    """MARCXML roots are collection/record (namespaced or not); OAI-PMH pages wrapping MARC pass too."""
    local = etree.QName(tag).localname
    namespace = etree.QName(tag).namespace
    if namespace in (None, MARC_NS) and local in ("collection", "record"):
        return local
    if namespace is not None and namespace != MARC_NS:
        return tag
    raise UnicatError(f"{path}: XML, but not MARCXML (its root element is <{local}>)")


def _control_number_xml(record: etree._Element) -> str | None:
    for control in record.iterchildren(marc("controlfield"), "controlfield"):
        if control.get("tag") == "001":
            return (control.text or "").strip() or None
    return None
