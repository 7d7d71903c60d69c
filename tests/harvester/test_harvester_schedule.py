"""Scheduled harvesting: `unicat serve` harvests the sources that have an interval while it serves,
and re-indexes when they brought something, so a network can leave Unicat running."""

from __future__ import annotations

import json
import re
import signal
import time
import urllib.request
from datetime import UTC, datetime, timedelta

from harvester.schedule import due_at, due_sources
from tests.harvester.processes import unicat_process
from tests.support.oai_faults import FaultyProvider
from unicat.catalogue import Catalogue
from unicat.model import HarvestCheckpoint, Source
from unicat.settings import Settings
from unicat_cli.wiring import open_catalogue

SERVING_RE = re.compile(r"Unicat is serving at (http://\S+/)")


def test_what_is_due(catalogue: Catalogue) -> None:
    hourly = Source("HOURLY", "Hourly", "http://127.0.0.1:1/oai", harvest_interval=3600.0)
    unscheduled = Source("MANUAL", "Manual", "http://127.0.0.1:2/oai")
    fed_by_files = Source("FILES", "Files", None, harvest_interval=3600.0)
    for source in (hourly, unscheduled, fed_by_files):
        catalogue.records.save_source(source)
    now = datetime.now(UTC)
    assert [s.code for s in due_sources(catalogue.records, now)] == ["HOURLY"]  # never harvested: due now
    assert due_at(catalogue.records, unscheduled) is None and due_at(catalogue.records, fed_by_files) is None

    run = catalogue.records.start_harvest("HOURLY", "incremental")
    assert [s.code for s in due_sources(catalogue.records, now + timedelta(seconds=1))] == [
        "HOURLY"
    ]  # unfinished
    catalogue.records.store_page("HOURLY", [], HarvestCheckpoint(run.id, None, 1, 0, 0))
    catalogue.records.finish_harvest(run.id, "ok")
    started = datetime.fromisoformat(run.started.replace("Z", "+00:00"))
    assert due_at(catalogue.records, hourly) == started + timedelta(hours=1)
    assert due_sources(catalogue.records, started + timedelta(minutes=59)) == []
    assert [s.code for s in due_sources(catalogue.records, started + timedelta(hours=1))] == ["HOURLY"]


def _search_total(url: str) -> int:
    with urllib.request.urlopen(f"{url}api/search?library=AUSA", timeout=10) as answer:
        total: int = json.load(answer)["total"]
    return total


def test_serve_harvests_a_scheduled_source_and_makes_it_searchable(
    provider: FaultyProvider,
    settings: Settings,
    expected_ids: set[str],
) -> None:
    with open_catalogue(settings) as catalogue:
        catalogue.records.save_source(Source("AUSA", "Austen", provider.url, harvest_interval=3600.0))
    config = "harvest_schedule_check = 0.5\nharvest_politeness_delay = 0\n"
    process = unicat_process(settings, config, "serve", "--port", "0")
    try:
        assert process.stdout is not None
        line = process.stdout.readline().decode()
        match = SERVING_RE.search(line)
        assert match, line
        url = match.group(1)
        deadline = time.monotonic() + 60
        total = 0
        while time.monotonic() < deadline and total == 0:
            time.sleep(0.3)
            total = _search_total(url)
        assert total > 0
        # Harvested once: the next harvest is due in an hour, not at every look (twice a second).
        time.sleep(1.5)
        identifies = [e for e in provider.exchanges if e.arguments.get("verb") == "Identify"]
        assert len(identifies) == 1
        stopping = time.monotonic()
        process.send_signal(signal.SIGINT)
        process.wait(timeout=15)
        assert time.monotonic() - stopping < 10
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    with open_catalogue(settings) as catalogue:
        # Every record the provider serves was harvested and indexed (merged or not) or, if the
        # indexer refused it, quarantined with its reason: none was left out.
        members = {ref.local_id for record in catalogue.index.iter_union_records() for ref in record.sources}
        refused = {entry.local_id for entry in catalogue.records.list_quarantine("AUSA", limit=1000)}
        assert members | refused == expected_ids
        assert catalogue.records.harvest_history("AUSA")[0].status == "ok"
