"""Raw bytes of one source record → its fields with Unicode (NFC) text (or a :class:`pymarc.Record`).

ISO 2709 is parsed here rather than by pymarc so that each subfield is decoded on its own: most
subfields are plain ASCII and skip the slow MARC-8 converter altogether, and a bad byte costs one
warning on one subfield instead of the record. Charsets:

- MARC21: leader/09 ``a`` is UTF-8, blank is MARC-8 (anything else is read as MARC-8, with a warning).
- UNIMARC: 100 $a/26-29 declares the charset, but real files declare ISO 646 or ISO 5426 over bytes that
  are UTF-8; bytes that are valid UTF-8 are therefore read as UTF-8, and the declaration is followed
  only for the rest (ISO 5426/6937 are not implemented yet: latin-1 with a warning).

MARCXML is parsed with lxml (about three times faster than pymarc's SAX handler). Unqualified Dublin
Core (``oai_dc``) is crossed to MARC 21 fields by :mod:`indexer.dublin_core`, so it decodes to the same
plain form. Problems that lose little (a stray byte, a field without a tag) become warnings carried
with the record; only a record whose structure cannot be read raises
:class:`~unicat.errors.RecordError`.
"""

from __future__ import annotations

import contextlib
import io
import re
import unicodedata
from collections.abc import Callable, Container, Iterator
from dataclasses import dataclass, field

import pymarc
from lxml import etree

from indexer.dublin_core import dublin_core_to_marc
from indexer.marc import DataField, FieldContent, MarcFields, Subfields, to_pymarc
from unicat.errors import RecordError
from unicat.model import Profile, RecordSyntax

FIELD_TERMINATOR = b"\x1e"
FIELD_TERMINATOR_BYTE = FIELD_TERMINATOR[0]
SUBFIELD_DELIMITER = b"\x1f"
ESCAPE = b"\x1b"
LEADER_LENGTH = 24
DIRECTORY_ENTRY_LENGTH = 12
UNIMARC_UTF8 = "50"

_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True)

Decoder = Callable[[bytes], str]


@dataclass(slots=True)
class DecodedRecord:
    """A parsed record and what went wrong while decoding it (kept, not fatal)."""

    record: pymarc.Record
    warnings: list[str] = field(default_factory=list)


def decode_record(raw: bytes, syntax: RecordSyntax, profile: Profile) -> DecodedRecord:
    """Parse one record into pymarc objects; raises :class:`RecordError` when it cannot be read at all."""
    decoded = decode_fields(raw, syntax, profile)
    return DecodedRecord(to_pymarc(decoded), decoded.warnings)


def decode_fields(
    raw: bytes, syntax: RecordSyntax, profile: Profile, wanted: Container[str] | None = None
) -> MarcFields:
    """Parse one record into plain values, keeping only the fields whose tag is ``wanted`` (default: all).

    The indexer asks only for the tags its profile maps: a field nobody reads is never decoded. Its
    structure is still checked, so a record is rejected (:class:`RecordError`) for the same damage.
    An ``oai_dc`` record gives MARC 21 fields whatever ``profile`` says (see :mod:`indexer.dublin_core`).
    """
    if syntax == "marcxml":
        return _from_marcxml(raw, wanted)
    if syntax == "oai_dc":
        return dublin_core_to_marc(raw, wanted)
    return _from_iso2709(raw, profile, wanted)


def is_control_tag(tag: str) -> bool:
    """Tags 001-009 hold data without indicators or subfields (as pymarc and ruby-marc assume)."""
    return tag < "010" and tag.isdigit()


def _nfc(text: str) -> str:
    return text if text.isascii() else unicodedata.normalize("NFC", text)


# -- ISO 2709 ------------------------------------------------------------------------------------


# A raw field: its tag and its bytes without the field terminator.
_RawField = tuple[str, bytes]

# Directory entries: a 3-character tag, a 4-digit length, a 5-digit offset. Matched all at once over
# an ASCII directory; any entry that does not match sends the record to the entry-by-entry check,
# which names the bad entry.
_DIRECTORY_RE = re.compile(r"(...)([0-9]{4})([0-9]{5})", re.DOTALL)


