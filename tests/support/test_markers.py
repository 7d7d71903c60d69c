"""The markers of tests/support/markers.py, on a small suite collected by pytest itself: each test is
selected by the servers it asks for, and the quick loop's expression keeps only what needs none."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

CONFTEST = """
import pytest

pytest_plugins = ["tests.support.markers"]


@pytest.fixture(scope="session")
def elasticsearch_url():
    return "http://127.0.0.1:9"


@pytest.fixture(scope="session")
def postgres_cluster():
    return None


@pytest.fixture
def postgres_database_url(postgres_cluster):
    return "postgresql://127.0.0.1:9/test"


@pytest.fixture
def browser():
    return None


@pytest.fixture(params=["sqlite", "elasticsearch"])
def engine_factory(request):
    return request.param


@pytest.fixture
def catalogue_factory(engine_factory):
    return engine_factory
"""

SUITE = """
import pytest


def test_plain():
    pass


def test_node(elasticsearch_url):
    pass


def test_database(postgres_database_url):
    pass


def test_page(browser):
    pass


def test_engine(engine_factory):
    pass


def test_catalogue(catalogue_factory):
    pass


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_store(store):
    pass


@pytest.mark.parametrize("target", ["sqlite", "scaled-out"])
def test_migrate(target):
    pass
"""

QUICK = "not elasticsearch and not postgresql and not browser and not peers and not e2e"


def selected(pytester: pytest.Pytester, expression: str) -> set[str]:
    """The test ids ``-m expression`` selects in the sample suite."""
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_sample=SUITE)
    result = pytester.runpytest("--collect-only", "-q", "-m", expression, "-p", "no:cacheprovider")
    return {line.split("::", 1)[1] for line in result.outlines if line.startswith("test_sample.py::")}


def test_elasticsearch_is_the_node_and_every_setup_on_it(pytester: pytest.Pytester) -> None:
    assert selected(pytester, "elasticsearch") == {
        "test_node",
        "test_engine[elasticsearch]",
        "test_catalogue[elasticsearch]",
        "test_migrate[scaled-out]",
    }


def test_postgresql_is_the_cluster_and_the_stores_beside_elasticsearch(pytester: pytest.Pytester) -> None:
    # The engine alone on Elasticsearch has no stores; a catalogue on it keeps them in PostgreSQL.
    assert selected(pytester, "postgresql") == {
        "test_database",
        "test_catalogue[elasticsearch]",
        "test_store[postgresql]",
        "test_migrate[scaled-out]",
    }


def test_browser_is_the_chromium_fixtures(pytester: pytest.Pytester) -> None:
    assert selected(pytester, "browser") == {"test_page"}


def test_the_quick_loop_keeps_what_needs_no_server(pytester: pytest.Pytester) -> None:
    assert selected(pytester, QUICK) == {
        "test_plain",
        "test_engine[sqlite]",
        "test_catalogue[sqlite]",
        "test_store[sqlite]",
        "test_migrate[sqlite]",
    }
