"""Every fault of a public library's OAI-PMH server, played by a real provider (tests/support/oai_faults.py).

The provider serves the AUSA demo library: the records pymarc reads from half of
``dedup/pride-and-prejudice-fixed.mrc`` (CENSUS.tsv), 50 to a page. Whatever fails, a harvest either
ends with exactly the provider's records stored, once each, or fails with the reason and keeps what it
stored, and other sources go on.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import time

import pytest

from harvester import HarvestProgress, harvest_all, harvest_source
from harvester.harvest import MAX_EMPTY_PAGES
from tests.harvester.conftest import PAGE
from tests.harvester.processes import unicat_process
from tests.support.oai_faults import Fault, FaultyProvider
from unicat.catalogue import Catalogue
from unicat.model import Source
from unicat.ports.records import RecordStore
from unicat.settings import Settings
from unicat_cli.demo.records import Repository
from unicat_cli.wiring import open_catalogue


def source(provider: FaultyProvider, code: str = "AUSA") -> Source:
    return Source(code=code, name="Austen", oai_url=provider.url)


def stored_ids(store: RecordStore, code: str = "AUSA") -> set[str]:
    return {record.local_id for record in store.iter_source_records(code)}


TRANSIENT = {
    "503 with Retry-After": Fault("status", status=503, retry_after="1", token_only=True),
    "429 with Retry-After": Fault("status", status=429, retry_after="1", token_only=True),
    "500": Fault("status", status=500, token_only=True),
    "502": Fault("status", status=502, token_only=True),
    "timeout": Fault("timeout", delay=3.0, token_only=True),
    "reset mid-body": Fault("reset", token_only=True),
    "dropped connection": Fault("drop", token_only=True),
    "truncated body": Fault("truncate", token_only=True),
    "invalid XML": Fault("invalid", token_only=True),
    # Broken after 49 good records, stored 7 at a time: the batches stored before the break come again.
    "invalid XML late in the page": Fault("invalid", late=True, token_only=True),
}


@pytest.mark.parametrize("name", TRANSIENT)
def test_a_passing_fault_is_retried_and_nothing_is_lost_or_doubled(
    provider: FaultyProvider, catalogue: Catalogue, settings: Settings, expected_ids: set[str], name: str
) -> None:
    provider.inject(TRANSIENT[name])
    report = harvest_source(
        catalogue.records, source(provider), settings.replace(http_timeout=1.0, harvest_batch_records=7)
    )
    assert report.status == "ok", report.error
    assert stored_ids(catalogue.records) == expected_ids
    assert report.records == len(expected_ids)  # the retried page is counted once
    pages = -(-len(expected_ids) // PAGE)
    assert report.pages == pages
    lists = provider.lists()
    assert len(lists) == pages + 1  # the page that failed was asked again, once
    assert [e.fault for e in lists].count(TRANSIENT[name].kind) == 1
    assert lists[1].arguments == lists[2].arguments


PERSISTENT = {
    "503": (Fault("status", status=503, times=99, token_only=True), "HTTP 503"),
    "500": (Fault("status", status=500, times=99, token_only=True), "HTTP 500"),
    "timeout": (Fault("timeout", delay=3.0, times=99, token_only=True), "no answer within 1.0 s"),
    "reset": (Fault("reset", times=99, token_only=True), "connection broke"),
    "truncated": (Fault("truncate", times=99, token_only=True), "cut off"),
    "invalid XML": (Fault("invalid", times=99, token_only=True), "not well-formed XML"),
}


@pytest.mark.parametrize("name", PERSISTENT)
def test_a_lasting_fault_fails_the_source_with_its_reason_and_keeps_what_was_stored(
    provider: FaultyProvider, austen_records: Repository, catalogue: Catalogue, settings: Settings, name: str
) -> None:
    fault, reason = PERSISTENT[name]
    provider.inject(fault)
    quick = settings.replace(http_timeout=1.0)
    with FaultyProvider(Repository("healthy", austen_records.select(None, None))) as healthy:
        reports = harvest_all(catalogue.records, [source(provider), source(healthy, "HEALTHY")], quick)
    failed, other = reports
    assert failed.status == "failed"
    assert failed.error is not None and reason in failed.error
    assert f"after {quick.http_retries + 1} attempt(s)" in failed.error
    assert len(provider.lists()) == 1 + quick.http_retries + 1  # the first page, then the bounded tries
    assert catalogue.records.source_counts("AUSA").live == PAGE  # the first page is kept
    run = catalogue.records.harvest_history("AUSA")[0]
    assert (run.status, run.error) == ("failed", failed.error)
    assert other.status == "ok" and other.records == len(austen_records)


def test_a_token_sent_twice_stops_the_run_instead_of_looping(
    provider: FaultyProvider, catalogue: Catalogue, settings: Settings
) -> None:
    provider.inject(Fault("repeat_token", token_only=True))
    report = harvest_source(catalogue.records, source(provider), settings)
    assert report.status == "failed"
    assert report.error is not None and "twice" in report.error
    assert len(provider.lists()) == 2


def test_endless_empty_pages_stop_the_run(
    provider: FaultyProvider, catalogue: Catalogue, settings: Settings
) -> None:
    provider.inject(Fault("empty_page", times=10_000, token_only=True))
    report = harvest_source(catalogue.records, source(provider), settings.replace(harvest_politeness_delay=0))
    assert report.status == "failed"
    assert report.error is not None and f"{MAX_EMPTY_PAGES} pages in a row without a record" in report.error
    assert len(provider.lists()) == 1 + MAX_EMPTY_PAGES
    assert catalogue.records.source_counts("AUSA").live == PAGE  # the first page is kept


def test_an_expired_token_starts_the_list_again(
    provider: FaultyProvider, catalogue: Catalogue, settings: Settings, expected_ids: set[str]
) -> None:
    provider.inject(Fault("forget_token", token_only=True))
    report = harvest_source(catalogue.records, source(provider), settings)
    assert report.status == "ok", report.error
    assert report.restarts == 1
    assert stored_ids(catalogue.records) == expected_ids
    first_pages = [e for e in provider.lists() if "resumptionToken" not in e.arguments]
    assert len(first_pages) == 2


def test_an_empty_window_is_a_successful_harvest(
    provider: FaultyProvider, catalogue: Catalogue, settings: Settings
) -> None:
    report = harvest_source(catalogue.records, source(provider), settings, from_="2999-01-01")
    assert (report.status, report.records, report.pages) == ("ok", 0, 0)
    assert provider.lists()[0].arguments["from"] == "2999-01-01"
    assert catalogue.records.harvest_history("AUSA")[0].status == "ok"


def test_a_full_harvest_marks_what_vanished_as_deleted(
    provider: FaultyProvider, catalogue: Catalogue, settings: Settings, expected_ids: set[str]
) -> None:
    assert harvest_source(catalogue.records, source(provider), settings, full=True).status == "ok"
    gone = sorted(expected_ids)[:3]
    for identifier in gone:
        provider.repository.remove(identifier)
    incremental = harvest_source(catalogue.records, source(provider), settings)
    assert incremental.status == "ok" and incremental.vanished == 0  # an incremental cannot tell
    full = harvest_source(catalogue.records, source(provider), settings, full=True)
    assert (full.status, full.vanished) == ("ok", 3)
    assert stored_ids(catalogue.records) == expected_ids - set(gone)
    for identifier in gone:
        record = catalogue.records.get_source_record("AUSA", identifier)
        assert record is not None and record.deleted
    assert catalogue.records.harvest_history("AUSA")[0].deleted == 3


def test_a_full_harvest_that_misses_most_records_marks_nothing_and_fails(
    provider: FaultyProvider, catalogue: Catalogue, settings: Settings, expected_ids: set[str]
) -> None:
    assert harvest_source(catalogue.records, source(provider), settings, full=True).status == "ok"
    keep = sorted(expected_ids)[:20]
    for identifier in sorted(expected_ids)[20:]:
        provider.repository.remove(identifier)
    report = harvest_source(catalogue.records, source(provider), settings, full=True)
    assert report.status == "failed"
    assert report.error is not None and "harvest_vanish_limit" in report.error
    assert f"{len(expected_ids) - len(keep):,} of {len(expected_ids):,}" in report.error
    assert catalogue.records.source_counts("AUSA").live == len(expected_ids)  # nothing was marked


def test_sources_on_one_server_take_turns_with_a_pause(
    provider: FaultyProvider, catalogue: Catalogue, settings: Settings
) -> None:
    polite = settings.replace(harvest_politeness_delay=0.2, harvest_concurrency=4)
    provider.inject(Fault("slow", delay=0.05, times=999))
    sources = [source(provider, code) for code in ("ONE", "TWO", "THREE")]
    reports = harvest_all(catalogue.records, sources, polite)
    assert [report.status for report in reports] == ["ok"] * 3
    exchanges = sorted(provider.exchanges, key=lambda e: e.started)
    assert len(exchanges) == 3 * (1 + 4)  # Identify and 4 pages per source
    for before, after in itertools.pairwise(exchanges):
        assert after.started >= before.ended + 0.19  # never two at once, and a pause between


def test_sources_on_different_servers_run_at_the_same_time(
    austen_records: Repository, catalogue: Catalogue, settings: Settings
) -> None:
    providers = [FaultyProvider(Repository(f"lib{n}", austen_records.select(None, None))) for n in range(3)]
    for provider in providers:
        provider.__enter__()
        provider.inject(Fault("slow", delay=0.3, times=999))
    try:
        reports = harvest_all(
            catalogue.records, [source(p, f"LIB{n}") for n, p in enumerate(providers)], settings
        )
    finally:
        for provider in providers:
            provider.__exit__(None, None, None)
    assert [report.status for report in reports] == ["ok"] * 3
    # 5 slow answers (Identify + 4 pages) each, 1.5 s per source: one after the other, no two would meet.
    spans = [(min(e.started for e in p.exchanges), max(e.ended for e in p.exchanges)) for p in providers]
    assert max(start for start, _ in spans) < min(end for _, end in spans)  # they overlapped


def _harvest_process(settings: Settings, code: str) -> subprocess.Popen[bytes]:
    """``unicat harvest CODE`` in a process of its own, as a librarian's cron job would run it."""
    config = "harvest_batch_records = 7\nharvest_politeness_delay = 0\nhttp_backoff = 0.01\n"
    return unicat_process(settings, config, "-q", "harvest", code)


