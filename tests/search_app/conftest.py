"""Fixtures of the web app tests: a real SQLite catalogue in tmp_path and a real server over it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from search_app.app import make_app
from tests.conftest import CatalogueFactory
from tests.search_app.accounts_http import Site, staff_client
from tests.search_app.search_app_catalogue import Client, ClientFactory, catalogue_settings, fill
from unicat.catalogue import Catalogue
from unicat.settings import Settings
from unicat_cli.wiring import open_catalogue


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return catalogue_settings(tmp_path)


@pytest.fixture
def catalogue(settings: Settings) -> Iterator[Catalogue]:
    """The filled catalogue: its union index and its stores in one SQLite file."""
    with open_catalogue(settings) as opened:
        fill(opened)
        yield opened


@pytest.fixture
async def client(
    catalogue: Catalogue, settings: Settings, aiohttp_client: ClientFactory
) -> AsyncIterator[Client]:
    yield await aiohttp_client(make_app(catalogue, settings))


@pytest.fixture
async def librarian(catalogue: Catalogue, settings: Settings, aiohttp_client: ClientFactory) -> Client:
    """A client of the same app signed in as a librarian (its posts carry the CSRF token)."""
    return await staff_client(aiohttp_client, make_app(catalogue, settings), catalogue.accounts)


@pytest.fixture
def each_setup_catalogue(catalogue_factory: CatalogueFactory) -> Catalogue:
    """The filled catalogue on each storage setup (SQLite alone; PostgreSQL + Elasticsearch), for the
    modules that make it their ``catalogue``."""
    opened = catalogue_factory(facet_size=20)
    fill(opened)
    return opened


@pytest.fixture
async def site(catalogue: Catalogue) -> AsyncIterator[Site]:
    """The app over the module's ``catalogue`` with its own settings, served on 127.0.0.1."""
    served = await Site(make_app(catalogue, catalogue.index.settings)).start()
    yield served
    await served.close()


@pytest.fixture
def catalogue_url(tmp_path: Path) -> str:
    """The engine URL of a filled SQLite catalogue, for a server started in a process of its own."""
    settings = catalogue_settings(tmp_path)
    with open_catalogue(settings) as catalogue:
        fill(catalogue)
    return settings.engine_url
