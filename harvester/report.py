"""What a harvest tells its caller: one report per source, and the progress callback's shape."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

ProgressCallback = Callable[[str, int, int], None]
"""Called after each stored page with (source code, pages so far, records so far): e.g. to draw a bar."""


@dataclass(frozen=True, slots=True)
class HarvestReport:
    """The outcome of harvesting one source; counts cover the whole run, including a resumed part."""

    source: str
    status: Literal["ok", "failed"]
    pages: int = 0
    records: int = 0
    deleted: int = 0
    quarantined: int = 0
    error: str | None = None
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "status": self.status,
            "pages": self.pages,
            "records": self.records,
            "deleted": self.deleted,
            "quarantined": self.quarantined,
            "error": self.error,
            "seconds": round(self.seconds, 3),
        }
