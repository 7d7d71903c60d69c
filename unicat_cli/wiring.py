"""Which adapter each URL names: the factories that open the union index, the stores' database and the
catalogue the settings name, and the one place that picks SQLite, PostgreSQL or Elasticsearch."""

from __future__ import annotations

from pathlib import Path

from unicat.catalogue import Catalogue
from unicat.errors import ConfigError
from unicat.live_search import LiveSearch
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

POSTGRESQL_SCHEMES = ("postgresql://", "postgres://")


def sqlite_path(url: str) -> Path:
    """The database file of a ``sqlite:///path`` URL (relative paths stay relative to the cwd)."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or len(url) == len(prefix):
        raise ConfigError(f"URL {url!r}: use sqlite:///path/to/unicat.db")
    return Path(url[len(prefix) :])


def open_index(settings: Settings) -> UnionIndex:
    """Open the union index named by ``settings.engine_url`` on its own; creates or migrates its schema."""
    url = settings.engine_url
    if url.startswith("sqlite:"):
        from unicat.engines.sqlite import SqliteEngine

        return SqliteEngine(sqlite_path(url), settings)
    if url.startswith(("http://", "https://")):
        from unicat.engines.elasticsearch import ElasticsearchEngine

        return ElasticsearchEngine(url, settings)
    raise ConfigError(f"index URL {url!r}: expected sqlite:///path or http://host:port[/index-prefix]")


def open_database(url: str, settings: Settings) -> Database:
    """Open the stores' database named by ``url``; creates or migrates its schema."""
    if url.startswith("sqlite:"):
        from unicat.engines.sqlite.database import SqliteDatabase

        return SqliteDatabase(sqlite_path(url), settings)
    if url.startswith(POSTGRESQL_SCHEMES):
        from unicat.engines.postgresql import PostgresDatabase

        return PostgresDatabase(url, settings)
    raise ConfigError(f"store URL {url!r}: expected sqlite:///path or postgresql://user@host:port/database")


def open_catalogue(settings: Settings) -> Catalogue:
    """Open the stores' database and the union index; where both name one SQLite file, the index runs
    on the stores' connections (one file, one writer)."""
    database = open_database(settings.resolved_store_url, settings)
    try:
        index = _index_beside(database, settings)
    except BaseException:
        database.close()
        raise
    catalogue = Catalogue(
        index=index,
        records=SqlRecordStore(database),
        accounts=SqlAccountStore(database),
        contributions=SqlContributionStore(database),
        shuttle=shuttle_store(database, settings),
        database=database,
        outbox=SqlOutboxStore(database),
        libraries=SqlLibraryStore(database),
        searches=SqlSavedSearchStore(database),
        targets=SqlLiveTargetStore(database),
    )
    _hand_over(catalogue)
    return catalogue


def open_live_search(catalogue: Catalogue) -> LiveSearch:
    """The live search the web app runs (``make_app(live=...)``): the federated fan-out, reading live
    records and merging them with the union's page as ``unicat index`` would (:mod:`unicat_cli.live`)."""
    from unicat_cli.live import open_live_parts

    return open_live_parts(catalogue).service


def shuttle_store(database: Database, settings: Settings) -> SqlShuttleStore:
    """The requests store over ``database``, with the limits the settings give."""
    return SqlShuttleStore(
        database,
        max_open_per_patron=settings.shuttle_max_open_per_patron,
        max_open_per_library=settings.shuttle_max_open_per_library,
    )


def _hand_over(catalogue: Catalogue) -> None:
    """An Elasticsearch catalogue written before the stores existed gives the store what it kept in the
    search engine: readers' data (schema 6 and 7), then records, harvest state and the feed (up to 9)."""
    from unicat.engines.elasticsearch import ElasticsearchEngine

    index = catalogue.index
    if isinstance(index, ElasticsearchEngine):
        try:
            index.hand_over_readers(catalogue.accounts, catalogue.contributions, catalogue.store_url)
            index.hand_over_records(catalogue.records, catalogue.store_url)
        except BaseException:
            catalogue.close()
            raise


def _index_beside(database: Database, settings: Settings) -> UnionIndex:
    from unicat.engines.sqlite.database import SqliteDatabase

    url = settings.engine_url
    if isinstance(database, SqliteDatabase) and url.startswith("sqlite:"):
        path = sqlite_path(url)
        if path.resolve() == database.path.resolve():
            from unicat.engines.sqlite import SqliteEngine

            return SqliteEngine(path, settings, database)
    return open_index(settings)
