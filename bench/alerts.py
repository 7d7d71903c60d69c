"""Saved searches matched against a day's new records (alerts), at catalogue scale, on both setups.

Run from the repository root::

    .venv/bin/python bench/alerts.py [--records 200000] [--candidates 5000] [--searches 1000,2500,5000,10000]
        [--setups sqlite,elasticsearch] [--es-url URL] [--pg-url URL] [--check 200]

1. **Catalogue.** :mod:`corpus` grows ``--records`` union records from the real records of
   ``shared/data``; they are written to a fresh catalogue of each setup (SQLite alone; or Elasticsearch
   for the union index with PostgreSQL for the stores) by ``UnionIndex.replace_union_records``.
   ``--candidates`` of them, drawn by the seed, are the day's new or changed records.
2. **Saved searches**, generated from the seed as readers search (:func:`saved_searches`): 1-3 words
   of a title, an author or a subject of a record of the corpus (some of them a candidate), some with
   a filter (language, format, held_at, a year range), some with a field prefix or ``word*``, a few
   with OR or NOT, a few of words no record has. Parsed by ``unicat.query.parse_search_params``.
3. **Matching** (:func:`unicat.alert_matching.match_saved_searches`) of the first 1,000, 2,500… of
   them, each size in a process of its own so its peak RSS (``resource.getrusage``) is the matching's:
   seconds, searches/s, searches the prefilter answered without a query, matches found; ``--workers``
   searches at a time, ``--repeat`` runs per size of which the median is shown.
   ``--check N`` also matches the first N searches without the prefilter and fails unless every
   answer is the same.

Elasticsearch comes from ``--es-url`` or a node the project's own script starts, PostgreSQL from
``--pg-url`` or a throwaway cluster (:mod:`bench.served`); ``bench/README.md`` has the figures.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import resource
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.corpus import DEFAULT_SEED, union_records  # noqa: E402
from bench.foundation import machine, quiet_logging  # noqa: E402
from bench.scale import delete_catalogue, engine_settings  # noqa: E402
from unicat.alert_matching import SavedSearch, load_candidates, match_saved_searches  # noqa: E402
from unicat.analysis import tokens  # noqa: E402
from unicat.model import UnionRecord  # noqa: E402
from unicat.query import parse_search_params  # noqa: E402
from unicat.settings import Settings  # noqa: E402
from unicat_cli.wiring import open_catalogue  # noqa: E402

DEFAULT_RECORDS = 200_000
DEFAULT_CANDIDATES = 5_000
DEFAULT_SIZES = (1_000, 2_500, 5_000, 10_000)
TARGET_SECONDS = 60.0
# Every how many records one is kept as a source of search words (besides every candidate).
SAMPLE_EVERY = 20
# Share of the searches drawn from a candidate's words; the rest from any record of the corpus.
FROM_CANDIDATE = 0.3


@dataclass(frozen=True, slots=True)
class Sample:
    """What a reader may search for a record by."""

    title: tuple[str, ...]
    authors: tuple[str, ...]
    subjects: tuple[str, ...]
    language: str | None
    format: str | None
    libraries: tuple[str, ...]
    year: int | None


def sample_of(record: UnionRecord) -> Sample:
    return Sample(
        title=tuple(tokens(record.title)),
        authors=tuple(word for name in record.authors[:1] for word in tokens(name.split(",")[0])),
        subjects=tuple(tokens(record.subjects[0].split(" -- ")[0])) if record.subjects else (),
        language=record.language,
        format=record.format,
        libraries=tuple(holding.library for holding in record.holdings),
        year=record.year,
    )


def build(
    settings: Settings, records: int, candidates: int, seed: int
) -> tuple[list[str], list[Sample], list[Sample]]:
    """Write the corpus to the setup's union index; the candidates' ids, their samples and others'."""
    chosen = set(random.Random(seed).sample(range(records), candidates))
    ids: list[str] = []
    picked: list[Sample] = []
    others: list[Sample] = []

    def stream() -> Iterator[UnionRecord]:
        for position, record in enumerate(union_records(records, seed)):
            if position in chosen:
                ids.append(record.id)
                picked.append(sample_of(record))
            elif position % SAMPLE_EVERY == 0:
                others.append(sample_of(record))
            yield record

    catalogue = open_catalogue(settings)
    try:
        written = catalogue.index.replace_union_records(stream())
    finally:
        catalogue.close()
    if written.written != records:
        raise SystemExit(f"only {written.written} of {records} records were written")
    return ids, picked, others


