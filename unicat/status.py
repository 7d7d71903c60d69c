"""The health of the catalogue, per source: what `unicat status` prints and the librarians' pages show."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from unicat.engine import Engine
from unicat.model import HarvestRun, QuarantineEntry

RECENT_QUARANTINE = 10


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

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["last_run"] = self.last_run.to_json() if self.last_run else None
        data["last_success"] = self.last_success.to_json() if self.last_success else None
        return data


def quarantine_json(entry: QuarantineEntry) -> dict[str, Any]:
    """A quarantined record without its raw bytes (their size says how much was kept)."""
    return {
        "source": entry.source,
        "local_id": entry.local_id,
        "stage": entry.stage,
        "reason": entry.reason,
        "bytes": len(entry.raw),
        "created": entry.created,
    }


@dataclass(frozen=True, slots=True)
class CatalogueStatus:
    engine: str
    union_records: int
    quarantined: int
    sources: list[SourceStatus]
    recent_quarantine: list[QuarantineEntry]

    def to_json(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "union_records": self.union_records,
            "quarantined": self.quarantined,
            "sources": [source.to_json() for source in self.sources],
            "recent_quarantine": [quarantine_json(entry) for entry in self.recent_quarantine],
        }


def catalogue_status(engine: Engine) -> CatalogueStatus:
    """Collect counts and the latest harvest of every source."""
    sources = []
    for source in engine.list_sources():
        counts = engine.source_counts(source.code)
        history = engine.harvest_history(source.code, limit=1)
        sources.append(
            SourceStatus(
                code=source.code,
                name=source.name,
                kind="oai-pmh" if source.oai_url else "file",
                profile=source.profile,
                oai_url=source.oai_url,
                live=counts.live,
                deleted=counts.deleted,
                quarantined=engine.count_quarantine(source.code),
                last_run=history[0] if history else None,
                last_success=engine.last_successful_harvest(source.code),
            )
        )
    return CatalogueStatus(
        engine=engine.url,
        union_records=engine.union_count(),
        quarantined=engine.count_quarantine(),
        sources=sources,
        recent_quarantine=engine.list_quarantine(limit=RECENT_QUARANTINE),
    )


def format_status(status: CatalogueStatus) -> str:
    """A plain-text table for terminals and logs."""
    lines = [f"engine: {status.engine}", f"union records: {status.union_records:,}"]
    lines.append(f"quarantined records: {status.quarantined:,}")
    if not status.sources:
        lines.append("no sources yet: add one with `unicat source add` or `unicat import`")
        return "\n".join(lines)
    header = f"{'source':<10} {'kind':<8} {'live':>8} {'deleted':>8} {'quar.':>6}  last harvest"
    lines += ["", header, "-" * len(header)]
    for source in status.sources:
        run = source.last_run
        if run is None:
            last = "never"
        else:
            when = run.finished or run.started
            last = f"{run.status} {when} ({run.mode}, {run.records:,} records)"
            if run.error:
                last += f": {run.error}"
        lines.append(
            f"{source.code:<10} {source.kind:<8} {source.live:>8,} {source.deleted:>8,} "
            f"{source.quarantined:>6,}  {last}"
        )
    if status.recent_quarantine:
        lines += ["", f"latest quarantined records (of {status.quarantined:,}):"]
        for entry in status.recent_quarantine:
            lines.append(f"  {entry.source} {entry.local_id or '-'} [{entry.stage}] {entry.reason}")
    return "\n".join(lines)
