"""Suggestions as you type and "did you mean" at catalogue scale, on each engine.

Run from the repository root::

    .venv/bin/python bench/suggest.py [--records 200000] [--engines sqlite,elasticsearch] [--es-url URL]

The corpus (``bench/corpus.py``) is indexed once per engine with ``UnionIndex.replace_union_records``
(which writes the words and headings with the generation). Then, as readers type: headings of the
corpus drawn at random (titles, authors, subjects), each typed letter by letter (the first 12 letters
of its analysed form), every prefix sent to ``UnionIndex.suggest`` (limit 8) as ``/api/suggest`` does;
p50/p95/max per engine. The speller is built from ``UnionIndex.vocabulary()`` (read + build seconds,
words) and corrects words of the corpus with one letter dropped (p50/p95 of ``Speller.correct_text``,
and how many it put right). Elasticsearch comes from ``--es-url`` or a node the project's own script
starts; ``bench/README.md`` says what each figure means.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.corpus import DEFAULT_SEED, union_records  # noqa: E402
from bench.foundation import percentile  # noqa: E402
from bench.served import elasticsearch  # noqa: E402
from unicat.analysis import analyze  # noqa: E402
from unicat.engines.elasticsearch import ElasticsearchEngine  # noqa: E402
from unicat.engines.sqlite import SqliteEngine  # noqa: E402
from unicat.model import UnionRecord  # noqa: E402
from unicat.ports.union_index import UnionIndex  # noqa: E402
from unicat.settings import Settings  # noqa: E402
from unicat.speller import MIN_WORD_LENGTH, Speller  # noqa: E402

LIMIT = 8
TYPED_LETTERS = 12


def typed_prefixes(records: Sequence[UnionRecord], headings: int, seed: int) -> list[str]:
    """Every prefix a reader types on the way to ``headings`` headings drawn from the records."""
    rng = random.Random(seed)
    prefixes: list[str] = []
    for _ in range(headings):
        record = rng.choice(records)
        texts = [record.title, *record.authors, *record.subjects]
        key = analyze(rng.choice(texts))
        prefixes += [key[:length] for length in range(1, min(len(key), TYPED_LETTERS) + 1)]
    return prefixes


def misspellings(vocabulary: dict[str, int], count: int, seed: int) -> list[tuple[str, str]]:
    """(misspelt, right) pairs: words of the catalogue with one inner letter dropped, where the result
    is no word of the catalogue itself."""
    rng = random.Random(seed)
    words = sorted(word for word in vocabulary if len(word) > MIN_WORD_LENGTH and word.isalpha())
    pairs: list[tuple[str, str]] = []
    while words and len(pairs) < count:
        word = rng.choice(words)
        cut = rng.randrange(1, len(word) - 1)
        wrong = word[:cut] + word[cut + 1 :]
        if wrong not in vocabulary:
            pairs.append((wrong, word))
    return pairs


def run(name: str, union_index: UnionIndex, records: list[UnionRecord], args: argparse.Namespace) -> None:
    began = time.perf_counter()
    union_index.replace_union_records(records)
    print(f"{name}: indexed {len(records):,} records in {time.perf_counter() - began:.1f} s")
    prefixes = typed_prefixes(records, args.headings, args.seed)
    for prefix in prefixes[: args.warmup]:
        union_index.suggest(prefix, LIMIT)
    samples = []
    for prefix in prefixes:
        began = time.perf_counter()
        union_index.suggest(prefix, LIMIT)
        samples.append((time.perf_counter() - began) * 1000)
    print(
        f"{name}: suggest, {len(samples):,} typed prefixes: p50 {percentile(samples, 0.5):.2f} ms, "
        f"p95 {percentile(samples, 0.95):.2f} ms, max {max(samples):.1f} ms"
    )
    began = time.perf_counter()
    vocabulary = union_index.vocabulary()
    read = time.perf_counter() - began
    speller = Speller(vocabulary)
    built = time.perf_counter() - began - read
    pairs = misspellings(vocabulary, args.misspellings, args.seed)
    timings, right = [], 0
    for wrong, word in pairs:
        began = time.perf_counter()
        corrected = speller.correct_text(wrong)
        timings.append((time.perf_counter() - began) * 1000)
        right += corrected == word
    print(
        f"{name}: speller, {len(vocabulary):,} words read in {read:.2f} s, built in {built:.2f} s; "
        f"{len(pairs)} misspellings: p50 {percentile(timings, 0.5):.2f} ms, "
        f"p95 {percentile(timings, 0.95):.2f} ms, "
        f"{right} corrected to the word they came from"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=20_000, help="union records (default %(default)s)")
    parser.add_argument("--engines", default="sqlite,elasticsearch")
    parser.add_argument("--es-url", help="an Elasticsearch node to use instead of starting one")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--headings", type=int, default=300, help="headings typed letter by letter")
    parser.add_argument("--warmup", type=int, default=50, help="untimed prefixes first")
    parser.add_argument("--misspellings", type=int, default=300)
    args = parser.parse_args(argv)
    records = list(union_records(args.records, args.seed))
    for name in args.engines.split(","):
        if name == "sqlite":
            with (
                tempfile.TemporaryDirectory(prefix="unicat-suggest-") as tmp,
                SqliteEngine(Path(tmp) / "unicat.db", Settings()) as union_index,
            ):
                run(name, union_index, records, args)
        elif name == "elasticsearch":
            with elasticsearch(args.es_url) as node:
                url = f"{node}/bench-suggest-{uuid.uuid4().hex[:8]}"
                engine = ElasticsearchEngine(url, Settings(engine_url=url))
                try:
                    run(name, engine, records, args)
                finally:
                    engine.delete_catalogue()
                    engine.close()
        else:
            parser.error(f"unknown engine {name!r}: sqlite or elasticsearch")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
