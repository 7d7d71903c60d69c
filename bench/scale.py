"""The scale benchmark: a 200,000-edition union catalogue on both engines, in one run.

Run from the repository root::

    .venv/bin/python bench/scale.py [--records 200000] [--engines sqlite,elasticsearch] [--es-url URL]
        [--pg-url URL]

1. **Corpus.** :mod:`corpus` grows ``--records`` editions from the real records of ``shared/data``,
   with holdings over 40 libraries. Each library gets its own ISO 2709 file holding its copy of each
   edition it holds (its own 001, its own 852, the edition's ISBN and a shared 035 system number, as
   copy cataloguing leaves them), so the indexer must merge the copies back into union records. The
   files are cached under ``~/.cache/unicat/scale-corpus-v*`` by generator version, size and seed.
2. **Raw pymarc** parses the same files (``MARCReader(to_unicode=True, permissive=True)``): the
   ceiling the indexer is compared with.
3. **Per engine**: a fresh catalogue (SQLite alone; or Elasticsearch for the union index with
   PostgreSQL for the stores, the scaled-out setup); every library file imported as its own source
   (``import_files``), then ``run_index`` ``--index-runs`` times (3), each from an empty union index:
   MARC → searchable, in source records/s, per phase, the median of the passes (on a machine shared
   with other processes, single runs of the same code differ by up to a third).
4. **Search latency** at the union index (``UnionIndex.search`` in process): a selective query (one ISBN), a
   broad query without facets, and the broad query with all five facets; p50/p95 over ``--queries``
   queries after a warm-up.

Elasticsearch comes from ``--es-url`` or, by default, a node the project's own script starts
(``tests/support/es_node.py``), stopped at the end; PostgreSQL from ``--pg-url`` (an empty database)
or a throwaway cluster of the project's own.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import pymarc

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.corpus import BLOCK, LIBRARIES, _block, marc_record  # noqa: E402
from bench.foundation import machine, percentile, pymarc_parse, quiet_logging  # noqa: E402
from bench.served import elasticsearch, postgresql  # noqa: E402
from harvester.importer import import_files  # noqa: E402
from indexer import run_index  # noqa: E402
from unicat.catalogue import Catalogue  # noqa: E402
from unicat.model import Source, UnionRecord  # noqa: E402
from unicat.ports.union_index import UnionIndex  # noqa: E402
from unicat.query import parse_search_params  # noqa: E402
from unicat.settings import Settings  # noqa: E402
from unicat.union_generation import write_union_generation  # noqa: E402
from unicat_cli.wiring import open_catalogue  # noqa: E402

DEFAULT_RECORDS = 200_000
DEFAULT_SEED = 1
SYSTEM_NUMBER_ORG = "UNICATBENCH"
# Raised whenever bench/corpus.py changes what it generates, so a cached corpus is never stale.
CORPUS_VERSION = 2
BROAD_QUERY = "de"
TARGETS = {
    ("elasticsearch", "index"): ">= 5,000 rec/s",
    ("elasticsearch", "broad + 5 facets"): "p95 <= 50 ms",
    ("sqlite", "broad + 5 facets"): "p95 <= 150 ms",
}


def _library_copy(record: UnionRecord, library: str) -> pymarc.Record:
    """One library's own record of an edition: its holding only, its local id, the shared 035."""
    copy = replace(
        record,
        id=f"{library.lower()}-{record.id}",
        holdings=[holding for holding in record.holdings if holding.library == library],
    )
    marc: pymarc.Record = marc_record(copy)
    marc.add_ordered_field(
        pymarc.Field(
            tag="035",
            indicators=pymarc.Indicators(" ", " "),
            subfields=[pymarc.Subfield("a", f"({SYSTEM_NUMBER_ORG}){record.id}")],
        )
    )
    return marc


def _library_block(start: int, stop: int, seed: int) -> dict[str, bytes]:
    chunks: dict[str, list[bytes]] = {}
    for record in _block(start, stop, seed):
        for library in record.libraries:
            chunks.setdefault(library, []).append(_library_copy(record, library).as_marc())
    return {library: b"".join(parts) for library, parts in chunks.items()}


