"""Raw bytes of one source record → its fields with Unicode (NFC) text (or a :class:`pymarc.Record`).

ISO 2709 is parsed here rather than by pymarc so that each subfield is decoded on its own: most
subfields are plain ASCII and skip the slow MARC-8 converter altogether, and a bad byte costs one
warning on one subfield instead of the record. Charsets (tables and decoders in
:mod:`indexer.charsets`):

- MARC21: leader/09 ``a`` is UTF-8, blank is MARC-8 (anything else is read as MARC-8, with a warning).
- UNIMARC: 100 $a/26-29 declares the G0 and G1 sets: ``01`` ISO 646, ``03`` ISO 5426, ``50`` UTF-8.
- Declarations lie, so bytes that are valid UTF-8 are read as UTF-8 whatever is declared (a MARC-8 or
  UNIMARC record carrying UTF-8 gets a warning saying so), and the bytes that are not are read by the
  legacy set that explains them best (:mod:`indexer.charset_guess`: MARC-8, ISO 5426, ISO 6937 or
  Windows-1252), with a warning naming what was declared and what was used.
- Double-encoded UTF-8 ("Ã©" for "é") is repaired subfield by subfield (and control field by control
  field), with a warning, when the whole value is such text (:mod:`indexer.mojibake`): a field whose
  $a was double-encoded and whose $f was not comes out right in both.

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

from indexer.charset_guess import Candidate, Reader, best
from indexer.charsets import ISO_5426, ISO_6937, decode_diacritic_first, decode_windows_1252
from indexer.dublin_core import dublin_core_to_marc
from indexer.marc import DataField, FieldContent, MarcFields, Subfields, to_pymarc
from indexer.mojibake import HINT_RE
from indexer.mojibake import repair as repair_mojibake
from unicat.errors import RecordError
from unicat.model import Profile, RecordSyntax

FIELD_TERMINATOR = b"\x1e"
FIELD_TERMINATOR_BYTE = FIELD_TERMINATOR[0]
RECORD_TERMINATOR = b"\x1d"
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
    if syntax == "oai_dc":
        return dublin_core_to_marc(raw, wanted)
    return split_record(raw, syntax).decode(profile, wanted)


@dataclass(slots=True)
class SplitRecord:
    """One ISO 2709 or MARCXML record split into its leader and fields, nothing decoded yet.

    What the record's flavour is judged from (:mod:`indexer.flavour`): the tags its directory lists,
    its leader, the first characters of its 100 $a. Decoding, whose charset rules and wanted tags
    depend on that flavour, comes after (:meth:`decode`), on the same split: no second parse.
    """

    leader: str
    tags: frozenset[str]
    head_100a: str | None
    """The first 9 characters of 100 $a (``None`` without one), read as Latin-1 from ISO 2709 bytes:
    enough to tell UNIMARC's coded data from a MARC 21 name."""
    warnings: list[str]
    raw: bytes
    raw_fields: list[_RawField] = field(default_factory=list)
    element: etree._Element | None = None
    """The ``<record>`` element of a MARCXML record (``None`` for ISO 2709)."""

    def decode(self, profile: Profile, wanted: Container[str] | None = None) -> MarcFields:
        """The fields whose tag is ``wanted`` (default: all) as text, read by ``profile``'s rules."""
        if self.element is not None:
            return _decode_marcxml(self.element, self.leader, self.warnings, wanted)
        return _decode_iso2709(self, profile, wanted)


def split_record(raw: bytes, syntax: RecordSyntax) -> SplitRecord:
    """Split an ISO 2709 or MARCXML record (not ``oai_dc``, which has no MARC structure to split);
    raises :class:`RecordError` when its structure cannot be read."""
    if syntax == "marcxml":
        return _split_marcxml(raw)
    leader, raw_fields, warnings = _split_iso2709(raw)
    head: str | None = None
    for tag, data in raw_fields:
        if tag == "100":
            start = data.find(b"\x1fa")
            if start >= 0:
                head = data[start + 2 : start + 11].split(SUBFIELD_DELIMITER)[0].decode("latin-1")
            break
    return SplitRecord(leader, frozenset([tag for tag, _ in raw_fields]), head, warnings, raw, raw_fields)


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
            problem = f"field {tag} (offset {offset}, length {length}) does not end a field"
            terminated = _terminated_fields(raw, base, directory)
            if terminated is None:
                raise RecordError(problem)
            warnings.append(f"{problem}: the fields were read by their terminators instead of the directory")
            return leader, terminated, warnings
        fields.append((tag, raw[begin : end - 1]))
    return leader, fields, warnings


