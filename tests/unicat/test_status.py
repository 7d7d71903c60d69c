"""`unicat status` and its data (unicat/status.py) on every setup, over runs written as harvests write them.

Expected figures come from what each test stored (pages, records, errors) and from the times the store
stamped on its runs; the verdict rules are checked apart on runs built by hand.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.harvest_runs import harvest, page_of
from unicat.catalogue import Catalogue
from unicat.errors import SourceNotFound
from unicat.model import HarvestRun, HarvestStatus, QuarantineEntry, Source
from unicat.status import (
    RunSummary,
    catalogue_status,
    format_duration,
    format_rate,
    format_status,
    printable,
    source_health,
)
from unicat_cli.cli import EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, main

OAI = "http://127.0.0.1:9/oai"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def seconds_between(run: HarvestRun) -> int:
    assert run.finished is not None
    return int((at(run.finished) - at(run.started)).total_seconds())


def where(catalogue: Catalogue) -> list[str]:
    """The global options that name ``catalogue`` to the CLI: its index and its store."""
    return ["--engine", catalogue.index.url, "--store", catalogue.store_url]


def only(status_sources: list[Any], code: str) -> Any:
    [source] = [source for source in status_sources if source.code == code]
    return source


# -- on every setup ----------------------------------------------------------------------------------


def test_a_source_never_harvested(catalogue: Catalogue) -> None:
    catalogue.records.save_source(Source("NEW", "New library", OAI))
    [source] = catalogue_status(catalogue).sources
    assert source.health == "never_harvested"
    assert (source.last_run, source.last_success, source.last_error) == (None, None, None)
    assert (source.throughput, source.next_due, source.history) == (None, None, [])


def test_history_holds_the_latest_runs_newest_first_with_what_each_stored(catalogue: Catalogue) -> None:
    catalogue.records.save_source(Source("UVA", "University of Virginia Library", OAI))
    full = harvest(
        catalogue.records, "UVA", [page_of("UVA", 0, 3, deleted=1), page_of("UVA", 10, 2)], mode="full"
    )
    incremental = harvest(catalogue.records, "UVA", [page_of("UVA", 20, 1)])
    failed = harvest(
        catalogue.records,
        "UVA",
        [page_of("UVA", 30, 2)],
        quarantined_per_page=1,
        error="HTTP 500 from the server",
    )

    history = only(catalogue_status(catalogue).sources, "UVA").history
    assert [run.id for run in history] == [failed.id, incremental.id, full.id]
    assert [(run.mode, run.status) for run in history] == [
        ("incremental", "failed"),
        ("incremental", "ok"),
        ("full", "ok"),
    ]
    # What the pages held: 3 live + 1 deleted, then 2; then 1; then 2.
    assert [(run.pages, run.records, run.deleted) for run in history] == [(1, 2, 0), (1, 1, 0), (2, 6, 1)]
    assert [run.error for run in history] == ["HTTP 500 from the server", None, None]
    assert [(run.started, run.finished) for run in history] == [
        (run.started, run.finished) for run in (failed, incremental, full)
    ]
    assert [run.seconds for run in history] == [seconds_between(run) for run in (failed, incremental, full)]
    # A store that does not keep a run's quarantined count yet reads it as 0: the history shows it as kept.
    assert failed.quarantined in (0, 1)
    assert [run.quarantined for run in history] == [failed.quarantined, 0, 0]

    shorter = only(catalogue_status(catalogue, history=2).sources, "UVA")
    assert [run.id for run in shorter.history] == [failed.id, incremental.id]
    none = only(catalogue_status(catalogue, history=0).sources, "UVA")
    assert none.history == []
    assert none.last_error is not None and none.last_error.run == failed.id


def test_a_failing_source_is_failing_with_the_latest_reason_since_its_last_success(
    catalogue: Catalogue,
) -> None:
    catalogue.records.save_source(Source("LYON", "Bibliothèque municipale de Lyon", OAI))
    first_failure = harvest(catalogue.records, "LYON", error="could not connect to 127.0.0.1:9")
    [source] = catalogue_status(catalogue).sources
    assert source.health == "failing" and source.last_success is None
    assert source.last_error is not None
    assert (source.last_error.run, source.last_error.message) == (first_failure.id, first_failure.error)

    success = harvest(catalogue.records, "LYON", [page_of("LYON", 0, 4)])
    [source] = catalogue_status(catalogue).sources
    assert (source.health, source.last_error) == ("ok", None)
    assert source.last_success is not None and source.last_success.id == success.id

    harvest(catalogue.records, "LYON", error="HTTP 503 from http://127.0.0.1:9/oai")
    latest = harvest(catalogue.records, "LYON", error="OAI-PMH error badResumptionToken: expired")
    [source] = catalogue_status(catalogue).sources
    assert source.health == "failing"
    assert source.last_success is not None and source.last_success.id == success.id
    assert source.last_error is not None
    assert (source.last_error.run, source.last_error.at, source.last_error.message) == (
        latest.id,
        latest.finished,
        "OAI-PMH error badResumptionToken: expired",
    )
    text = format_status(catalogue_status(catalogue))
    assert "failing" in text and "OAI-PMH error badResumptionToken: expired" in text


def test_throughput_is_the_records_of_a_run_over_its_duration(catalogue: Catalogue) -> None:
    catalogue.records.save_source(Source("OXF", "Bodleian Libraries", OAI))
    pages = [page_of("OXF", 0, 20), page_of("OXF", 20, 15, deleted=5)]
    run = harvest(catalogue.records, "OXF", pages, mode="full", at_least_one_second=True)
    seconds = seconds_between(run)
    assert seconds >= 1 and run.records == 40

    [source] = catalogue_status(catalogue).sources
    assert source.throughput == round(40 / seconds, 1)
    [entry] = source.history
    assert (entry.seconds, entry.records_per_second) == (seconds, round(40 / seconds, 1))


def test_a_run_under_way_is_running_with_its_pages_so_far(catalogue: Catalogue) -> None:
    catalogue.records.save_source(Source("MCG", "McGill University Library", OAI))
    done = harvest(catalogue.records, "MCG", [page_of("MCG", 0, 2)])
    running = harvest(catalogue.records, "MCG", [page_of("MCG", 10, 3), page_of("MCG", 20, 1)], finish=False)
    [source] = catalogue_status(catalogue).sources
    assert source.health == "running"
    assert source.last_run is not None and source.last_run.id == running.id
    assert source.last_success is not None and source.last_success.id == done.id
    latest = source.history[0]
    assert (latest.status, latest.seconds, latest.records, latest.records_per_second) == (
        "running",
        None,
        4,
        None,
    )


def test_a_scheduled_source_is_due_an_interval_after_its_last_run_stale_after_two(
    catalogue: Catalogue,
) -> None:
    catalogue.records.save_source(
        Source("BNF", "Bibliothèque nationale de France", OAI, harvest_interval=3600.0)
    )
    run = harvest(catalogue.records, "BNF", [page_of("BNF", 0, 1)])
    started = at(run.started)
    due = (started + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")

    [soon] = catalogue_status(catalogue, now=started + timedelta(minutes=30)).sources
    assert (soon.health, soon.harvest_interval, soon.next_due) == ("ok", 3600.0, due)
    [late] = catalogue_status(catalogue, now=started + timedelta(hours=1, minutes=59)).sources
    assert late.health == "ok"
    [stale] = catalogue_status(catalogue, now=started + timedelta(hours=2, seconds=1)).sources
    assert (stale.health, stale.next_due) == ("stale", due)


def test_the_json_keeps_every_key_scripts_use_and_adds_the_new_ones(catalogue: Catalogue) -> None:
    catalogue.records.save_source(Source("UVA", "University of Virginia Library", OAI))
    harvest(catalogue.records, "UVA", [page_of("UVA", 0, 2)])
    catalogue.records.add_quarantine(
        [QuarantineEntry("UVA", "UVA-bad", "harvest", "leader is not a number", b"x")]
    )
    body = json.loads(json.dumps(catalogue_status(catalogue).to_json()))
    assert {"engine", "store", "union_records", "quarantined", "sources", "recent_quarantine"} <= set(body)
    assert {"generated", "history_limit", "quarantined_by_kind"} <= set(body)
    assert body["quarantined_by_kind"] == {}  # a harvest failure is no record set aside by kind
    [source] = body["sources"]
    old = {"code", "name", "kind", "profile", "oai_url", "live", "deleted", "quarantined", "last_run",
           "last_success"}  # fmt: skip
    new = {"health", "last_error", "throughput", "harvest_interval", "next_due", "history",
           "quarantined_by_stage", "quarantined_by_kind"}  # fmt: skip
    assert set(source) == old | new
    assert (source["live"], source["deleted"], source["quarantined"]) == (2, 0, 1)
    assert source["quarantined_by_stage"] == {"harvest": 1}
    assert source["quarantined_by_kind"] == {}
    assert source["last_run"]["status"] == "ok" and "from" in source["last_run"]
    assert set(source["history"][0]) == {
        "id", "mode", "status", "started", "finished", "seconds", "records", "deleted", "quarantined",
        "pages", "records_per_second", "error",
    }  # fmt: skip
    assert set(body["recent_quarantine"][0]) == {
        "source", "local_id", "stage", "reason", "bytes", "created", "kind"
    }  # fmt: skip


def test_asking_for_some_sources_shows_only_them_and_their_quarantine(catalogue: Catalogue) -> None:
    for code in ("A", "B", "C"):
        catalogue.records.save_source(Source(code, f"Library {code}", OAI))
        catalogue.records.add_quarantine(
            [QuarantineEntry(code, f"{code}-1", "harvest", f"bad record of {code}", b"xy")]
        )
    status = catalogue_status(catalogue, ["C", "A"])
    assert [source.code for source in status.sources] == ["C", "A"]
    assert sorted(entry.source for entry in status.recent_quarantine) == ["A", "C"]
    assert status.quarantined == 3
    with pytest.raises(SourceNotFound):
        catalogue_status(catalogue, ["NOPE"])


def test_the_status_command(catalogue: Catalogue, capsys: pytest.CaptureFixture[str]) -> None:
    catalogue.records.save_source(Source("UVA", "University of Virginia Library", OAI))
    catalogue.records.save_source(Source("DOWN", "Down library", OAI))
    harvest(catalogue.records, "UVA", [page_of("UVA", 0, 3)], mode="full")
    harvest(catalogue.records, "UVA", [page_of("UVA", 10, 1)])
    harvest(catalogue.records, "DOWN", error="HTTP 503\x1b[2J\r\nRetry later")

    assert main([*where(catalogue), "status", "--json", "--runs", "1"]) == EXIT_OK
    printed = json.loads(capsys.readouterr().out)
    expected = catalogue_status(catalogue, history=1).to_json()
    assert {**printed, "generated": None} == {**expected, "generated": None}

    assert main([*where(catalogue), "status"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "health" in out and "failing" in out and "history of" not in out
    # The remote text reaches the terminal on one line, without its escape sequence.
    assert "HTTP 503 [2J Retry later" in out and "\x1b" not in out

    assert main([*where(catalogue), "status", "UVA"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "history of UVA" in out and "DOWN" not in out
    assert main([*where(catalogue), "status", "--history", "--runs", "1"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "history of UVA" in out and "history of DOWN" in out and " full " not in out

    assert main([*where(catalogue), "status", "NOPE"]) == EXIT_PARTIAL
    assert "no source with code 'NOPE'" in capsys.readouterr().err
    for bad in ("-1", "x", "101", "٣"):
        with pytest.raises(SystemExit) as exit_info:
            main([*where(catalogue), "status", "--runs", bad])
        assert exit_info.value.code == EXIT_USAGE
        assert "--runs" in capsys.readouterr().err


# -- the rules, on runs built by hand ------------------------------------------------------------------

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def hand_run(
    run_id: int, status: HarvestStatus, started: str, finished: str | None = None, records: int = 0
) -> HarvestRun:
    return HarvestRun(
        id=run_id, source="S", started=started, status=status, finished=finished, records=records
    )


@pytest.mark.parametrize(
    ("interval", "runs", "health"),
    [
        (None, [], "never_harvested"),
        (3600.0, [], "never_harvested"),
        (
            None,
            [hand_run(2, "running", "2026-03-01T11:00:00Z"), hand_run(1, "failed", "2026-02-01T00:00:00Z")],
            "running",
        ),
        (
            None,
            [hand_run(2, "failed", "2026-03-01T11:00:00Z"), hand_run(1, "ok", "2026-03-01T10:00:00Z")],
            "failing",
        ),
        (3600.0, [hand_run(1, "ok", "2026-03-01T10:00:01Z", "2026-03-01T10:10:00Z")], "ok"),
        (3600.0, [hand_run(1, "ok", "2026-03-01T09:59:59Z", "2026-03-01T10:10:00Z")], "stale"),
        (None, [hand_run(1, "ok", "2020-01-01T00:00:00Z", "2020-01-01T00:10:00Z")], "ok"),
        (
            3600.0,
            [hand_run(2, "failed", "2026-03-01T11:00:00Z"), hand_run(1, "ok", "2020-01-01T00:00:00Z")],
            "failing",
        ),
    ],
)
def test_the_verdict(interval: float | None, runs: list[HarvestRun], health: str) -> None:
    source = Source("S", "S", OAI, harvest_interval=interval)
    success = next((r for r in runs if r.status == "ok"), None)
    assert source_health(source, runs, success, NOW) == health


def test_a_run_shorter_than_a_second_has_no_throughput() -> None:
    summary = RunSummary.of(hand_run(1, "ok", "2026-03-01T10:00:00Z", "2026-03-01T10:00:00Z", records=500))
    assert (summary.seconds, summary.records_per_second) == (0, None)
    summary = RunSummary.of(hand_run(1, "ok", "2026-03-01T10:00:00Z", "2026-03-01T10:02:05Z", records=500))
    assert (summary.seconds, summary.records_per_second) == (125, 4.0)


def test_words_for_people() -> None:
    assert [format_duration(s) for s in (None, 0, 59, 60, 125, 3600, 7260, 86400 * 3 + 3600)] == [
        "-", "0 s", "59 s", "1 min", "2 min 5 s", "1 h", "2 h 1 min", "3 d 1 h",
    ]  # fmt: skip
    assert [format_rate(r) for r in (None, 0.0, 4.04, 12.5, 4532.2)] == [
        "-", "0.0 rec/s", "4.0 rec/s", "12 rec/s", "4,532 rec/s",
    ]  # fmt: skip
    assert printable("a\nb\x1b[31mc\x9b\u00e9") == "a b [31mc é"
