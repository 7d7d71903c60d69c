"""The health of the catalogue, per source: what `unicat status` prints and the librarians' page shows.

Per source: its counts, the last success and its throughput, the last error since that success, the
latest runs, and one verdict (``health``) a librarian can sort by. Stored times are ISO 8601 UTC to the
second, so durations are whole seconds and a run shorter than one second has no throughput.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from unicat.catalogue import Catalogue
from unicat.clock import format_time, parse_time
from unicat.model import QUARANTINE_STAGES, HarvestRun, QuarantineEntry, QuarantineStage, Source
from unicat.ports.records import RecordStore

RECENT_QUARANTINE = 10
DEFAULT_HISTORY = 10
MAX_HISTORY = 100
STALE_INTERVALS = 2
"""A scheduled source whose last success started more than this many intervals ago is ``stale``."""

# The last failure since the last success is among the newest runs unless several runs in a row were
# left running: a few more than the history shown are read, so a short history still finds it.
_ERROR_LOOKBACK = 5

Health = Literal["ok", "failing", "running", "never_harvested", "stale"]
HEALTH_LABELS: dict[Health, str] = {
    "ok": "ok",
    "failing": "failing",
    "running": "running",
    "never_harvested": "never harvested",
    "stale": "stale",
}
HEALTH_ORDER: tuple[Health, ...] = ("failing", "stale", "running", "never_harvested", "ok")
"""The verdicts from the most to the least in need of a librarian."""

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")


@dataclass(frozen=True, slots=True)
class RunSummary:
    """One harvest (or import) as the history shows it, with its duration and throughput.

    ``seconds`` is ``None`` until the run has finished; ``records_per_second`` is ``None`` as well
    when the run took under a second (times are stored to the second, so no rate can be told).
    """

    id: int
    mode: str
    status: str
    started: str
    finished: str | None
    seconds: int | None
    records: int
    deleted: int
    quarantined: int
    pages: int
    records_per_second: float | None
    error: str | None

    @classmethod
    def of(cls, run: HarvestRun) -> RunSummary:
        started, finished = parse_time(run.started), parse_time(run.finished)
        seconds = None
        if started is not None and finished is not None and finished >= started:
            seconds = int((finished - started).total_seconds())
        rate = round(run.records / seconds, 1) if seconds else None
        return cls(
            id=run.id,
            mode=run.mode,
            status=run.status,
            started=run.started,
            finished=run.finished,
            seconds=seconds,
            records=run.records,
            deleted=run.deleted,
            # Runs written before the engines counted quarantined records per run read as 0.
            quarantined=run.quarantined or 0,
            pages=run.pages,
            records_per_second=rate,
            error=run.error,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "mode": self.mode,
            "status": self.status,
            "started": self.started,
            "finished": self.finished,
            "seconds": self.seconds,
            "records": self.records,
            "deleted": self.deleted,
            "quarantined": self.quarantined,
            "pages": self.pages,
            "records_per_second": self.records_per_second,
            "error": self.error,
        }


@dataclass(frozen=True, slots=True)
class LastError:
    """The latest failed run after the last success: when it failed, why, and which run it was."""

    run: int
    at: str
    message: str | None

    def to_json(self) -> dict[str, Any]:
        return {"run": self.run, "at": self.at, "message": self.message}


@dataclass(frozen=True, slots=True)
class SourceStatus:
    code: str
    name: str
    kind: str
    profile: str
    oai_url: str | None
    live: int
    deleted: int
    quarantined: int
    last_run: HarvestRun | None
    last_success: HarvestRun | None
    health: Health
    last_error: LastError | None
    throughput: float | None
    harvest_interval: float | None
    next_due: str | None
    history: list[RunSummary]
    quarantined_by_stage: dict[QuarantineStage, int] = field(default_factory=dict)
    """Entries per stage (``harvest``, ``import``, ``index``), stages without any left out."""
    quarantined_by_kind: dict[str, int] = field(default_factory=dict)
    """Records set aside as no book, per kind (``authority``, ``untitled``…), by name; none left out."""

    @property
    def health_label(self) -> str:
        return HEALTH_LABELS[self.health]

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "kind": self.kind,
            "profile": self.profile,
            "oai_url": self.oai_url,
            "live": self.live,
            "deleted": self.deleted,
            "quarantined": self.quarantined,
            "last_run": self.last_run.to_json() if self.last_run else None,
            "last_success": self.last_success.to_json() if self.last_success else None,
            "health": self.health,
            "last_error": self.last_error.to_json() if self.last_error else None,
            "throughput": self.throughput,
            "harvest_interval": self.harvest_interval,
            "next_due": self.next_due,
            "history": [run.to_json() for run in self.history],
            "quarantined_by_stage": dict(self.quarantined_by_stage),
            "quarantined_by_kind": dict(self.quarantined_by_kind),
        }


def quarantine_json(entry: QuarantineEntry) -> dict[str, Any]:
    """A quarantined record without its raw bytes (their size says how much was kept)."""
    return {
        "source": entry.source,
        "local_id": entry.local_id,
        "stage": entry.stage,
        "reason": entry.reason,
        "bytes": len(entry.raw),
        "created": entry.created,
        "kind": entry.kind,
    }


@dataclass(frozen=True, slots=True)
class CatalogueStatus:
    engine: str
    store: str
    generated: str
    union_records: int
    quarantined: int
    sources: list[SourceStatus]
    recent_quarantine: list[QuarantineEntry]
    history_limit: int = DEFAULT_HISTORY
    quarantined_by_kind: dict[str, int] = field(default_factory=dict)
    """Records set aside as no book, per kind, over every source (not only those asked for)."""

    def health_counts(self) -> dict[Health, int]:
        """How many sources have each verdict, most urgent first, verdicts no source has left out."""
        counts = {health: sum(1 for s in self.sources if s.health == health) for health in HEALTH_ORDER}
        return {health: count for health, count in counts.items() if count}

    def to_json(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "store": self.store,
            "generated": self.generated,
            "union_records": self.union_records,
            "quarantined": self.quarantined,
            "history_limit": self.history_limit,
            "sources": [source.to_json() for source in self.sources],
            "recent_quarantine": [quarantine_json(entry) for entry in self.recent_quarantine],
            "quarantined_by_kind": dict(self.quarantined_by_kind),
        }


def source_health(
    source: Source, runs: Sequence[HarvestRun], last_success: HarvestRun | None, now: datetime
) -> Health:
    """The verdict on one source from its runs (newest first): what is wrong, if anything.

    A run under way says ``running``; a last run that failed, ``failing``; a scheduled source whose
    last success began more than :data:`STALE_INTERVALS` intervals ago, ``stale`` (its schedule is
    not being kept).
    """
    if not runs:
        return "never_harvested"
    if runs[0].status == "running":
        return "running"
    if runs[0].status == "failed":
        return "failing"
    interval = source.harvest_interval
    success_started = parse_time(last_success.started) if last_success else None
    if not interval or interval <= 0 or success_started is None:
        return "ok"
    return "stale" if now - success_started > timedelta(seconds=STALE_INTERVALS * interval) else "ok"


def last_error(runs: Sequence[HarvestRun], last_success: HarvestRun | None) -> LastError | None:
    """The newest failed run after the last success (runs newest first), if any."""
    for run in runs:
        if last_success is not None and run.id <= last_success.id:
            return None
        if run.status == "failed":
            return LastError(run=run.id, at=run.finished or run.started, message=run.error)
    return None


def next_due(source: Source, runs: Sequence[HarvestRun]) -> str | None:
    """When a scheduled source is next due: its last run's start plus its interval."""
    due = scheduled_after(source, runs[0]) if runs else None
    return format_time(due) if due is not None else None


