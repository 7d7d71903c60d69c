"""Harvest sources over OAI-PMH into the record store: incremental, resumable, many sources at once.

One run per source. Its pages are stored as they arrive, each with the checkpoint that says where the
list goes on, so a run killed at any moment resumes from its last stored page. Sources run
concurrently (``harvest_concurrency``), while each server gets one request at a time
(:mod:`harvester.hosts`); one source failing, for whatever reason, never stops the others.
"""

from __future__ import annotations

import concurrent.futures
import functools
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from harvester.datestamps import from_argument, granularity, response_date
from harvester.hosts import HostGates
from harvester.pages import PageEnd, read_page
from harvester.records import convert_record, oversized_record
from harvester.report import HarvestProgress, HarvestReport, ProgressCallback
from harvester.transport import OAIClient
from unicat.clock import parse_time
from unicat.errors import EngineUnavailable, HarvestError
from unicat.model import INTAKE_STAGES, HarvestCheckpoint, HarvestRun, QuarantineEntry, Source, SourceRecord
from unicat.oai_protocol import OaiError
from unicat.ports.records import HarvestMode, RecordStore
from unicat.settings import Settings, parse_record_cap

logger = logging.getLogger(__name__)

# How often one run may start its list again because the server forgot its resumption token.
MAX_RESTARTS = 3
# Pages in a row without a single record, each with a new token, before a run is judged to be led
# round in circles (seen: a provider whose store miscounts hands out a fresh token for every empty page).
MAX_EMPTY_PAGES = 50
# Fewer vanished records than this never trip harvest_vanish_limit (a small library weeding a shelf).
VANISH_FLOOR = 10
# A server clock further off than this from ours is worth a warning (its own is used either way).
CLOCK_SKEW_WARNING = 300.0

Item = SourceRecord | QuarantineEntry


class _OutOfTime(Exception):
    """The run went past ``harvest_run_time_limit``: it stops between two pages, to be resumed."""


@dataclass(slots=True)
class _Tally:
    """Running totals of one run as last checkpointed; they start from the checkpoint on resume."""

    pages: int = 0
    records: int = 0
    deleted: int = 0
    quarantined: int = 0
    expected: int | None = None
    vanished: int = 0
    restarts: int = 0
    started: float = field(default_factory=time.monotonic)

    def checkpoint(self, run: HarvestRun, token: str | None) -> HarvestCheckpoint:
        return HarvestCheckpoint(run.id, token, self.pages, self.records, self.deleted, self.quarantined)

    def progress(
        self, source: str, done: bool = False, error: str | None = None, stopped: bool = False
    ) -> HarvestProgress:
        return HarvestProgress(
            source,
            self.pages,
            self.records,
            self.deleted,
            self.quarantined,
            self.expected,
            time.monotonic() - self.started,
            done,
            error,
            stopped,
        )

    def report(
        self, source: str, requests: int, error: str | None = None, stopped: bool = False
    ) -> HarvestReport:
        return HarvestReport(
            source=source,
            status="stopped" if stopped else "failed" if error else "ok",
            pages=self.pages,
            records=self.records,
            deleted=self.deleted,
            quarantined=self.quarantined,
            error=error,
            seconds=time.monotonic() - self.started,
            vanished=self.vanished,
            restarts=self.restarts,
            requests=requests,
        )


@dataclass(slots=True)
class _PageCount:
    """What the part of a page stored so far holds (it joins the tally with the page's checkpoint)."""

    records: int = 0
    deleted: int = 0
    quarantined: int = 0

    def reset(self) -> None:
        """Start again: the page is being read again after a failure part way through."""
        self.records = self.deleted = self.quarantined = 0


