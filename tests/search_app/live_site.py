"""The live search served for the browser tests: a SQLite catalogue holding half the shared Pride and
Prejudice set (catalogue/live_network.py) with two live targets, Zebra holding the whole set and a
listener that never answers (tests/support/live_faults.py) with a short timeout. Use it with
``pytest_plugins = ["tests.search_app.live_site"]``; what the tests open is in live_pages.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from search_app.app import make_app
from tests.search_app.catalogue.live_network import load_half_pride, zebra_target
from tests.search_app.live_pages import HUSH_TIMEOUT, LiveSite
from tests.support.live_faults import silent_listener
from tests.support.served_app import ServedApp
from tests.support.zebra import ZebraServer
from unicat.live_search import LiveTarget
from unicat.settings import Settings
from unicat_cli.wiring import open_catalogue, open_live_search


@pytest.fixture(scope="module")
def live_site(tmp_path_factory: pytest.TempPathFactory, zebra: ZebraServer) -> Iterator[LiveSite]:
    folder = tmp_path_factory.mktemp("live-browser")
    settings = Settings(engine_url=f"sqlite:///{folder / 'unicat.db'}", cookie_secure=False)
    catalogue = open_catalogue(settings)
    with silent_listener() as silent:
        try:
            load_half_pride(catalogue, folder)
            catalogue.targets.save_target(zebra_target(zebra))
            catalogue.targets.save_target(
                LiveTarget(
                    "HUSH", "Hushed library", "z3950", silent.z3950_address, "usmarc", timeout=HUSH_TIMEOUT
                )
            )
            app = make_app(catalogue, settings, live=open_live_search(catalogue))
            with ServedApp(app) as served:
                yield LiveSite(served.url, catalogue)
        finally:
            catalogue.close()
