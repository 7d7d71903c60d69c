"""Fixtures shared by every test package: a union index per implementation (``engine``), a catalogue
per setup (SQLite alone; PostgreSQL + Elasticsearch), realistic records, and the real servers they run
against (Elasticsearch, PostgreSQL)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support.es_cluster import EsCluster
from tests.support.postgres import Cluster, fresh_database, running_cluster
from tests.support.yaz_ztest import ZtestServer, running_ztest
from tests.support.zebra import ZebraServer, running_zebra
from unicat.catalogue import Catalogue
from unicat.compiled import stale_modules
from unicat.engines.elasticsearch import ElasticsearchEngine
from unicat.engines.postgresql import PostgresDatabase
from unicat.engines.sqlite import SqliteEngine
from unicat.model import Holding, SourceRef, UnionRecord
from unicat.ports.database import Database
from unicat.ports.union_index import UnionIndex
from unicat.settings import Settings
from unicat.stores.accounts import SqlAccountStore
from unicat.stores.contributions import SqlContributionStore
from unicat.stores.libraries import SqlLibraryStore
from unicat.stores.live_targets import SqlLiveTargetStore
from unicat.stores.outbox import SqlOutboxStore
from unicat.stores.records import SqlRecordStore
from unicat.stores.saved_searches import SqlSavedSearchStore
from unicat.stores.shuttle import SqlShuttleStore

# Markers for what each test needs beyond Python and SQLite, set from its fixtures.
pytest_plugins = ["tests.support.markers"]

EngineFactory = Callable[..., UnionIndex]


def pytest_sessionstart(session: pytest.Session) -> None:
    """Refuse to test compiled modules that do not match their source: they would test old code."""
    stale = stale_modules()
    if stale:
        pytest.exit(
            f"compiled modules that do not match their source (older than it, or no longer meant to be "
            f"compiled): {', '.join(stale)}; run "
            "`.venv/bin/pip install -e .` to compile them again (scripts/test.sh does), or install with "
            "UNICAT_PURE_PYTHON=1 to run them as Python",
            returncode=2,
        )


@dataclass
class EngineContext:
    """What an engine implementation may need to open a test's engine: a private directory, a unique
    name (an Elasticsearch index prefix), and fixtures such as the node's URL, asked for only when used
    (so the SQLite runs never start a node)."""

    request: pytest.FixtureRequest
    tmp_path: Path
    name: str = field(default_factory=lambda: f"test-{uuid.uuid4().hex[:16]}")

    @property
    def elasticsearch_url(self) -> str:
        return str(self.request.getfixturevalue("elasticsearch_url"))

    @property
    def postgres_database_url(self) -> str:
        """This test's own empty PostgreSQL database (one per test, however often asked)."""
        return str(self.request.getfixturevalue("postgres_database_url"))


def _sqlite_engine(context: EngineContext, **settings: Any) -> UnionIndex:
    return SqliteEngine(context.tmp_path / "engine" / "unicat.db", Settings().replace(**settings))


def _elasticsearch_engine(context: EngineContext, **settings: Any) -> UnionIndex:
    # Every engine of one test shares one catalogue (its index prefix), as SQLite engines share a file.
    url = f"{context.elasticsearch_url}/{context.name}"
    return ElasticsearchEngine(url, Settings(engine_url=url).replace(**settings))


def _discard(engines: Sequence[UnionIndex]) -> None:
    """Close a test's engines; an Elasticsearch catalogue is deleted too, since the node outlives it."""
    for engine in engines:
        if isinstance(engine, ElasticsearchEngine):
            engine.delete_catalogue()
            break
    for engine in engines:
        engine.close()


# Every engine the conformance suite runs against: (id, factory(context, **settings)).
ENGINES: list[tuple[str, Callable[..., UnionIndex]]] = [
    ("sqlite", _sqlite_engine),
    ("elasticsearch", _elasticsearch_engine),
]


@pytest.fixture(params=[factory for _, factory in ENGINES], ids=[name for name, _ in ENGINES])
def engine_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EngineFactory]:
    """Opens fresh engines of one implementation (with settings changes); closes them after the test."""
    opened: list[UnionIndex] = []
    context = EngineContext(request, tmp_path)

    def open_engine(**settings: Any) -> UnionIndex:
        engine: UnionIndex = request.param(context, **settings)
        opened.append(engine)
        return engine

    yield open_engine
    _discard(opened)


@pytest.fixture
def engine(engine_factory: EngineFactory) -> UnionIndex:
    """A fresh, empty engine with default settings."""
    return engine_factory()


CatalogueFactory = Callable[..., Catalogue]


def stores_beside(engine: UnionIndex, context: EngineContext) -> Catalogue:
    """A catalogue of ``engine`` and its stores, as each setup has them: the SQLite engine's own file
    (SQLite alone), or this test's PostgreSQL database beside Elasticsearch."""
    database: Database
    if isinstance(engine, SqliteEngine):
        database = engine.database
    else:
        assert isinstance(engine, ElasticsearchEngine)
        database = PostgresDatabase(context.postgres_database_url, engine.settings)
    return Catalogue(
        index=engine,
        records=SqlRecordStore(database),
        accounts=SqlAccountStore(database),
        contributions=SqlContributionStore(database),
        shuttle=SqlShuttleStore(
            database,
            max_open_per_patron=engine.settings.shuttle_max_open_per_patron,
            max_open_per_library=engine.settings.shuttle_max_open_per_library,
        ),
        database=database,
        outbox=SqlOutboxStore(database),
        libraries=SqlLibraryStore(database),
        searches=SqlSavedSearchStore(database),
        targets=SqlLiveTargetStore(database),
    )


