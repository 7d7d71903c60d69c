"""Which legacy character set explains a record's bytes best, when its declaration cannot be trusted.

Real records declare one charset and carry another: MARC 21 records marked UTF-8 (leader/09 ``a``)
whose accents are MARC-8 or ISO 5426, UNIMARC records declaring ISO 646 whose bytes are ISO 5426.
Every 8-bit reading "works" (latin-1 never fails), so the choice is by plausibility: each candidate
reads the same bytes, and the text that looks most like written language wins. What counts:

- a letter with a diacritic (precomposed in NFC) is what a right reading gives: +2 each;
- a diacritic coded before a letter and joined to it: +1 more each (random bytes seldom fall so);
- a byte the candidate leaves unused, or a diacritic with no base: -3 each;
- a combining mark NFC could not attach to its letter: -1 each;
- a non-ASCII capital right after a small letter ("TraitØ", "prÂejugÂes"), or a non-ASCII small
  letter between capitals ("FèORNUFT"): -1 each;
- a non-ASCII symbol between two letters ("imprim℗e"): -1 each.

Ties go to the earlier candidate, so callers list them in the order their profile makes likely
(the declared set first).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

# Bytes → (text in NFC, how many bytes or marks the reading could not place, how many marks it joined
# to a letter).
Reader = Callable[[bytes], tuple[str, int, int]]


@dataclass(frozen=True, slots=True)
class Candidate:
    """A named way of reading legacy bytes."""

    name: str
    read: Reader


def score(text: str, misfits: int, attached: int) -> int:
    """How much ``text`` (NFC) looks like a right reading of its bytes (see the module docstring)."""
    points = attached - 3 * misfits
    previous = " "
    for index, char in enumerate(text):
        if char > "\x7f":
            if char == "\ufffd":
                points -= 3
            elif unicodedata.combining(char):
                points -= 1
            elif char.isalpha():
                if unicodedata.decomposition(char)[:1] not in ("", "<"):
                    points += 2
                following = text[index + 1 : index + 2]
                if (char.isupper() and previous.islower()) or (
                    char.islower() and previous.isupper() and following.isupper()
                ):
                    points -= 1
            elif previous.isalpha() and text[index + 1 : index + 2].isalpha():
                points -= 1
        previous = char
    return points


def best(candidates: Sequence[Candidate], evidence: Sequence[bytes]) -> Candidate:
    """The candidate whose reading of every piece of ``evidence`` scores highest (first on a tie)."""
    chosen = candidates[0]
    top: int | None = None
    for candidate in candidates:
        total = 0
        for piece in evidence:
            total += score(*candidate.read(piece))
        if top is None or total > top:
            chosen, top = candidate, total
    return chosen