def _terminated_fields(raw: bytes, base: int, directory: bytes) -> list[_RawField] | None:
    """The fields cut at their terminators, tagged by the directory in data order, when the data holds
    exactly one field per entry; else None.

    A directory that points beside the terminators most often counted its lengths in characters
    instead of bytes (a UTF-8 record written by a tool that measured text), so every entry after the
    first multi-byte character is off while the terminators are right. When the number of fields
    agrees with the directory, the terminators are trusted; when it does not, nothing tells which
    boundary is true, and the record stays refused.
    """
    entries = _tiled_entries(directory)
    if entries is None:
        return None
    pieces = raw[base:].split(FIELD_TERMINATOR)
    # The last piece is what follows the last field: the record terminator, or nothing.
    if len(pieces) - 1 != len(entries) or pieces[-1] not in (b"", RECORD_TERMINATOR):
        return None
    in_data_order = sorted(entries, key=lambda entry: int(entry[2]))
    return [(entry[0], piece) for entry, piece in zip(in_data_order, pieces, strict=False)]


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


def _decode_iso2709(split: SplitRecord, profile: Profile, wanted: Container[str] | None) -> MarcFields:
    raw, leader, raw_fields = split.raw, split.leader, split.raw_fields
    warnings = list(split.warnings)
    reading = _reading(raw, leader, raw_fields, profile, warnings)
    # One search of the whole record, so that only a record showing double-encoded UTF-8 has its
    # fields searched one by one (most non-ASCII records have "é" = C3 A9: the byte C3 alone is no hint).
    reading.mojibake = b"\xc3" in raw and _MOJIBAKE_BYTES_RE.search(raw) is not None
    fields = [
        (tag, _field_content(tag, data, reading, warnings))
        for tag, data in raw_fields
        if wanted is None or tag in wanted
    ]
    reading.finish()
    return MarcFields(leader, fields, warnings)


def _field_content(tag: str, data: bytes, reading: _Reading, warnings: list[str]) -> FieldContent:
    if is_control_tag(tag):
        value = reading.decode(data)
        return _repaired(tag, "", value, warnings) if reading.mojibake else value
    text: str | None = None
    if data.isascii() and ESCAPE not in data:
        text = data.decode("ascii")
    elif reading.utf8_first:
        with contextlib.suppress(UnicodeDecodeError):
            text = data.decode("utf-8")
        if text is not None and not data.isascii():
            reading.utf8_seen = True
    if text is not None:
        # Most fields: decoded once and split as text, no per-subfield decoder call.
        if text.isascii():
            head, *texts = text.split("\x1f")
            subfields = [(part[0], part[1:]) for part in texts if part]
        else:
            head, *texts = text.split("\x1f")
            subfields = _text_subfields(tag, texts, warnings, reading.mojibake)
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
            subfields.append((chr(chunk[0]), reading.decode(chunk[1:])))
        if reading.mojibake:
            subfields = _repaired_subfields(tag, subfields, warnings)
    if len(head) != 2:
        warnings.append(f"field {tag}: {len(head)} indicator(s) instead of 2")
        head = (head + "  ")[:2]
    return head, subfields


# The UTF-8 bytes of mojibake.HINT_RE: "Ã", "Â"… (C3 82-B4) then a continuation byte's character, which
# is C2 80-BF, or one of Windows-1252's letters and punctuation (C5, C6, CB or E2 first).
_MOJIBAKE_BYTES_RE = re.compile(rb"\xc3[\x82-\xb4][\xc2\xc5\xc6\xcb\xe2]")


def _repaired(tag: str, code: str, text: str, warnings: list[str]) -> str:
    """``text`` (one subfield's value, ``code`` its code; or a control field's value, ``code`` '') with
    double-encoded UTF-8 undone, if it is wholly that.

    Judged value by value, not field by field: a cataloguer's tool that double-encodes usually damages
    the subfields it wrote and leaves the rest, so one field can hold "PÃ¨re" in $a and a correct "é"
    in $f, and a repair all or nothing over the field would refuse both.
    """
    if text.isascii() or not HINT_RE.search(text):
        return text
    repaired = repair_mojibake(text)
    if repaired is None:
        return text
    where = f"field {tag} ${code}" if code else f"field {tag}"
    warnings.append(f"{where}: double-encoded UTF-8 repaired: {text[:40]!r} read as {repaired[:40]!r}")
    return unicodedata.normalize("NFC", repaired)


def _repaired_subfields(tag: str, subfields: Subfields, warnings: list[str]) -> Subfields:
    """``subfields`` with each value repaired on its own (see :func:`_repaired`)."""
    return [(code, _repaired(tag, code, value, warnings)) for code, value in subfields]