def _split_iso2709(raw: bytes) -> tuple[str, list[_RawField], list[str]]:
    """Leader and raw fields by the directory; structural damage that hides the data raises."""
    warnings: list[str] = []
    if len(raw) < LEADER_LENGTH:
        raise RecordError(f"record is {len(raw)} bytes, shorter than a {LEADER_LENGTH}-byte leader")
    try:
        leader = raw[:LEADER_LENGTH].decode("ascii")
    except UnicodeDecodeError as exc:
        raise RecordError("leader contains non-ASCII bytes") from exc
    if not leader[12:17].isdigit():
        raise RecordError(f"leader/12-16 (base address of data) is not a number: {leader[12:17]!r}")
    base = int(leader[12:17])
    if base <= LEADER_LENGTH or base > len(raw):
        raise RecordError(f"base address of data {base} is outside the record ({len(raw)} bytes)")
    if leader[:5].isdigit() and int(leader[:5]) != len(raw):
        warnings.append(f"leader gives a record length of {int(leader[:5])}, the record has {len(raw)} bytes")
    directory = raw[LEADER_LENGTH : base - 1]
    if len(directory) % DIRECTORY_ENTRY_LENGTH:
        raise RecordError(f"directory length {len(directory)} is not a multiple of 12")
    contiguous = _contiguous_fields(raw, base, directory)
    if contiguous is not None:
        return leader, contiguous, warnings
    fields: list[_RawField] = []
    size = len(raw)
    for tag, length, offset in _directory_entries(directory):
        begin = base + offset
        end = begin + length
        if end > size:
            raise RecordError(
                f"field {tag} (offset {offset}, length {length}) runs past the end of the record"
            )
        if not length or raw[end - 1] != FIELD_TERMINATOR_BYTE:
            # The directory points beside the field terminators: every field boundary is suspect.
            raise RecordError(f"field {tag} (offset {offset}, length {length}) does not end a field")
        fields.append((tag, raw[begin : end - 1]))
    return leader, fields, warnings


def _contiguous_fields(raw: bytes, base: int, directory: bytes) -> list[_RawField] | None:
    """The fields of the usual record, whose directory lists them end to end in data order; else None.

    Splitting the data at the field terminators and comparing the pieces with the directory checks
    every entry at once: when each piece has its entry's length and the offsets add up, every field
    ends where its entry says, which is what the entry-by-entry reading checks one field at a time.
    """
    entries = _tiled_entries(directory)
    if entries is None:
        return None
    pieces = raw[base:].split(FIELD_TERMINATOR)
    if len(pieces) <= len(entries):
        return None
    offset = 0
    for (_, length, start), piece in zip(entries, pieces, strict=False):
        if int(start) != offset or int(length) != len(piece) + 1:
            return None
        offset += len(piece) + 1
    return [(entry[0], piece) for entry, piece in zip(entries, pieces, strict=False)]


def _tiled_entries(directory: bytes) -> list[tuple[str, str, str]] | None:
    """(tag, length, offset) texts of every entry, read at once; ``None`` unless all are well formed."""
    if not directory.isascii():
        return None
    entries: list[tuple[str, str, str]] = _DIRECTORY_RE.findall(directory.decode("ascii"))
    # Matches never overlap, so covering every byte means they tile the directory exactly.
    return entries if len(entries) * DIRECTORY_ENTRY_LENGTH == len(directory) else None


def _directory_entries(directory: bytes) -> Iterator[tuple[str, int, int]]:
    """(tag, length, offset) of each directory entry, in order; raises at the first that is not one.

    Lazy, so that a damaged field before a damaged entry is reported first, as a reader going entry by
    entry would.
    """
    entries = _tiled_entries(directory)
    if entries is not None:
        for tag, length, offset in entries:
            yield tag, int(length), int(offset)
        return
    for start in range(0, len(directory), DIRECTORY_ENTRY_LENGTH):
        entry = directory[start : start + DIRECTORY_ENTRY_LENGTH]
        if not entry[3:12].isdigit():
            raise RecordError(f"directory entry {entry!r} has no numeric length and offset")
        try:
            tag = entry[:3].decode("ascii")
        except UnicodeDecodeError as exc:
            raise RecordError(f"directory entry {entry!r} has a non-ASCII tag") from exc
        yield tag, int(entry[3:7]), int(entry[7:12])


