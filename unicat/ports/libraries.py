"""The library store: the network's library directory (:mod:`unicat.libraries`), kept in the database
beside the records. Implemented once in SQL over either database (``unicat/stores/libraries.py``)."""

from __future__ import annotations

import abc
from collections.abc import Sequence

from unicat.libraries import Library, LibraryDirectory


class LibraryStore(abc.ABC):
    """The libraries of the network. Every method is synchronous and safe to call from several threads.

    Every write keeps the directory's rules (:class:`~unicat.libraries.LibraryDirectory`: a branch of a
    source is claimed by one library at most), checked against what is stored in the same transaction;
    a write that would break them raises :class:`~unicat.errors.BadParameter` and changes nothing."""

    @abc.abstractmethod
    def list_libraries(self) -> list[Library]:
        """Every library, by code."""

    @abc.abstractmethod
    def get_library(self, code: str) -> Library | None: ...

    @abc.abstractmethod
    def add_library(self, library: Library) -> None:
        """Store a new library; a code already stored is a :class:`~unicat.errors.BadParameter`."""

    @abc.abstractmethod
    def update_library(self, library: Library) -> None:
        """Replace the stored library of the same code; :class:`~unicat.errors.BadParameter` if none."""

    @abc.abstractmethod
    def put_libraries(self, libraries: Sequence[Library]) -> int:
        """Add or replace each library (an import, a copied catalogue's), all or none; returns how many."""

    @abc.abstractmethod
    def remove_library(self, code: str) -> bool:
        """Forget a library; ``False`` when there was none of that code."""

    def directory(self) -> LibraryDirectory:
        """Every library as a directory, read once (an index run's, a page's)."""
        return LibraryDirectory(self.list_libraries())
