"""The demo catalogue (``unicat demo --no-serve``: its libraries harvested over OAI-PMH on loopback and
indexed), built once per test run on SQLite, for the tests whose expected answers are the demo's own
data: the home page's examples, a work with more editions than a record page lists, real librarians'
pages. Use it with ``pytest_plugins = ["tests.search_app.demo_catalogue"]``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from unicat.catalogue import Catalogue
from unicat.settings import Settings
from unicat_cli.demo.run import run_demo
from unicat_cli.wiring import open_catalogue


@pytest.fixture(scope="session")
def demo_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings over the built demo catalogue (half a minute to build, once)."""
    data_dir = tmp_path_factory.mktemp("demo")
    settings = Settings(data_dir=data_dir, engine_url=f"sqlite:///{data_dir / 'unicat.db'}")
    with open_catalogue(settings) as catalogue:
        status = asyncio.run(run_demo(catalogue, settings, host="127.0.0.1", port=0, serve=False))
    assert status == 0, "the demo's harvest failed"
    return settings


@pytest.fixture
def demo_catalogue(demo_settings: Settings) -> Iterator[Catalogue]:
    """The demo catalogue, opened for one test."""
    with open_catalogue(demo_settings) as catalogue:
        yield catalogue