def _from_iso2709(raw: bytes, profile: Profile, wanted: Container[str] | None) -> MarcFields:
    leader, raw_fields, warnings = _split_iso2709(raw)
    decode, utf8_first = _choose_decoder(leader, raw_fields, profile, warnings)
    fields = [
        (tag, _field_content(tag, data, decode, utf8_first, warnings))
        for tag, data in raw_fields
        if wanted is None or tag in wanted
    ]
    return MarcFields(leader, fields, warnings)


def _field_content(
    tag: str, data: bytes, decode: Decoder, utf8_first: bool, warnings: list[str]
) -> FieldContent:
    if is_control_tag(tag):
        return decode(data)
    text: str | None = None
    if data.isascii() and ESCAPE not in data:
        text = data.decode("ascii")
    elif utf8_first:
        with contextlib.suppress(UnicodeDecodeError):
            text = data.decode("utf-8")
    if text is not None:
        # Most fields: decoded once and split as text, no per-subfield decoder call.
        head, *texts = text.split("\x1f")
        if text.isascii():
            subfields = [(part[0], part[1:]) for part in texts if part]
        else:
            subfields = _text_subfields(tag, texts, warnings)
    else:
        head_bytes, *chunks = data.split(SUBFIELD_DELIMITER)
        head = head_bytes.decode("ascii", "replace")
        subfields = []
        for chunk in chunks:
            if not chunk:
                continue
            if not chunk[:1].isascii():
                warnings.append(f"field {tag}: non-ASCII subfield code {chunk[:1]!r}; subfield dropped")
                continue
            subfields.append((chr(chunk[0]), decode(chunk[1:])))
    if len(head) != 2:
        warnings.append(f"field {tag}: {len(head)} indicator(s) instead of 2")
        head = (head + "  ")[:2]
    return head, subfields


def _text_subfields(tag: str, texts: list[str], warnings: list[str]) -> Subfields:
    """Subfields of a decoded non-ASCII field: values in NFC, a subfield with a non-ASCII code dropped."""
    subfields: Subfields = []
    for part in texts:
        if not part:
            continue
        if not part[0].isascii():
            code = part[0].encode("utf-8")[:1]
            warnings.append(f"field {tag}: non-ASCII subfield code {code!r}; subfield dropped")
            continue
        subfields.append((part[0], _nfc(part[1:])))
    return subfields


def _choose_decoder(
    leader: str, fields: list[_RawField], profile: Profile, warnings: list[str]
) -> tuple[Decoder, bool]:
    """The record's decoder, and whether valid UTF-8 is read as UTF-8 whatever else: then a field that
    is valid UTF-8 as a whole is decoded in one call (the delimiters are ASCII, so no character
    straddles two subfields)."""
    if profile == "unimarc":
        declared = _unimarc_declared_charset(fields)
        return _unimarc_decoder(declared, warnings), True
    if leader[9] == "a":
        return _utf8_decoder(warnings), True
    if leader[9] != " ":
        warnings.append(f"leader/09 is {leader[9]!r} (neither 'a' nor blank): read as MARC-8")
    return _marc8_decoder(warnings), False


def _unimarc_declared_charset(fields: list[_RawField]) -> str:
    """100 $a/26-27, the first character set of a UNIMARC record ('' when not given)."""
    for tag, data in fields:
        if tag == "100":
            for chunk in data.split(SUBFIELD_DELIMITER)[1:]:
                if chunk[:1] == b"a":
                    return chunk[27:29].decode("latin-1").strip()
    return ""


def _utf8_decoder(warnings: list[str]) -> Decoder:
    def decode(data: bytes) -> str:
        if data.isascii():
            return data.decode("ascii")
        try:
            return unicodedata.normalize("NFC", data.decode("utf-8"))
        except UnicodeDecodeError:
            warnings.append(f"invalid UTF-8 replaced in {data[:40]!r}")
            return unicodedata.normalize("NFC", data.decode("utf-8", "replace"))

    return decode


