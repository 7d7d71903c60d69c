"""A hostile OAI-PMH server (tests/support/hostile_oai.py) against the harvest limits.

Each attack is harvested by ``unicat harvest`` in a process of its own, beside an honest source (the
AUSA demo library) in the same run: the attack fails its source with a reason naming the limit and
the setting that raises it (or, for an oversized record, quarantines that record), the honest source
is harvested whole, the process's peak memory stays far below what the attack would have cost, and no
file it writes, the temporary spool of an answer included, can grow past the answer cap plus a
margin for the record store (RLIMIT_FSIZE: a write past it fails the harvest).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harvester import HarvestProgress, harvest_source
from tests.harvester.conftest import PAGE
from tests.harvester.processes import Finished, run_measured
from tests.support.hostile_oai import IDENTIFIERS, HostileServer
from tests.support.oai_faults import Fault, FaultyProvider
from unicat.catalogue import Catalogue
from unicat.model import Source
from unicat.settings import Settings
from unicat.status import catalogue_status, format_status
from unicat_cli.wiring import open_catalogue

MiB = 1024 * 1024
ANSWER_CAP = 4 * MiB
RECORD_CAP = 256 * 1024
PAGE_TIME = 2.0
# Python, lxml, requests and the store's driver take about 60 MiB; each attack would take gigabytes.
PEAK_MEMORY = 200 * MiB
# The record store's SQLite file and its journal beside the answer cap.
FILE_MARGIN = 4 * MiB


@pytest.fixture(scope="module")
def hostile() -> Iterator[HostileServer]:
    with HostileServer(interval=0.25) as server:
        yield server


def _harvest(
    settings: Settings, provider: FaultyProvider, url: str, answer_cap: int = ANSWER_CAP
) -> Finished:
    with open_catalogue(settings) as setup:
        setup.records.save_source(Source(code="EVIL", name="Hostile", oai_url=url))
        setup.records.save_source(Source(code="AUSA", name="Austen", oai_url=provider.url))
    config = (
        f"harvest_max_answer_bytes = {answer_cap}\nrecord_max_bytes = {RECORD_CAP}\n"
        f"harvest_page_time_limit = {PAGE_TIME}\nhttp_timeout = 5.0\nhttp_retries = 1\n"
        "http_backoff = 0.01\nharvest_politeness_delay = 0\n"
    )
    return run_measured(
        settings, config, "-q", "harvest", "EVIL", "AUSA", max_file_bytes=answer_cap + FILE_MARGIN
    )


def _assert_honest_source_whole(settings: Settings, expected_ids: set[str]) -> None:
    with open_catalogue(settings) as catalogue:
        stored = {record.local_id for record in catalogue.records.iter_source_records("AUSA")}
        (run,) = catalogue.records.harvest_history("AUSA")
    assert (run.status, stored) == ("ok", expected_ids)


ATTACKS = {
    # attack: (path on the hostile server, the setting its failure names)
    "gzip bomb": ("gzip-bomb", "harvest_max_answer_bytes"),
    "deflate bomb": ("deflate-bomb", "harvest_max_answer_bytes"),
    "gzip bomb as the answer to Identify": ("identify-bomb", "record_max_bytes"),
    "a page that never ends": ("endless", "harvest_max_answer_bytes"),
    "a page trickling a byte at a time": ("trickle", "harvest_page_time_limit"),
    "header lines trickling a byte at a time": ("slow-headers", "harvest_page_time_limit"),
}


@pytest.mark.parametrize("name", ATTACKS)
def test_an_attack_fails_its_source_naming_the_limit_and_the_others_go_on(
    hostile: HostileServer, provider: FaultyProvider, settings: Settings, expected_ids: set[str], name: str
) -> None:
    path, setting = ATTACKS[name]
    url = hostile.slow_headers_url if path == "slow-headers" else f"{hostile.url}/{path}"
    finished = _harvest(settings, provider, url)
    assert finished.returncode == 1, finished.stderr  # one source failed
    assert "EVIL: FAILED" in finished.stderr
    with open_catalogue(settings) as catalogue:
        (run,) = catalogue.records.harvest_history("EVIL")
    assert run.status == "failed"
    assert run.error is not None and f"raise {setting}" in run.error, run.error
    _assert_honest_source_whole(settings, expected_ids)
    assert finished.peak_rss < PEAK_MEMORY, f"peak memory {finished.peak_rss / MiB:.0f} MiB"


def test_a_record_past_its_cap_is_quarantined_with_its_header_and_the_page_goes_on(
    hostile: HostileServer, provider: FaultyProvider, settings: Settings, expected_ids: set[str]
) -> None:
    finished = _harvest(settings, provider, f"{hostile.url}/big-record", answer_cap=64 * MiB)
    assert finished.returncode == 0, finished.stderr
    with open_catalogue(settings) as catalogue:
        (run,) = catalogue.records.harvest_history("EVIL")
        stored = {record.local_id for record in catalogue.records.iter_source_records("EVIL")}
        (entry,) = catalogue.records.list_quarantine(source="EVIL")
    assert (run.status, run.records, run.quarantined) == ("ok", 2, 1)
    assert stored == {IDENTIFIERS[0], IDENTIFIERS[2]}
    assert entry.local_id == IDENTIFIERS[1]
    assert "record_max_bytes" in entry.reason
    assert IDENTIFIERS[1].encode() in entry.raw and len(entry.raw) < RECORD_CAP
    _assert_honest_source_whole(settings, expected_ids)
    # Built whole, the record's 40 MiB of small elements (BIG_RECORD_BYTES) would take over half a gigabyte.
    assert finished.peak_rss < PEAK_MEMORY, f"peak memory {finished.peak_rss / MiB:.0f} MiB"


def test_deep_nesting_fails_the_page_as_not_well_formed(
    hostile: HostileServer, provider: FaultyProvider, settings: Settings, expected_ids: set[str]
) -> None:
    finished = _harvest(settings, provider, f"{hostile.url}/deep")
    assert finished.returncode == 1
    with open_catalogue(settings) as catalogue:
        (run,) = catalogue.records.harvest_history("EVIL")
    assert run.status == "failed" and run.error is not None and "not well-formed XML" in run.error
    assert "depth" in run.error.lower()  # libxml2's bound, kept on without huge_tree
    _assert_honest_source_whole(settings, expected_ids)


def test_an_external_entity_is_not_fetched(
    hostile: HostileServer, provider: FaultyProvider, settings: Settings, expected_ids: set[str]
) -> None:
    finished = _harvest(settings, provider, f"{hostile.url}/xxe")
    assert finished.returncode == 0, finished.stderr
    with open_catalogue(settings) as catalogue:
        (stored,) = catalogue.records.iter_source_records("EVIL")
    assert stored.local_id == IDENTIFIERS[0]
    assert b"&xxe;" in stored.raw and b"root:" not in stored.raw  # /etc/passwd's first line
    _assert_honest_source_whole(settings, expected_ids)


def test_the_billion_laughs_fail_the_page_unexpanded(
    hostile: HostileServer, provider: FaultyProvider, settings: Settings, expected_ids: set[str]
) -> None:
    finished = _harvest(settings, provider, f"{hostile.url}/laughs")
    assert finished.returncode == 1
    with open_catalogue(settings) as catalogue:
        (run,) = catalogue.records.harvest_history("EVIL")
    assert run.status == "failed" and run.error is not None and "amplification" in run.error
    assert finished.peak_rss < PEAK_MEMORY  # ten to the ninth "lol" would take gigabytes
    _assert_honest_source_whole(settings, expected_ids)


def test_a_run_past_its_time_limit_stops_and_the_next_resumes_from_its_checkpoint(
    provider: FaultyProvider, catalogue: Catalogue, settings: Settings, expected_ids: set[str]
) -> None:
    provider.inject(Fault("slow", delay=0.4, times=999))
    source = Source(code="AUSA", name="Austen", oai_url=provider.url)
    catalogue.records.save_source(source)
    shown: list[HarvestProgress] = []
    limited = settings.replace(harvest_run_time_limit=0.5)
    first = harvest_source(catalogue.records, source, limited, on_progress=shown.append)
    assert first.status == "stopped"
    assert shown[-1].done and shown[-1].stopped and shown[-1].error == first.error  # not told as failed
    assert first.error is not None and "harvest_run_time_limit (0.5 s)" in first.error
    run = catalogue.records.unfinished_harvest("AUSA")
    assert run is not None and run.error == first.error and run.resumption_token is not None
    assert 0 < run.pages < -(-len(expected_ids) // PAGE)
    # `unicat status` tells why the run still "running" is not moving.
    printed = format_status(catalogue_status(catalogue, ["AUSA"]))
    assert "AUSA: running since" in printed and "harvest_run_time_limit (0.5 s)" in printed
    asked = len(provider.lists())
    second = harvest_source(catalogue.records, source, settings)
    assert second.status == "ok"
    resumed = provider.lists()[asked:]
    assert resumed[0].arguments.get("resumptionToken") == run.resumption_token
    assert {record.local_id for record in catalogue.records.iter_source_records("AUSA")} == expected_ids
    (only,) = catalogue.records.harvest_history("AUSA")  # the same run, resumed and finished
    assert (only.status, only.records, only.error) == ("ok", len(expected_ids), None)