@pytest.fixture
def catalogue_factory(
    engine_factory: EngineFactory, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[CatalogueFactory]:
    """Opens catalogues of one setup (with settings changes): SQLite alone, or PostgreSQL +
    Elasticsearch; every catalogue of a test shares its engines' catalogue and its store."""
    context = EngineContext(request, tmp_path)
    opened: list[Database] = []
    if request.node.callspec.params.get("engine_factory") is _elasticsearch_engine:
        # Asked for now, so that its teardown (dropping the database) comes after this fixture's.
        context.postgres_database_url  # noqa: B018

    def open_catalogue(**settings: Any) -> Catalogue:
        catalogue = stores_beside(engine_factory(**settings), context)
        opened.append(catalogue.database)
        return catalogue

    yield open_catalogue
    for database in opened:
        database.close()


@pytest.fixture
def catalogue(catalogue_factory: CatalogueFactory) -> Catalogue:
    """A fresh, empty catalogue with default settings."""
    return catalogue_factory()


LIBRARY_NAMES = {
    "BNF": "Bibliothèque nationale de France",
    "SCPO": "Bibliothèque de Sciences Po",
    "UVA": "University of Virginia Library",
    "OXF": "Bodleian Libraries, Oxford",
}


def build_union_record(
    id: str,
    title: str,
    *,
    authors: Sequence[str] = (),
    year: int | None = None,
    language: str | None = None,
    format: str = "book",
    libraries: Sequence[str] = ("BNF",),
    isbns: Sequence[str] = (),
    issns: Sequence[str] = (),
    subjects: Sequence[str] = (),
    publisher: str | None = None,
    place: str | None = None,
    series: Sequence[str] = (),
) -> UnionRecord:
    """A union record held by ``libraries``, one source record (and one holding) per library."""
    return UnionRecord(
        id=id,
        title=title,
        authors=list(authors),
        year=year,
        language=language,
        format=format,
        isbns=list(isbns),
        issns=list(issns),
        subjects=list(subjects),
        publisher=publisher,
        place=place,
        series=list(series),
        holdings=[
            Holding(library=code, library_name=LIBRARY_NAMES.get(code, code), call_number=f"{code}-{id}")
            for code in libraries
        ],
        sources=[SourceRef(source=code, local_id=f"{code.lower()}-{id}") for code in libraries],
    )


@pytest.fixture
def make_union_record() -> Callable[..., UnionRecord]:
    """The :func:`build_union_record` helper, as a fixture for test modules."""
    return build_union_record


@pytest.fixture(scope="session")
def elasticsearch_url() -> Iterator[str]:
    """A real Elasticsearch node for the whole test session (see tests/support/es_node.py).

    ``UNICAT_TEST_ES_URL`` points the tests at a node that is already running; otherwise the project's
    own script fetches (cached) and starts one. A node that cannot start fails the tests: no skip.
    """
    from tests.support.es_node import running_node

    with running_node() as url:
        yield url


@pytest.fixture(scope="module")
def elasticsearch_cluster() -> Iterator[EsCluster]:
    """A real three-node Elasticsearch cluster for one test module (see tests/support/es_cluster.py):
    green with three nodes when the tests start, stopped with its files removed after the module (its
    tests may kill and restart nodes). A cluster that cannot start fails the tests: no skip."""
    from tests.support.es_cluster import running_cluster as running_es_cluster

    with running_es_cluster() as cluster:
        yield cluster


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[Cluster]:
    """A real PostgreSQL cluster for the whole test session (see tests/support/postgres.py), started
    by the first test that asks for it. A cluster that cannot start fails the tests: no skip."""
    with running_cluster() as cluster:
        yield cluster


@pytest.fixture(scope="session")
def postgres_url(postgres_cluster: Cluster) -> str:
    """The URL of the session cluster's database ``unicat``, shared by every test that asks for it."""
    return postgres_cluster.url


@pytest.fixture
def postgres_database_url(postgres_cluster: Cluster) -> Iterator[str]:
    """The URL of a new, empty database of the session's cluster, only this test's; dropped after it."""
    with fresh_database(postgres_cluster) as url:
        yield url


@pytest.fixture(scope="module")
def ztest(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ZtestServer]:
    """yaz-ztest on a free loopback port (tests/support/yaz_ztest.py), for the tests of one module."""
    with running_ztest(Path(tmp_path_factory.mktemp("ztest"))) as server:
        yield server


@pytest.fixture(scope="module")
def zebra(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ZebraServer]:
    """Zebra loaded with the shared MARC 21 and UNIMARC records (tests/support/zebra.py), for one module."""
    with running_zebra(Path(tmp_path_factory.mktemp("zebra"))) as server:
        yield server
