"""An SQLite union index written before availability per copy, opened by this Unicat: it keeps
answering, says that a rebuild is needed (as the Elasticsearch engine does), and counts and filters by
availability once rebuilt. No migration fills those facets: their values come from the records'
holdings, which a rebuild reads again."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import pytest

from tests.conftest import build_union_record
from unicat.engines.sqlite import SqliteEngine, driver
from unicat.model import Holding, UnionRecord
from unicat.query import parse_search_params
from unicat.settings import Settings

AVAILABILITY_FACETS = ("held_at", "available_at", "availability")
WARNING = "built before availability per copy"


def emma() -> UnionRecord:
    """*Emma*, with a copy available at BNF."""
    record = build_union_record("emma", "Emma", libraries=["BNF"])
    return replace(record, holdings=[Holding(library="BNF", library_name="BNF", status="available")])


def write_index_before_availability(path: Path) -> None:
    """*Emma* indexed, then its availability facets' rows taken away: the rows an index written before
    those facets existed never had (the schema was the same; only the written rows differ)."""
    with SqliteEngine(path, Settings()) as engine:
        engine.replace_union_records([emma()])
    conn = driver.connect(path)
    with conn:
        conn.execute(
            f"DELETE FROM union_facet_values WHERE facet IN ({', '.join('?' * len(AVAILABILITY_FACETS))})",
            AVAILABILITY_FACETS,
        )
    conn.close()


def found(engine: SqliteEngine, **params: str) -> list[str]:
    request = {name: [value] for name, value in params.items()}
    return [hit.id for hit in engine.search(parse_search_params(request, Settings())).hits]


def test_an_index_written_before_availability_warns_and_counts_it_once_rebuilt(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "unicat.db"
    write_index_before_availability(path)

    with caplog.at_level(logging.WARNING), SqliteEngine(path, Settings()) as engine:
        assert WARNING in caplog.text
        assert "unicat index --rebuild" in caplog.text
        assert found(engine, q="emma") == ["emma"]
        assert found(engine, availability="available") == []
        engine.replace_union_records([emma()])
        assert found(engine, availability="available") == ["emma"]
        assert found(engine, available_at="BNF") == ["emma"]
    caplog.clear()
    with caplog.at_level(logging.WARNING), SqliteEngine(path, Settings()):
        assert WARNING not in caplog.text


def test_an_empty_index_or_one_written_now_says_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "unicat.db"
    with caplog.at_level(logging.WARNING):
        with SqliteEngine(path, Settings()) as engine:
            engine.replace_union_records([emma()])
        with SqliteEngine(path, Settings()):
            pass
    assert WARNING not in caplog.text
