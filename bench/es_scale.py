"""The Elasticsearch union index at catalogue scale: index rate and search latency over the generated corpus.

Run from the repository root::

    .venv/bin/python bench/es_scale.py --es-url http://127.0.0.1:9201 [--records 200000]
    .venv/bin/python bench/es_scale.py --es-url http://a:9200,http://b:9200,http://c:9200 --replicas 1

The corpus (``bench/corpus.py``) is built in memory first, so the index rate measures
``UnionIndex.replace_union_records`` alone (documents, bulk writes, refresh, alias swap) into a fresh
catalogue under its own index prefix; the searches then go through ``UnionIndex.search`` with queries
parsed by ``unicat.query.parse_search_params``, as the web app does, with the rows of
``bench/sqlite_scale.py`` so the two indices compare. ``--answers FILE`` writes every answer (totals,
hit ids, facet counts) to compare two versions of the index on the same corpus. The catalogue is
deleted at the end unless ``--keep``; ``--reuse PREFIX`` searches a kept one without indexing again.
``bench/README.md`` says what each figure means.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.corpus import DEFAULT_SEED, DEFAULT_SIZE, union_records  # noqa: E402
from bench.sqlite_scale import Row, measure  # noqa: E402
from unicat.engines.elasticsearch import ElasticsearchEngine  # noqa: E402
from unicat.settings import Settings  # noqa: E402

DEFAULT_ES_URL = "http://127.0.0.1:9201"


def index(union_index: ElasticsearchEngine, n: int, seed: int) -> float:
    """Records/s of one ``replace_union_records`` of the whole corpus (generated beforehand)."""
    records = list(union_records(n, seed))
    began = time.perf_counter()
    written = union_index.replace_union_records(records)
    seconds = time.perf_counter() - began
    if written.written != n:
        raise SystemExit(f"only {written.written} of {n} records were written")
    return n / seconds


def report(rows: Sequence[Row]) -> str:
    lines = [f"{'row':<24}{'total':>9}{'p50 ms':>9}{'p95 ms':>9}"]
    lines += [f"{row.name:<24}{row.total:>9}{row.p50:>9.1f}{row.p95:>9.1f}" for row in rows]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--es-url", default=DEFAULT_ES_URL, help="node URL (default %(default)s)")
    parser.add_argument(
        "--records", type=int, default=DEFAULT_SIZE, help="union records (default: %(default)s)"
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument(
        "--replicas", type=int, default=0, help="es_replicas, for a cluster named by several node URLs (0)"
    )
    parser.add_argument("--queries", type=int, default=200, help="timed queries per row")
    parser.add_argument("--warmup", type=int, default=20, help="untimed queries before each row")
    parser.add_argument("--answers", type=Path, help="write every answer here as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the catalogue (its prefix is printed)")
    parser.add_argument("--reuse", metavar="PREFIX", help="search a kept catalogue; no index run")
    args = parser.parse_args(argv)
    prefix = args.reuse or f"es-scale-{uuid.uuid4().hex[:8]}"
    url = f"{args.es_url.rstrip('/')}/{prefix}"
    settings = Settings(engine_url=url, es_replicas=args.replicas)
    union_index = ElasticsearchEngine(url, settings)
    try:
        if args.reuse:
            print(f"reusing {prefix}: {union_index.union_count()} union records", file=sys.stderr)
        else:
            rate = index(union_index, args.records, args.seed)
            print(f"index: {args.records} union records, {rate:,.0f} records/s")
        rows, answers = measure(union_index, settings, args.queries, args.warmup)
        print(report(rows))
        if args.answers:
            args.answers.write_text(json.dumps(answers, indent=1, ensure_ascii=False), encoding="utf-8")
    finally:
        if args.keep or args.reuse:
            print(f"kept catalogue {url}", file=sys.stderr)
        else:
            union_index.delete_catalogue()
        union_index.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
