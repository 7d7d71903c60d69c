"""How large one record and one subfield may be when a source sends them, and how much of what exceeds
a limit the quarantine keeps.

Without limits a 200 MB subfield is stored, quarantined again whole, indexed and served: one hostile or
broken source then costs every later stage. The limits are checked where records come in (harvest and
import), so what exceeds them is quarantined once, with an excerpt, its size and its digest, and never
reaches the record store.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from unicat.model import QuarantineEntry, QuarantineStage

# ISO 2709 gives a record's length in 5 digits: no record of that format is longer.
ISO2709_MAX_RECORD_BYTES = 99_999
# Defaults of the settings below. The largest real records seen are about 215 kB (an ISO 2709 record
# longer than its format allows, unreadable anyway) and 147 kB (MARCXML); the largest real subfield
# about 12 kB, where ISO 2709 allows at most 9,999 bytes per field. Ten times more leaves room for
# records that are large for good reasons (long contents notes, many holdings).
DEFAULT_RECORD_MAX_BYTES = 1_000_000
DEFAULT_SUBFIELD_MAX_BYTES = 100_000
# What the quarantine keeps of bytes over the record limit: enough to see what they are.
EXCERPT_BYTES = 65_536

_ISO2709_DELIMITERS = re.compile(rb"[\x1d\x1e\x1f]")


@dataclass(frozen=True, slots=True)
class ContentLimits:
    """The settings ``record_max_bytes`` and ``subfield_max_bytes``, as the intake stages use them."""

    record_max_bytes: int = DEFAULT_RECORD_MAX_BYTES
    subfield_max_bytes: int = DEFAULT_SUBFIELD_MAX_BYTES

    def record_too_large(self, size: int, syntax: str) -> str | None:
        """Why a record of ``size`` bytes is refused, or None when its size is fine."""
        if size > self.record_max_bytes:
            return (
                f"record is {size:,} bytes, over the limit of {self.record_max_bytes:,} "
                "(setting record_max_bytes)"
            )
        if syntax == "iso2709" and size > ISO2709_MAX_RECORD_BYTES:
            return (
                f"record is {size:,} bytes: ISO 2709 allows at most {ISO2709_MAX_RECORD_BYTES:,} "
                "(its leader gives the length in 5 digits), so no MARC reader can read it"
            )
        return None

    def subfield_too_large(self, size: int, where: str) -> str | None:
        """Why a subfield (or any one value) of ``size`` bytes found at ``where`` is refused, or None."""
        if size > self.subfield_max_bytes:
            return (
                f"{where} is {size:,} bytes, over the limit of {self.subfield_max_bytes:,} "
                "(setting subfield_max_bytes)"
            )
        return None

    def check_iso2709(self, raw: bytes) -> str | None:
        """Why an ISO 2709 record is refused for its size or the size of one of its subfields, or None.

        Byte work only, like splitting: the longest run between delimiters bounds every subfield and
        control field, whatever the directory claims.
        """
        if (reason := self.record_too_large(len(raw), "iso2709")) is not None:
            return reason
        if len(raw) <= self.subfield_max_bytes:
            return None
        longest = max(len(piece) for piece in _ISO2709_DELIMITERS.split(raw))
        return self.subfield_too_large(longest, "a field or subfield")

    def kept_bytes(self, raw: bytes) -> tuple[bytes, str]:
        """What the quarantine keeps of ``raw``, and what to add to the entry's reason about it.

        Bytes within the record limit are kept whole, so a librarian can fix and import them again;
        beyond it, an excerpt, with the size and SHA-256 that identify the whole in the source's file.
        """
        if len(raw) <= self.record_max_bytes:
            return raw, ""
        digest = hashlib.sha256(raw).hexdigest()
        note = f"; the quarantine keeps the first {EXCERPT_BYTES:,} of {len(raw):,} bytes (sha256 {digest})"
        return raw[:EXCERPT_BYTES], note

    def quarantine(
        self, source: str, local_id: str | None, stage: QuarantineStage, reason: str, raw: bytes
    ) -> QuarantineEntry:
        """A quarantine entry for ``raw``, bounded by :meth:`kept_bytes`."""
        kept, note = self.kept_bytes(raw)
        return QuarantineEntry(source, local_id, stage, reason + note, kept)


DEFAULT_LIMITS = ContentLimits()
"""The limits of the default settings."""
