"""Harvest sources over OAI-PMH into the record store: incremental, resumable, one source at a time."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from harvester.datestamps import from_argument, granularity
from harvester.pages import Page, iter_pages
from harvester.records import convert_record
from harvester.report import HarvestReport, ProgressCallback
from harvester.transport import OAIClient
from unicat.engine import Engine
from unicat.errors import HarvestError
from unicat.model import HarvestCheckpoint, HarvestRun, QuarantineEntry, Source, SourceRecord
from unicat.settings import Settings

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class _Tally:
    """Running totals of one run; they start from the checkpoint when a killed run is resumed."""

    pages: int = 0
    records: int = 0
    deleted: int = 0
    quarantined: int = 0
    started: float = field(default_factory=time.monotonic)

    def report(self, source: str, error: str | None = None) -> HarvestReport:
        return HarvestReport(
            source=source,
            status="failed" if error else "ok",
            pages=self.pages,
            records=self.records,
            deleted=self.deleted,
            quarantined=self.quarantined,
            error=error,
            seconds=time.monotonic() - self.started,
        )


def harvest_source(
    engine: Engine,
    source: Source,
    settings: Settings,
    *,
    full: bool = False,
    on_progress: ProgressCallback | None = None,
) -> HarvestReport:
    """Harvest one source: resume its unfinished run if a process died, else start a new one.

    Incremental by default: ``from`` is the start of the last successful harvest, so records changed
    while it ran are fetched again. Each page is stored with the token of the next page in one atomic
    step. Harvest failures finish the run as failed and come back in the report; anything else (a
    kill, an exception from ``on_progress``) leaves the run unfinished, to be resumed next time.
    """
    if source.oai_url is None:
        raise HarvestError(f"source {source.code} has no OAI-PMH URL; feed it with `unicat import`")
    client = OAIClient(source.oai_url, settings)
    run = engine.unfinished_harvest(source.code)
    resume_token: str | None = None
    tally = _Tally()
    try:
        if run is not None:
            logger.info("harvest resume source=%s run=%d token=%s", source.code, run.id, run.resumption_token)
            tally.pages, tally.records, tally.deleted = run.pages, run.records, run.deleted
            resume_token = run.resumption_token
            if resume_token is None and run.pages > 0:
                engine.finish_harvest(run.id, "ok")
                return tally.report(source.code)
        else:
            run = _start_run(engine, client, source, full)
    except HarvestError as exc:
        return tally.report(source.code, str(exc))
    arguments = _list_arguments(source, run)
    try:
        for page in iter_pages(client, arguments, resume_token):
            _store(engine, source, run, page, tally)
            if on_progress is not None:
                on_progress(source.code, tally.pages, tally.records)
    except HarvestError as exc:
        logger.error("harvest failed source=%s run=%d: %s", source.code, run.id, exc)
        engine.finish_harvest(run.id, "failed", str(exc))
        return tally.report(source.code, str(exc))
    engine.finish_harvest(run.id, "ok")
    logger.info(
        "harvest ok source=%s run=%d pages=%d records=%d deleted=%d quarantined=%d",
        source.code,
        run.id,
        tally.pages,
        tally.records,
        tally.deleted,
        tally.quarantined,
    )
    return tally.report(source.code)


def harvest_all(
    engine: Engine,
    sources: Sequence[Source],
    settings: Settings,
    *,
    full: bool = False,
    on_progress: ProgressCallback | None = None,
) -> list[HarvestReport]:
    """Harvest each source in turn; one source failing, for whatever reason, never stops the others."""
    reports = []
    for source in sources:
        try:
            reports.append(harvest_source(engine, source, settings, full=full, on_progress=on_progress))
        except Exception as exc:  # isolation is the point: report it and go on with the next library
            logger.exception("harvest crashed source=%s", source.code)
            reports.append(HarvestReport(source.code, "failed", error=f"{type(exc).__name__}: {exc}"))
    return reports


def _start_run(engine: Engine, client: OAIClient, source: Source, full: bool) -> HarvestRun:
    """Open a run; an incremental one asks Identify how precise a ``from`` the server accepts."""
    if full:
        engine.clear_quarantine("harvest", source.code)
        return engine.start_harvest(source.code, "full")
    last = engine.last_successful_harvest(source.code)
    if last is None:
        return engine.start_harvest(source.code, "incremental")
    since = from_argument(last.started, granularity(client.request(verb="Identify")))
    return engine.start_harvest(source.code, "incremental", from_=since)


def _list_arguments(source: Source, run: HarvestRun) -> dict[str, str]:
    arguments = {"metadataPrefix": source.metadata_prefix}
    if source.set_spec:
        arguments["set"] = source.set_spec
    if run.from_:
        arguments["from"] = run.from_
    if run.until:
        arguments["until"] = run.until
    return arguments


def _store(engine: Engine, source: Source, run: HarvestRun, page: Page, tally: _Tally) -> None:
    """Quarantine first, then the page with its checkpoint: a kill in between repeats, never loses."""
    records: list[SourceRecord] = []
    quarantine: list[QuarantineEntry] = []
    for element in page.records:
        converted = convert_record(source.code, element)
        if isinstance(converted, SourceRecord):
            records.append(converted)
        else:
            quarantine.append(converted)
    if quarantine:
        engine.add_quarantine(quarantine)
    tally.pages += 1
    tally.records += len(records)
    tally.deleted += sum(1 for record in records if record.deleted)
    tally.quarantined += len(quarantine)
    checkpoint = HarvestCheckpoint(run.id, page.next_token, tally.pages, tally.records, tally.deleted)
    engine.store_page(source.code, records, checkpoint)