def test_kill_9_at_any_moment_resumes_without_losing_or_doubling_a_record(
    provider: FaultyProvider, settings: Settings, expected_ids: set[str]
) -> None:
    # 50 records a page, stored 7 at a time (the config below), each page answered after 0.4 s: the
    # kills land while a page is awaited, or while one is being stored.
    provider.inject(Fault("slow", delay=0.4, times=999))
    with open_catalogue(settings) as setup:
        setup.records.save_source(source(provider))
    kills = 0
    resumed_from: list[tuple[str | None, dict[str, str]]] = []  # (checkpoint at start, first request)
    # When to kill each process: once it has sent this many ListRecords requests (so a page is
    # stored and the next awaited), then after this many more seconds (inside a wait or a write).
    # Counting requests instead of seconds keeps the moments the same on a slow or busy machine.
    for requests, extra in ((2, 0.0), (1, 0.45), (0, 0.3), (2, 0.2)):
        checkpoint = _checkpoint(settings)
        before = len(provider.lists())
        process = _harvest_process(settings, "AUSA")
        deadline = time.monotonic() + 30
        while len(provider.lists()) - before < requests and process.poll() is None:
            assert time.monotonic() < deadline, "the harvest process made no progress"
            time.sleep(0.02)
        time.sleep(extra)
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            kills += 1
        process.wait(timeout=30)
        sent = provider.lists()[before:]
        if sent and checkpoint is not None:
            resumed_from.append((checkpoint, sent[0].arguments))
    assert kills >= 2
    final = _harvest_process(settings, "AUSA")
    _out, err = final.communicate(timeout=120)
    assert final.returncode == 0, err.decode()
    with open_catalogue(settings) as catalogue:
        assert stored_ids(catalogue.records) == expected_ids
        runs = list(reversed(catalogue.records.harvest_history("AUSA")))
    # One run, resumed after each kill, never restarted, its pages counted once (had a killed process
    # finished it, the final one would be a second, incremental run).
    first = runs[0]
    assert (first.status, first.mode, first.records) == ("ok", "incremental", len(expected_ids))
    assert first.pages == -(-len(expected_ids) // PAGE)
    assert len(runs) <= 2 and all(run.mode == "incremental" for run in runs[1:]), runs
    # A process that found a page stored went on with that page's token, not from the first page.
    assert resumed_from
    for token, request in resumed_from:
        assert request.get("resumptionToken") == token


def _checkpoint(settings: Settings) -> str | None:
    """The resumption token the unfinished run of AUSA has stored, if any."""
    with open_catalogue(settings) as catalogue:
        run = catalogue.records.unfinished_harvest("AUSA")
    return run.resumption_token if run is not None else None


def test_progress_counts_pages_against_the_announced_list_size(
    provider: FaultyProvider, catalogue: Catalogue, settings: Settings, expected_ids: set[str]
) -> None:
    seen: list[HarvestProgress] = []
    report = harvest_source(catalogue.records, source(provider), settings, on_progress=seen.append)
    assert report.status == "ok"
    pages = -(-len(expected_ids) // PAGE)
    assert [p.pages for p in seen] == [*range(1, pages + 1), pages]  # each page, then once done
    assert [p.records for p in seen[:-1]] == [min(n * PAGE, len(expected_ids)) for n in range(1, pages + 1)]
    assert all(p.expected == len(expected_ids) for p in seen)  # the provider's completeListSize
    assert seen[-1].done and seen[-1].error is None and not any(p.done for p in seen[:-1])
