"""Fixtures of the web app tests: a real SQLite catalogue in tmp_path and a real server over it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from accounts_http import staff_client
from search_app_catalogue import Client, ClientFactory, catalogue_settings, fill

from search_app.app import make_app
from unicat.engine import Engine
from unicat.engines import open_engine
from unicat.settings import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return catalogue_settings(tmp_path)


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    with open_engine(settings) as opened:
        fill(opened)
        yield opened


@pytest.fixture
async def client(engine: Engine, settings: Settings, aiohttp_client: ClientFactory) -> AsyncIterator[Client]:
    yield await aiohttp_client(make_app(engine, settings))


@pytest.fixture
async def librarian(engine: Engine, settings: Settings, aiohttp_client: ClientFactory) -> Client:
    """A client of the same app signed in as a librarian (its posts carry the CSRF token)."""
    return await staff_client(aiohttp_client, make_app(engine, settings), engine)
