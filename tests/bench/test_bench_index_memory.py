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


def test_the_benchmark_indexes_the_corpus_and_reports_each_process(tmp_path: Path) -> None:
    out, kept = tmp_path / "figures.json", tmp_path / "catalogue"
    arguments = [
        "--records",
        "400",
        "--cache",
        str(tmp_path / "cache"),
        "--keep",
        str(kept),
        "--json",
        str(out),
    ]
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