class _Run:
    """One source's run: the list, page by page, written to the store as it comes."""

    def __init__(
        self,
        store: RecordStore,
        source: Source,
        settings: Settings,
        client: OAIClient,
        on_progress: ProgressCallback | None,
    ) -> None:
        self.store = store
        self.source = source
        self.settings = settings
        self.client = client
        self.on_progress = on_progress
        self.tally = _Tally()
        self.convert = functools.partial(convert_record, source.code, limits=settings.content_limits)
        self.refuse = functools.partial(oversized_record, source.code, parse_record_cap(settings))
        # A record delivered readable leaves the intake quarantine (a delete per record and stage, so
        # only asked for when the source has such entries, or this run adds some).
        counts = store.quarantine_counts()
        self.releasing = any(counts.get((source.code, stage)) for stage in INTAKE_STAGES)

    def _write(
        self, items: list[Item], checkpoint: Callable[[], HarvestCheckpoint], count: _PageCount
    ) -> None:
        """Quarantine first, then the records with the checkpoint: a kill in between repeats, never
        loses (a record quarantined again keeps one entry)."""
        records = [item for item in items if isinstance(item, SourceRecord)]
        quarantine = [item for item in items if isinstance(item, QuarantineEntry)]
        if quarantine:
            self.store.add_quarantine(quarantine)
            for entry in quarantine:
                logger.warning(
                    "harvest quarantined source=%s id=%s: %s", entry.source, entry.local_id, entry.reason
                )
        count.records += len(records)
        count.deleted += sum(1 for record in records if record.deleted)
        count.quarantined += len(quarantine)
        self.store.store_page(self.source.code, records, checkpoint())
        self.releasing = self.releasing or bool(quarantine)
        if self.releasing and records:
            kept = {entry.local_id for entry in quarantine}
            readable = [record.local_id for record in records if record.local_id not in kept]
            self.store.remove_quarantine(self.source.code, readable, INTAKE_STAGES)

    def page(self, run: HarvestRun, request: dict[str, str], token: str | None) -> PageEnd:
        """Read and store one page. Its full batches are stored as they come with the checkpoint the
        run already had (a kill then fetches the page again: the same records, overwritten); the rest
        of the page is stored with the new checkpoint, in one step."""
        count = _PageCount()
        previous = self.tally.checkpoint(run, token)
        end, rest = read_page(
            self.client,
            request,
            self.convert,
            lambda items: self._write(items, lambda: previous, count),
            self.settings.harvest_batch_records,
            on_attempt=count.reset,
            record_cap=parse_record_cap(self.settings),
            refuse=self.refuse,
        )

        def page_done() -> HarvestCheckpoint:
            tally = self.tally
            tally.pages += 1
            tally.records += count.records
            tally.deleted += count.deleted
            tally.quarantined += count.quarantined
            if end.complete_list_size is not None:
                tally.expected = end.complete_list_size
            return tally.checkpoint(run, end.next_token)

        self._write(rest, page_done, count)
        if self.on_progress is not None:
            self.on_progress(self.tally.progress(self.source.code))
        return end

    def list_all(self, run: HarvestRun, token: str | None) -> None:
        """Every page of the list from ``token`` (None: from the start), following the tokens.

        ``noRecordsMatch`` on the first request is an empty list. A token the server already sent
        would loop forever, so it stops the run. ``badResumptionToken`` (the server forgot or expired
        the token, often after a pause or a resume) starts the list again from its own arguments, the
        same ``from``/``until``: records already stored are overwritten, none is missed.
        """
        arguments = _list_arguments(self.source, run)
        seen: set[str] = set() if token is None else {token}
        empty = 0
        while True:
            self._check_time(token)
            request = {"resumptionToken": token} if token is not None else dict(arguments)
            try:
                end = self.page(run, request, token)
            except OaiError as exc:
                if exc.code == "noRecordsMatch" and token is None:
                    return
                if (
                    exc.code == "badResumptionToken"
                    and token is not None
                    and self.tally.restarts < MAX_RESTARTS
                ):
                    self.tally.restarts += 1
                    logger.warning(
                        "harvest source=%s run=%d: the server refused resumption token %r (%s); "
                        "starting the list again from its arguments %s",
                        self.source.code,
                        run.id,
                        token,
                        exc,
                        arguments,
                    )
                    # The counts start again with the list, so that they describe one pass of it.
                    restarted = _Tally(restarts=self.tally.restarts, started=self.tally.started)
                    self.tally = restarted
                    token = None
                    seen.clear()
                    continue
                raise HarvestError(f"{self.client.base_url} answered {exc.code}: {exc}") from exc
            next_token = end.next_token
            if next_token is None:
                return
            empty = empty + 1 if end.records == 0 else 0
            if empty >= MAX_EMPTY_PAGES:
                raise HarvestError(
                    f"{self.client.base_url} sent {empty} pages in a row without a record, each with a new "
                    "resumption token; stopping so the harvest does not run on forever (what was stored "
                    "is kept)"
                )
            if next_token in seen:
                raise HarvestError(
                    f"{self.client.base_url} sent the resumption token {next_token!r} twice; "
                    "stopping so the harvest does not loop forever (what was stored is kept)"
                )
            seen.add(next_token)
            token = next_token

    def _check_time(self, token: str | None) -> None:
        """Stop before the next page once the run has taken ``harvest_run_time_limit``; every page so
        far is stored with its checkpoint, so the next harvest goes on from ``token``."""
        limit = self.settings.harvest_run_time_limit
        if token is None or time.monotonic() - self.tally.started <= limit:
            return
        raise _OutOfTime(
            f"stopped after harvest_run_time_limit ({limit:g} s) with {self.tally.pages:,} pages stored; "
            "the next harvest resumes from its checkpoint (raise harvest_run_time_limit to harvest "
            "this source in one go)"
        )

    def finish(self, error: str | None = None, stopped: bool = False) -> HarvestReport:
        """The run's report, after telling the progress display that this source is done."""
        self.client.close()
        if self.on_progress is not None:
            self.on_progress(self.tally.progress(self.source.code, done=True, error=error, stopped=stopped))
        return self.tally.report(self.source.code, self.client.requests, error, stopped)

    def retire_vanished(self, run: HarvestRun) -> None:
        """After a whole full list: mark deleted what the library no longer has, unless so much
        vanished at once that a broken server or a wrong set is likelier than a weeded catalogue."""
        if run.mode != "full" or run.until is not None or run.from_ is not None:
            return
        unseen = self.store.unseen_count(self.source.code, run.id)
        if unseen == 0:
            return
        live = self.store.source_counts(self.source.code).live
        share = unseen / live if live else 1.0
        if unseen >= VANISH_FLOOR and share > self.settings.harvest_vanish_limit:
            raise HarvestError(
                f"the full harvest no longer saw {unseen:,} of {live:,} live records ({share:.0%}), more "
                f"than harvest_vanish_limit ({self.settings.harvest_vanish_limit:.0%}); nothing was "
                "marked deleted: check the source (URL, set, server), or raise the limit if the library "
                "really withdrew them"
            )
        self.tally.vanished = self.store.delete_unseen(self.source.code, run.id)
        self.tally.deleted += self.tally.vanished
        self.store.store_page(self.source.code, [], self.tally.checkpoint(run, None))
        logger.info(
            "harvest source=%s run=%d: %d records vanished, marked deleted",
            self.source.code,
            run.id,
            self.tally.vanished,
        )


