"""The harvester against recorded OAI-PMH answers (sickle's samples) and broken servers, over HTTP.

A small aiohttp server replays the files; the first path segment picks the scenario. The harvester is
synchronous, so it runs in a thread while the server answers on the test's event loop.
"""

from __future__ import annotations

import asyncio
import email.utils
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web
from lxml import etree

from harvester import harvest_all, harvest_source
from harvester.harvest import MAX_RESTARTS
from tests.support.loopback import free_port
from tests.support.shared_data import SHARED_DATA
from unicat.catalogue import Catalogue
from unicat.model import RecordCounts, Source
from unicat.oai_protocol import OAI_DC_NS, OAI_NS
from unicat.settings import Settings
from unicat_cli.wiring import open_catalogue

OAI = f"{{{OAI_NS}}}"
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
    earlier = list_requests(request.app[REQUESTS])
    request.app[REQUESTS].append(arguments)
    if scenario == "http500":
        raise web.HTTPInternalServerError(text="boom")
    busy = BUSY.get(scenario)
    if busy is not None and arguments.get("verb") == "ListRecords" and not earlier:
        # Busy for the first ListRecords request only, saying when to come back.
        status, retry_after = busy
        return web.Response(status=status, text="busy", headers={"Retry-After": retry_after()})
    if scenario == "slow":
        await asyncio.sleep(5)
    if arguments.get("verb") == "Identify":
        name = "Identify.xml"
    elif "resumptionToken" in arguments:
        token = arguments["resumptionToken"]
        forgotten = scenario == "forgetful" and not any("resumptionToken" in r for r in earlier)
        if scenario == "repeat":
            name = PAGES[0]
        elif scenario == "badtoken" or forgotten or token not in PAGES:
            name = "badResumptionToken.xml"
        else:
            name = token
    else:
        name = FIRST_ANSWER.get(scenario, PAGES[0])
    return web.Response(body=(SAMPLES / name).read_bytes(), content_type="text/xml")


def list_requests(requests: list[dict[str, str]]) -> list[dict[str, str]]:
    """The ListRecords requests among those a replay server received (each run also asks Identify)."""
    return [arguments for arguments in requests if arguments.get("verb") == "ListRecords"]


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


@dataclass
class SampleHeaders:
    """What the headers of sample pages say, read with lxml alone."""

    deleted: int = 0  # deleted headers with an identifier
    live: int = 0  # records with an identifier and metadata
    anonymous: int = 0  # records whose header has no identifier
    deleted_ids: set[str] = field(default_factory=set)
    live_ids: set[str] = field(default_factory=set)


def _sample_headers(names: list[str]) -> SampleHeaders:
    found = SampleHeaders()
    for name in names:
        for record in etree.parse(str(SAMPLES / name)).iter(f"{OAI}record"):
            header = record.find(f"{OAI}header")
            identifier = header.findtext(f"{OAI}identifier") if header is not None else None
            if header is None or not identifier:
                found.anonymous += 1
            elif header.get("status") == "deleted":
                found.deleted += 1
                found.deleted_ids.add(identifier)
            else:
                found.live += 1
                found.live_ids.add(identifier)
    return found


async def test_pages_followed_through_resumption_tokens(
    replay: Replay, catalogue: Catalogue, settings: Settings
) -> None:
    report = await asyncio.to_thread(harvest_source, catalogue.records, replay.source("pages"), settings)
    headers = _sample_headers(PAGES)
    assert report.status == "ok", report.error
    assert report.pages == len(PAGES)
    # The samples are oai_dc: stored as such, deletions as tombstones; one deleted header has no
    # identifier, so it is quarantined with its reason.
    assert (report.records, report.deleted, report.quarantined) == (
        headers.live + headers.deleted,
        headers.deleted,
        headers.anonymous,
    )
    counts = catalogue.records.source_counts("REPLAY")
    assert (counts.live, counts.deleted) == (len(headers.live_ids), len(headers.deleted_ids))
    assert {entry.reason for entry in catalogue.records.list_quarantine("REPLAY")} == {
        "OAI record has no header identifier"
    }
    one = catalogue.records.get_source_record("REPLAY", sorted(headers.live_ids)[0])
    assert one is not None and one.syntax == "oai_dc"
    assert etree.QName(etree.fromstring(one.raw)).text == f"{{{OAI_DC_NS}}}dc"
    tokens = [request.get("resumptionToken") for request in list_requests(replay.requests)]
    assert tokens == [None, *PAGES[1:]]


