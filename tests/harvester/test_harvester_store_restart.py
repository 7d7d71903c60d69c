"""`unicat harvest` into PostgreSQL stores while the database restarts (``pg_ctl restart -m fast`` and
``-m immediate``, tests/support/postgres.py) part way through the list.

The harvest fails cleanly: one line naming the database and saying what happens next, a non-zero exit,
no traceback; every page it stored is kept with its checkpoint. The next `unicat harvest` resumes the
same run from that checkpoint and ends with every record of the server stored once.

The provider is the AUSA demo library (tests/support/oai_faults.py), 10 records a page, each page
answered after a pause, so the restart lands between pages while the harvest runs. It runs in a
process of its own, as a librarian's cron job runs it.

The test clusters commit asynchronously (tests/support/postgres.py), so ``-m immediate``, a crash, may
also lose the last commits before it: a page and its checkpoint are one transaction, so they go
together, and the resume is exact all the same.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from typing import Literal

import pytest

from tests.harvester.processes import unicat_process
from tests.support import postgres
from tests.support.oai_faults import Fault, FaultyProvider
from unicat.model import Source
from unicat.settings import Settings
from unicat_cli.demo.records import Repository
from unicat_cli.wiring import open_catalogue

pytestmark = pytest.mark.postgresql

PAGE = 10
PAGE_DELAY = 0.3
# The restart comes once the harvest has asked for this many pages (a few stored, most to come).
PAGES_BEFORE_RESTART = 5
CONFIG = "harvest_politeness_delay = 0\nhttp_backoff = 0.01\n"


@pytest.fixture(scope="module")
def database() -> Iterator[postgres.Cluster]:
    """A cluster of this module's own: restarting the session's would break other tests' connections."""
    with postgres.running_cluster() as cluster:
        yield cluster


@pytest.fixture
def slow_provider(austen_records: Repository) -> Iterator[FaultyProvider]:
    repository = Repository(austen_records.name, austen_records.select(None, None))
    with FaultyProvider(repository, page_size=PAGE) as running:
        running.inject(Fault("slow", delay=PAGE_DELAY, times=10_000))
        yield running


@pytest.fixture
def store_url(database: postgres.Cluster) -> Iterator[str]:
    with postgres.fresh_database(database) as url:
        yield url


def _harvest(settings: Settings, store_url: str) -> subprocess.Popen[bytes]:
    return unicat_process(settings, CONFIG, "--store", store_url, "harvest", "AUSA")


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_a_database_restart_fails_the_harvest_cleanly_and_the_next_one_resumes(
    slow_provider: FaultyProvider,
    database: postgres.Cluster,
    store_url: str,
    settings: Settings,
    expected_ids: set[str],
    mode: Literal["fast", "immediate"],
) -> None:
    settings = settings.replace(store_url=store_url)
    with open_catalogue(settings) as setup:
        setup.records.save_source(Source(code="AUSA", name="Austen", oai_url=slow_provider.url))
    harvest = _harvest(settings, store_url)
    deadline = time.monotonic() + 60
    while len(slow_provider.lists()) < PAGES_BEFORE_RESTART:
        assert harvest.poll() is None, harvest.communicate()[1].decode()
        assert time.monotonic() < deadline, "the harvest made no progress"
        time.sleep(0.02)
    restarted_at = time.monotonic()
    down = postgres.restart(database, mode)
    out, err = (stream.decode() for stream in harvest.communicate(timeout=60))
    failed_at = time.monotonic()
    said = err
    asked_first = len(slow_provider.lists())

    # Failed, and said so in a line naming the database and what to do, without a traceback.
    assert harvest.returncode == 1, out + err
    assert "Traceback" not in err, err
    assert f"AUSA: FAILED: the record store stopped answering (PostgreSQL at {store_url} " in err, err
    assert "the next `unicat harvest` resumes from there" in err, err
    # What was stored is the checkpointed pages (and perhaps part of the next page, fetched again on
    # resume), every record one of the provider's; the run is left open to be resumed.
    with open_catalogue(settings) as catalogue:
        run = catalogue.records.unfinished_harvest("AUSA")
        stored = {record.local_id for record in catalogue.records.iter_source_records("AUSA")}
    assert run is not None and run.resumption_token is not None
    assert run.pages >= 1 and run.records == run.pages * PAGE
    assert len(stored) >= run.records and stored < expected_ids

    resumed = _harvest(settings, store_url)
    out, err = (stream.decode() for stream in resumed.communicate(timeout=120))
    assert resumed.returncode == 0, out + err
    first_request = slow_provider.lists()[asked_first].arguments
    assert first_request.get("resumptionToken") == run.resumption_token
    with open_catalogue(settings) as catalogue:
        stored_records = list(catalogue.records.iter_source_records("AUSA"))
        runs = catalogue.records.harvest_history("AUSA")
    assert sorted(record.local_id for record in stored_records) == sorted(expected_ids)  # each once
    # One run, resumed, counting each page once.
    assert [(r.id, r.status, r.records, r.pages) for r in runs] == [
        (run.id, "ok", len(expected_ids), -(-len(expected_ids) // PAGE))
    ]
    print(
        f"\nrestart -m {mode}: PostgreSQL answered nothing for {down:.2f} s; the harvest failed "
        f"{failed_at - restarted_at:.2f} s after the restart began, with {run.pages} of "
        f"{-(-len(expected_ids) // PAGE)} pages stored; the next harvest resumed from page "
        f"{run.pages + 1} and stored all {len(expected_ids)} records once. The failed one said:\n{said}"
    )
