"""Smoke test of the index-run memory benchmark: a small corpus through `unicat import` and `unicat index`
as processes of their own, on SQLite, its catalogue kept to be checked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.index_memory import main
from unicat.settings import Settings
from unicat_cli.wiring import open_catalogue

pytestmark = pytest.mark.timeout(600)


def _arguments(tmp_path: Path, records: int) -> list[str]:
    """A run of ``records`` editions, corpus cached, catalogue kept and figures written in ``tmp_path``."""
    cache, kept, out = tmp_path / "cache", tmp_path / "catalogue", tmp_path / "figures.json"
    return ["--records", str(records), "--cache", str(cache), "--keep", str(kept), "--json", str(out)]


def test_the_benchmark_indexes_the_corpus_and_reports_each_process(tmp_path: Path) -> None:
    out, kept = tmp_path / "figures.json", tmp_path / "catalogue"
    arguments = _arguments(tmp_path, 400)
    assert main(arguments) == 0
    figures = json.loads(out.read_text(encoding="utf-8"))
    catalogue = open_catalogue(Settings(engine_url=f"sqlite:///{kept / 'unicat.db'}"))
    try:
        # The records the benchmark counted in the files are those the catalogue stored.
        assert catalogue.records.source_counts().live == figures["source_records"] > 400
        assert catalogue.index.union_count() > 0
    finally:
        catalogue.close()
    assert figures["index_peak_bytes"] > 50 * 1024 * 1024
    assert figures["disk_bytes"]["SQLite file"] > 0
    # Indexed again from the kept catalogue: the import is not repeated, its figures are kept.
    assert main(arguments) == 0
    again = json.loads(out.read_text(encoding="utf-8"))
    assert again["import_seconds"] == figures["import_seconds"]


def test_a_days_changes_are_stored_and_indexed_incrementally_while_searches_answer(tmp_path: Path) -> None:
    out, kept = tmp_path / "figures.json", tmp_path / "catalogue"
    arguments = _arguments(tmp_path, 600)
    assert main([*arguments, "--day", "--changed", "0.05", "--deleted", "0.01"]) == 0
    day = json.loads(out.read_text(encoding="utf-8"))["day"]
    changes = day["changes"]
    assert changes["holdings"] + changes["titles"] + changes["isbns"] > changes["deleted"] > 0
    assert day["failures"] == 0 and day["searches"] > 0 and day["failure"] == ""
    stored = changes["holdings"] + changes["titles"] + changes["isbns"] + changes["deleted"]
    assert f"incremental: {stored:,} source records changed" in day["index_output"]
    catalogue = open_catalogue(Settings(engine_url=f"sqlite:///{kept / 'unicat.db'}"))
    try:
        # Every record the day withdrew is a tombstone now, in no union record.
        assert catalogue.records.source_counts().deleted == changes["deleted"]
        assert catalogue.records.indexed_mark() == catalogue.records.change_mark()
    finally:
        catalogue.close()