def _text_subfields(tag: str, texts: list[str], warnings: list[str], mojibake: bool) -> Subfields:
    """Subfields of a decoded non-ASCII field: values in NFC (double-encoded ones repaired when the
    record shows ``mojibake``), a subfield with a non-ASCII code dropped."""
    subfields: Subfields = []
    for part in texts:
        if not part:
            continue
        if not part[0].isascii():
            code = part[0].encode("utf-8")[:1]
            warnings.append(f"field {tag}: non-ASCII subfield code {code!r}; subfield dropped")
            continue
        value = _repaired(tag, part[0], part[1:], warnings) if mojibake else part[1:]
        subfields.append((part[0], _nfc(value)))
    return subfields


# -- Character sets ------------------------------------------------------------------------------

UNIMARC_CHARSETS: dict[str, str] = {
    "01": "ISO 646",
    "02": "ISO registration #37 (basic Cyrillic)",
    "03": "ISO 5426",
    "04": "ISO DIS 5427 (extended Cyrillic)",
    "05": "ISO 5428 (Greek)",
    "06": "ISO 6438 (African)",
    "07": "ISO 10586 (Georgian)",
    "08": "ISO 8957 (Hebrew, table 1)",
    "09": "ISO 8957 (Hebrew, table 2)",
    "11": "ISO 5426-2",
    UNIMARC_UTF8: "ISO 10646 (UTF-8)",
}
"""UNIMARC Bibliographic, field 100 $a/26-29: the codes of the G0 and G1 character sets."""

UNIMARC_DECODED = frozenset({"01", "03", UNIMARC_UTF8})
"""The declared sets read as declared. Bytes beyond ISO 646 under another declaration (Cyrillic,
Greek, Hebrew…) would only turn into wrong letters, so they become U+FFFD with a warning."""

MAX_TAGS_NAMED = 5
ANSEL_FIRST_MARK = 0xE0


def _iso5426(data: bytes) -> tuple[str, int, int]:
    return decode_diacritic_first(data, ISO_5426)


def _iso6937(data: bytes) -> tuple[str, int, int]:
    return decode_diacritic_first(data, ISO_6937)


def _windows_1252(data: bytes) -> tuple[str, int, int]:
    return decode_windows_1252(data), 0, 0


def _marc8_read(data: bytes) -> tuple[str, int, int]:
    """MARC-8 as a candidate reading: pymarc's text, its complaints, and the marks it joined (counted
    as the bytes of ANSEL's combining range, 0xE0-0xFE, that left no combining mark behind; in data
    with escapes to other sets those bytes mean something else, and none is counted)."""
    complaints = io.StringIO()
    try:
        with contextlib.redirect_stderr(complaints):
            text = unicodedata.normalize("NFC", _marc8_translate(data))
    except (IndexError, KeyError, TypeError, ValueError):
        return data.decode("ascii", "replace"), 1, 0
    attached = 0
    if ESCAPE not in data:
        marks = sum(1 for byte in data if byte >= ANSEL_FIRST_MARK)
        attached = max(0, marks - sum(1 for char in text if unicodedata.combining(char)))
    return text, len(complaints.getvalue().splitlines()), attached


MARC8 = Candidate("MARC-8", _marc8_read)
ISO5426 = Candidate("ISO 5426", _iso5426)
ISO6937 = Candidate("ISO 6937", _iso6937)
WINDOWS1252 = Candidate("latin-1 (Windows-1252)", _windows_1252)
MARC21_LEGACY = (MARC8, ISO5426, ISO6937, WINDOWS1252)
"""What a MARC 21 record's non-UTF-8 bytes may be, most likely first (MARC-8 is MARC 21's own)."""
UNIMARC_LEGACY = (ISO5426, ISO6937, WINDOWS1252)
"""What a UNIMARC record's non-UTF-8 bytes may be, most likely first (ISO 5426 is UNIMARC's own)."""

# A valid UTF-8 multibyte sequence: inside otherwise legacy bytes such a run is UTF-8 (no legacy text
# has these pairs in practice), so a field that mixes the two keeps its UTF-8 characters.
_UTF8_SEQUENCE_RE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}"
    rb"|\xed[\x80-\x9f][\x80-\xbf]|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}"
    rb"|\xf4[\x80-\x8f][\x80-\xbf]{2}"
)


def _with_utf8_runs(data: bytes, read: Reader) -> str:
    """``data`` read by ``read``, except its valid UTF-8 sequences, which are read as UTF-8."""
    pieces: list[str] = []
    end = 0
    for match in _UTF8_SEQUENCE_RE.finditer(data):
        if match.start() > end:
            pieces.append(read(data[end : match.start()])[0])
        pieces.append(match.group().decode("utf-8"))
        end = match.end()
    if end < len(data):
        pieces.append(read(data[end:])[0])
    return unicodedata.normalize("NFC", "".join(pieces))