def _words(rng: random.Random, words: Sequence[str]) -> list[str]:
    # Readers type the longer words of a title, not its articles.
    useful = [word for word in words if len(word) > 2] or list(words)
    count = min(len(useful), rng.choice((1, 1, 2, 2, 2, 3)))
    start = rng.randrange(len(useful) - count + 1)
    return useful[start : start + count]


def saved_search(rng: random.Random, sample: Sample, number: int) -> dict[str, list[str]]:
    """The request parameters of one reader's search about ``sample``."""
    kind = rng.random()
    params: dict[str, list[str]] = {}
    if kind < 0.04:
        params["q"] = [f"zqxw{number} {rng.choice(sample.title or ('x',))}"]  # finds nothing
    elif kind < 0.20 and sample.authors:
        params["q"] = [" ".join(f"au:{word}" if rng.random() < 0.5 else word for word in sample.authors[:2])]
    elif kind < 0.35 and sample.subjects:
        params["q"] = [" ".join(f"su:{word}" for word in _words(rng, sample.subjects))]
    elif kind < 0.42 and len(sample.title) > 1:
        useful = [word for word in sample.title if len(word) > 2]
        first, second = rng.sample(useful, 2) if len(useful) > 1 else sample.title[:2]
        params["q"] = [f"{first} OR {second}" if rng.random() < 0.5 else f"{first} -{second}"]
    elif kind < 0.50 and sample.title:
        word = max(sample.title, key=len)
        params["q"] = [f"{word[: max(3, len(word) - 2)]}*"]
    else:
        words = _words(rng, sample.title) if sample.title else ["history"]
        params["q"] = [" ".join(f"ti:{w}" for w in words) if rng.random() < 0.15 else " ".join(words)]
    extra = rng.random()
    if extra < 0.10 and sample.language:
        params["language"] = [sample.language]
    elif extra < 0.18 and sample.format:
        params["format"] = [sample.format]
    elif extra < 0.26 and sample.libraries:
        params["held_at"] = [rng.choice(sample.libraries)]
    elif extra < 0.32 and sample.year:
        params["year"] = [f"{sample.year - rng.randrange(10)}-{sample.year + rng.randrange(10)}"]
    if rng.random() < 0.3:
        params["sort"] = [rng.choice(("year_desc", "title"))]
    return params


def search_params(
    count: int, picked: Sequence[Sample], others: Sequence[Sample], seed: int
) -> list[dict[str, list[str]]]:
    """The request parameters of ``count`` readers' searches, drawn from the seed (the same for every
    benchmark of alerts: :mod:`bench.digests` saves them for readers)."""
    rng = random.Random(seed * 7919 + 1)
    found: list[dict[str, list[str]]] = []
    for number in range(count):
        sample = rng.choice(picked if rng.random() < FROM_CANDIDATE else others)
        found.append(saved_search(rng, sample, number))
    return found


def saved_searches(
    count: int, picked: Sequence[Sample], others: Sequence[Sample], seed: int, settings: Settings
) -> list[SavedSearch]:
    return [
        SavedSearch(f"s{number}", parse_search_params(params, settings))
        for number, params in enumerate(search_params(count, picked, others, seed))
    ]


@dataclass(frozen=True, slots=True)
class Run:
    searches: int
    seconds: float
    skipped: int
    matched: int
    matches: int
    peak_rss_mib: float

    @property
    def rate(self) -> float:
        return self.searches / self.seconds


def run_matching(
    settings: Settings, ids: Sequence[str], searches: Sequence[SavedSearch], workers: int = 1
) -> Run:
    """Match ``searches`` (in this process: call it in a fresh one for a peak RSS of its own)."""
    catalogue = open_catalogue(settings)
    try:
        began = time.perf_counter()
        candidates = load_candidates(catalogue.index, ids)
        skipped = matched = matches = 0
        for batch in match_saved_searches(catalogue.index, searches, candidates, workers=workers):
            for answer in batch:
                skipped += not answer.queried
                matched += answer.total > 0
                matches += answer.total
        seconds = time.perf_counter() - began
    finally:
        catalogue.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return Run(len(searches), seconds, skipped, matched, matches, peak)


