"""Fixtures of the harvester tests: a real SQLite catalogue, fast retry settings, the shared data."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.oai_faults import FaultyProvider
from tests.support.shared_data import SHARED_DATA
from unicat.catalogue import Catalogue
from unicat.settings import Settings
from unicat_cli.demo.network import load_network
from unicat_cli.demo.oai_endpoint import build_repository
from unicat_cli.demo.records import Repository
from unicat_cli.wiring import open_catalogue

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
def catalogue(settings: Settings) -> Iterator[Catalogue]:
    """The catalogue ``settings`` name (one SQLite file), as the ``unicat`` commands these tests run
    in processes of their own open it; the harvester writes its record store."""
    opened = open_catalogue(settings)
    yield opened
    opened.close()


# -- the AUSA demo library behind a fault-injecting provider (tests/support/oai_faults.py) -----------------

PAGE = 50
"""Records per page of the provider fixture."""


@pytest.fixture(scope="module")
def austen_records() -> Repository:
    library = next(library for library in load_network() if library.code == "AUSA")
    return build_repository(library)


@pytest.fixture
def expected_ids(census: dict[str, dict[str, str]]) -> set[str]:
    """The provider's identifiers, numbered from 1 for each record pymarc reads (network.toml deals
    AUSA the odd-numbered half of the file)."""
    count = (int(census["dedup/pride-and-prejudice-fixed.mrc"]["parsed"]) + 1) // 2
    return {f"oai:unicat.demo:AUSA:{n}" for n in range(1, count + 1)}


@pytest.fixture
def provider(austen_records: Repository) -> Iterator[FaultyProvider]:
    # A copy per test: tests change the repository.
    repository = Repository(austen_records.name, austen_records.select(None, None))
    with FaultyProvider(repository, page_size=PAGE) as running:
        yield running
