"""The harvester against recorded OAI-PMH answers (sickle's samples) and broken servers, over HTTP.

A small aiohttp server replays the files; the first path segment picks the scenario. The harvester is
synchronous, so it runs in a thread while the server answers on the test's event loop.
"""

from __future__ import annotations

import asyncio
import email.utils
import socket
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web
from lxml import etree

from harvester import harvest_all, harvest_source
from tests.shared_data import SHARED_DATA
from unicat.engine import Engine
from unicat.engines import open_engine
from unicat.model import RecordCounts, Source
from unicat.settings import Settings

OAI = "{http://www.openarchives.org/OAI/2.0/}"
PAGES = ["ListRecords.xml", "ListRecords2.xml", "ListRecords3.xml", "ListRecords4.xml"]
FIRST_ANSWER = {
    "noRecordsMatch": "noRecordsMatch.xml",
    "badArgument": "badArgument.xml",
    "cannotDisseminateFormat": "cannotDisseminateFormat.xml",
    "broken": "ListRecordsBroken.xml",
}

SAMPLES = SHARED_DATA / "oai" / "sickle-samples"


def _http_date(when: datetime) -> str:
    """An HTTP date (RFC 9110 IMF-fixdate, whole seconds): 2 s ahead is 1-2 s of waiting."""
    return email.utils.format_datetime(when, usegmt=True)


# Scenario → (status, the Retry-After it sends with it the first time): seconds, or an HTTP date.
BUSY: dict[str, tuple[int, Callable[[], str]]] = {
    "busy503": (503, lambda: "1"),
    "busy429": (429, lambda: "1"),
    "busydate": (
        503,
        lambda: email.utils.format_datetime(datetime.now(UTC) + timedelta(seconds=2), usegmt=True),
    ),
    "busylong": (503, lambda: "86400"),
}


REQUESTS = web.AppKey("requests", list[dict[str, str]])


@dataclass
class Replay:
    base: str
    requests: list[dict[str, str]] = field(default_factory=list)

    def source(self, scenario: str, code: str = "REPLAY") -> Source:
        return Source(
            code=code, name=scenario, oai_url=f"{self.base}/{scenario}/oai", metadata_prefix="oai_dc"
        )


async def _replay(request: web.Request) -> web.StreamResponse:
    scenario = request.match_info["scenario"]
    arguments = dict(request.query)
    request.app[REQUESTS].append(arguments)
    if scenario == "http500":
        raise web.HTTPInternalServerError(text="boom")
    busy = BUSY.get(scenario)
    if busy is not None and len(request.app[REQUESTS]) == 1:
        # Busy for the first request only, saying when to come back.
        status, retry_after = busy
        return web.Response(status=status, text="busy", headers={"Retry-After": retry_after()})
    if scenario == "slow":
        await asyncio.sleep(5)
    if arguments.get("verb") == "Identify":
        name = "Identify.xml"
    elif "resumptionToken" in arguments:
        token = arguments["resumptionToken"]
        if scenario == "repeat":
            name = PAGES[0]
        elif scenario == "badtoken" or token not in PAGES:
            name = "badResumptionToken.xml"
        else:
            name = token
    else:
        name = FIRST_ANSWER.get(scenario, PAGES[0])
    return web.Response(body=(SAMPLES / name).read_bytes(), content_type="text/xml")


@pytest.fixture
async def replay() -> AsyncIterator[Replay]:
    app = web.Application()
    app[REQUESTS] = []
    app.router.add_get("/{scenario}/oai", _replay)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield Replay(f"http://127.0.0.1:{port}", app[REQUESTS])
    await runner.cleanup()


def _sample_headers(names: list[str]) -> tuple[int, int, set[str]]:
    """(deleted headers with an identifier, every other record, those identifiers) of sample pages."""
    deleted = other = 0
    identifiers: set[str] = set()
    for name in names:
        for record in etree.parse(str(SAMPLES / name)).iter(f"{OAI}record"):
            header = record.find(f"{OAI}header")
            identifier = header.findtext(f"{OAI}identifier") if header is not None else None
            if header is not None and header.get("status") == "deleted" and identifier:
                deleted += 1
                identifiers.add(identifier)
            else:
                other += 1
    return deleted, other, identifiers


async def test_pages_followed_through_resumption_tokens(
    replay: Replay, engine: Engine, settings: Settings
) -> None:
    report = await asyncio.to_thread(harvest_source, engine, replay.source("pages"), settings)
    deleted, other, identifiers = _sample_headers(PAGES)
    assert report.status == "ok", report.error
    assert report.pages == len(PAGES)
    # The samples are oai_dc, not MARC, and one deleted header has no identifier: deletions are
    # stored, every other record is quarantined with its reason.
    assert (report.records, report.deleted, report.quarantined) == (deleted, deleted, other)
    assert engine.source_counts("REPLAY").deleted == len(identifiers)
    assert engine.count_quarantine("REPLAY") == other
    reasons = {entry.reason for entry in engine.list_quarantine("REPLAY")}
    assert reasons == {
        "OAI record has no header identifier",
        "metadata is not MARCXML (found element {http://www.openarchives.org/OAI/2.0/oai_dc/}dc)",
    }
    tokens = [request.get("resumptionToken") for request in replay.requests]
    assert tokens == [None, *PAGES[1:]]


async def test_incremental_from_uses_server_granularity(
    replay: Replay, engine: Engine, settings: Settings
) -> None:
    await asyncio.to_thread(harvest_source, engine, replay.source("pages"), settings)
    started = engine.harvest_history("REPLAY")[0].started
    replay.requests.clear()
    await asyncio.to_thread(harvest_source, engine, replay.source("noRecordsMatch"), settings)
    # Identify.xml declares YYYY-MM-DD, so `from` is the day the last good harvest started.
    assert replay.requests[0] == {"verb": "Identify"}
    assert replay.requests[1]["from"] == started[:10]
    assert replay.requests[1]["metadataPrefix"] == "oai_dc"


