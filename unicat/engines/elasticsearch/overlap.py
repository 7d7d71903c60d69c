"""Holdings overlap between libraries (:class:`~unicat.overlap.LibraryOverlap`) from aggregations on
the union index's ``libraries`` keyword (the library facet's field), with core features only.

* Totals and pairs: a ``terms`` aggregation on the libraries with a ``terms`` sub-aggregation on the
  same field. A record counts in the bucket of each library holding it, and within that bucket in
  the sub-bucket of each of its libraries: the sub-bucket of another library is what the two share.
  Counts are exact when every library gets a bucket on every shard, so the sizes come from the
  library count (a ``cardinality`` aggregation, near exact at these numbers) and the answer is
  checked: a terms aggregation that left any library out (``sum_other_doc_count``) is asked again
  with room for twice as many. Many libraries are split over several requests by partitions of the
  outer terms, so that no request nears the node's bucket limit (``search.max_buckets``).
* Unique: a ``filters`` aggregation with one filter per library L, "holds L, and no library sorting
  before L, and none after it" — two ``range`` queries on the keyword in ``must_not``, since no
  field counts a record's libraries and the node has no scripts. Keywords compare as UTF-8 bytes,
  which is the order of code points, so "before" and "after" are those of Python's ``<``.

Every request reads the one generation the alias named at the start (a generation is never written
once built), so the numbers are of one index even when a rebuild swaps the alias meanwhile; when the
rebuild then deletes that generation, the counts start again on the new one.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

from elasticsearch import Elasticsearch, NotFoundError

from unicat.engines.elasticsearch.indices import IndexNames, current_union_index
from unicat.engines.elasticsearch.search import FACET_SOURCES
from unicat.errors import EngineError
from unicat.overlap import LibraryOverlap

LIBRARIES = FACET_SOURCES["library"]
# The highest precision the cardinality aggregation takes: below it, its count is exact but for hash
# collisions (and the terms aggregations are checked anyway).
CARDINALITY_PRECISION = 40_000
# Buckets one request may make (the node refuses more than search.max_buckets, 65,536 by default).
MAX_BUCKETS = 10_000
# Libraries whose unique filters go in one request.
FILTERS_PER_REQUEST = 500
# Times a terms aggregation that left libraries out is asked again with room for twice as many.
SIZE_ATTEMPTS = 4


def library_overlap(client: Elasticsearch, names: IndexNames) -> LibraryOverlap:
    """The overlap of the union generation the alias names."""
    try:
        return _overlap_of(client, current_union_index(client, names))
    except NotFoundError:
        # A rebuild deleted the generation the counts began on: count the one it swapped in.
        return _overlap_of(client, current_union_index(client, names))


def _overlap_of(client: Elasticsearch, index: str | None) -> LibraryOverlap:
    """The overlap of union generation ``index`` (``None``: there is no union index yet)."""
    if index is None:
        return LibraryOverlap(records=0)
    answer = client.search(
        index=index,
        size=0,
        track_total_hits=True,
        aggs={
            "libraries": {"cardinality": {"field": LIBRARIES, "precision_threshold": CARDINALITY_PRECISION}}
        },
    )
    records = int(answer["hits"]["total"]["value"])
    estimate = int(answer["aggregations"]["libraries"]["value"])
    if estimate == 0:
        return LibraryOverlap(records=records)
    totals, shared = _totals_and_pairs(client, index, estimate)
    return LibraryOverlap(
        records=records, totals=totals, unique=_unique(client, index, sorted(totals)), shared=shared
    )


def _totals_and_pairs(
    client: Elasticsearch, index: str, estimate: int
) -> tuple[dict[str, int], dict[tuple[str, str], int]]:
    size = estimate + 1
    for _ in range(SIZE_ATTEMPTS):
        found = _pair_counts(client, index, size)
        if found is not None:
            return found
        size *= 2
    raise EngineError(f"the library overlap of {index} stayed incomplete with room for {size // 2} libraries")


def _pair_counts(
    client: Elasticsearch, index: str, size: int
) -> tuple[dict[str, int], dict[tuple[str, str], int]] | None:
    """Totals and pairs with terms aggregations of ``size`` buckets; ``None`` if a library was left out."""
    totals: dict[str, int] = {}
    shared: dict[tuple[str, str], int] = {}
    partitions = max(1, math.ceil(size * size / MAX_BUCKETS))
    for partition in range(partitions):
        outer: dict[str, Any] = {"field": LIBRARIES, "size": size}
        if partitions > 1:
            outer["include"] = {"partition": partition, "num_partitions": partitions}
        aggs = {
            "libraries": {"terms": outer, "aggs": {"with": {"terms": {"field": LIBRARIES, "size": size}}}}
        }
        answer = client.search(index=index, size=0, track_total_hits=False, aggs=aggs)
        terms = answer["aggregations"]["libraries"]
        if terms["sum_other_doc_count"]:
            return None
        for bucket in terms["buckets"]:
            library = str(bucket["key"])
            totals[library] = int(bucket["doc_count"])
            if bucket["with"]["sum_other_doc_count"]:
                return None
            for other in bucket["with"]["buckets"]:
                if library < str(other["key"]):
                    shared[(library, str(other["key"]))] = int(other["doc_count"])
    return totals, shared


def _only(library: str) -> dict[str, Any]:
    """Records whose every library is ``library``."""
    return {
        "bool": {
            "filter": [{"term": {LIBRARIES: library}}],
            "must_not": [{"range": {LIBRARIES: {"lt": library}}}, {"range": {LIBRARIES: {"gt": library}}}],
        }
    }


def _unique(client: Elasticsearch, index: str, libraries: Sequence[str]) -> dict[str, int]:
    unique: dict[str, int] = {}
    for batch in _batches(libraries, FILTERS_PER_REQUEST):
        aggs = {"unique": {"filters": {"filters": {library: _only(library) for library in batch}}}}
        answer = client.search(index=index, size=0, track_total_hits=False, aggs=aggs)
        for library, bucket in answer["aggregations"]["unique"]["buckets"].items():
            if bucket["doc_count"]:
                unique[str(library)] = int(bucket["doc_count"])
    return unique


def _batches(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