def scheduled_after(source: Source, run: HarvestRun) -> datetime | None:
    """When a source with a ``harvest_interval`` is due after ``run``: its start plus the interval
    (the schedule of `unicat serve` and what the status shows follow this one rule)."""
    interval = source.harvest_interval
    started = parse_time(run.started)
    if not interval or interval <= 0 or started is None:
        return None
    return started + timedelta(seconds=interval)


def source_status(
    store: RecordStore,
    source: Source,
    history: int,
    now: datetime,
    quarantine_counts: Mapping[tuple[str, QuarantineStage], int] | None = None,
    kind_counts: Mapping[tuple[str, str], int] | None = None,
) -> SourceStatus:
    """Everything :func:`catalogue_status` tells about one source (``quarantine_counts`` and
    ``kind_counts``: the store's, when the caller already read them for every source)."""
    if quarantine_counts is None:
        quarantine_counts = store.quarantine_counts()
    if kind_counts is None:
        kind_counts = store.quarantine_kind_counts()
    counts = store.source_counts(source.code)
    runs = store.harvest_history(source.code, limit=max(history, _ERROR_LOOKBACK))
    success = store.last_successful_harvest(source.code)
    return SourceStatus(
        code=source.code,
        name=source.name,
        kind="oai-pmh" if source.oai_url else "file",
        profile=source.profile,
        oai_url=source.oai_url,
        live=counts.live,
        deleted=counts.deleted,
        quarantined=store.count_quarantine(source.code),
        last_run=runs[0] if runs else None,
        last_success=success,
        health=source_health(source, runs, success, now),
        last_error=last_error(runs, success),
        throughput=RunSummary.of(success).records_per_second if success else None,
        harvest_interval=source.harvest_interval,
        next_due=next_due(source, runs),
        history=[RunSummary.of(run) for run in runs[:history]],
        quarantined_by_stage={
            stage: count
            for stage in QUARANTINE_STAGES
            if (count := quarantine_counts.get((source.code, stage), 0))
        },
        quarantined_by_kind={
            kind: count for (code, kind), count in sorted(kind_counts.items()) if code == source.code
        },
    )


