"""The SQLite union index at catalogue scale: index rate and search latency over the generated corpus.

Run from the repository root: ``.venv/bin/python bench/sqlite_scale.py [-n 200000] [--queries 50]``.
The corpus (``bench/corpus.py``) is built in memory first, so the index rate measures
``UnionIndex.replace_union_records`` alone (the index, not the record store's share of a rebuild);
the searches then go through ``UnionIndex.search`` with queries parsed by
``unicat.query.parse_search_params``, as the web app does. ``--answers FILE`` writes every answer
(totals, hit ids, facet counts) so that two versions of the index can be compared on the same corpus;
``--db FILE`` keeps the database (and reuses it when it exists, skipping the index run).
``bench/README.md`` says what each figure means.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.corpus import DEFAULT_SEED, DEFAULT_SIZE, isbn13, union_records  # noqa: E402
from bench.foundation import percentile  # noqa: E402
from unicat.engines.sqlite import SqliteEngine  # noqa: E402
from unicat.ports.union_index import UnionIndex  # noqa: E402
from unicat.query import SearchResult, parse_search_params  # noqa: E402
from unicat.settings import Settings  # noqa: E402

# (row name, request parameters). The broad word is the commonest title word of the corpus (English
# and French titles of the real data): it matches about a fifth of the catalogue.
CASES: tuple[tuple[str, dict[str, list[str]]], ...] = (
    # Record 4 of seed 1 is a book with an ISBN (the corpus gives 60% of books one).
    ("selective", {"q": [isbn13(4)]}),
    ("broad, no facets", {"q": ["the"], "facets": ["0"]}),
    ("broad + 5 facets", {"q": ["the"]}),
    ("everything + 5 facets", {}),
    ("filtered + 5 facets", {"q": ["history"], "library": ["L01", "L07"], "language": ["eng"]}),
)


@dataclass(frozen=True, slots=True)
class Row:
    name: str
    total: int
    p50: float
    p95: float
    dropped: int


def answer(result: SearchResult) -> dict[str, Any]:
    """What must stay identical across index versions: totals, hit order, facet counts."""
    return {
        "total": result.total,
        "hits": [hit.id for hit in result.hits],
        "facets": {name: [[f.value, f.count] for f in values] for name, values in result.facets.items()},
        "timed_out": sorted(result.facets_timed_out),
    }


def index(union_index: UnionIndex, n: int, seed: int) -> float:
    """Records/s of one ``replace_union_records`` of the whole corpus (generated beforehand)."""
    records = list(union_records(n, seed))
    began = time.perf_counter()
    written = union_index.replace_union_records(records)
    seconds = time.perf_counter() - began
    assert written.written == n
    return n / seconds


def measure(
    union_index: UnionIndex, settings: Settings, queries: int, warmup: int
) -> tuple[list[Row], dict[str, Any]]:
    rows: list[Row] = []
    answers: dict[str, Any] = {}
    for name, params in CASES:
        query = parse_search_params(params, settings)
        for _ in range(warmup):
            union_index.search(query)
        samples: list[float] = []
        dropped = 0
        for _ in range(queries):
            began = time.perf_counter()
            result = union_index.search(query)
            samples.append((time.perf_counter() - began) * 1000)
            dropped += bool(result.facets_timed_out)
        answers[name] = answer(result)
        rows.append(Row(name, result.total, percentile(samples, 0.5), percentile(samples, 0.95), dropped))
    return rows, answers


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=DEFAULT_SIZE, help="union records (default %(default)s)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--queries", type=int, default=50, help="timed queries per row")
    parser.add_argument("--warmup", type=int, default=5, help="untimed queries before each row")
    parser.add_argument("--db", type=Path, help="database file to keep (reused when it exists)")
    parser.add_argument("--answers", type=Path, help="write every answer here as JSON")
    args = parser.parse_args(argv)
    settings = Settings()
    with tempfile.TemporaryDirectory(prefix="unicat-scale-") as tmp:
        path = args.db or Path(tmp) / "unicat.db"
        reuse = path.exists()
        with SqliteEngine(path, settings) as union_index:
            if reuse:
                print(f"reusing {path}: {union_index.union_count()} union records", file=sys.stderr)
            else:
                rate = index(union_index, args.n, args.seed)
                print(f"index: {args.n} union records, {rate:,.0f} records/s")
            rows, answers = measure(union_index, settings, args.queries, args.warmup)
    print(f"{'row':<24}{'total':>9}{'p50 ms':>9}{'p95 ms':>9}{'dropped':>9}")
    for row in rows:
        print(f"{row.name:<24}{row.total:>9}{row.p50:>9.1f}{row.p95:>9.1f}{row.dropped:>9}")
    if args.answers:
        args.answers.write_text(json.dumps(answers, indent=1, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
