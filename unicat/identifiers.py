"""Normalisation of standard identifiers (ISBN, ISSN, system numbers) used for merging and search."""

from __future__ import annotations

import re

_ISBN_CHARS_RE = re.compile(r"[0-9Xx][0-9Xx\s-]{8,16}[0-9Xx]")
_ISSN_RE = re.compile(r"\b(\d{4})-?(\d{3}[\dXx])\b")
_EAN_RE = re.compile(r"(?<![\dA-Za-z])\d(?:[\s-]?\d){11,12}(?!\d)")
_SYSTEM_PREFIX_RE = re.compile(r"^\((?P<org>[^)]+)\)\s*(?P<number>.+)$")
_OCLC_PREFIX_RE = re.compile(r"^(?:ocm|ocn|on)", re.IGNORECASE)


def _isbn10_check(digits: str) -> str:
    total = sum((10 - i) * int(d) for i, d in enumerate(digits[:9]))
    check = (11 - total % 11) % 11
    return "X" if check == 10 else str(check)


def _isbn13_check(digits: str) -> str:
    total = sum((3 if i % 2 else 1) * int(d) for i, d in enumerate(digits[:12]))
    return str((10 - total % 10) % 10)


def normalize_isbn(value: str) -> str | None:
    """The ISBN-13 for an ISBN-10 or ISBN-13 found in ``value`` (qualifiers ignored), or ``None``.

    An ISBN with a wrong check digit is rejected rather than guessed: merging on it could glue
    two different books together.
    """
    match = _ISBN_CHARS_RE.search(value)
    if not match:
        return None
    compact = re.sub(r"[\s-]", "", match.group(0)).upper()
    if len(compact) == 10 and compact[:9].isdigit():
        if _isbn10_check(compact) != compact[9]:
            return None
        core = "978" + compact[:9]
        return core + _isbn13_check(core)
    if len(compact) == 13 and compact.isdigit() and compact[:3] in ("978", "979"):
        return compact if _isbn13_check(compact) == compact[12] else None
    return None


def normalize_issn(value: str) -> str | None:
    """An ISSN as ``NNNN-NNNC`` when its check digit is right, else ``None``."""
    match = _ISSN_RE.search(value)
    if not match:
        return None
    digits = (match.group(1) + match.group(2)).upper()
    total = sum((8 - i) * int(d) for i, d in enumerate(digits[:7]))
    check = (11 - total % 11) % 11
    if ("X" if check == 10 else str(check)) != digits[7]:
        return None
    return f"{digits[:4]}-{digits[4:]}"


def normalize_ean(value: str) -> str | None:
    """An EAN-13 (or a UPC-A, written as the EAN-13 it is: a leading zero) with a right check digit.

    Hyphens and blanks inside the code are ignored, qualifiers after it too; anything else, such as
    an ISMN or an ISRC in the same field, is not an EAN and yields ``None``.
    """
    match = _EAN_RE.search(value)
    if not match:
        return None
    digits = re.sub(r"[\s-]", "", match.group(0))
    if len(digits) == 12:
        digits = "0" + digits
    if len(digits) != 13 or _isbn13_check(digits) != digits[12]:
        return None
    return digits


def normalize_system_number(value: str) -> str | None:
    """A system control number (MARC 035 $a) as ``org:number``, e.g. ``(OCoLC)ocm01234`` → ``ocolc:1234``.

    Numbers without an organisation prefix are not comparable across libraries and yield ``None``.
    """
    match = _SYSTEM_PREFIX_RE.match(value.strip())
    if not match:
        return None
    org = re.sub(r"\s+", "", match.group("org")).lower()
    number = re.sub(r"\s+", "", match.group("number"))
    if org == "ocolc":
        number = _OCLC_PREFIX_RE.sub("", number).lstrip("0")
    if not number:
        return None
    return f"{org}:{number.lower()}"
