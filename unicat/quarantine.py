"""The quarantine as librarians work through it: a filtered, paged listing with counts per source and
stage, shared by `unicat quarantine list`, ``/librarians/quarantine`` and ``/api/quarantine``.

Parameters are checked here once, so the command line and the web app refuse the same bad values
with the same words.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from unicat.errors import BadParameter, choice_of
from unicat.model import QUARANTINE_STAGES, SOURCE_CODE_RE, QuarantineEntry, QuarantineStage
from unicat.ports.records import QuarantineStore
from unicat.status import printable, quarantine_json

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
MAX_PAGE = 10_000


@dataclass(frozen=True, slots=True)
class QuarantineFilter:
    """Which entries (a source, a stage, or all) and which page of them (1-based)."""

    source: str | None = None
    stage: QuarantineStage | None = None
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


@dataclass(frozen=True, slots=True)
class QuarantineCount:
    source: str
    stage: QuarantineStage
    count: int

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "stage": self.stage, "count": self.count}


@dataclass(frozen=True, slots=True)
class QuarantinePage:
    """One page of entries (newest first), how many match the filter, and every (source, stage) count."""

    filter: QuarantineFilter
    total: int
    entries: list[QuarantineEntry]
    counts: list[QuarantineCount]

    @property
    def last_page(self) -> int:
        return max(1, -(-self.total // self.filter.page_size))

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.filter.source,
            "stage": self.filter.stage,
            "page": self.filter.page,
            "page_size": self.filter.page_size,
            "total": self.total,
            "counts": [count.to_json() for count in self.counts],
            "entries": [quarantine_json(entry) for entry in self.entries],
        }


def check_stage(param: str, text: str) -> QuarantineStage:
    """A quarantine stage named on the command line or in a query string."""
    if (stage := choice_of(text, QUARANTINE_STAGES)) is not None:
        return stage
    raise BadParameter(param, f"{text[:40]!r} is not a stage; stages: {', '.join(QUARANTINE_STAGES)}")


def check_whole_number(param: str, text: str, low: int, high: int) -> int:
    """A whole number from ``low`` to ``high`` (page numbers, page sizes)."""
    if not (text.isascii() and text.isdigit()) or not low <= int(text) <= high:
        raise BadParameter(param, f"must be a whole number from {low} to {high:,}, got {text[:40]!r}")
    return int(text)


def check_source(param: str, text: str) -> str:
    if not SOURCE_CODE_RE.match(text):
        raise BadParameter(param, f"{text[:40]!r} is not a source code")
    return text


def quarantine_page(store: QuarantineStore, wanted: QuarantineFilter) -> QuarantinePage:
    """The entries ``wanted`` asks for, with the counts that say how many there are in all.

    An unknown source is not an error: it simply has nothing quarantined.
    """
    counts = [
        QuarantineCount(source, stage, count)
        for (source, stage), count in sorted(store.quarantine_counts().items())
    ]
    total = sum(
        c.count
        for c in counts
        if wanted.source in (None, c.source) and wanted.stage in (None, c.stage)
    )  # fmt: skip
    entries = store.list_quarantine(wanted.source, wanted.page_size, stage=wanted.stage, offset=wanted.offset)
    return QuarantinePage(wanted, total, entries, counts)


def format_quarantine(page: QuarantinePage) -> str:
    """A plain-text listing for terminals: the counts, then one line per entry of the page."""
    wanted = page.filter
    if not page.counts:
        return "no record is quarantined"
    lines = ["quarantined records by source and stage:"]
    lines += [f"  {c.source:<10} {c.stage:<8} {c.count:>8,}" for c in page.counts]
    shown = f"{wanted.offset + 1:,}-{wanted.offset + len(page.entries):,}" if page.entries else "none"
    lines += [
        "",
        f"entries {shown} of {page.total:,}, newest first (page {wanted.page} of {page.last_page}):",
    ]
    for entry in page.entries:
        lines.append(
            f"  {entry.created or '-':<20}  {entry.source:<10} {printable(entry.local_id or '') or '-'}  "
            f"[{entry.stage}] {printable(entry.reason)} ({len(entry.raw):,} bytes)"
        )
    return "\n".join(lines)
