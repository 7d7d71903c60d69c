"""What keeps the Elasticsearch engine's library overlap exact (unicat/engines/elasticsearch/overlap.py):
a library count that comes out low is corrected, many libraries are split over several requests, and
a generation deleted under the counts is counted again on the new one."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.unicat.engines.test_engine_overlap import expected_overlap
from unicat.engines.elasticsearch import ElasticsearchEngine, indices, overlap
from unicat.model import UnionRecord
from unicat.settings import Settings

pytestmark = pytest.mark.elasticsearch

MakeRecord = Callable[..., UnionRecord]
LIBRARIES = 120


@pytest.fixture
def es(elasticsearch_url: str) -> Iterator[ElasticsearchEngine]:
    url = f"{elasticsearch_url}/test-overlap-{uuid.uuid4().hex[:12]}"
    engine = ElasticsearchEngine(url, Settings(engine_url=url))
    yield engine
    engine.delete_catalogue()
    engine.close()


@pytest.fixture
def many(es: ElasticsearchEngine, make_union_record: MakeRecord) -> list[UnionRecord]:
    """Record n is held by library n and by libraries 0..n mod 7, of 120."""
    codes = [f"L{number:03d}" for number in range(LIBRARIES)]
    records = [
        make_union_record(f"r{n}", f"Title {n}", libraries=sorted({codes[n], *codes[: n % 7 + 1]}))
        for n in range(LIBRARIES)
    ]
    es.replace_union_records(records)
    return records


def test_a_low_library_count_is_asked_again_with_more_room(
    es: ElasticsearchEngine, many: list[UnionRecord], monkeypatch: pytest.MonkeyPatch
) -> None:
    totals_and_pairs, pair_counts = overlap._totals_and_pairs, overlap._pair_counts
    sizes: list[int] = []

    def recorded(client: Any, index: str, size: int) -> Any:
        sizes.append(size)
        return pair_counts(client, index, size)

    monkeypatch.setattr(overlap, "_pair_counts", recorded)
    monkeypatch.setattr(
        overlap,
        "_totals_and_pairs",
        lambda client, index, estimate: totals_and_pairs(client, index, estimate // 3),
    )
    assert es.library_overlap() == expected_overlap(many)
    assert len(sizes) > 1 and sizes[0] < LIBRARIES <= sizes[-1]


def test_many_libraries_are_split_over_partitions(
    es: ElasticsearchEngine, many: list[UnionRecord], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(overlap, "MAX_BUCKETS", 500)  # some 30 partitions of about 4 libraries
    monkeypatch.setattr(overlap, "FILTERS_PER_REQUEST", 7)
    assert es.library_overlap() == expected_overlap(many)


def test_a_generation_deleted_meanwhile_is_counted_again(
    es: ElasticsearchEngine, many: list[UnionRecord], monkeypatch: pytest.MonkeyPatch
) -> None:
    current = indices.current_union_index
    answers = iter(["no-such-generation"])
    monkeypatch.setattr(
        overlap, "current_union_index", lambda client, names: next(answers, None) or current(client, names)
    )
    assert es.library_overlap() == expected_overlap(many)