def check(settings: Settings, ids: Sequence[str], searches: Sequence[SavedSearch]) -> int:
    """How many of ``searches`` answer differently with and without the prefilter (must be 0)."""
    catalogue = open_catalogue(settings)
    try:
        candidates = load_candidates(catalogue.index, ids)
        with_prefilter = [
            m for batch in match_saved_searches(catalogue.index, searches, candidates) for m in batch
        ]
        without = [
            m
            for batch in match_saved_searches(catalogue.index, searches, candidates, prefilter=False)
            for m in batch
        ]
    finally:
        catalogue.close()
    return sum((a.total, a.first) != (b.total, b.first) for a, b in zip(with_prefilter, without, strict=True))


def measure(
    settings: Settings,
    ids: Sequence[str],
    searches: Sequence[SavedSearch],
    sizes: Sequence[int],
    workers: int,
    repeat: int,
) -> list[Run]:
    """Each size matched ``repeat`` times, each in a fresh process (spawned: none of this one's
    memory); the run of median time is kept (the machine may be shared)."""
    context = multiprocessing.get_context("spawn")
    runs: list[Run] = []
    with context.Pool(1, maxtasksperchild=1) as pool:
        for size in sizes:
            tries = [
                pool.apply(run_matching, (settings, list(ids), list(searches[:size]), workers))
                for _ in range(repeat)
            ]
            run = sorted(tries, key=lambda run: run.seconds)[(len(tries) - 1) // 2]
            runs.append(run)
            spread = (
                f"  (of {repeat}: {min(t.seconds for t in tries):.1f}-{max(t.seconds for t in tries):.1f} s)"
            )
            print(format_run(run) + (spread if repeat > 1 else ""), flush=True)
    return runs


def format_run(run: Run) -> str:
    return (
        f"  {run.searches:>6} searches  {run.seconds:>7.1f} s  {run.rate:>7.0f} searches/s  "
        f"skipped {run.skipped:>5}  matching {run.matched:>5} ({run.matches} matches)  "
        f"peak RSS {run.peak_rss_mib:.0f} MiB"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=DEFAULT_RECORDS)
    parser.add_argument("--candidates", type=int, default=DEFAULT_CANDIDATES)
    parser.add_argument(
        "--searches", default=",".join(map(str, DEFAULT_SIZES)), help="sizes, comma-separated"
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--setups", default="sqlite,elasticsearch")
    parser.add_argument("--es-url", help="an Elasticsearch node to use instead of starting one")
    parser.add_argument("--pg-url", help="an empty PostgreSQL database to use instead of starting a cluster")
    parser.add_argument(
        "--check", type=int, default=0, help="searches compared with and without the prefilter"
    )
    parser.add_argument("--workers", type=int, default=2, help="searches run at once (default %(default)s)")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per size; the median is shown (%(default)s)"
    )
    args = parser.parse_args(argv)
    quiet_logging()
    sizes = sorted(int(size) for size in args.searches.split(","))
    print(machine().line(), flush=True)
    failures = 0
    for name in args.setups.split(","):
        with (
            tempfile.TemporaryDirectory(prefix=f"unicat-alerts-{name}-") as work,
            engine_settings(name, Path(work), args.es_url, args.pg_url) as settings,
        ):
            began = time.perf_counter()
            ids, picked, others = build(settings, args.records, args.candidates, args.seed)
            print(f"{name}: {args.records:,} records written in {time.perf_counter() - began:.0f} s, "
                  f"{len(ids):,} candidates", flush=True)  # fmt: skip
            searches = saved_searches(sizes[-1], picked, others, args.seed, settings)
            try:
                runs = measure(settings, ids, searches, sizes, args.workers, max(1, args.repeat))
                if args.check:
                    differ = check(settings, ids, searches[: args.check])
                    print(f"  prefilter check: {differ} of {min(args.check, len(searches))} answers differ")
                    failures += differ
                failures += sum(run.seconds > TARGET_SECONDS for run in runs)
            finally:
                catalogue = open_catalogue(settings)
                delete_catalogue(catalogue.index)
                catalogue.close()
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
