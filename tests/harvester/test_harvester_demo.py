"""End to end: the demo libraries served as real OAI-PMH endpoints, harvested over HTTP into SQLite."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from lxml import etree

from harvester import HarvestProgress, harvest_all, harvest_source
from unicat.catalogue import Catalogue
from unicat.oai_protocol import MARC_NS
from unicat.settings import Settings
from unicat_cli.demo.network import DemoLibrary, load_network
from unicat_cli.demo.oai_endpoint import RunningNetwork, start_endpoints

MARC = f"{{{MARC_NS}}}"


def _library(code: str) -> DemoLibrary:
    return next(library for library in load_network() if library.code == code)


@pytest.fixture
def expected(census: dict[str, dict[str, str]]) -> dict[str, int]:
    """What pymarc reads from each library's files (CENSUS.tsv), dealt as network.toml says."""
    rows = census
    pride = int(rows["dedup/pride-and-prejudice-fixed.mrc"]["parsed"])
    return {
        "VIRG": int(rows["marc21/uva_001_2000.mrc"]["parsed"]),
        "SCPO": int(rows["unimarc/periouni.mrc"]["parsed"]),
        "MEDI": sum(int(row["parsed"]) for path, row in rows.items() if path.startswith("unimarc/cotes")),
        "AUSA": (pride + 1) // 2,
        "AUSB": pride // 2,
    }


@pytest.fixture
async def austen() -> AsyncIterator[RunningNetwork]:
    network = await start_endpoints([_library("AUSA")], page_size=50)
    yield network
    await network.close()


async def test_whole_network_then_incremental(
    catalogue: Catalogue, settings: Settings, expected: dict[str, int]
) -> None:
    # The demo's libraries that are harvested (AUSC is searched live: the demo never harvests it).
    network = await start_endpoints([library for library in load_network() if library.live is None])
    try:
        reports = await asyncio.to_thread(harvest_all, catalogue.records, network.sources(), settings)
        again = await asyncio.to_thread(harvest_all, catalogue.records, network.sources(), settings)
    finally:
        await network.close()
    assert {report.source: (report.status, report.records) for report in reports} == {
        code: ("ok", count) for code, count in expected.items()
    }
    for code, count in expected.items():
        assert catalogue.records.source_counts(code).live == count
    assert all(report.status == "ok" and report.records == 0 for report in again)
    latest, previous = catalogue.records.harvest_history("VIRG")[:2]
    # The next `from` is the server's clock when the previous run began (its Identify responseDate,
    # within the run's own span), less the overlap, at the demo server's granularity of seconds.
    assert previous.server_time is not None
    assert previous.started[:16] <= previous.server_time <= (previous.finished or "")
    began = datetime.fromisoformat(previous.server_time.replace("Z", "+00:00"))
    since = began - timedelta(seconds=settings.harvest_overlap)
    assert latest.from_ == since.strftime("%Y-%m-%dT%H:%M:%SZ")


async def test_marc8_and_mis_declared_utf8_arrive_as_unicode(
    catalogue: Catalogue, settings: Settings
) -> None:
    network = await start_endpoints([_library("VIRG"), _library("SCPO")])
    try:
        await asyncio.to_thread(harvest_all, catalogue.records, network.sources(), settings)
    finally:
        await network.close()
    # VIRG record 3 has MARC-8 "Derni\xe1eres ann\xe2ees": 0xE1/0xE2 are the combining grave/acute
    # accents, written before their base letter in MARC-8.
    virg = catalogue.records.get_source_record("VIRG", "oai:unicat.demo:VIRG:3")
    assert virg is not None
    text = etree.tostring(etree.fromstring(virg.raw), encoding="unicode")
    assert "Dernières années" in text
    leader = etree.fromstring(virg.raw).findtext(f"{MARC}leader")
    assert leader is not None and leader[9] == "a"
    # SCPO record 1 has the UTF-8 bytes of "[Ressource électronique" though it declares otherwise.
    scpo = catalogue.records.get_source_record("SCPO", "oai:unicat.demo:SCPO:1")
    assert scpo is not None
    assert "[Ressource électroni" in etree.tostring(etree.fromstring(scpo.raw), encoding="unicode")


async def test_pages_follow_resumption_tokens(
    catalogue: Catalogue, settings: Settings, austen: RunningNetwork, expected: dict[str, int]
) -> None:
    report = await asyncio.to_thread(harvest_source, catalogue.records, austen.sources()[0], settings)
    count = expected["AUSA"]
    assert (report.pages, report.records) == (-(-count // 50), count)


class Killed(Exception):
    """Stands for the process dying between two pages."""


async def test_killed_harvest_resumes_from_checkpoint(
    catalogue: Catalogue, settings: Settings, austen: RunningNetwork, expected: dict[str, int]
) -> None:
    source = austen.sources()[0]

    def die_after_two_pages(progress: HarvestProgress) -> None:
        if progress.pages == 2:
            raise Killed

    with pytest.raises(Killed):
        await asyncio.to_thread(
            harvest_source, catalogue.records, source, settings, on_progress=die_after_two_pages
        )
    unfinished = catalogue.records.unfinished_harvest("AUSA")
    assert unfinished is not None and unfinished.resumption_token is not None
    assert catalogue.records.source_counts("AUSA").live == 100
    report = await asyncio.to_thread(harvest_source, catalogue.records, source, settings)
    count = expected["AUSA"]
    assert (report.status, report.records, report.pages) == ("ok", count, -(-count // 50))
    assert catalogue.records.unfinished_harvest("AUSA") is None
    assert len(catalogue.records.harvest_history("AUSA")) == 1  # resumed, not restarted
    stored = {record.local_id for record in catalogue.records.iter_source_records("AUSA")}
    assert stored == {f"oai:unicat.demo:AUSA:{n}" for n in range(1, count + 1)}


async def test_incremental_brings_changes_and_deletions(
    catalogue: Catalogue, settings: Settings, austen: RunningNetwork, expected: dict[str, int]
) -> None:
    source = austen.sources()[0]
    await asyncio.to_thread(harvest_source, catalogue.records, source, settings)
    repository = austen.endpoints[0].repository
    repository.delete("oai:unicat.demo:AUSA:1")
    repository.touch("oai:unicat.demo:AUSA:2")
    # A provider serves a change once its datestamp is earlier than the responseDate, so that a
    # harvester's next `from=responseDate` misses nothing: the changes show from the next second.
    changed = repository.get("oai:unicat.demo:AUSA:2")
    assert changed is not None
    await asyncio.sleep(max(0.0, changed.datestamp.timestamp() + 1 - time.time()))
    report = await asyncio.to_thread(harvest_source, catalogue.records, source, settings)
    assert (report.status, report.records, report.deleted) == ("ok", 2, 1)
    gone = catalogue.records.get_source_record("AUSA", "oai:unicat.demo:AUSA:1")
    assert gone is not None and gone.deleted and gone.raw == b""
    assert catalogue.records.source_counts("AUSA").live == expected["AUSA"] - 1
