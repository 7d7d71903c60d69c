"""The quarantine as librarians work through it: a filtered, paged listing with counts per source and
stage, and per kind of record set aside as no book, shared by `unicat quarantine list`,
``/librarians/quarantine`` and ``/api/quarantine``.

Parameters are checked here once, so the command line and the web app refuse the same bad values
with the same words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from unicat.errors import BadParameter, choice_of
from unicat.model import QUARANTINE_STAGES, SOURCE_CODE_RE, QuarantineEntry, QuarantineStage
from unicat.ports.records import QuarantineStore
from unicat.status import printable, quarantine_json

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
MAX_PAGE = 10_000
# A kind is a word or two in lower case (indexer.record_kinds: "authority", "community information").
_KIND_RE = re.compile(r"[a-z][a-z ]{0,39}")


@dataclass(frozen=True, slots=True)
class QuarantineFilter:
    """Which entries (a source, a stage, a kind, or all) and which page of them (1-based)."""

    source: str | None = None
    stage: QuarantineStage | None = None
    kind: str | None = None
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
class QuarantineKindCount:
    source: str
    kind: str
    count: int

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "kind": self.kind, "count": self.count}


@dataclass(frozen=True, slots=True)
class QuarantinePage:
    """One page of entries (newest first), how many match the filter, every (source, stage) count and
    every (source, kind) count of the records set aside as no book."""

    filter: QuarantineFilter
    total: int
    entries: list[QuarantineEntry]
    counts: list[QuarantineCount]
    kind_counts: list[QuarantineKindCount]

    @property
    def last_page(self) -> int:
        return max(1, -(-self.total // self.filter.page_size))

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.filter.source,
            "stage": self.filter.stage,
            "kind": self.filter.kind,
            "page": self.filter.page,
            "page_size": self.filter.page_size,
            "total": self.total,
            "counts": [count.to_json() for count in self.counts],
            "kind_counts": [count.to_json() for count in self.kind_counts],
            "entries": [quarantine_json(entry) for entry in self.entries],
        }


def check_stage(param: str, text: str) -> QuarantineStage:
    """A quarantine stage named on the command line or in a query string."""
    if (stage := choice_of(text, QUARANTINE_STAGES)) is not None:
        return stage
    raise BadParameter(param, f"{text[:40]!r} is not a stage; stages: {', '.join(QUARANTINE_STAGES)}")


def check_kind(param: str, text: str) -> str:
    """A kind of record set aside (``authority``, ``holdings``, ``untitled``…); one no entry has simply
    matches nothing."""
    if not _KIND_RE.fullmatch(text):
        raise BadParameter(
            param, f"{text[:40]!r} is not a kind; kinds are words in lower case, e.g. authority"
        )
    return text


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
    kind_counts = [
        QuarantineKindCount(source, kind, count)
        for (source, kind), count in sorted(store.quarantine_kind_counts().items())
    ]
    if wanted.kind is None:
        total = sum(
            c.count
            for c in counts
            if wanted.source in (None, c.source) and wanted.stage in (None, c.stage)
        )  # fmt: skip
    else:
        total = store.count_quarantine(wanted.source, stage=wanted.stage, kind=wanted.kind)
    entries = store.list_quarantine(
        wanted.source, wanted.page_size, stage=wanted.stage, offset=wanted.offset, kind=wanted.kind
    )
    return QuarantinePage(wanted, total, entries, counts, kind_counts)


def format_quarantine(page: QuarantinePage) -> str:
    """A plain-text listing for terminals: the counts, then one line per entry of the page."""
    wanted = page.filter
    if not page.counts:
        return "no record is quarantined"
    lines = ["quarantined records by source and stage:"]
    lines += [f"  {c.source:<10} {c.stage:<8} {c.count:>8,}" for c in page.counts]
    if page.kind_counts:
        lines += ["", "set aside at index time as no book, by source and kind:"]
        lines += [f"  {c.source:<10} {c.kind:<22} {c.count:>8,}" for c in page.kind_counts]
    shown = f"{wanted.offset + 1:,}-{wanted.offset + len(page.entries):,}" if page.entries else "none"
    lines += [
        "",
        f"entries {shown} of {page.total:,}, newest first (page {wanted.page} of {page.last_page}):",
    ]
    for entry in page.entries:
        stage = f"{entry.stage}/{entry.kind}" if entry.kind else entry.stage
        lines.append(
            f"  {entry.created or '-':<20}  {entry.source:<10} {printable(entry.local_id or '') or '-'}  "
            f"[{stage}] {printable(entry.reason)} ({len(entry.raw):,} bytes)"
        )
    return "\n".join(lines)