def library_files(records: int, seed: int, cache: Path) -> list[Path]:
    """The per-library MARC files of the corpus, made once per (records, seed) and cached."""
    folder = cache / f"scale-corpus-v{CORPUS_VERSION}-{records}-{seed}"
    done = folder / "COMPLETE"
    if not done.exists():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        starts = range(0, records, BLOCK)
        handles = {lib.code: (folder / f"{lib.code}.mrc").open("wb") for lib in LIBRARIES}
        try:
            with ProcessPoolExecutor(os.cpu_count() or 1) as pool:
                stops = [min(records, start + BLOCK) for start in starts]
                for block in pool.map(_library_block, starts, stops, [seed] * len(starts)):
                    for library, data in block.items():
                        handles[library].write(data)
        finally:
            for handle in handles.values():
                handle.close()
        done.write_text("ok\n")
    return sorted(path for path in folder.glob("*.mrc") if path.stat().st_size)


@dataclass(slots=True)
class EngineRun:
    engine: str
    source_records: int = 0
    union_records: int = 0
    merged_clusters: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    index_passes: list[float] = field(default_factory=list)
    latencies: dict[str, dict[str, float]] = field(default_factory=dict)

    def rate(self, phase: str) -> float:
        seconds = self.seconds.get(phase, 0.0)
        return self.source_records / seconds if seconds else 0.0


def build(catalogue: Catalogue, files: Sequence[Path], run: EngineRun, index_runs: int) -> None:
    """Import every library file as its own source, then index ``index_runs`` times, each from an
    empty union index (emptied untimed, with the generation the store keeps of it): MARC →
    searchable. Phases are the medians over the runs."""
    store = catalogue.records
    started = time.perf_counter()
    for path in files:
        source = Source(code=path.stem, name=f"Member library {path.stem}", profile="marc21")
        store.save_source(source)
        run.source_records += import_files(store, source, [path]).records
    run.seconds["import"] = time.perf_counter() - started
    passes: list[dict[str, float]] = []
    for number in range(index_runs):
        if number:
            write_union_generation(store, catalogue.index, [], {})
        index_started = time.perf_counter()
        report = run_index(store, catalogue.index)
        passes.append({**report.seconds, "index": time.perf_counter() - index_started})
        print(
            f"  {run.engine} index pass {number + 1}: {passes[-1]['index']:.1f}s", file=sys.stderr, flush=True
        )
    for phase in passes[0]:
        run.seconds[phase] = statistics.median(p[phase] for p in passes)
    run.index_passes = [p["index"] for p in passes]
    run.seconds["end_to_end"] = run.seconds["import"] + run.seconds["index"]
    run.union_records = report.union_records
    run.merged_clusters = report.merged_clusters


def latencies(index: UnionIndex, settings: Settings, isbn: str, queries: int, warmup: int) -> dict[str, Any]:
    cases = {
        "selective": {"q": [isbn]},
        "broad": {"q": [BROAD_QUERY], "facets": ["0"]},
        "broad + 5 facets": {"q": [BROAD_QUERY]},
    }
    rows: dict[str, Any] = {}
    for name, params in cases.items():
        query = parse_search_params(params, settings)
        for _ in range(warmup):
            index.search(query)
        samples = []
        hits = set()
        for _ in range(queries):
            started = time.perf_counter()
            result = index.search(query)
            samples.append(time.perf_counter() - started)
            hits.add(result.total)
        rows[name] = {
            "hits": hits.pop() if len(hits) == 1 else -1,
            "p50_ms": percentile(samples, 0.5) * 1000,
            "p95_ms": percentile(samples, 0.95) * 1000,
            "mean_ms": statistics.fmean(samples) * 1000,
            "facets_dropped": 0,
        }
    return rows


