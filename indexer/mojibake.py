"""Double-encoded UTF-8: text whose UTF-8 bytes were once read as latin-1 or Windows-1252 and encoded
to UTF-8 again, so that "é" (C3 A9) arrives as "Ã©" and "’" (E2 80 99) as "â€™".

Such bytes are valid UTF-8, so no decoder notices; only the text shows it. The repair maps each
suspicious character back to the byte it came from and reads those bytes as UTF-8. Because "Ã©" can
also be meant (rarely, but a catalogue may describe mojibake), the repair is all or nothing over the
text it is given (one subfield, or one control field: :mod:`indexer.decoding` calls it value by value,
since one field may hold damaged and sound subfields side by side): it is made only when every non-ASCII
character of that text belongs to such a sequence and every sequence gives valid UTF-8. Text that mixes
real accented letters with suspicious pairs, or holds a sequence that does not decode, is left as it is.
"""

from __future__ import annotations

import contextlib
import re


def _byte_of_character() -> dict[str, int]:
    """Each character latin-1 or Windows-1252 gives for a byte 0x80-0xFF → that byte."""
    found: dict[str, int] = {}
    for byte in range(0x80, 0x100):
        found[chr(byte)] = byte
        with contextlib.suppress(UnicodeDecodeError):
            found[bytes([byte]).decode("cp1252")] = byte
    return found


_BYTE_OF = _byte_of_character()
_CONTINUATION = "".join(sorted(re.escape(char) for char, byte in _BYTE_OF.items() if byte < 0xC0))
# One UTF-8 multibyte sequence as latin-1/Windows-1252 shows it: a lead byte, then continuation bytes.
_SEQUENCE_RE = re.compile(
    f"[\u00c2-\u00df][{_CONTINUATION}]"
    f"|[\u00e0-\u00ef][{_CONTINUATION}]{{2}}"
    f"|[\u00f0-\u00f4][{_CONTINUATION}]{{3}}"
)
HINT_RE = re.compile(f"[\u00c2-\u00f4][{_CONTINUATION}]")
"""A lead byte's character followed by a continuation byte's: cheap to search, found in every
double-encoded text and in almost no other (callers test this before calling :func:`repair`)."""

MAX_ROUNDS = 3
"""Text encoded twice over is repaired again; more rounds than this are not seen in real data."""


def repair(text: str) -> str | None:
    """``text`` with its double-encoded UTF-8 undone, or ``None`` when it is not wholly such text."""
    repaired = _repair_once(text)
    if repaired is None:
        return None
    for _ in range(MAX_ROUNDS - 1):
        again = _repair_once(repaired) if HINT_RE.search(repaired) else None
        if again is None:
            break
        repaired = again
    return repaired


def _repair_once(text: str) -> str | None:
    pieces: list[str] = []
    end = 0
    for match in _SEQUENCE_RE.finditer(text):
        between = text[end : match.start()]
        if not between.isascii():
            return None  # a non-ASCII character outside every sequence: real text, or mixed
        try:
            decoded = bytes([_BYTE_OF[char] for char in match.group()]).decode("utf-8")
        except UnicodeDecodeError:
            return None  # shaped like UTF-8 but not (overlong, surrogate): leave the text alone
        pieces.append(between)
        pieces.append(decoded)
        end = match.end()
    if not pieces or not text[end:].isascii():
        return None
    pieces.append(text[end:])
    return "".join(pieces)
