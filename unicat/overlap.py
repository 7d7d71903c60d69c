"""Holdings overlap between libraries: the librarians' view of how much of a network's collection
each library shares with each other one, and what only it holds (a collection-policy question: what
would the network lose without this library, whom could it borrow from).

Counts are of union records (editions: the copies every library holds of one edition are one
record), computed over the whole union index (``UnionIndex.library_overlap``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class LibraryOverlap:
    """``totals``: records each library holds; ``unique``: those no other library holds; ``shared``:
    records both libraries of a pair hold, keyed by the pair in code order (``a < b``), pairs that
    share nothing left out; ``records``: union records in the index."""

    records: int
    totals: dict[str, int] = field(default_factory=dict)
    unique: dict[str, int] = field(default_factory=dict)
    shared: dict[tuple[str, str], int] = field(default_factory=dict)

    @property
    def libraries(self) -> list[str]:
        return sorted(self.totals)

    def shared_by(self, first: str, second: str) -> int:
        """Records ``first`` and ``second`` both hold (a library "shares" all of its own with itself)."""
        if first == second:
            return self.totals.get(first, 0)
        return self.shared.get((min(first, second), max(first, second)), 0)

    def unique_share(self, code: str) -> float:
        """The part of a library's records that no other library holds (0 for a library without any)."""
        total = self.totals.get(code, 0)
        return self.unique.get(code, 0) / total if total else 0.0

    def to_json(self, names: Mapping[str, str] | None = None) -> dict[str, Any]:
        """Libraries by code, each with its ``name`` from ``names`` (the code when it has none)."""
        return {
            "records": self.records,
            "libraries": [
                {
                    "code": code,
                    "name": (names or {}).get(code, code),
                    "records": self.totals[code],
                    "unique": self.unique.get(code, 0),
                    "shared": {
                        other: self.shared_by(code, other)
                        for other in self.libraries
                        if other != code and self.shared_by(code, other)
                    },
                }
                for code in self.libraries
            ],
        }