async def test_incremental_from_uses_server_granularity(
    replay: Replay, catalogue: Catalogue, settings: Settings
) -> None:
    await asyncio.to_thread(harvest_source, catalogue.records, replay.source("pages"), settings)
    replay.requests.clear()
    await asyncio.to_thread(harvest_source, catalogue.records, replay.source("noRecordsMatch"), settings)
    # Identify.xml declares YYYY-MM-DD, and its responseDate (the server's clock when the last good
    # harvest began) is 2013-02-27T10:01:15Z: less the 5-minute overlap, still that day. This
    # machine's clock, years later, plays no part.
    assert settings.harvest_overlap == 300
    assert replay.requests[0] == {"verb": "Identify"}
    assert replay.requests[1]["from"] == "2013-02-27"
    assert replay.requests[1]["metadataPrefix"] == "oai_dc"


async def test_full_sends_no_from(replay: Replay, catalogue: Catalogue, settings: Settings) -> None:
    await asyncio.to_thread(harvest_source, catalogue.records, replay.source("pages"), settings)
    replay.requests.clear()
    report = await asyncio.to_thread(
        harvest_source, catalogue.records, replay.source("pages"), settings, full=True
    )
    assert report.status == "ok"
    assert "from" not in list_requests(replay.requests)[0]
    assert catalogue.records.harvest_history("REPLAY")[0].mode == "full"


async def test_a_source_s_set_and_prefix_go_with_the_first_request_and_the_token_alone_after(
    replay: Replay, catalogue: Catalogue, settings: Settings
) -> None:
    source = replace(replay.source("pages"), set_spec="SHS:SCIPO", metadata_prefix="marc21")
    report = await asyncio.to_thread(harvest_source, catalogue.records, source, settings, until="2099-12-31")
    assert report.status == "ok", report.error
    first, *rest = list_requests(replay.requests)
    assert first == {
        "verb": "ListRecords",
        "metadataPrefix": "marc21",
        "set": "SHS:SCIPO",
        "until": "2099-12-31",
    }
    # OAI-PMH: a resumptionToken is an exclusive argument, everything else travels inside it.
    assert all(set(request) == {"verb", "resumptionToken"} for request in rest) and rest


async def test_no_records_match_is_an_empty_success(
    replay: Replay, catalogue: Catalogue, settings: Settings
) -> None:
    report = await asyncio.to_thread(
        harvest_source, catalogue.records, replay.source("noRecordsMatch"), settings
    )
    assert (report.status, report.pages, report.records) == ("ok", 0, 0)
    assert catalogue.records.harvest_history("REPLAY")[0].status == "ok"


@pytest.mark.parametrize("scenario", ["badArgument", "cannotDisseminateFormat"])
async def test_oai_errors_fail_the_run_without_retry(
    replay: Replay, catalogue: Catalogue, settings: Settings, scenario: str
) -> None:
    report = await asyncio.to_thread(harvest_source, catalogue.records, replay.source(scenario), settings)
    assert report.status == "failed"
    assert report.error is not None and f"OAI-PMH error {scenario}" in report.error
    run = catalogue.records.harvest_history("REPLAY")[0]
    assert (run.status, run.error) == ("failed", report.error)
    assert len(list_requests(replay.requests)) == 1


async def test_a_forgotten_token_starts_the_list_again_from_its_arguments(
    replay: Replay, catalogue: Catalogue, settings: Settings
) -> None:
    # The server refuses the first token it is sent (badResumptionToken.xml), then behaves.
    report = await asyncio.to_thread(harvest_source, catalogue.records, replay.source("forgetful"), settings)
    assert report.status == "ok", report.error
    assert report.restarts == 1
    requests = list_requests(replay.requests)
    assert [r.get("resumptionToken") for r in requests] == [None, PAGES[1], None, *PAGES[1:]]
    assert requests[2] == requests[0]  # the same metadataPrefix (and from/until/set) as the first
    headers = _sample_headers(PAGES)
    counts = catalogue.records.source_counts("REPLAY")
    assert (counts.live, counts.deleted) == (len(headers.live_ids), len(headers.deleted_ids))
    # The counts describe the pass that completed, not the records of both passes.
    assert (report.pages, report.records) == (len(PAGES), headers.live + headers.deleted)


