"""A real catalogue served over real HTTP, on every engine, for the OAI-PMH provider's tests.

Real records of ../shared/data go the whole way: imported as three libraries' records (MARC21 from
the University of Virginia with 852 holdings, UNIMARC from a French library with 995 holdings, and two
copies of the 2003 Penguin *Pride and prejudice* held by two more libraries, which the indexer merges
into one union record), indexed, and served by the application ``unicat serve`` runs, on 127.0.0.1.
The catalogue is built once per engine and module; tests that change it build their own.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from harvester.importer import import_files
from indexer.pipeline import run_index
from search_app.app import make_app
from tests.conftest import EngineContext, _discard, _elasticsearch_engine, _sqlite_engine, stores_beside
from tests.indexer.indexer_testdata import PRIDE_2003_A, PRIDE_2003_B, store_own_libraries
from tests.support.postgres import fresh_database
from tests.support.served_app import ServedApp
from tests.support.shared_data import SHARED_DATA
from unicat.catalogue import Catalogue as UnicatCatalogue
from unicat.model import Source
from unicat.oai_items import seconds_of
from unicat.ports.records import RecordStore
from unicat.ports.union_index import UnionIndex
from unicat.settings import Settings

IMPORTS = (
    (Source("uva", "University of Virginia Library", None, profile="marc21"), "marc21/uva_001_2000.mrc"),
    (Source("mel", "Bibliothèque MEL", None, profile="unimarc"), "unimarc/cotesMEL.mrc"),
)
PAGE_SIZE = 100
"""Small pages, so that every list of the catalogue needs resumption tokens."""


@dataclass
class Catalogue:
    """An indexed catalogue and the app serving it: ``oai`` is the provider's base URL."""

    index: UnionIndex
    records: RecordStore
    settings: Settings
    site: str

    @property
    def oai(self) -> str:
        return f"{self.site}/oai"

    def identifier(self, union_id: str) -> str:
        return f"oai:{self.settings.oai_repository_identifier}:{union_id}"


@dataclass
class _OwnDatabaseContext(EngineContext):
    """An index context whose PostgreSQL database lives as long as ``stack``, not one test: a
    catalogue built once per module may stand beside it (the per-test fixture cannot)."""

    stack: ExitStack = field(default_factory=ExitStack)
    _database_url: str | None = None

    @property
    def postgres_database_url(self) -> str:
        if self._database_url is None:
            cluster = self.request.getfixturevalue("postgres_cluster")
            self._database_url = self.stack.enter_context(fresh_database(cluster))
        return self._database_url


@contextmanager
def open_test_catalogue(
    kind: str, request: pytest.FixtureRequest, directory: Path, **settings: Any
) -> Iterator[UnicatCatalogue]:
    """A fresh catalogue of ``kind``: a SQLite index with its stores in its file, or an Elasticsearch
    index (a catalogue of its own on the test node) with its stores in a new PostgreSQL database;
    all of it closed, and the Elasticsearch catalogue and the database deleted, at exit. Unlike the
    ``catalogue`` fixture, it may serve a whole module."""
    factory = _sqlite_engine if kind == "sqlite" else _elasticsearch_engine
    with ExitStack() as stack:
        context = _OwnDatabaseContext(request, directory, stack=stack)
        index = factory(context, **settings)  # a file in ``directory``, or a catalogue on the node
        stack.callback(_discard, [index])
        catalogue = stores_beside(index, context)
        stack.callback(catalogue.database.close)
        yield catalogue


def fill(catalogue: UnicatCatalogue) -> None:
    """Store the shared data's records as the test libraries' and index them."""
    store = catalogue.records
    for source, relative in IMPORTS:
        store.save_source(source)
        import_files(store, source, [SHARED_DATA / relative])
    store_own_libraries(store, "dedup/pride-and-prejudice-fixed.mrc", (PRIDE_2003_A, PRIDE_2003_B))
    run_index(store, catalogue.index)
    wait_for_datestamps(store)


def wait_for_datestamps(store: RecordStore) -> None:
    """Wait until the newest generation's datestamp has passed: the provider serves a generation only
    from the second after its datestamp on (search_app/oai/generations.py), at most 2 s after indexing."""
    generations = store.oai_generations()
    if generations:
        delay = seconds_of(generations[-1][1]) + 1 - time.time()
        if delay > 0:
            time.sleep(delay + 0.01)


@pytest.fixture(scope="module", params=["sqlite", "elasticsearch"])
def catalogue(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Catalogue]:
    """The filled catalogue on one index, served by the app with small OAI-PMH pages."""
    settings = Settings(oai_page_size=PAGE_SIZE)
    directory = tmp_path_factory.mktemp("catalogue")
    with open_test_catalogue(request.param, request, directory, oai_page_size=PAGE_SIZE) as opened:
        fill(opened)
        with ServedApp(make_app(opened, settings)) as served:
            yield Catalogue(opened.index, opened.records, settings, served.url)