@dataclass(slots=True)
class _Reading:
    """How the bytes of one ISO 2709 record are read: what it declares, what its bytes turn out to be.

    The legacy set is chosen only when a field is not valid UTF-8, from all such fields of the record
    at once (one choice, one warning, for the record), so UTF-8 records never pay for it.
    """

    declared: str
    """The declaration: a MARC 21 record's as warnings name it ("leader/09 'a' declares UTF-8"), a
    UNIMARC record's as 100 $a/26-29 give it (named only when a warning needs it)."""
    profile: Profile
    declared_utf8: bool
    utf8_first: bool
    """Whether a field that is valid UTF-8 is read as UTF-8 whatever is declared."""
    candidates: tuple[Candidate, ...]
    """Legacy readings to choose from, most likely first; empty: non-ASCII bytes are replaced."""
    expected: str
    """The candidate that is no news when chosen (the declared legacy set), else ''."""
    fields: list[_RawField]
    warnings: list[str]
    legacy: Decoder | None = None
    utf8_seen: bool = False
    mojibake: bool = False
    """Whether the record shows signs of double-encoded UTF-8 (then each field is checked)."""

    def decode(self, data: bytes) -> str:
        """One subfield's (or control field's) bytes as NFC text."""
        if data.isascii() and (ESCAPE not in data or self.utf8_first):
            return data.decode("ascii")
        if self.utf8_first:
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                pass
            else:
                self.utf8_seen = True
                return unicodedata.normalize("NFC", text)
        if self.legacy is None:
            self.legacy = self._choose_legacy()
        return self.legacy(data)

    def finish(self) -> None:
        """Warn when UTF-8 was read under another declaration (called once the fields are read)."""
        if self.utf8_seen and not self.declared_utf8:
            self.warnings.append(f"{self.describe()}; the bytes are UTF-8: read as UTF-8")

    def describe(self) -> str:
        """The declaration as warnings name it."""
        return _unimarc_declaration(self.declared) if self.profile == "unimarc" else self.declared

    def _choose_legacy(self) -> Decoder:
        evidence = [(tag, data) for tag, data in self.fields if not _is_utf8(data)]
        tags = ", ".join(dict.fromkeys(tag for tag, _ in evidence[:MAX_TAGS_NAMED]))
        if not self.candidates:
            self.warnings.append(
                f"{self.describe()}, which Unicat cannot decode; non-ASCII bytes of field(s) {tags} replaced"
            )
            return _replacing_decoder
        chosen = best(self.candidates, [data for _, data in evidence])
        if chosen.name != self.expected:
            self.warnings.append(f"{self.describe()}; field(s) {tags} are not UTF-8: read as {chosen.name}")
        if chosen is MARC8:
            return _marc8_decoder(self.warnings)
        read = chosen.read
        return lambda data: _with_utf8_runs(data, read)


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _replacing_decoder(data: bytes) -> str:
    return data.decode("ascii", "replace")


def _reading(
    raw: bytes, leader: str, fields: list[_RawField], profile: Profile, warnings: list[str]
) -> _Reading:
    """How to read this record: its declaration, and whether valid UTF-8 is read as UTF-8 anyway
    (then a field that is valid UTF-8 as a whole is decoded in one call: the delimiters are ASCII, so
    no character straddles two subfields)."""
    if profile == "unimarc":
        return _unimarc_reading(fields, warnings)
    if leader[9] == "a":
        return _Reading(
            "leader/09 'a' declares UTF-8", profile, True, True, MARC21_LEGACY, "", fields, warnings
        )
    if leader[9] != " ":
        warnings.append(f"leader/09 is {leader[9]!r} (neither 'a' nor blank): read as MARC-8")
    if _bytes_are_utf8(raw):
        return _Reading(
            "leader/09 blank declares MARC-8", profile, False, True, MARC21_LEGACY, "", fields, warnings
        )
    marc8 = _marc8_decoder(warnings)
    return _Reading("leader/09 blank declares MARC-8", profile, False, False, (), "", fields, warnings, marc8)


def _bytes_are_utf8(raw: bytes) -> bool:
    """Whether a record has non-ASCII bytes, all UTF-8, and no MARC-8 escape (judged on the whole
    record at once: its structure is ASCII, and a MARC-8 record fails at its first diacritic)."""
    return not raw.isascii() and ESCAPE not in raw and _is_utf8(raw)