async def test_a_server_that_never_keeps_its_tokens_fails_after_a_few_restarts(
    replay: Replay, catalogue: Catalogue, settings: Settings
) -> None:
    report = await asyncio.to_thread(harvest_source, catalogue.records, replay.source("badtoken"), settings)
    assert report.status == "failed"
    assert report.error is not None and "OAI-PMH error badResumptionToken" in report.error
    assert report.restarts == MAX_RESTARTS
    assert len(list_requests(replay.requests)) == 2 * (MAX_RESTARTS + 1)
    # The first page, stored before each refusal, is kept: nothing lost.
    assert catalogue.records.source_counts("REPLAY").deleted == len(_sample_headers(PAGES[:1]).deleted_ids)


@pytest.mark.parametrize(
    ("scenario", "message"), [("broken", "not an OAI-PMH document"), ("http500", "HTTP 500")]
)
async def test_bad_answers_are_retried_then_fail(
    replay: Replay, catalogue: Catalogue, settings: Settings, scenario: str, message: str
) -> None:
    report = await asyncio.to_thread(harvest_source, catalogue.records, replay.source(scenario), settings)
    assert report.status == "failed"
    assert report.error is not None and message in report.error
    # A server failing everything fails at Identify; one failing its list, at ListRecords.
    tried = replay.requests if scenario == "http500" else list_requests(replay.requests)
    assert len(tried) == settings.http_retries + 1
    assert catalogue.records.harvest_history("REPLAY")[0].status == "failed"


async def test_timeout(replay: Replay, catalogue: Catalogue, settings: Settings) -> None:
    fast = settings.replace(http_timeout=0.2, http_retries=1)
    report = await asyncio.to_thread(harvest_source, catalogue.records, replay.source("slow"), fast)
    assert report.status == "failed"
    assert report.error is not None and "no answer within 0.2 s" in report.error


async def test_repeated_token_stops_instead_of_looping(
    replay: Replay, catalogue: Catalogue, settings: Settings
) -> None:
    report = await asyncio.to_thread(harvest_source, catalogue.records, replay.source("repeat"), settings)
    assert report.status == "failed"
    assert report.error is not None and "twice" in report.error
    assert len(list_requests(replay.requests)) == 2


async def test_server_down_fails_and_others_go_on(
    replay: Replay, catalogue: Catalogue, settings: Settings
) -> None:
    down = Source(code="DOWN", name="down", oai_url=f"http://127.0.0.1:{free_port()}/oai")
    sources = [down, replay.source("http500", "BROKEN"), replay.source("pages", "GOOD")]
    reports = await asyncio.to_thread(harvest_all, catalogue.records, sources, settings)
    assert [report.status for report in reports] == ["failed", "failed", "ok"]
    assert reports[0].error is not None and "cannot connect" in reports[0].error
    assert reports[1].error is not None and "HTTP 500" in reports[1].error
    assert catalogue.records.harvest_history("DOWN")[0].status == "failed"


@pytest.mark.parametrize(("scenario", "wait"), [("busy503", 1.0), ("busy429", 1.0), ("busydate", 1.0)])
async def test_a_busy_server_is_asked_again_after_its_retry_after(
    replay: Replay, catalogue: Catalogue, settings: Settings, scenario: str, wait: float
) -> None:
    # The backoff alone would retry after 0.01 s: waiting ~1 s or more is the Retry-After at work.
    started = time.monotonic()
    report = await asyncio.to_thread(harvest_source, catalogue.records, replay.source(scenario), settings)
    waited = time.monotonic() - started
    assert report.status == "ok", report.error
    assert waited >= wait
    first_page_twice = [r for r in list_requests(replay.requests) if "resumptionToken" not in r]
    assert len(first_page_twice) == 2
    assert catalogue.records.source_counts("REPLAY") == await _never_busy_counts(replay, settings)


async def _never_busy_counts(replay: Replay, settings: Settings) -> RecordCounts:
    """What a harvest of the same pages from a server that is never busy stores."""
    fresh = open_catalogue(settings.replace(engine_url=f"sqlite:///{settings.data_dir / 'plain.db'}"))
    try:
        report = await asyncio.to_thread(harvest_source, fresh.records, replay.source("plain"), settings)
        assert report.status == "ok", report.error
        return fresh.records.source_counts("REPLAY")
    finally:
        fresh.close()


async def test_a_retry_after_longer_than_allowed_fails_at_once_with_the_delay(
    replay: Replay, catalogue: Catalogue, settings: Settings
) -> None:
    report = await asyncio.to_thread(harvest_source, catalogue.records, replay.source("busylong"), settings)
    assert report.status == "failed"
    assert report.error is not None
    assert "asks to retry ListRecords after 86400 s" in report.error
    assert "http_retry_after_max (300 s)" in report.error
    assert len(list_requests(replay.requests)) == 1  # no retry was sent