def harvest_source(
    store: RecordStore,
    source: Source,
    settings: Settings,
    *,
    full: bool = False,
    from_: str | None = None,
    until: str | None = None,
    on_progress: ProgressCallback | None = None,
    gates: HostGates | None = None,
) -> HarvestReport:
    """Harvest one source: resume its unfinished run if a process died, else start a new one.

    Incremental by default: ``from`` is the server's clock at the start of the last successful
    harvest (or its ``until``), less ``harvest_overlap``, at the server's granularity. ``full`` asks
    for everything and then marks deleted the records that vanished. ``from_``/``until`` (ISO dates)
    bound the run by hand. Harvest failures finish the run as failed and come back in the report;
    anything else (a kill, an exception from ``on_progress``) leaves the run unfinished, to be
    resumed next time.
    """
    if source.oai_url is None:
        raise HarvestError(f"source {source.code} has no OAI-PMH URL; feed it with `unicat import`")
    client = OAIClient(source.oai_url, settings, gates=gates)
    worker = _Run(store, source, settings, client, on_progress)
    run = store.unfinished_harvest(source.code)
    token: str | None = None
    if run is not None:
        logger.info("harvest resume source=%s run=%d token=%s", source.code, run.id, run.resumption_token)
        tally = worker.tally
        tally.pages, tally.records, tally.deleted, tally.quarantined = (
            run.pages,
            run.records,
            run.deleted,
            run.quarantined,
        )
        token = run.resumption_token
    else:
        mode: HarvestMode = "full" if full else "incremental"
        try:
            run = _start_run(store, client, source, settings, mode, from_, until)
        except (HarvestError, OaiError) as exc:  # OaiError: the server refused Identify
            failed = store.start_harvest(source.code, mode, from_=from_, until=until)
            store.finish_harvest(failed.id, "failed", str(exc))
            logger.error("harvest failed source=%s run=%d: %s", source.code, failed.id, exc)
            return worker.finish(str(exc))
    try:
        # A run whose last page was stored (no token left) but that was never closed has no list left.
        if token is not None or run.pages == 0:
            worker.list_all(run, token)
        worker.retire_vanished(run)
    except HarvestError as exc:
        logger.error("harvest failed source=%s run=%d: %s", source.code, run.id, exc)
        store.finish_harvest(run.id, "failed", str(exc))
        return worker.finish(str(exc))
    except _OutOfTime as stop:
        logger.warning("harvest stopped source=%s run=%d: %s", source.code, run.id, stop)
        store.pause_harvest(run.id, str(stop))
        return worker.finish(str(stop), stopped=True)
    except EngineUnavailable as exc:
        # Nothing can be written, not even that the run failed: it stays open, which is what makes the
        # next harvest resume it from its last stored page.
        message = _store_lost(exc)
        logger.error("harvest failed source=%s run=%d: %s", source.code, run.id, message)
        return worker.finish(message)
    store.finish_harvest(run.id, "ok")
    report = worker.finish()
    logger.info("harvest ok source=%s run=%d %s", source.code, run.id, report.to_json())
    return report


