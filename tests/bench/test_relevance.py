"""The relevance test set on each engine: readers' queries find the record they mean.

The queries and the records they mean are ``bench/data/relevance/queries.toml``, derived from the data
(see its header); the figures are those ``bench/relevance.py`` prints. A misspelt query finds its record
as a reader does, by following "did you mean" once when the search finds nothing; the bound holds over
every query, and over those typed right.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from bench.relevance import (
    CATALOGUES,
    MISSPELLING,
    EngineReport,
    build_sqlite,
    elasticsearch_copies,
    format_report,
    load_queries,
    run_engine,
)

pytestmark = pytest.mark.timeout(900)

MRR_BOUND = 0.9


@pytest.fixture(scope="module")
def data_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The demo catalogue (built by the real ``unicat demo --no-serve``) and the corpus, on SQLite."""
    return build_sqlite(tmp_path_factory.mktemp("relevance"))


@pytest.mark.parametrize(
    "engine",
    # Not named "elasticsearch": tests/support/markers.py would read that id as a catalogue with its
    # stores in PostgreSQL; here the stores stay in SQLite beside the node.
    [
        pytest.param("sqlite", id="sqlite"),
        pytest.param("elasticsearch", id="es", marks=pytest.mark.elasticsearch),
    ],
)
def test_readers_find_what_they_mean(
    data_dirs: dict[str, Path],
    engine: str,
    request: pytest.FixtureRequest,
    capsys: pytest.CaptureFixture[str],
) -> None:
    queries = load_queries()
    assert len(queries) >= 60
    assert {query.catalogue for query in queries} == set(CATALOGUES)
    with contextlib.ExitStack() as stack:
        urls: dict[str, str | None] = dict.fromkeys(data_dirs)
        if engine == "elasticsearch":
            es_url = str(request.getfixturevalue("elasticsearch_url"))
            urls = stack.enter_context(elasticsearch_copies(data_dirs, es_url))
        report = EngineReport(engine, run_engine(queries, data_dirs, urls))
    with capsys.disabled():
        print("\n" + format_report(report))
    assert len(report.outcomes) == len(queries)
    assert report.without_misspellings.queries == sum(query.kind != MISSPELLING for query in queries)
    assert report.without_misspellings.mrr >= MRR_BOUND, format_report(report)
    assert report.overall.mrr >= MRR_BOUND, format_report(report)
