"""A whole alert digest run (``unicat alerts send``) at catalogue scale, on both setups.

Run from the repository root::

    .venv/bin/python bench/digests.py [--records 200000] [--candidates 5000]
        [--searches 1000,2500,5000,10000] [--setups sqlite,elasticsearch] [--es-url URL] [--pg-url URL]

:mod:`bench.alerts` times the matching alone; a reader's digest run does more, and this times all of it:
:func:`search_app.alert_digests.send_digests` reads the due searches from the store, finds the
candidates, matches, fetches the listed records, renders each digest (text and HTML, in the reader's
language) and stores each in the outbox in its own transaction with the search's progress.

1. **Two generations.** The corpus of :mod:`bench.corpus` is indexed as the catalogue's first generation
   without the day's ``--candidates`` records: most of them are left out (new titles) and the others
   lose their last library's copy (a new copy of an old title at that library). The second generation
   is the whole corpus, a second later, so the indexer's first dates mark exactly the day's records.
2. **Readers.** Between the two, as many readers as the largest size are created through the accounts
   store, each saves one search (:func:`bench.alerts.search_params`: the searches :mod:`bench.alerts`
   matches) and switches its daily digest on through the alert store, in one of the site's languages.
   Every account gets the same password hash, computed once: hashing is not what is measured.
3. **One run per size.** For each size S, the first S searches are the ones switched on, the outbox holds
   no digest and every progress is back where the readers left it; then ONE ``send_digests`` call runs
   in a fresh process (its peak RSS is the run's): seconds, digests stored, empty ones, peak RSS, and
   where the time went (candidates, matching, records and rendering, outbox writes: timers around those
   steps, a clock read per call). The verdict fails unless the outbox then holds exactly one digest per
   search that found something, a second call stores nothing, and the run took at most 60 s.

Elasticsearch comes from ``--es-url`` or a node the project's own script starts, PostgreSQL from
``--pg-url`` or a throwaway cluster (:mod:`bench.served`); ``bench/README.md`` has the figures.
"""

from __future__ import annotations

import argparse
import dataclasses
import multiprocessing
import random
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.alerts import SAMPLE_EVERY, TARGET_SECONDS, Sample, sample_of, search_params  # noqa: E402
from bench.corpus import DEFAULT_SEED, union_records  # noqa: E402
from bench.foundation import machine, quiet_logging  # noqa: E402
from bench.scale import delete_catalogue, engine_settings  # noqa: E402
from search_app import alert_digests  # noqa: E402
from search_app.i18n import load_catalogues  # noqa: E402
from unicat.accounts import User, hash_password  # noqa: E402
from unicat.catalogue import Catalogue  # noqa: E402
from unicat.clock import utc_now  # noqa: E402
from unicat.model import UnionRecord  # noqa: E402
from unicat.saved_searches import SavedSearch, canonical_query  # noqa: E402
from unicat.settings import SUPPORTED_LANGUAGES, Settings  # noqa: E402
from unicat.stores.alerts import SqlAlertStore  # noqa: E402
from unicat.union_generation import write_union_generation  # noqa: E402
from unicat_cli.wiring import open_catalogue  # noqa: E402

DEFAULT_RECORDS = 200_000
DEFAULT_CANDIDATES = 5_000
DEFAULT_SIZES = (1_000, 2_500, 5_000, 10_000)
# Of the day's records held by several libraries, the share that are a new copy of an old title at one.
NEW_COPIES = 0.2
SITE = "https://catalogue.example.org"


@dataclass(frozen=True, slots=True)
class Corpus:
    """The catalogue's two generations: the readers' searches, and where their alerts start."""

    candidates: int
    new_copies: int
    searches: list[dict[str, list[str]]]
    search_ids: list[int]
    since: str


def _first_generation_copy(record: UnionRecord) -> UnionRecord:
    """``record`` without its last library's copy (that member and its holdings)."""
    gone = record.sources[-1].source
    return dataclasses.replace(
        record,
        sources=record.sources[:-1],
        holdings=[holding for holding in record.holdings if holding.library != gone],
    )


def _next_second(moment: str) -> None:
    """Wait for the clock's next second: a generation stamped then is later than ``moment``."""
    while utc_now() <= moment:
        time.sleep(0.05)