def harvest_all(
    store: RecordStore,
    sources: Sequence[Source],
    settings: Settings,
    *,
    full: bool = False,
    from_: str | None = None,
    until: str | None = None,
    on_progress: ProgressCallback | None = None,
) -> list[HarvestReport]:
    """Harvest ``sources``, ``harvest_concurrency`` at a time, politely per server; reports in the
    order of ``sources``. One source failing, for whatever reason, never stops the others."""
    gates = HostGates(settings.harvest_politeness_delay)

    def one(source: Source) -> HarvestReport:
        try:
            return harvest_source(
                store,
                source,
                settings,
                full=full,
                from_=from_,
                until=until,
                on_progress=on_progress,
                gates=gates,
            )
        except EngineUnavailable as exc:  # the store went away before the run began, or as it ended
            message = _store_lost(exc)
            logger.error("harvest failed source=%s: %s", source.code, message)
            return HarvestReport(source.code, "failed", error=message)
        except Exception as exc:  # isolation is the point: report it and go on with the next library
            logger.exception("harvest crashed source=%s", source.code)
            return HarvestReport(source.code, "failed", error=f"{type(exc).__name__}: {exc}")

    workers = max(1, min(settings.harvest_concurrency, len(sources)))
    if workers == 1:
        return [one(source) for source in sources]
    with concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="harvest") as pool:
        return list(pool.map(one, sources))


def _store_lost(exc: EngineUnavailable) -> str:
    """What a harvest whose record store stopped answering tells the librarian: an expected failure
    (a database restarted, a network cut), said in one line, not a crash with a traceback."""
    return (
        f"the record store stopped answering ({exc}); the pages stored until then are kept with their "
        "checkpoint, and the next `unicat harvest` resumes from there once the store answers again"
    )


def baseline(store: RecordStore, source: str) -> HarvestRun | None:
    """The run the next incremental harvest continues from: the latest successful harvest (not an
    import, which says nothing of what the server has)."""
    for run in store.harvest_history(source, limit=100):
        if run.status == "ok" and run.mode in ("incremental", "full"):
            return run
    return None


def _start_run(
    store: RecordStore,
    client: OAIClient,
    source: Source,
    settings: Settings,
    mode: HarvestMode,
    from_: str | None,
    until: str | None,
) -> HarvestRun:
    """Open a run after asking Identify for the server's clock and the precision of its dates."""
    identify = client.request(verb="Identify")
    server_time = response_date(identify)
    _warn_about_clock(source, server_time)
    since = from_
    if since is None and mode == "incremental":
        last = baseline(store, source.code)
        if last is not None:
            point = last.until or last.server_time or last.started
            since = from_argument(point, granularity(identify), settings.harvest_overlap)
    if mode == "full" and from_ is None and until is None:
        store.clear_quarantine("harvest", source.code)
    return store.start_harvest(source.code, mode, from_=since, until=until, server_time=server_time)


def _warn_about_clock(source: Source, server_time: str | None) -> None:
    if server_time is None:
        logger.warning(
            "harvest source=%s: Identify has no usable responseDate; using this machine's clock", source.code
        )
        return
    instant = parse_time(server_time)
    if instant is None:
        return
    skew = (instant - datetime.now(UTC)).total_seconds()
    if abs(skew) > CLOCK_SKEW_WARNING:
        logger.warning(
            "harvest source=%s: the server's clock is %+.0f s off this machine's; its own is used for `from`",
            source.code,
            skew,
        )


def _list_arguments(source: Source, run: HarvestRun) -> dict[str, str]:
    arguments = {"metadataPrefix": source.metadata_prefix}
    if source.set_spec:
        arguments["set"] = source.set_spec
    if run.from_:
        arguments["from"] = run.from_
    if run.until:
        arguments["until"] = run.until
    return arguments
