"""What an index run keeps in memory of each parsed record: a few numbers, in compact arrays.

Records are numbered as they are parsed, in the store's (source, local_id) order; their fields wait
in a spill file under the same number (:mod:`unicat.spill`). Here stay the hashes of their own key
and merge keys, their work key's hash and the id a new union record of them would take
(:mod:`indexer.record_keys`): about 30 bytes a record plus 8 a merge key.

A merge key is kept as one 64-bit *link*: the high bits of its hash, then the number of the record
that carries it (:data:`OWNER_BITS` or more bits, as many as the catalogue needs). Sorted in place, the
links of one key lie side by side, so blocks are found without a second array of owners or an
argsort (:func:`indexer.blocks.components`). The hash loses those bits: two keys whose hashes then
agree (a few among tens of millions) only join two blocks, where the real keys are compared.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from indexer.ids import ID_LENGTH
from indexer.record_keys import PackedRecord, key_hash

DERIVED_WIDTH = ID_LENGTH + 1
"""Bytes of a derived union id: ``u`` and its 12 characters."""


OWNER_BITS = 24
"""The fewest bits of a link that number its record (16,777,216 records); more when a catalogue has more."""
_WORD = (1 << 64) - 1


def owner_bits(records: int) -> int:
    """Bits enough to number ``records`` twice over (records may arrive while a run reads them)."""
    return max(OWNER_BITS, (2 * records).bit_length())


class RecordTable:
    """The parsed records' numbers, appended as they are parsed, then read as numpy arrays.

    ``expected`` is about how many records will come (it sizes the links' record numbers; more may
    come, at the cost of rewriting the links once)."""

    def __init__(self, expected: int = 0) -> None:
        self.bits = owner_bits(expected)
        self._own = array("q")
        self._links = array("Q")
        self._works = array("q")
        self._derived = bytearray()

    def __len__(self) -> int:
        return len(self._own)

    def add(self, packed: PackedRecord) -> None:
        number = len(self._own)
        self._own.append(packed.own)
        self.link(number, packed.keys)
        self._works.append(packed.work)
        if len(packed.derived) != DERIVED_WIDTH:
            raise ValueError(f"a derived union id has {DERIVED_WIDTH} bytes, not {packed.derived!r}")
        self._derived += packed.derived

    def link(self, number: int, keys: Sequence[int]) -> None:
        """Record ``number`` carries these keys (hashes)."""
        if number >> self.bits:
            self._widen(owner_bits(number))
        bits = self.bits
        self._links.extend(((key & _WORD) >> bits << bits) | number for key in keys)

    def take_links(self) -> tuple[npt.NDArray[np.uint64], int]:
        """Every link, as an array the caller now owns (to sort in place), and how many low bits
        number the record; the table keeps none."""
        links, self._links = np.frombuffer(self._links, dtype=np.uint64), array("Q")
        return links, self.bits

    def _widen(self, bits: int) -> None:
        links = np.frombuffer(self._links, dtype=np.uint64)
        owners = links & np.uint64((1 << self.bits) - 1)
        widened = (links >> np.uint64(bits) << np.uint64(bits)) | owners
        self._links, self.bits = array("Q", widened.tobytes()), bits

    def own(self) -> npt.NDArray[np.int64]:
        return np.frombuffer(self._own, dtype=np.int64)

    def works(self) -> npt.NDArray[np.int64]:
        return np.frombuffer(self._works, dtype=np.int64)

    def derived(self) -> npt.NDArray[np.bytes_]:
        return np.frombuffer(bytes(self._derived), dtype=f"S{DERIVED_WIDTH}")

    @property
    def nbytes(self) -> int:
        """Bytes the arrays hold."""
        parts: Sequence[array[int]] = (self._own, self._links, self._works)
        return sum(part.itemsize * len(part) for part in parts) + len(self._derived)


class RecordFinder:
    """A record's number from its (source, local_id), by the hash of its own key.

    Two parsed records whose keys hash alike (about one chance in 10^12 at 3,000,000 records) are
    told apart by reading their keys back (``key_of``); a key of no parsed record (deleted since)
    whose hash is a parsed record's is the one case left to chance."""

    def __init__(self, own: npt.NDArray[np.int64], key_of: Callable[[int], tuple[str, str]]) -> None:
        self._order = np.argsort(own, kind="stable")
        self._sorted = own[self._order]
        self._key_of = key_of
        twins = self._sorted[1:] == self._sorted[:-1]
        self._twins = set(self._sorted[1:][twins].tolist())

    def find_many(self, keys: Sequence[tuple[str, str]]) -> npt.NDArray[np.int64]:
        """Each key's record number, -1 where no parsed record has that key."""
        hashes = np.fromiter((key_hash(source, local_id) for source, local_id in keys), np.int64, len(keys))
        at = np.searchsorted(self._sorted, hashes)
        inside = at < len(self._sorted)
        hit = inside.copy()
        hit[inside] = self._sorted[at[inside]] == hashes[inside]
        found = np.full(len(hashes), -1, dtype=np.int64)
        found[hit] = self._order[at[hit]]
        if self._twins:
            for position in np.flatnonzero(hit).tolist():
                if int(hashes[position]) in self._twins:
                    found[position] = self._resolve(int(at[position]), keys[position])
        return found

    def _resolve(self, start: int, key: tuple[str, str]) -> int:
        end = start
        while end < len(self._sorted) and self._sorted[end] == self._sorted[start]:
            number = int(self._order[end])
            if self._key_of(number) == key:
                return number
            end += 1
        return -1
