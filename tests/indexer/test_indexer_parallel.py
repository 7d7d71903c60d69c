"""Parsing in worker processes gives the same outcomes, in the same order, as parsing in-process."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

from indexer import run_index
from indexer.parsing import ParseFailure, parse_in_processes, parse_outcome
from tests.indexer.indexer_testdata import iso2709_records, unreadable_record
from unicat.availability import held_at
from unicat.export import write_jsonl
from unicat.model import Source, SourceRecord, UnionRecord
from unicat.settings import Settings
from unicat_cli.wiring import open_catalogue

SOURCES = {
    "UVA": Source("UVA", "University of Virginia"),
    "PPE": Source("PPE", "Pride with errors"),
    "SCPO": Source("SCPO", "Sciences Po", profile="unimarc"),
}


def _records() -> list[SourceRecord]:
    """Real records of three sources, structurally damaged ones and one of an unknown source."""
    files = [("UVA", "marc21/uva_001_2000.mrc"), ("PPE", "dedup/pride-and-prejudice-with-many-errors.mrc")]
    files.append(("SCPO", "unimarc/cotes8.mrc"))
    records = [
        SourceRecord(code, f"{code}-{number:05d}", raw, "iso2709", "2024-01-01T00:00:00Z")
        for code, relative in files
        for number, raw in enumerate(iso2709_records(relative))
    ]
    bad = unreadable_record()
    records.append(SourceRecord("PPE", "PPE-bad", bad))
    records.append(SourceRecord("NOWHERE", "n1", iso2709_records("marc21/brkrtest.mrc")[0]))
    return records


def test_outcomes_in_processes_equal_outcomes_in_process() -> None:
    records = _records()
    here = [parse_outcome(record, SOURCES) for record in records]
    there = list(parse_in_processes(iter(records), SOURCES, 2, parse_outcome))
    assert [record for record, _ in there] == records
    assert [outcome for _, outcome in there] == [outcome for _, outcome in here]
    failures = [outcome for _, outcome in here if isinstance(outcome, ParseFailure)]
    # The unreadable record, the unknown source and the 16 records pymarc cannot read either (INDEX.md).
    assert len(failures) >= 3
    assert ParseFailure("source 'NOWHERE' is not registered") in failures


def _index(
    tmp_path: Path, name: str, workers: int
) -> tuple[str, list[tuple[str, str | None, str]], tuple[int, ...]]:
    catalogue = open_catalogue(Settings(engine_url=f"sqlite:///{tmp_path / name / 'unicat.db'}"))
    try:
        for source in SOURCES.values():
            catalogue.records.save_source(source)
        by_source: dict[str, list[SourceRecord]] = {}
        for record in _records():
            by_source.setdefault(record.source, []).append(record)
        for code, records in by_source.items():
            if code in SOURCES:
                catalogue.records.store_page(code, records, None)
        report = run_index(catalogue.records, catalogue.index, workers=workers, parallel_from=1)
        out = io.StringIO()
        write_jsonl(map(_undated, catalogue.index.iter_union_records()), out)
        quarantine = [(q.source, q.local_id, q.reason) for q in catalogue.records.list_quarantine(limit=1000)]
        counts = (report.read, report.parsed, report.quarantined, report.with_warnings, report.union_records)
        return out.getvalue(), quarantine, counts
    finally:
        catalogue.close()


def _undated(record: UnionRecord) -> UnionRecord:
    """The record without the instant its index run stamped (unicat/first_seen.py): two runs, two
    instants, the same catalogue. Every record has one."""
    assert record.first_seen is not None and set(record.held_since) == set(held_at(record.holdings))
    return dataclasses.replace(record, first_seen=None, held_since={})


def test_run_index_with_workers_gives_the_same_catalogue(tmp_path: Path) -> None:
    sequential = _index(tmp_path, "one", workers=1)
    parallel = _index(tmp_path, "two", workers=2)
    assert parallel == sequential
    assert sequential[2][2] >= 2  # quarantined records took part
    assert sequential[0].count("\n") > 2000