async def test_full_sends_no_from(replay: Replay, engine: Engine, settings: Settings) -> None:
    await asyncio.to_thread(harvest_source, engine, replay.source("pages"), settings)
    replay.requests.clear()
    report = await asyncio.to_thread(harvest_source, engine, replay.source("pages"), settings, full=True)
    assert report.status == "ok"
    assert "from" not in replay.requests[0]
    assert engine.harvest_history("REPLAY")[0].mode == "full"


async def test_no_records_match_is_an_empty_success(
    replay: Replay, engine: Engine, settings: Settings
) -> None:
    report = await asyncio.to_thread(harvest_source, engine, replay.source("noRecordsMatch"), settings)
    assert (report.status, report.pages, report.records) == ("ok", 0, 0)
    assert engine.harvest_history("REPLAY")[0].status == "ok"


@pytest.mark.parametrize("scenario", ["badArgument", "cannotDisseminateFormat", "badtoken"])
async def test_oai_errors_fail_the_run_without_retry(
    replay: Replay, engine: Engine, settings: Settings, scenario: str
) -> None:
    report = await asyncio.to_thread(harvest_source, engine, replay.source(scenario), settings)
    code = "badResumptionToken" if scenario == "badtoken" else scenario
    assert report.status == "failed"
    assert report.error is not None and f"OAI-PMH error {code}" in report.error
    run = engine.harvest_history("REPLAY")[0]
    assert (run.status, run.error) == ("failed", report.error)
    expected_requests = 2 if scenario == "badtoken" else 1
    assert len(replay.requests) == expected_requests
    if scenario == "badtoken":  # the first page was stored before the bad token: nothing lost
        _, _, identifiers = _sample_headers(PAGES[:1])
        assert engine.source_counts("REPLAY").deleted == len(identifiers)


@pytest.mark.parametrize(("scenario", "message"), [("broken", "not XML"), ("http500", "HTTP 500")])
async def test_bad_answers_are_retried_then_fail(
    replay: Replay, engine: Engine, settings: Settings, scenario: str, message: str
) -> None:
    report = await asyncio.to_thread(harvest_source, engine, replay.source(scenario), settings)
    assert report.status == "failed"
    assert report.error is not None and message in report.error
    assert len(replay.requests) == settings.http_retries + 1


async def test_timeout(replay: Replay, engine: Engine, settings: Settings) -> None:
    fast = settings.replace(http_timeout=0.2, http_retries=1)
    report = await asyncio.to_thread(harvest_source, engine, replay.source("slow"), fast)
    assert report.status == "failed"
    assert report.error is not None and "no answer within 0.2 s" in report.error


async def test_repeated_token_stops_instead_of_looping(
    replay: Replay, engine: Engine, settings: Settings
) -> None:
    report = await asyncio.to_thread(harvest_source, engine, replay.source("repeat"), settings)
    assert report.status == "failed"
    assert report.error is not None and "twice" in report.error
    assert len(replay.requests) == 2


async def test_server_down_fails_and_others_go_on(replay: Replay, engine: Engine, settings: Settings) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    down = Source(code="DOWN", name="down", oai_url=f"http://127.0.0.1:{closed_port}/oai")
    sources = [down, replay.source("http500", "BROKEN"), replay.source("pages", "GOOD")]
    reports = await asyncio.to_thread(harvest_all, engine, sources, settings)
    assert [report.status for report in reports] == ["failed", "failed", "ok"]
    assert reports[0].error is not None and "cannot connect" in reports[0].error
    assert reports[1].error is not None and "HTTP 500" in reports[1].error
    assert engine.harvest_history("DOWN")[0].status == "failed"


@pytest.mark.parametrize(("scenario", "wait"), [("busy503", 1.0), ("busy429", 1.0), ("busydate", 1.0)])
async def test_a_busy_server_is_asked_again_after_its_retry_after(
    replay: Replay, engine: Engine, settings: Settings, scenario: str, wait: float
) -> None:
    # The backoff alone would retry after 0.01 s: waiting ~1 s or more is the Retry-After at work.
    started = time.monotonic()
    report = await asyncio.to_thread(harvest_source, engine, replay.source(scenario), settings)
    waited = time.monotonic() - started
    assert report.status == "ok", report.error
    assert waited >= wait
    first_page_twice = [arguments for arguments in replay.requests if "resumptionToken" not in arguments]
    assert len(first_page_twice) == 2
    assert engine.source_counts("REPLAY") == await _never_busy_counts(replay, settings)


async def _never_busy_counts(replay: Replay, settings: Settings) -> RecordCounts:
    """What a harvest of the same pages from a server that is never busy stores."""
    fresh = open_engine(settings.replace(engine_url=f"sqlite:///{settings.data_dir / 'plain.db'}"))
    try:
        report = await asyncio.to_thread(harvest_source, fresh, replay.source("plain"), settings)
        assert report.status == "ok", report.error
        return fresh.source_counts("REPLAY")
    finally:
        fresh.close()


async def test_a_retry_after_longer_than_allowed_fails_at_once_with_the_delay(
    replay: Replay, engine: Engine, settings: Settings
) -> None:
    report = await asyncio.to_thread(harvest_source, engine, replay.source("busylong"), settings)
    assert report.status == "failed"
    assert report.error is not None
    assert "asks to retry ListRecords after 86400 s" in report.error
    assert "http_retry_after_max (300 s)" in report.error
    assert len(replay.requests) == 1  # no retry was sent
