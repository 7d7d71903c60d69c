"""Temporary files for what an index run cannot hold in memory: blobs read back by number
(:class:`Spill`), and rows read back sorted (:class:`SortedRows`).

Each parsed record's pickled fields are appended as they come (in the store's (source, local_id)
order) and read back when its union record is built; the clusters of the blocks that held several
records are kept the same way. Only the offsets stay in memory (8 bytes a blob). Reads use
``os.pread`` on the file, so they need no seek and leave caching to the operating system's page
cache. (Not a memory map: the pages it touches count in the process's resident memory, so an index
run would seem to hold its whole spill, gigabytes at millions of records.) The file lives in the
system's temporary folder (``TMPDIR``) and is deleted when the run ends, whether it succeeds or not.
"""

from __future__ import annotations

import heapq
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
        self._flushed = True

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
        self._flushed = False
        return len(self._offsets) - 2

    def read(self, number: int) -> bytes:
        """The blob numbered ``number``."""
        if not self._flushed:
            self._file.flush()
            self._flushed = True
        start, end = self._offsets[number], self._offsets[number + 1]
        return os.pread(self._file.fileno(), end - start, start)

    def close(self) -> None:
        """Delete the file (once; closing again does nothing)."""
        if not self._file.closed:
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