def _unimarc_decoder(declared: str, warnings: list[str]) -> Decoder:
    """Valid UTF-8 wins over the declaration (real files lie); else follow it."""

    def decode(data: bytes) -> str:
        if data.isascii():
            return data.decode("ascii")
        try:
            return unicodedata.normalize("NFC", data.decode("utf-8"))
        except UnicodeDecodeError:
            pass
        if declared == UNIMARC_UTF8:
            warnings.append(f"invalid UTF-8 replaced in {data[:40]!r}")
            return unicodedata.normalize("NFC", data.decode("utf-8", "replace"))
        warnings.append(f"charset {declared or 'unspecified'!r} not supported: read as latin-1 {data[:40]!r}")
        return unicodedata.normalize("NFC", data.decode("latin-1"))

    return decode


def _marc8_translate(data: bytes) -> str:
    """pymarc's converter (untyped), with fresh G0/G1 state: MARC-8 escapes do not span subfields."""
    translate: Callable[[bytes], str] = pymarc.MARC8ToUnicode().translate
    return translate(data)


def _marc8_decoder(warnings: list[str]) -> Decoder:
    """MARC-8 with an ASCII fast path; pymarc's complaints (on stderr) become warnings."""

    def decode(data: bytes) -> str:
        if data.isascii() and ESCAPE not in data:
            return data.decode("ascii")
        complaints = io.StringIO()
        try:
            with contextlib.redirect_stderr(complaints):
                text = _marc8_translate(data)
        except (IndexError, KeyError, TypeError, ValueError) as exc:
            warnings.append(f"bad MARC-8 ({type(exc).__name__}) replaced in {data[:40]!r}")
            text = data.decode("ascii", "replace")
        for line in complaints.getvalue().splitlines():
            warnings.append(f"MARC-8: {line} in {data[:40]!r}")
        return unicodedata.normalize("NFC", text)

    return decode


# -- MARCXML -------------------------------------------------------------------------------------


def _local(element: etree._Element) -> str:
    tag = element.tag
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def _find_record(root: etree._Element) -> etree._Element:
    if _local(root) == "record":
        return root
    for element in root.iter():
        if _local(element) == "record":
            return element
    raise RecordError(f"no <record> element (root is <{_local(root)}>)")


def _from_marcxml(raw: bytes, wanted: Container[str] | None) -> MarcFields:
    try:
        root = etree.fromstring(raw, _XML_PARSER)
    except etree.XMLSyntaxError as exc:
        raise RecordError(f"MARCXML is not well-formed: {exc}") from exc
    element = _find_record(root)
    warnings: list[str] = []
    fields: list[tuple[str, FieldContent]] = []
    leader = ""
    for child in element:
        name = _local(child)
        if name == "leader":
            leader = child.text or ""
        elif name == "controlfield":
            tag = child.get("tag")
            if not tag:
                warnings.append("controlfield without a tag; dropped")
            elif wanted is None or tag in wanted:
                fields.append((tag, _nfc(child.text or "")))
        elif name == "datafield":
            tag = child.get("tag")
            if not tag:
                warnings.append("datafield without a tag; dropped")
            elif wanted is None or tag in wanted:
                fields.append((tag, _xml_datafield(child, tag, warnings)))
    if len(leader) != LEADER_LENGTH:
        warnings.append(f"leader has {len(leader)} characters instead of 24; padded or cut")
        leader = (leader + " " * LEADER_LENGTH)[:LEADER_LENGTH]
    return MarcFields(leader, fields, warnings)


def _xml_datafield(element: etree._Element, tag: str, warnings: list[str]) -> DataField:
    ind1 = (element.get("ind1") or " ")[:1]
    ind2 = (element.get("ind2") or " ")[:1]
    subfields: Subfields = []
    for sub in element:
        if _local(sub) != "subfield":
            continue
        code = sub.get("code")
        if not code:
            warnings.append(f"field {tag}: subfield without a code; dropped")
            continue
        subfields.append((code, _nfc(sub.text or "")))
    return ind1 + ind2, subfields
