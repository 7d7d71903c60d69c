"""Cut MARC dump files into raw records without decoding them: ISO 2709 and MARCXML.

Splitting is byte work only, so a record with a bad charset or a broken directory is still stored
whole and left to the indexer to judge; only what cannot be cut out as a record at all (a truncated
tail, bytes between records) comes back as :class:`Garbage`.
"""

from __future__ import annotations

import mmap
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from lxml import etree

from harvester.limits import check_xml_record
from harvester.namespaces import MARC_RECORD_NAMESPACES
from unicat.content_limits import DEFAULT_LIMITS, ContentLimits
from unicat.errors import UnicatError
from unicat.model import RecordSyntax
from unicat.oai_protocol import OAI_NS

FileFormat = Literal["iso2709", "marcxml"]

RECORD_TERMINATOR = 0x1D
FIELD_TERMINATOR = 0x1E
_LEADER_LENGTH = 24
_DIRECTORY_ENTRY = 12
_SNIFF_BYTES = 512
# MARCXML is fed to the parser in pieces of this size, so a file is never read whole.
_XML_CHUNK = 1 << 20
_RECORD_END_TAG = re.compile(rb"</(?:[^\s<>/:]+:)?record\s*>")
# The namespaces a MARCXML file's records come in (MARC 21 slim, MarcXchange, RUSMARC's UNIMARC slim),
# and the element names they give; a file's records without a namespace are read too.
_XML_NAMESPACES = frozenset(ns for ns in MARC_RECORD_NAMESPACES if ns not in (None, OAI_NS))
_XML_RECORDS = frozenset(f"{{{ns}}}record" for ns in _XML_NAMESPACES)
_XML_CONTROL_FIELDS = ("controlfield", *(f"{{{ns}}}controlfield" for ns in _XML_NAMESPACES))


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


def split_marcxml(path: Path, *, limits: ContentLimits = DEFAULT_LIMITS) -> Iterator[RawRecord | Garbage]:
    """``<record>`` elements of a MARCXML file, namespaced or not, streamed with lxml.

    A file whose XML breaks part way yields every record that ended before the break, then one
    :class:`Garbage` holding the bytes from the end of the last of them (the parser cannot go on
    past a break, and guessing where the next record starts could cut one in two) with the parser's
    message. ``huge_tree`` lets a record with a very large value be read to its end and refused by
    the content limits, rather than break the file there; the file is the librarian's own. A record
    over the ``limits`` comes back as :class:`Garbage` too, named after its 001.
    """
    wanted = _XML_RECORDS | {"record"}
    root_tag: str | None = None
    parser = etree.XMLPullParser(
        events=("start", "end"), huge_tree=True, resolve_entities=False, no_network=True
    )
    yielded = 0

    def records() -> Iterator[RawRecord | Garbage]:
        nonlocal root_tag, yielded
        for event, element in parser.read_events():
            if event == "start":
                if root_tag is None:
                    root_tag = _check_root(path, etree.QName(element).text)
                continue
            if element.tag in wanted and (element.tag != "record" or root_tag in ("collection", "record")):
                raw = etree.tostring(element, encoding="utf-8")
                control_number = _control_number_xml(element)
                if (reason := check_xml_record(limits, element, raw)) is not None:
                    yield Garbage(raw, reason, control_number)
                else:
                    yield RawRecord(raw, "marcxml", control_number)
                yielded += 1
                element.clear(keep_tail=True)

    try:
        with path.open("rb") as handle:
            while chunk := handle.read(_XML_CHUNK):
                try:
                    parser.feed(chunk)
                except etree.XMLSyntaxError:
                    # Records the parser completed before a break in this piece are queued: keep them.
                    yield from records()
                    raise
                yield from records()
        try:
            parser.close()
        except etree.XMLSyntaxError:
            # What ``close`` reports after a file that ends inside a record is the parser closing the
            # elements left open: those records are cut short, never yielded.
            parser.read_events()
            raise
        yield from records()
        if yielded == 0 and _end_of_records(path, 1):
            # <record> elements were there, none of them MARCXML's: say so rather than import nothing.
            yield Garbage(path.read_bytes(), _no_marc_reason(path, root_tag))
    except etree.XMLSyntaxError as exc:
        start = _end_of_records(path, yielded)
        with path.open("rb") as handle:
            handle.seek(start)
            rest = handle.read()
        reason = (
            f"{path.name}: XML error after {yielded:,} records, {len(rest):,} bytes from byte {start:,} "
            f"could not be read (fix the file and import it again): {exc}"
        )
        yield Garbage(rest, reason)


def _no_marc_reason(path: Path, root_tag: str | None) -> str:
    """Why a file with <record> elements gave no MARC record, and what the librarian can do instead."""
    if root_tag is not None and etree.QName(root_tag).namespace == OAI_NS:
        return (
            f"{path.name}: an OAI-PMH response whose records carry no MARCXML (Dublin Core, or deleted "
            "headers): `unicat import` reads MARC dumps; register the server with `unicat source add CODE "
            "--oai-url URL` and harvest it"
        )
    return (
        f"{path.name}: its <record> elements are in no MARCXML namespace Unicat reads "
        f"({', '.join(sorted(_XML_NAMESPACES))}, or none): nothing could be imported"
    )


def _end_of_records(path: Path, count: int) -> int:
    """Where the ``count``-th ``</record>`` end tag (any prefix) ends in ``path``: the start of what the
    parser could not read after ``count`` records.

    Any other end tag named ``record`` (an OAI-PMH wrapper's, one in a comment) only moves this
    earlier, so the bytes kept for the quarantine may repeat the end of a stored record but never
    miss a byte that was not stored.
    """
    if count == 0 or path.stat().st_size == 0:
        return 0
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        end = 0
        for found, match in enumerate(_RECORD_END_TAG.finditer(data), start=1):
            end = match.end()
            if found == count:
                break
        return end


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
    if (namespace is None or namespace in _XML_NAMESPACES) and local in ("collection", "record"):
        return local
    if namespace is not None and namespace not in _XML_NAMESPACES:
        return tag
    raise UnicatError(f"{path}: XML, but not MARCXML (its root element is <{local}>)")


def _control_number_xml(record: etree._Element) -> str | None:
    for control in record.iterchildren(*_XML_CONTROL_FIELDS):
        if control.get("tag") == "001":
            return (control.text or "").strip() or None
    return None
