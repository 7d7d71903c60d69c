"""Fixtures shared by every test package: an engine per available implementation, realistic records."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from unicat.engine import Engine
from unicat.engines.sqlite import SqliteEngine
from unicat.model import Holding, SourceRef, UnionRecord
from unicat.settings import Settings

EngineFactory = Callable[..., Engine]


def _sqlite_engine(tmp_path: Path, **settings: Any) -> Engine:
    return SqliteEngine(tmp_path / "engine" / "unicat.db", Settings().replace(**settings))


# Every engine the conformance suite runs against: (id, factory(tmp_path, **settings)).
# The Elasticsearch engine is added here when it exists.
ENGINES: list[tuple[str, Callable[..., Engine]]] = [
    ("sqlite", _sqlite_engine),
]


@pytest.fixture(params=[factory for _, factory in ENGINES], ids=[name for name, _ in ENGINES])
def engine_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EngineFactory]:
    """Opens fresh engines of one implementation (with settings changes); closes them after the test."""
    opened: list[Engine] = []

    def open_engine(**settings: Any) -> Engine:
        engine: Engine = request.param(tmp_path, **settings)
        opened.append(engine)
        return engine

    yield open_engine
    for engine in opened:
        engine.close()


@pytest.fixture
def engine(engine_factory: EngineFactory) -> Engine:
    """A fresh, empty engine with default settings."""
    return engine_factory()


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
