"""Markers for what a test needs beyond Python and SQLite, set from the fixtures it asks for.

So that the quick loop, the unit and SQLite tests alone, is one command (docs/development.md)::

    pytest -m "not elasticsearch and not postgresql and not browser and not peers and not e2e"

A test gets ``elasticsearch`` when it asks for the node or runs a setup whose id names it (the
``elasticsearch`` parameter of the engine and catalogue fixtures), and ``postgresql`` when it asks for
the cluster or runs a catalogue on that setup (its stores are in PostgreSQL); a setup named
``scaled-out`` is both. ``browser`` follows the
Chromium fixtures. What a fixture cannot tell, a test says itself with the marker: the third-party
peers it runs (``peers``; the Z39.50 and SRU servers' fixtures set it), or a server it asks for only
inside its body (``request.getfixturevalue``).
"""

from __future__ import annotations

import pytest

ELASTICSEARCH_FIXTURES = frozenset({"elasticsearch_url", "elasticsearch_cluster"})
POSTGRESQL_FIXTURES = frozenset({"postgres_cluster", "postgres_url", "postgres_database_url"})
BROWSER_FIXTURES = frozenset({"chromedriver", "browser", "open_browser"})
PEER_FIXTURES = frozenset({"ztest", "zebra"})


def needs(item: pytest.Item) -> set[str]:
    """The markers ``item`` needs, from its fixtures and its parameters."""
    names = set(getattr(item, "fixturenames", ()))
    callspec = getattr(item, "callspec", None)
    setup = callspec.id if callspec is not None else ""
    # The engine fixtures alone run Elasticsearch without stores; every catalogue on it keeps its
    # stores in PostgreSQL (tests/conftest.py, tests/search_app/oai/conftest.py).
    engine_only = callspec is not None and "engine_factory" in callspec.params
    engine_only = engine_only and "catalogue_factory" not in names
    scaled_out = "scaled-out" in setup
    found: set[str] = set()
    if names & ELASTICSEARCH_FIXTURES or "elasticsearch" in setup or scaled_out:
        found.add("elasticsearch")
    if names & POSTGRESQL_FIXTURES or "postgresql" in setup or scaled_out:
        found.add("postgresql")
    if "elasticsearch" in setup and not engine_only:
        found.add("postgresql")
    if names & BROWSER_FIXTURES:
        found.add("browser")
    if names & PEER_FIXTURES:
        found.add("peers")
    return found


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for name in sorted(needs(item)):
            item.add_marker(name)