def build(settings: Settings, records: int, candidates: int, searches: int, seed: int) -> Corpus:
    """The two generations, with ``searches`` readers switching their alert on between them."""
    chosen = set(random.Random(seed).sample(range(records), candidates))
    copies = 0
    picked: list[Sample] = []
    others: list[Sample] = []

    def first() -> Iterator[UnionRecord]:
        nonlocal copies
        rng = random.Random(seed + 1)
        for position, record in enumerate(union_records(records, seed)):
            if position in chosen:
                picked.append(sample_of(record))
                if len(record.sources) > 1 and rng.random() < NEW_COPIES:
                    copies += 1
                    yield _first_generation_copy(record)
                continue
            if position % SAMPLE_EVERY == 0:
                others.append(sample_of(record))
            yield record

    with open_catalogue(settings) as catalogue:
        write_union_generation(catalogue.records, catalogue.index, first(), {})
        params = search_params(searches, picked, others, seed)
        search_ids = readers(catalogue, params)
        since = utc_now()
        _next_second(since)
        written = write_union_generation(catalogue.records, catalogue.index, union_records(records, seed), {})
    if written != records:
        raise SystemExit(f"only {written} of {records} records were written")
    return Corpus(candidates, copies, params, search_ids, since)


def readers(catalogue: Catalogue, searches: Sequence[dict[str, list[str]]]) -> list[int]:
    """One reader per search, each with that search saved and its daily digest on; their ids in order."""
    password = hash_password("a reader's password")  # once: hashing is not what is measured
    alerts = SqlAlertStore(catalogue.database)
    ids: list[int] = []
    for number, params in enumerate(searches):
        user = catalogue.accounts.create_user(
            User(f"reader{number}@example.org", f"Reader {number}", password)
        )
        assert user.id is not None
        saved = catalogue.searches.add_search(
            SavedSearch(user.id, f"Search {number}", canonical_query(params)), limit=10
        )
        assert saved.id is not None
        language = SUPPORTED_LANGUAGES[number % len(SUPPORTED_LANGUAGES)]
        alerts.set_alert(user.id, saved.id, "daily", language, utc_now())
        ids.append(saved.id)
    return ids


def reset(catalogue: Catalogue, corpus: Corpus, size: int) -> None:
    """The state the readers left before any run, with only the first ``size`` digests on: no digest in
    the outbox, each search's progress at the end of the first generation."""
    last = corpus.search_ids[size - 1]
    with catalogue.database.write() as conn:
        conn.execute("DELETE FROM outbox WHERE idempotency_key LIKE ?", (f"{alert_digests.KEY_PREFIX}:%",))
        conn.execute(
            "UPDATE saved_searches SET alert_since = ?, alert_period = NULL, "
            "alert = CASE WHEN id <= ? THEN 'daily' ELSE 'off' END",
            (corpus.since, last),
        )


def stored_digests(catalogue: Catalogue) -> list[int]:
    """The search ids of the digests in the outbox, one per message."""
    with catalogue.database.read() as conn:
        rows = conn.execute(
            "SELECT idempotency_key FROM outbox WHERE idempotency_key LIKE ?",
            (f"{alert_digests.KEY_PREFIX}:%",),
        ).fetchall()
    return [int(str(row[0]).split(":")[1]) for row in rows]


@dataclass(slots=True)
class Split:
    """Seconds spent in the steps of a run, by step."""

    seconds: dict[str, float] = field(default_factory=dict)

    def add(self, step: str, seconds: float) -> None:
        self.seconds[step] = self.seconds.get(step, 0.0) + seconds

    @contextmanager
    def timing(self, owner: Any, name: str, step: str) -> Iterator[None]:
        """``owner.name`` timed under ``step`` while the block runs (a generator's time is its
        iteration's)."""
        original: Callable[..., Any] = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            began = time.perf_counter()
            try:
                result = original(*args, **kwargs)
            finally:
                self.add(step, time.perf_counter() - began)
            return self._iterated(result, step) if isinstance(result, Iterator) else result

        setattr(owner, name, timed)
        try:
            yield
        finally:
            setattr(owner, name, original)

    def _iterated(self, items: Iterator[Any], step: str) -> Iterator[Any]:
        while True:
            began = time.perf_counter()
            try:
                item = next(items)
            except StopIteration:
                self.add(step, time.perf_counter() - began)
                return
            self.add(step, time.perf_counter() - began)
            yield item


@dataclass(frozen=True, slots=True)
class Run:
    searches: int
    seconds: float
    stored: int
    empty: int
    peak_rss_mib: float
    split: dict[str, float]
    problems: tuple[str, ...]