def catalogue_status(
    catalogue: Catalogue,
    codes: Sequence[str] = (),
    *,
    history: int = DEFAULT_HISTORY,
    now: datetime | None = None,
) -> CatalogueStatus:
    """Collect counts, health and the latest ``history`` runs of every source (or of ``codes`` only,
    in that order; an unknown code raises :class:`~unicat.errors.SourceNotFound`).

    With ``codes``, the latest quarantined records are those of these sources; the catalogue-wide
    totals stay catalogue-wide.
    """
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    store = catalogue.records
    if codes:
        sources = [store.get_source(code) for code in dict.fromkeys(codes)]
        entries = [e for s in sources for e in store.list_quarantine(s.code, limit=RECENT_QUARANTINE)]
        entries.sort(key=lambda entry: entry.created or "", reverse=True)
        recent = entries[:RECENT_QUARANTINE]
    else:
        sources = store.list_sources()
        recent = store.list_quarantine(limit=RECENT_QUARANTINE)
    stage_counts = store.quarantine_counts()
    kind_counts = store.quarantine_kind_counts()
    kind_totals: dict[str, int] = {}
    for (_, kind), count in sorted(kind_counts.items()):
        kind_totals[kind] = kind_totals.get(kind, 0) + count
    return CatalogueStatus(
        engine=catalogue.index.url,
        store=catalogue.store_url,
        generated=format_time(moment),
        union_records=catalogue.index.union_count(),
        quarantined=store.count_quarantine(),
        sources=[
            source_status(store, source, history, moment, stage_counts, kind_counts) for source in sources
        ],
        recent_quarantine=recent,
        history_limit=history,
        quarantined_by_kind=dict(sorted(kind_totals.items())),
    )


# -- words for people: shared by the text table and the librarians' page -----------------------------


def printable(text: str) -> str:
    """Text from a remote server or a record made safe for one terminal line: control characters
    (line breaks, escape sequences that would restyle the terminal) become spaces."""
    return _CONTROL.sub(" ", text).strip()


def format_duration(seconds: float | None, day: str = "d", number: Callable[[int], str] = str) -> str:
    """``45 s``, ``3 min 20 s``, ``2 h 5 min``, ``3 d 4 h``; ``-`` when unknown. The largest unit that is
    not zero, and the next one when it is not zero. s, min and h are international symbols; the web app
    passes the day's symbol and a number format of the reader's language."""
    if seconds is None:
        return "-"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    parts = [(days, day), (hours, "h"), (minutes, "min"), (secs, "s")]
    first = next((index for index, (amount, _) in enumerate(parts) if amount), len(parts) - 1)
    shown = [parts[first]] + [part for part in parts[first + 1 : first + 2] if part[0]]
    return " ".join(f"{number(amount)} {unit}" for amount, unit in shown)


def format_rate(records_per_second: float | None) -> str:
    """``1,234 rec/s`` (one decimal under 10); ``-`` when unknown."""
    if records_per_second is None:
        return "-"
    if records_per_second < 10:
        return f"{records_per_second:.1f} rec/s"
    return f"{records_per_second:,.0f} rec/s"


def format_age(value: str | None, now: str) -> str:
    """How long before ``now`` a stored time was (``3 h 5 min ago``), or how long after (``in 2 h``)."""
    then, reference = parse_time(value), parse_time(now)
    if then is None or reference is None:
        return ""
    delta = (reference - then).total_seconds()
    if abs(delta) < 1:
        return "now"
    return f"{format_duration(delta)} ago" if delta > 0 else f"in {format_duration(-delta)}"


