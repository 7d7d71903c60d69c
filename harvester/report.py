"""What a harvest tells its caller: one report per source, and the progress it shows on the way."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal


@dataclass(frozen=True, slots=True)
class HarvestProgress:
    """Where the harvest of one source stands, after each stored page (counts cover the whole run).

    ``expected`` is the list size the server announces (``completeListSize``), when it does."""

    source: str
    pages: int
    records: int
    deleted: int
    quarantined: int
    expected: int | None
    seconds: float
    done: bool = False
    error: str | None = None  # why the run failed or stopped, once done
    stopped: bool = False  # past harvest_run_time_limit: the next harvest resumes it


ProgressCallback = Callable[[HarvestProgress], None]
"""Called after each stored page and once when a source is done: e.g. to draw a progress bar."""


@dataclass(frozen=True, slots=True)
class HarvestReport:
    """The outcome of harvesting one source; counts cover the whole run, including a resumed part.

    ``vanished`` counts records a full harvest no longer saw, now marked deleted; ``restarts`` how
    often an expired resumption token made the list start again from its ``from``. ``stopped``: the
    run went past ``harvest_run_time_limit`` and stays unfinished, to be resumed (``error`` says so)."""

    source: str
    status: Literal["ok", "failed", "stopped"]
    pages: int = 0
    records: int = 0
    deleted: int = 0
    quarantined: int = 0
    error: str | None = None
    seconds: float = 0.0
    vanished: int = 0
    restarts: int = 0
    requests: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "status": self.status,
            "pages": self.pages,
            "records": self.records,
            "deleted": self.deleted,
            "quarantined": self.quarantined,
            "vanished": self.vanished,
            "restarts": self.restarts,
            "requests": self.requests,
            "error": self.error,
            "seconds": round(self.seconds, 3),
        }