def run_digests(settings: Settings, corpus: Corpus, size: int) -> Run:
    """Reset the store for ``size`` searches and time ONE digest run (in this process: call it in a fresh
    one for a peak RSS of its own), then check what it stored."""
    settings = dataclasses.replace(settings, site_url=SITE, alerts_hour=0)
    catalogues = load_catalogues()
    found: set[int] = set()

    def heard(outcome: alert_digests.Outcome) -> None:
        if outcome.total:
            found.add(outcome.search_id)

    split = Split()
    with open_catalogue(settings) as catalogue:
        reset(catalogue, corpus, size)
        now = datetime.now(UTC)
        with (
            split.timing(SqlAlertStore, "new_union_ids", "candidates"),
            split.timing(alert_digests, "Candidates", "matching"),
            split.timing(alert_digests, "match_saved_searches", "matching"),
            split.timing(alert_digests, "_records", "records"),
            split.timing(alert_digests, "_message", "render"),
            split.timing(SqlAlertStore, "record_digest", "outbox"),
        ):
            began = time.perf_counter()
            report = alert_digests.send_digests(catalogue, settings, catalogues, now, notify=heard)
            seconds = time.perf_counter() - began
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        problems: list[str] = []
        if report.due != size:
            problems.append(f"{report.due} searches were due, not {size}")
        stored = stored_digests(catalogue)
        if sorted(stored) != sorted(found) or report.stored != len(found):
            problems.append(
                f"the outbox holds {len(stored)} digests ({len(set(stored))} searches) and the run stored "
                f"{report.stored}, for {len(found)} searches that found something"
            )
        again = alert_digests.send_digests(catalogue, settings, catalogues, now)
        if again.stored or len(stored_digests(catalogue)) != len(stored):
            problems.append(f"a second run stored {again.stored} digests")
    return Run(size, seconds, report.stored, report.empty, peak, split.seconds, tuple(problems))


def measure(settings: Settings, corpus: Corpus, sizes: Sequence[int], repeat: int) -> list[Run]:
    """Each size run ``repeat`` times, each in a fresh process (spawned: none of this one's memory) on
    a store reset for it; the run of median time is kept (the machine may be shared)."""
    context = multiprocessing.get_context("spawn")
    runs: list[Run] = []
    with context.Pool(1, maxtasksperchild=1) as pool:
        for size in sizes:
            tries = [pool.apply(run_digests, (settings, corpus, size)) for _ in range(repeat)]
            run = sorted(tries, key=lambda run: run.seconds)[(len(tries) - 1) // 2]
            runs.append(run)
            spread = (
                f"  (of {repeat}: {min(t.seconds for t in tries):.1f}-{max(t.seconds for t in tries):.1f} s)"
            )
            print(format_run(run) + (spread if repeat > 1 else ""), flush=True)
            for problem in sorted({problem for one in tries for problem in one.problems}):
                print(f"    FAILED: {problem}", flush=True)
    return runs


def format_run(run: Run) -> str:
    steps = ("candidates", "matching", "records", "render", "outbox")
    other = run.seconds - sum(run.split.get(step, 0.0) for step in steps)
    split = "  ".join(f"{step} {run.split.get(step, 0.0):.1f}" for step in steps) + f"  other {other:.1f}"
    return (
        f"  {run.searches:>6} searches  {run.seconds:>7.1f} s  stored {run.stored:>5}  empty {run.empty:>5}  "
        f"peak RSS {run.peak_rss_mib:.0f} MiB  [{split} s]"
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
        "--repeat", type=int, default=1, help="runs per size; the median is shown (%(default)s)"
    )
    args = parser.parse_args(argv)
    quiet_logging()
    sizes = sorted(int(size) for size in args.searches.split(","))
    print(machine().line(), flush=True)
    failures = 0
    for name in args.setups.split(","):
        with (
            tempfile.TemporaryDirectory(prefix=f"unicat-digests-{name}-") as work,
            engine_settings(name, Path(work), args.es_url, args.pg_url) as settings,
        ):
            began = time.perf_counter()
            corpus = build(settings, args.records, args.candidates, sizes[-1], args.seed)
            print(f"{name}: {args.records:,} records in two generations, {corpus.candidates:,} new "
                  f"({corpus.new_copies:,} of them a new copy of an old title), {sizes[-1]:,} readers, "
                  f"in {time.perf_counter() - began:.0f} s", flush=True)  # fmt: skip
            try:
                runs = measure(settings, corpus, sizes, max(1, args.repeat))
                failures += sum(bool(run.problems) or run.seconds > TARGET_SECONDS for run in runs)
            finally:
                with open_catalogue(settings) as catalogue:
                    delete_catalogue(catalogue.index)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