def _when(value: str | None, now: str) -> str:
    if not value:
        return "never"
    age = format_age(value, now)
    return f"{value} ({age})" if age else value


def _history_lines(source: SourceStatus) -> list[str]:
    header = (
        f"  {'run':>6}  {'started':<20}  {'mode':<11}  {'status':<7}  {'time':>10}  {'records':>9}  "
        f"{'deleted':>8}  {'quar.':>6}  {'pages':>6}  {'throughput':>12}  error"
    )
    lines = [f"history of {source.code} — {printable(source.name)}:"]
    if not source.history:
        return [*lines, "  no harvest or import yet"]
    lines.append(header)
    for run in source.history:
        line = (
            f"  {run.id:>6}  {run.started:<20}  {run.mode:<11}  {run.status:<7}  "
            f"{format_duration(run.seconds):>10}  {run.records:>9,}  {run.deleted:>8,}  "
            f"{run.quarantined:>6,}  {run.pages:>6,}  {format_rate(run.records_per_second):>12}  "
            f"{printable(run.error or '')}"
        )
        lines.append(line.rstrip())
    return lines


def format_status(status: CatalogueStatus, *, history: bool = False) -> str:
    """A plain-text table for terminals and logs; with ``history``, each source's latest runs too."""
    lines = [f"engine: {status.engine}", f"store: {status.store}", f"union records: {status.union_records:,}"]
    lines.append(f"quarantined records: {status.quarantined:,}")
    if not status.sources:
        lines.append("no sources yet: add one with `unicat source add` or `unicat import`")
        return "\n".join(lines)
    header = (
        f"{'source':<10} {'health':<15} {'kind':<8} {'live':>8} {'deleted':>8} {'quar.':>6}  "
        f"{'throughput':>12}  last success"
    )
    lines += ["", header, "-" * len(header)]
    for source in status.sources:
        success = source.last_success
        last = _when(success.finished or success.started, status.generated) if success else "never"
        if source.harvest_interval:
            due = _when(source.next_due, status.generated) if source.next_due else "now"
            last += f"; every {format_duration(source.harvest_interval)}, next due {due}"
        lines.append(
            f"{source.code:<10} {source.health_label:<15} {source.kind:<8} {source.live:>8,} "
            f"{source.deleted:>8,} {source.quarantined:>6,}  {format_rate(source.throughput):>12}  {last}"
        )
    troubled = [source for source in status.sources if source.last_error or source.health == "running"]
    if troubled:
        lines += ["", "since the last success:"]
    for source in troubled:
        run = source.last_run
        if source.health == "running" and run is not None:
            lines.append(
                f"  {source.code}: running since {_when(run.started, status.generated)}, "
                f"{run.pages:,} pages, {run.records:,} records so far"
                + (f"; {printable(run.error)}" if run.error else "")  # a run stopped by its time limit
            )
        if source.last_error is not None:
            reason = printable(source.last_error.message or "") or "no reason recorded"
            lines.append(f"  {source.code}: failed {_when(source.last_error.at, status.generated)}: {reason}")
    if history:
        for source in status.sources:
            lines += ["", *_history_lines(source)]
    staged = [source for source in status.sources if source.quarantined_by_stage]
    if staged:
        lines += ["", "quarantined records by stage (all of them: `unicat quarantine list`):"]
    for source in staged:
        counts = ", ".join(f"{stage} {count:,}" for stage, count in source.quarantined_by_stage.items())
        lines.append(f"  {source.code}: {counts}")
    if status.quarantined_by_kind:
        lines += ["", "set aside at index time as no book, by kind:"]
        lines += [
            f"  {source.code}: {_kinds(source.quarantined_by_kind)}"
            for source in status.sources
            if source.quarantined_by_kind
        ]
        lines.append(f"  in all: {_kinds(status.quarantined_by_kind)}")
    if status.recent_quarantine:
        lines += ["", f"latest quarantined records (of {status.quarantined:,}):"]
        for entry in status.recent_quarantine:
            stage = f"{entry.stage}/{entry.kind}" if entry.kind else entry.stage
            lines.append(
                f"  {entry.source} {printable(entry.local_id or '') or '-'} [{stage}] "
                f"{printable(entry.reason)}"
            )
    return "\n".join(lines)


def _kinds(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{kind} {count:,}" for kind, count in counts.items())