@contextlib.contextmanager
def engine_settings(name: str, work: Path, es_url: str | None, pg_url: str | None) -> Iterator[Settings]:
    """The settings of a fresh catalogue of setup ``name``: SQLite alone, or a new catalogue on the
    Elasticsearch node ``es_url`` (or one of the project's own) with its stores in ``pg_url`` (or a
    new database of a throwaway cluster)."""
    if name == "sqlite":
        yield Settings(data_dir=work, engine_url=f"sqlite:///{work / 'scale.db'}")
        return
    with elasticsearch(es_url) as node, postgresql(pg_url) as database:
        yield Settings(data_dir=work, engine_url=f"{node}/bench-{uuid.uuid4().hex[:8]}", store_url=database)


def delete_catalogue(index: UnionIndex) -> None:
    drop = getattr(index, "delete_catalogue", None)
    if callable(drop):
        drop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=DEFAULT_RECORDS, help="editions (200,000)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--engines", default="sqlite,elasticsearch")
    parser.add_argument("--es-url", help="an Elasticsearch node to use instead of starting one")
    parser.add_argument("--pg-url", help="an empty PostgreSQL database to use instead of starting a cluster")
    parser.add_argument(
        "--index-runs", type=int, default=3, help="index passes per engine; phases are their medians (3)"
    )
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "unicat")
    parser.add_argument("--json", type=Path, help="write every figure to this file")
    args = parser.parse_args(argv)
    quiet_logging()

    print(machine().line(), flush=True)
    started = time.perf_counter()
    files = library_files(args.records, args.seed, args.cache)
    print(f"Corpus: {args.records:,} editions over {len(files)} library files "
          f"(made or reused in {time.perf_counter() - started:.1f}s)", flush=True)  # fmt: skip
    raw = pymarc_parse(files)
    raw_rate = raw.records / raw.seconds
    print(f"raw pymarc: {raw.records:,} records in {raw.seconds:.1f}s = {raw_rate:,.0f} rec/s", flush=True)
    isbn = next(record.isbns[0] for record in _block(0, BLOCK, args.seed) if record.isbns)

    runs: list[EngineRun] = []
    for name in args.engines.split(","):
        with (
            tempfile.TemporaryDirectory(prefix=f"unicat-scale-{name}-") as work_dir,
            engine_settings(name, Path(work_dir), args.es_url, args.pg_url) as settings,
        ):
            catalogue = open_catalogue(settings)
            try:
                run = EngineRun(name)
                build(catalogue, files, run, max(1, args.index_runs))
                run.latencies = latencies(catalogue.index, settings, isbn, args.queries, args.warmup)
                runs.append(run)
            finally:
                delete_catalogue(catalogue.index)
                catalogue.close()
        print(format_run(run, raw_rate), flush=True)
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "machine": asdict(machine()),
                    "raw_pymarc_rate": raw_rate,
                    "runs": [asdict(r) for r in runs],
                },
                indent=2,
            )
        )
    return 0


def format_run(run: EngineRun, raw_rate: float) -> str:
    lines = [
        f"\n{run.engine}: {run.source_records:,} source records → {run.union_records:,} union records "
        f"({run.merged_clusters:,} merged from several libraries)",
        f"  {'phase':<28} {'seconds':>9} {'rec/s':>10}",
    ]
    for phase in ("import", "parse", "normalise_merge", "write", "index", "end_to_end"):
        if phase in run.seconds:
            lines.append(f"  {phase:<28} {run.seconds[phase]:>9.1f} {run.rate(phase):>10,.0f}")
    if len(run.index_passes) > 1:
        rates = sorted(run.source_records / seconds for seconds in run.index_passes)
        lines.append(
            f"  index: median of {len(rates)} passes; min {rates[0]:,.0f} / max {rates[-1]:,.0f} rec/s"
        )
    lines.append(
        f"  index (MARC → searchable, after import) / raw pymarc parse: {run.rate('index') / raw_rate:.2f}x"
    )
    target = TARGETS.get((run.engine, "index"))
    if target:
        lines.append(f"  target index: {target}")
    lines.append(f"  {'search':<20} {'hits':>8} {'p50 ms':>8} {'p95 ms':>8}  target")
    for case, row in run.latencies.items():
        lines.append(
            f"  {case:<20} {row['hits']:>8,} {row['p50_ms']:>8.1f} {row['p95_ms']:>8.1f}  "
            f"{TARGETS.get((run.engine, case), '')}"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