def _unimarc_reading(fields: list[_RawField], warnings: list[str]) -> _Reading:
    """Valid UTF-8 wins over the declaration (real files lie); the rest is read by the declared set
    when the bytes agree with it, else by the set that explains them best."""
    positions = _unimarc_declared_charsets(fields)
    how = _UNIMARC_HOW.get(positions)
    if how is None:
        how = _UNIMARC_HOW[positions] = _unimarc_how(positions)
    utf8, candidates, expected = how
    return _Reading(positions, "unimarc", utf8, True, candidates, expected, fields, warnings)


# 100 $a/26-29 → (declares UTF-8, legacy candidates, the expected one): a catalogue uses few values.
_UNIMARC_HOW: dict[str, tuple[bool, tuple[Candidate, ...], str]] = {}


def _unimarc_codes(positions: str) -> list[str]:
    return [code for code in (positions[:2].strip(), positions[2:4].strip()) if code]


def _unimarc_how(positions: str) -> tuple[bool, tuple[Candidate, ...], str]:
    codes = _unimarc_codes(positions)
    if UNIMARC_UTF8 in codes:
        return True, UNIMARC_LEGACY, ""
    if any(code not in UNIMARC_DECODED for code in codes):
        return False, (), ""
    return False, UNIMARC_LEGACY, ISO5426.name if "03" in codes else ""


def _unimarc_declaration(positions: str) -> str:
    """What 100 $a/26-29 declare, as warnings name it (made once per value: nearly every record of a
    mis-declaring catalogue warns with it)."""
    named = _UNIMARC_NAMED.get(positions)
    if named is None:
        named = _UNIMARC_NAMED[positions] = _name_unimarc_declaration(positions)
    return named


_UNIMARC_NAMED: dict[str, str] = {}


def _name_unimarc_declaration(positions: str) -> str:
    codes = _unimarc_codes(positions)
    if not codes:
        return "100 $a/26-29 declares no character set"
    names = " + ".join(UNIMARC_CHARSETS.get(code, f"unknown code {code!r}") for code in codes)
    return f"100 $a/26-29 {positions.rstrip()!r} declares {names}"


def _unimarc_declared_charsets(fields: list[_RawField]) -> str:
    """100 $a/26-29, the G0 and G1 sets of a UNIMARC record (blank where not given)."""
    for tag, data in fields:
        if tag == "100":
            start = data.find(b"\x1fa")
            if start >= 0:
                return data[start + 28 : start + 32].decode("latin-1").split("\x1f")[0].ljust(4)
            break
    return "    "


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


def _split_marcxml(raw: bytes) -> SplitRecord:
    try:
        root = etree.fromstring(raw, _XML_PARSER)
    except etree.XMLSyntaxError as exc:
        raise RecordError(f"MARCXML is not well-formed: {exc}") from exc
    element = _find_record(root)
    warnings: list[str] = []
    tags: set[str] = set()
    leader = ""
    head: str | None = None
    for child in element:
        name = _local(child)
        if name == "leader":
            leader = child.text or ""
        elif name in ("controlfield", "datafield"):
            tag = child.get("tag")
            if tag:
                tags.add(tag)
            if tag == "100" and head is None and name == "datafield":
                head = _first_subfield_text(child, "a")
    if len(leader) != LEADER_LENGTH:
        warnings.append(f"leader has {len(leader)} characters instead of 24; padded or cut")
        leader = (leader + " " * LEADER_LENGTH)[:LEADER_LENGTH]
    return SplitRecord(leader, frozenset(tags), head, warnings, raw, element=element)


def _first_subfield_text(element: etree._Element, code: str) -> str | None:
    for sub in element:
        if _local(sub) == "subfield" and sub.get("code") == code:
            return (sub.text or "")[:9]
    return None


def _decode_marcxml(
    element: etree._Element, leader: str, split_warnings: list[str], wanted: Container[str] | None
) -> MarcFields:
    warnings = list(split_warnings)
    fields: list[tuple[str, FieldContent]] = []
    for child in element:
        name = _local(child)
        if name == "controlfield":
            tag = child.get("tag")
            if not tag:
                warnings.append("controlfield without a tag; dropped")
            elif wanted is None or tag in wanted:
                value = _nfc(child.text or "")
                fields.append((tag, _repaired(tag, "", value, warnings)))
        elif name == "datafield":
            tag = child.get("tag")
            if not tag:
                warnings.append("datafield without a tag; dropped")
            elif wanted is None or tag in wanted:
                fields.append((tag, _xml_datafield(child, tag, warnings)))
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
    return ind1 + ind2, _repaired_subfields(tag, subfields, warnings)
