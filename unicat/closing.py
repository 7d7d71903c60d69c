"""``with`` for whatever holds connections: the engine, a database, a catalogue all close the same way."""

from __future__ import annotations

from types import TracebackType
from typing import Self


class ClosedOnExit:
    """Gives a class with a ``close()`` the ``with`` statement: the block's end closes it, however it
    ends."""

    __slots__ = ()

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
