"""Temporary files for what an index run cannot hold in memory: blobs read back by number
(:class:`Spill`), and rows read back sorted (:class:`SortedRows`).

Each parsed record's pickled fields are appended as they come (in the store's (source, local_id)
order) and read back when its union record is built; the clusters of the blocks that held several
records are kept the same way. Only the offsets stay in memory (8 bytes a blob). Reads go through
a read-only memory map of the file (mapped again when it has grown), so a blob costs a copy, not a
system call (hundreds of thousands are read in the clusters' order, not the file's), and caching is
left to the operating system's page cache. The file lives in the system's temporary folder
(``TMPDIR``) and is deleted when the run ends, whether it succeeds or not.
"""

from __future__ import annotations

import heapq
import mmap
import os
import pickle
import tempfile
from array import array
from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from typing import Any, Generic, TypeVar

Row = TypeVar("Row")


class Spill:
    """Blobs appended and read back by their number (0, 1, 2…)."""

    def __init__(self, prefix: str = "unicat-index-") -> None:
        handle, self.path = tempfile.mkstemp(prefix=prefix, suffix=".spill")
        self._file = os.fdopen(handle, "w+b", buffering=1 << 20)
        self._offsets = array("q", [0])
        self._map: mmap.mmap | None = None

    def __len__(self) -> int:
        return len(self._offsets) - 1

    @property
    def size(self) -> int:
        """Bytes written so far."""
        return self._offsets[-1]

    def append(self, blob: bytes) -> int:
        """Add ``blob``; returns its number."""
        self._file.write(blob)
        self._offsets.append(self._offsets[-1] + len(blob))
        return len(self._offsets) - 2

    def read(self, number: int) -> bytes:
        """The blob numbered ``number``."""
        start, end = self._offsets[number], self._offsets[number + 1]
        if start == end:
            return b""
        if self._map is None or end > len(self._map):
            self._remap()
            assert self._map is not None
        return self._map[start:end]

    def _remap(self) -> None:
        """Map the whole file as written so far."""
        self._file.flush()
        if self._map is not None:
            self._map.close()
        self._map = mmap.mmap(self._file.fileno(), self._offsets[-1], access=mmap.ACCESS_READ)

    def close(self) -> None:
        """Delete the file (once; closing again does nothing)."""
        if not self._file.closed:
            if self._map is not None:
                self._map.close()
            self._file.close()
            os.unlink(self.path)

    def __enter__(self) -> Spill:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


class SortedRows(Generic[Row]):
    """Rows gathered in any order and read back sorted by ``key``, whatever their number: runs of
    ``run`` rows are sorted in memory and spilled (pickled ``chunk`` rows at a time), then merged as
    they are read, so memory holds one run while gathering and one chunk per run while reading.

    Rows whose ``tag`` is in :attr:`dropped` are left out when read (those of the records an index
    refused)."""

    def __init__(
        self,
        key: Callable[[Row], Any],
        tag: Callable[[Row], str] | None = None,
        run: int = 20_000,
        chunk: int = 500,
    ) -> None:
        self.key, self.tag, self.run, self.chunk = key, tag, run, chunk
        self.dropped: set[str] = set()
        self._pending: list[Row] = []
        self._runs: list[range] = []
        self._counts: list[int] = []
        self._spill: Spill | None = None

    def __len__(self) -> int:
        return len(self._pending) + sum(self._counts)

    def add(self, row: Row) -> None:
        self._pending.append(row)
        if len(self._pending) >= self.run:
            self._spill_run()

    def __iter__(self) -> Iterator[Row]:
        if self._runs:
            self._spill_run()
            rows: Iterable[Row] = heapq.merge(
                *(self._read_run(chunks) for chunks in self._runs), key=self.key
            )
        else:
            rows = sorted(self._pending, key=self.key)
        tag, dropped = self.tag, self.dropped
        if tag is None or not dropped:
            return iter(rows)
        return (row for row in rows if tag(row) not in dropped)

    def close(self) -> None:
        if self._spill is not None:
            self._spill.close()

    def _spill_run(self) -> None:
        if not self._pending:
            return
        if self._spill is None:
            self._spill = Spill("unicat-sorted-")
        self._pending.sort(key=self.key)
        first = len(self._spill)
        for start in range(0, len(self._pending), self.chunk):
            self._spill.append(
                pickle.dumps(self._pending[start : start + self.chunk], pickle.HIGHEST_PROTOCOL)
            )
        self._runs.append(range(first, len(self._spill)))
        self._counts.append(len(self._pending))
        self._pending = []

    def _read_run(self, chunks: range) -> Iterator[Row]:
        assert self._spill is not None
        for number in chunks:
            yield from pickle.loads(self._spill.read(number))
