"""What an index run keeps in memory of each parsed record: a few numbers, in compact arrays.

Records are numbered as they are parsed, in the store's (source, local_id) order; their fields wait
in a spill file under the same number (:mod:`unicat.spill`). Here stay the hashes of their own key
and merge keys, their work key's hash and the id a new union record of them would take
(:mod:`indexer.record_keys`): about 30 bytes a record plus 16 a merge key.
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


class RecordTable:
    """The parsed records' numbers, appended as they are parsed, then read as numpy arrays."""

    def __init__(self) -> None:
        self._own = array("q")
        self._keys = array("q")
        self._key_owners = array("q")
        self._works = array("q")
        self._derived = bytearray()

    def __len__(self) -> int:
        return len(self._own)

    def add(self, packed: PackedRecord) -> None:
        number = len(self._own)
        self._own.append(packed.own)
        self._keys.extend(packed.keys)
        self._key_owners.extend([number] * len(packed.keys))
        self._works.append(packed.work)
        if len(packed.derived) != DERIVED_WIDTH:
            raise ValueError(f"a derived union id has {DERIVED_WIDTH} bytes, not {packed.derived!r}")
        self._derived += packed.derived

    def own(self) -> npt.NDArray[np.int64]:
        return np.frombuffer(self._own, dtype=np.int64)

    def keys(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Every merge key's hash and the number of the record that carries it."""
        return np.frombuffer(self._keys, dtype=np.int64), np.frombuffer(self._key_owners, dtype=np.int64)

    def works(self) -> npt.NDArray[np.int64]:
        return np.frombuffer(self._works, dtype=np.int64)

    def derived(self) -> npt.NDArray[np.bytes_]:
        return np.frombuffer(bytes(self._derived), dtype=f"S{DERIVED_WIDTH}")

    def drop_keys(self) -> None:
        """Free the merge keys once the blocks are known."""
        self._keys, self._key_owners = array("q"), array("q")

    @property
    def nbytes(self) -> int:
        """Bytes the arrays hold."""
        parts: Sequence[array[int]] = (self._own, self._keys, self._key_owners, self._works)
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
