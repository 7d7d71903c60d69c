"""The legacy 8-bit character sets of library records, as tables, and their decoders.

CPython has no codec for ISO 5426 or ISO/IEC 6937 (nor does PyPI offer a maintained one), and both
differ from every codec it has in one way that matters: a non-spacing diacritic is coded *before*
its base letter (``0xC2 'e'`` is "é"), where Unicode puts the combining mark after. So each set is
written out here as data, from the standards' code tables, and one small decoder reads any of them:
ASCII (the ISO 646 IRV G0 set both are used with) passes through, a mark waits for the next character
and follows it, and the result is put in NFC.

Where the standards' editions differ, the table says which position it follows and why.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

REPLACEMENT = "\ufffd"


@dataclass(frozen=True, slots=True)
class DiacriticFirstCharset:
    """An ISO 2022 G1 set in 0xA0-0xFF whose non-spacing marks precede their base character."""

    name: str
    characters: dict[int, str]
    """Byte → the character it stands for (spacing characters only)."""
    marks: dict[int, str]
    """Byte → the Unicode combining mark of a non-spacing diacritic coded before its base."""


# ISO 5426:1983 (ISO-IR 53), "Extension of the Latin alphabet coded character set for bibliographic
# information interchange": the G1 set of UNIMARC 100 $a/26-29 code 03. Positions the standard leaves
# unused (0xA0, 0xB3-0xB5, 0xDC, 0xE0, 0xE3-0xE5, 0xE7, 0xEB, 0xED-0xF0, 0xF4, 0xF7, 0xFD-0xFF) are not
# here. Ayn and alif (0xB0, 0xB1) are the modifier letters Unicode names for transliteration.
ISO_5426 = DiacriticFirstCharset(
    name="ISO 5426",
    characters={
        0xA1: "\u00a1",  # inverted exclamation mark
        0xA2: "\u201e",  # left low double quotation mark
        0xA3: "\u00a3",  # pound sign
        0xA4: "\u0024",  # dollar sign
        0xA5: "\u00a5",  # yen sign
        0xA6: "\u2020",  # dagger
        0xA7: "\u00a7",  # section sign
        0xA8: "\u2032",  # prime
        0xA9: "\u2018",  # left high single quotation mark
        0xAA: "\u201c",  # left high double quotation mark
        0xAB: "\u00ab",  # left angle quotation mark
        0xAC: "\u266d",  # music flat sign
        0xAD: "\u00a9",  # copyright sign
        0xAE: "\u2117",  # sound recording copyright sign
        0xAF: "\u00ae",  # registered trade mark sign
        0xB0: "\u02bf",  # ayn
        0xB1: "\u02be",  # alif / hamzah
        0xB2: "\u201a",  # left low single quotation mark
        0xB6: "\u2021",  # double dagger
        0xB7: "\u00b7",  # middle dot
        0xB8: "\u2033",  # double prime
        0xB9: "\u2019",  # right high single quotation mark
        0xBA: "\u201d",  # right high double quotation mark
        0xBB: "\u00bb",  # right angle quotation mark
        0xBC: "\u266f",  # music sharp sign
        0xBD: "\u02b9",  # mjagkij znak (soft sign)
        0xBE: "\u02ba",  # tverdyj znak (hard sign)
        0xBF: "\u00bf",  # inverted question mark
        0xE1: "\u00c6",  # capital diphthong AE
        0xE2: "\u0110",  # capital D with stroke
        0xE6: "\u0132",  # capital ligature IJ
        0xE8: "\u0141",  # capital L with stroke
        0xE9: "\u00d8",  # capital O with oblique stroke
        0xEA: "\u0152",  # capital diphthong OE
        0xEC: "\u00de",  # capital thorn
        0xF1: "\u00e6",  # small diphthong ae
        0xF2: "\u0111",  # small d with stroke
        0xF3: "\u00f0",  # small eth
        0xF5: "\u0131",  # small dotless i
        0xF6: "\u0133",  # small ligature ij
        0xF8: "\u0142",  # small l with stroke
        0xF9: "\u00f8",  # small o with oblique stroke
        0xFA: "\u0153",  # small diphthong oe
        0xFB: "\u00df",  # small sharp s
        0xFC: "\u00fe",  # small thorn
    },
    marks={
        0xC0: "\u0309",  # low rising tone mark (hook above)
        0xC1: "\u0300",  # grave accent
        0xC2: "\u0301",  # acute accent
        0xC3: "\u0302",  # circumflex accent
        0xC4: "\u0303",  # tilde
        0xC5: "\u0304",  # macron
        0xC6: "\u0306",  # breve
        0xC7: "\u0307",  # dot above
        0xC8: "\u0308",  # diaeresis (trema)
        0xC9: "\u0308",  # umlaut: a separate position, the same mark in Unicode
        0xCA: "\u030a",  # circle above
        0xCB: "\u0315",  # high comma off centre
        0xCC: "\u0312",  # inverted high comma centred
        0xCD: "\u030b",  # double acute accent
        0xCE: "\u031b",  # horn
        0xCF: "\u030c",  # caron (hacek)
        0xD0: "\u0327",  # cedilla
        0xD1: "\u031c",  # rude (rough breathing below: left half ring below)
        0xD2: "\u0326",  # hook to left (comma below)
        0xD3: "\u0328",  # hook to right (ogonek)
        0xD4: "\u0325",  # circle below
        0xD5: "\u032e",  # half circle below
        0xD6: "\u0323",  # dot below
        0xD7: "\u0324",  # double dot below
        0xD8: "\u0332",  # underline
        0xD9: "\u0333",  # double underline
        0xDA: "\u0329",  # small low vertical bar
        0xDB: "\u032d",  # circumflex below
        0xDD: "\ufe20",  # left half of ligature sign and of double tilde
        0xDE: "\ufe21",  # right half of ligature sign
        0xDF: "\ufe23",  # right half of double tilde
    },
)


# ISO/IEC 6937 (ISO-IR 156; the 2001 edition's repertoire). 0xC9 (umlaut) and 0xCC (underline) were
# marks in ISO 6937-2:1983 and are left unused since; old records still carry them, so they decode.
# 0xD0 is HORIZONTAL BAR, 0xE2 capital D with stroke (the standard's name; it also stands for eth).
ISO_6937 = DiacriticFirstCharset(
    name="ISO 6937",
    characters={
        0xA0: "\u00a0",  # no-break space
        0xA1: "\u00a1",
        0xA2: "\u00a2",
        0xA3: "\u00a3",
        0xA5: "\u00a5",
        0xA7: "\u00a7",
        0xA8: "\u00a4",  # currency sign
        0xA9: "\u2018",
        0xAA: "\u201c",
        0xAB: "\u00ab",
        0xAC: "\u2190",  # leftwards arrow
        0xAD: "\u2191",
        0xAE: "\u2192",
        0xAF: "\u2193",
        0xB0: "\u00b0",
        0xB1: "\u00b1",
        0xB2: "\u00b2",
        0xB3: "\u00b3",
        0xB4: "\u00d7",  # multiplication sign
        0xB5: "\u00b5",
        0xB6: "\u00b6",
        0xB7: "\u00b7",
        0xB8: "\u00f7",  # division sign
        0xB9: "\u2019",
        0xBA: "\u201d",
        0xBB: "\u00bb",
        0xBC: "\u00bc",
        0xBD: "\u00bd",
        0xBE: "\u00be",
        0xBF: "\u00bf",
        0xD0: "\u2015",  # horizontal bar
        0xD1: "\u00b9",
        0xD2: "\u00ae",
        0xD3: "\u00a9",
        0xD4: "\u2122",  # trade mark sign
        0xD5: "\u266a",  # eighth note
        0xD6: "\u00ac",
        0xD7: "\u00a6",
        0xDC: "\u215b",  # vulgar fractions 1/8, 3/8, 5/8, 7/8
        0xDD: "\u215c",
        0xDE: "\u215d",
        0xDF: "\u215e",
        0xE0: "\u2126",  # ohm sign
        0xE1: "\u00c6",
        0xE2: "\u0110",
        0xE3: "\u00aa",
        0xE4: "\u0126",  # capital H with stroke
        0xE6: "\u0132",
        0xE7: "\u013f",  # capital L with middle dot
        0xE8: "\u0141",
        0xE9: "\u00d8",
        0xEA: "\u0152",
        0xEB: "\u00ba",
        0xEC: "\u00de",
        0xED: "\u0166",  # capital T with stroke
        0xEE: "\u014a",  # capital eng
        0xEF: "\u0149",  # small n preceded by apostrophe
        0xF0: "\u0138",  # small kra
        0xF1: "\u00e6",
        0xF2: "\u0111",
        0xF3: "\u00f0",
        0xF4: "\u0127",
        0xF5: "\u0131",
        0xF6: "\u0133",
        0xF7: "\u0140",
        0xF8: "\u0142",
        0xF9: "\u00f8",
        0xFA: "\u0153",
        0xFB: "\u00df",
        0xFC: "\u00fe",
        0xFD: "\u0167",
        0xFE: "\u014b",
        0xFF: "\u00ad",  # soft hyphen
    },
    marks={
        0xC1: "\u0300",
        0xC2: "\u0301",
        0xC3: "\u0302",
        0xC4: "\u0303",
        0xC5: "\u0304",
        0xC6: "\u0306",
        0xC7: "\u0307",
        0xC8: "\u0308",
        0xC9: "\u0308",
        0xCA: "\u030a",
        0xCB: "\u0327",  # cedilla
        0xCC: "\u0332",
        0xCD: "\u030b",
        0xCE: "\u0328",  # ogonek
        0xCF: "\u030c",
    },
)

# A non-spacing mark followed by SPACE is the spacing diacritic (ISO/IEC 6937 says so; ISO 5426 data
# uses the same convention).
_SPACING: dict[str, str] = {
    "\u0300": "\u0060",
    "\u0301": "\u00b4",
    "\u0302": "\u005e",
    "\u0303": "\u007e",
    "\u0304": "\u00af",
    "\u0306": "\u02d8",
    "\u0307": "\u02d9",
    "\u0308": "\u00a8",
    "\u030a": "\u02da",
    "\u030b": "\u02dd",
    "\u030c": "\u02c7",
    "\u0327": "\u00b8",
    "\u0328": "\u02db",
    "\u0332": "\u005f",
}


def decode_diacritic_first(data: bytes, charset: DiacriticFirstCharset) -> tuple[str, int, int]:
    """``data`` read as ISO 646 + ``charset``, in NFC; how many bytes did not fit the set, and how many
    marks found a letter to stand on.

    A byte the set leaves unused becomes U+FFFD; a mark with nothing to stand on (at the end, or
    before a control character) is kept on its own; a mark before a space is the spacing diacritic.
    All three count as misfits, which is what tells a
    wrongly declared charset from a right one (see :mod:`indexer.charset_guess`). Bytes 0x80-0x9F
    are the C1 controls of ISO 6429 (UNIMARC's non-sort marks among them) and pass through.
    """
    characters = charset.characters
    marks = charset.marks
    out: list[str] = []
    pending: list[str] = []
    misfits = 0
    attached = 0
    for byte in data:
        mark = marks.get(byte) if byte >= 0xC0 else None
        if mark is not None:
            pending.append(mark)
            continue
        if byte < 0xA0:
            char = chr(byte)
        else:
            found = characters.get(byte)
            if found is None:
                misfits += 1
                char = REPLACEMENT
            else:
                char = found
        if pending:
            if char == " " and len(pending) == 1 and pending[0] in _SPACING:
                # Legal, but rare in real text: a misfit too, so that a lone 0xC1-0xDF byte before a
                # space does not make a latin-1 "Ø " look like this set.
                misfits += 1
                char = _SPACING[pending[0]]
            elif char < " ":
                misfits += len(pending)
                out.extend(pending)
            else:
                attached += len(pending)
                char += "".join(pending)
            pending.clear()
        out.append(char)
    if pending:
        misfits += len(pending)
        out.extend(_SPACING.get(mark, mark) for mark in pending)
    return unicodedata.normalize("NFC", "".join(out)), misfits, attached


def _windows_1252_table() -> str:
    """Byte → character of Windows-1252, with the five bytes it leaves undefined read as latin-1."""
    chars = []
    for byte in range(256):
        try:
            chars.append(bytes([byte]).decode("cp1252"))
        except UnicodeDecodeError:
            chars.append(chr(byte))
    return "".join(chars)


WINDOWS_1252 = _windows_1252_table()
"""Indexed by byte. Latin-1 where the two agree (0xA0-0xFF); for 0x80-0x9F the printable characters
Windows puts there (’ “ ” – — € …), which is what such bytes mean in real records far more often
than the C1 control characters latin-1 would give."""


def decode_windows_1252(data: bytes) -> str:
    """``data`` as Windows-1252 (latin-1 for its undefined bytes): never fails, in NFC."""
    return unicodedata.normalize("NFC", "".join([WINDOWS_1252[byte] for byte in data]))
