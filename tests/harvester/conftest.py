"""Fixtures of the harvester tests: a real SQLite engine, fast retry settings, the shared data."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.shared_data import SHARED_DATA
from unicat.engine import Engine
from unicat.engines import open_engine
from unicat.settings import Settings

DATA = SHARED_DATA


@pytest.fixture(scope="session")
def census() -> dict[str, dict[str, str]]:
    """CENSUS.tsv rows by path: what pymarc reads from each data file (records parsed / failed)."""
    with (DATA / "CENSUS.tsv").open(encoding="utf-8") as handle:
        return {row["path"]: row for row in csv.DictReader(handle, delimiter="\t")}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Short timeouts and backoff so failure tests take fractions of a second."""
    return Settings(
        data_dir=tmp_path,
        engine_url=f"sqlite:///{tmp_path / 'unicat.db'}",
        http_timeout=2.0,
        http_retries=2,
        http_backoff=0.01,
    )


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    opened = open_engine(settings)
    yield opened
    opened.close()
