"""The blocking keys of every record a full index run parsed, kept until its generation is saved.

The record store keeps each record's merge keys and work key (``unicat/member_keys.py``) for the
incremental pass. A full run knows them as it parses (the workers hash them,
:mod:`indexer.record_keys`) and the store writes them in the generation's transaction, at the end:
meanwhile they wait here, pickled a chunk at a time into a temporary file (:mod:`unicat.spill`), so
that memory holds one chunk whatever the catalogue's size.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from types import TracebackType

from unicat.member_keys import MemberKeys
from unicat.spill import Spill

CHUNK = 2_000
"""Records pickled together: one ``pickle.dumps`` per chunk rather than per record."""

_Row = tuple[str, str, tuple[int, ...], int]


class KeptKeys:
    """Records' keys appended in the order they are parsed, read back in that order."""

    def __init__(self) -> None:
        self._spill = Spill("unicat-keys-")
        self._pending: list[_Row] = []
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def add(self, source: str, local_id: str, keys: tuple[int, ...], work: int) -> None:
        self._pending.append((source, local_id, keys, work))
        self._count += 1
        if len(self._pending) >= CHUNK:
            self._flush()

    def __iter__(self) -> Iterator[MemberKeys]:
        self._flush()
        for number in range(len(self._spill)):
            rows: list[_Row] = pickle.loads(self._spill.read(number))
            for source, local_id, keys, work in rows:
                yield MemberKeys(source, local_id, keys, work)

    def _flush(self) -> None:
        if self._pending:
            self._spill.append(pickle.dumps(self._pending, protocol=pickle.HIGHEST_PROTOCOL))
            self._pending = []

    def close(self) -> None:
        """Delete the temporary file."""
        self._spill.close()

    def __enter__(self) -> KeptKeys:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()
