"""The foundation benchmark: how fast Unicat turns real MARC files into a searchable catalogue, and how
fast that catalogue answers, on the machine it runs on.

Run from the repository root: ``.venv/bin/python bench/foundation.py [--data DIR] [--runs N] [--json OUT]``.
Every figure is measured with :func:`time.perf_counter` around the product's own entry points
(``import_files``, ``run_index``, ``UnionIndex.search``, ``unicat demo``, ``unicat serve``); nothing of the
product is changed or bypassed. ``bench/README.md`` says what each figure means.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import io
import json
import logging
import math
import multiprocessing
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pymarc
import requests

from harvester.importer import import_files
from indexer import run_index
from unicat import compiled
from unicat.engines.sqlite import driver
from unicat.errors import UnicatError
from unicat.model import Profile, Source
from unicat.ports.union_index import UnionIndex
from unicat.query import SearchQuery, parse_search_params
from unicat.settings import Settings, load_settings
from unicat_cli.wiring import open_catalogue, open_index

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data"
CORPUS_FOLDERS = ("marc21", "unimarc", "dedup", "malformed")
MARC_SUFFIXES = (".mrc", ".xml")
INDEX_PHASES = ("import", "parse", "normalise_merge", "write", "end_to_end")
# An ISBN-10 that occurs once in shared/data/dedup/pride-and-prejudice-fixed.mrc (020 $a), held by a
# demo library: a patron looking up one book. The demo stores it as ISBN-13; the query parser maps it.
DEFAULT_SELECTIVE_QUERY = "0140239316"
# The commonest title word of the demo catalogue (French serials of SCPO and MEDI): a third of it.
DEFAULT_BROAD_QUERY = "de"
SELECTIVE_MAX_HITS = 5
SERVER_START_TIMEOUT = 60.0
SERVING_PREFIX = "Unicat is serving at "

# -- the machine -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Machine:
    """What the figures were measured on: without it, a rate means nothing."""

    cpu: str
    cores: int
    ram_gib: float
    python: str
    sqlite: str
    pymarc: str
    date: str
    # Whether the indexer's hot modules run compiled (unicat/compiled.py): it moves the indexing rates.
    compiled: str = ""

    def line(self) -> str:
        return (
            f"{self.cpu}, {self.cores} cores, {self.ram_gib:.1f} GiB RAM; Python {self.python}, "
            f"SQLite {self.sqlite}, pymarc {self.pymarc}; {self.compiled}; {self.date}"
        )


def _proc_value(path: Path, key: str) -> str | None:
    """The value of the first ``key : value`` line of a /proc file, or ``None`` (not Linux, no key)."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    for line in lines:
        name, _, value = line.partition(":")
        if name.strip() == key:
            return value.strip()
    return None


def machine() -> Machine:
    """Describe this machine from /proc (Linux), falling back to :mod:`platform` elsewhere."""
    memory_kib = _proc_value(Path("/proc/meminfo"), "MemTotal")
    return Machine(
        cpu=_proc_value(Path("/proc/cpuinfo"), "model name") or platform.processor() or "unknown CPU",
        cores=os.cpu_count() or 1,
        ram_gib=int(memory_kib.split()[0]) / 2**20 if memory_kib else 0.0,
        python=platform.python_version(),
        sqlite=driver.sqlite_version,
        pymarc=importlib.metadata.version("pymarc"),
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        compiled=compiled.describe(),
    )


# -- statistics ------------------------------------------------------------------------------------


def percentile(samples: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile: a value that was really observed, never an interpolation."""
    if not samples:
        raise ValueError("no samples")
    ordered = sorted(samples)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def per_second(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else 0.0


# -- the corpus ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MarcFile:
    """One file of the corpus, imported as its own source with the profile its folder implies."""

    path: Path
    code: str
    profile: Profile

    @property
    def is_iso2709(self) -> bool:
        return self.path.suffix == ".mrc"


def corpus_files(data_dir: Path) -> list[MarcFile]:
    """Every MARC file of the corpus folders, in a stable order; UNIMARC for ``unimarc/``."""
    if not data_dir.is_dir():
        raise SystemExit(f"foundation: no data folder at {data_dir}; give one with --data")
    files: list[MarcFile] = []
    for folder in CORPUS_FOLDERS:
        if not (data_dir / folder).is_dir():
            continue
        profile: Profile = "unimarc" if folder == "unimarc" else "marc21"
        for path in sorted((data_dir / folder).iterdir()):
            if path.suffix in MARC_SUFFIXES and path.is_file():
                files.append(MarcFile(path, f"{folder}-{len(files) + 1:02d}", profile))
    if not files:
        raise SystemExit(f"foundation: no MARC files under {data_dir}/{{{','.join(CORPUS_FOLDERS)}}}")
    return files


# -- import + index --------------------------------------------------------------------------------


def catalogue_settings(data_dir: Path) -> Settings:
    """The settings ``unicat --data-dir DIR`` builds with no config file and no UNICAT_* variables."""
    return load_settings(overrides={"data_dir": data_dir})


@dataclass(frozen=True, slots=True)
class IndexRun:
    """One import + index of the corpus into a fresh catalogue: counts, and seconds per phase."""

    source_records: int
    import_quarantined: int
    refused_files: list[str]
    index_read: int
    index_quarantined: int
    union_records: int
    merged_clusters: int
    seconds: dict[str, float]

    def counts(self) -> tuple[int, ...]:
        """What must not change from one run to the next (the timings may)."""
        return (
            self.source_records,
            self.import_quarantined,
            len(self.refused_files),
            self.index_read,
            self.index_quarantined,
            self.union_records,
            self.merged_clusters,
        )


def build_catalogue(files: Sequence[MarcFile], data_dir: Path) -> IndexRun:
    """Import every file as its own source into a new catalogue in ``data_dir``, then index it.

    The catalogue is left in ``data_dir``, so it can be searched or served afterwards.
    """
    with open_catalogue(catalogue_settings(data_dir)) as catalogue:
        stored = quarantined = 0
        refused: list[str] = []
        started = time.perf_counter()
        for item in files:
            source = Source(code=item.code, name=item.path.name, profile=item.profile)
            catalogue.records.save_source(source)
            try:
                report = import_files(catalogue.records, source, [item.path])
            except UnicatError as exc:
                # A file the importer refuses as a whole (not MARC at all) is a counted outcome too.
                refused.append(f"{item.path.name}: {exc}")
                continue
            stored += report.records
            quarantined += report.quarantined
        import_seconds = time.perf_counter() - started
        started = time.perf_counter()
        index = run_index(catalogue.records, catalogue.index)
        index_seconds = time.perf_counter() - started
    seconds = {"import": import_seconds, **index.seconds, "end_to_end": import_seconds + index_seconds}
    return IndexRun(
        source_records=stored,
        import_quarantined=quarantined,
        refused_files=refused,
        index_read=index.read,
        index_quarantined=index.quarantined,
        union_records=index.union_records,
        merged_clusters=index.merged_clusters,
        seconds=seconds,
    )


def quiet_logging() -> None:
    """Log errors only: quarantine warnings are the product's log lines, printing them is not measured."""
    logging.basicConfig(level=logging.ERROR)


def index_runs(files: Sequence[MarcFile], work_dir: Path, runs: int) -> list[IndexRun]:
    """``runs`` independent import + index passes, each into a fresh catalogue that is deleted after.

    Each pass runs in a new process, so the indexer's in-process caches (text folding, profiles)
    start cold as they do in a real ``unicat index``; only the pass itself is timed, not the start.
    """
    context = multiprocessing.get_context("spawn")
    results: list[IndexRun] = []
    for number in range(runs):
        data_dir = work_dir / f"index-run-{number + 1}"
        with ProcessPoolExecutor(max_workers=1, mp_context=context, initializer=quiet_logging) as pool:
            results.append(pool.submit(build_catalogue, files, data_dir).result())
        shutil.rmtree(data_dir)
    if len({run.counts() for run in results}) > 1:
        raise SystemExit("foundation: the index runs disagree on their counts; the figures are void")
    return results


@dataclass(frozen=True, slots=True)
class PhaseFigure:
    """A phase over several runs: its seconds (best, median) and the records/s they give."""

    phase: str
    records: int
    min_seconds: float
    median_seconds: float

    @property
    def best_rate(self) -> float:
        return per_second(self.records, self.min_seconds)

    @property
    def median_rate(self) -> float:
        return per_second(self.records, self.median_seconds)

    def to_json(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "best_records_per_second": round(self.best_rate, 1),
            "median_records_per_second": round(self.median_rate, 1),
        }


def phase_figures(runs: Sequence[IndexRun]) -> list[PhaseFigure]:
    """Per phase, min and median over the runs; rates count source records in every phase, so they
    compare with each other and with raw pymarc."""
    return [
        PhaseFigure(
            phase,
            runs[0].source_records,
            min(run.seconds[phase] for run in runs),
            statistics.median(run.seconds[phase] for run in runs),
        )
        for phase in INDEX_PHASES
    ]


@dataclass(frozen=True, slots=True)
class PymarcRun:
    """pymarc alone reading the same ISO 2709 files from memory: the yardstick for the parse phase."""

    files: int
    parsed: int
    failed: int
    seconds: float

    @property
    def records(self) -> int:
        return self.parsed + self.failed


def pymarc_parse(paths: Sequence[Path]) -> PymarcRun:
    """Parse ``paths`` with ``MARCReader(to_unicode=True, permissive=True)``; files are read first,
    so only parsing is timed. A record pymarc cannot read comes back as ``None`` and is counted."""
    contents = [path.read_bytes() for path in paths]
    parsed = failed = 0
    # pymarc writes each MARC-8 complaint to stderr; kept in memory, as the indexer does, so the
    # terminal's speed is not what is measured.
    with contextlib.redirect_stderr(io.StringIO()):
        started = time.perf_counter()
        for content in contents:
            for record in pymarc.MARCReader(io.BytesIO(content), to_unicode=True, permissive=True):
                if record is None:
                    failed += 1
                else:
                    parsed += 1
        seconds = time.perf_counter() - started
    return PymarcRun(len(paths), parsed, failed, seconds)


# -- search latency --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QueryCase:
    """One kind of search, as request parameters: the index and HTTP layers run exactly these."""

    name: str
    params: dict[str, list[str]]


def query_cases(selective: str, broad: str) -> list[QueryCase]:
    """The searches measured: a look-up, a broad query with and without facets (and with values chosen in
    two facets), and browsing all."""
    return [
        QueryCase("selective", {"q": [selective]}),
        QueryCase("broad", {"q": [broad], "facets": ["0"]}),
        QueryCase("broad + facets", {"q": [broad]}),
        # Two facets with a choice each: each is counted over one more match set (without its choice).
        QueryCase("broad + chosen facets", {"q": [broad], "language": ["fre", "eng"], "format": ["book"]}),
        QueryCase("everything + facets", {}),
    ]


@dataclass(frozen=True, slots=True)
class Latency:
    """Latencies (ms) of one query case at one layer; ``facets_dropped`` counts answers whose facets
    the index left out for their time budget (a fast answer with missing facets is not a win).

    ``added_ms`` (every layer but the first): the median, over the rounds, of this layer's time minus
    the first layer's time in the same round: what this layer adds, robust to the load changing.
    """

    case: str
    layer: str
    hits: int
    warmup: int
    samples: int
    p50_ms: float
    p95_ms: float
    max_ms: float
    mean_ms: float
    facets_dropped: int
    added_ms: float | None = None
    web_ms: float | None = None


@dataclass(frozen=True, slots=True)
class Sample:
    """One timed answer: its seconds, and what it said (checked after the timer stopped).

    ``web_ms``, over HTTP: the server's own ``Server-Timing`` ``app`` minus ``engine`` — what the web
    layer added on the server, without the network and the client.
    """

    seconds: float
    hits: int
    facets_dropped: bool
    web_ms: float | None = None


def server_web_ms(header: str | None) -> float | None:
    """``app`` minus ``engine`` of a ``Server-Timing`` header (``None`` when either is missing)."""
    metrics: dict[str, float] = {}
    for part in (header or "").split(","):
        name, _, duration = part.strip().partition(";dur=")
        if duration:
            metrics[name] = float(duration)
    if "app" not in metrics or "engine" not in metrics:
        return None
    return metrics["app"] - metrics["engine"]


Probe = Callable[[], Sample]
"""Runs one query at one layer and times it."""


def index_probe(index: UnionIndex, query: SearchQuery) -> Probe:
    """``UnionIndex.search`` in this process; the query was parsed before, outside the timer."""

    def probe() -> Sample:
        started = time.perf_counter()
        result = index.search(query)
        seconds = time.perf_counter() - started
        return Sample(seconds, result.total, bool(result.facets_timed_out))

    return probe


def http_probe(session: requests.Session, base_url: str, params: dict[str, list[str]]) -> Probe:
    """``GET /api/search`` on a keep-alive session: from request sent to whole body received."""
    url = f"{base_url}api/search"

    def probe() -> Sample:
        started = time.perf_counter()
        response = session.get(url, params=params, timeout=30)
        seconds = time.perf_counter() - started
        response.raise_for_status()
        body = response.json()
        web_ms = server_web_ms(response.headers.get("Server-Timing"))
        return Sample(seconds, int(body["total"]), bool(body["facets_timed_out"]), web_ms)

    return probe


def measure(case: str, probes: Mapping[str, Probe], *, warmup: int, rounds: int) -> list[Latency]:
    """Time ``rounds`` queries per layer after ``warmup`` untimed ones each.

    The layers take turns query by query, so a change in the machine's load (other processes on a
    shared machine) weighs on every layer alike and their difference stays meaningful.
    """
    for probe in probes.values():
        for _ in range(warmup):
            probe()
    samples: dict[str, list[Sample]] = {layer: [] for layer in probes}
    for _ in range(rounds):
        for layer, probe in probes.items():
            samples[layer].append(probe())
    base = next(iter(samples.values()))
    return [
        latency(case, layer, taken, warmup, None if taken is base else base)
        for layer, taken in samples.items()
    ]


def latency(
    case: str, layer: str, samples: Sequence[Sample], warmup: int, base: Sequence[Sample] | None
) -> Latency:
    """Summarise one row (against the ``base`` layer's samples of the same rounds, if given); every
    answer of a row must report the same total."""
    hits = {sample.hits for sample in samples}
    if len(hits) != 1:
        raise SystemExit(f"foundation: {case} ({layer}) answered different totals: {sorted(hits)}")
    seconds = [sample.seconds for sample in samples]
    web = [sample.web_ms for sample in samples if sample.web_ms is not None]
    return Latency(
        case=case,
        layer=layer,
        hits=hits.pop(),
        warmup=warmup,
        samples=len(samples),
        p50_ms=percentile(seconds, 0.50) * 1000,
        p95_ms=percentile(seconds, 0.95) * 1000,
        max_ms=max(seconds) * 1000,
        mean_ms=statistics.fmean(seconds) * 1000,
        facets_dropped=sum(sample.facets_dropped for sample in samples),
        added_ms=None if base is None else _median_gap_ms(samples, base),
        web_ms=statistics.median(web) if web else None,
    )


def _median_gap_ms(samples: Sequence[Sample], base: Sequence[Sample]) -> float:
    gaps = [mine.seconds - theirs.seconds for mine, theirs in zip(samples, base, strict=True)]
    return statistics.median(gaps) * 1000


def search_latencies(
    data_dir: Path, cases: Sequence[QueryCase], log_dir: Path, *, warmup: int, rounds: int
) -> list[Latency]:
    """Every case at the union index (in process, layer ``engine``, as the server's ``Server-Timing``
    names it) and over HTTP (a ``unicat serve`` subprocess), index rows first. The same request
    parameters feed both layers."""
    settings = catalogue_settings(data_dir)
    rows: list[Latency] = []
    with (
        open_index(settings) as index,
        running_server(data_dir, log_dir) as url,
        requests.Session() as session,
    ):
        for case in cases:
            probes = {
                "engine": index_probe(index, parse_search_params(case.params, settings)),
                "http": http_probe(session, url, case.params),
            }
            rows += measure(case.name, probes, warmup=warmup, rounds=rounds)
    return sorted(rows, key=lambda row: row.layer != "engine")


# -- the real commands, as subprocesses ------------------------------------------------------------


def unicat_command() -> list[str]:
    """The ``unicat`` console script of this Python environment (what users run)."""
    script = Path(sys.executable).with_name("unicat")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "unicat_cli.cli"]


def clean_environment() -> dict[str, str]:
    """This environment without ``UNICAT_*``: the subprocesses then use the settings measured in process."""
    return {key: value for key, value in os.environ.items() if not key.startswith("UNICAT_")}


def build_demo(data_dir: Path) -> float:
    """Run ``unicat --data-dir DIR demo --no-serve``; returns its wall time in seconds."""
    started = time.perf_counter()
    done = subprocess.run(
        [*unicat_command(), "--data-dir", str(data_dir), "demo", "--no-serve"],
        capture_output=True,
        text=True,
        env=clean_environment(),
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"foundation: `unicat demo --no-serve` failed:\n{done.stdout}\n{done.stderr}")
    return time.perf_counter() - started


@contextlib.contextmanager
def running_server(data_dir: Path, log_dir: Path) -> Iterator[str]:
    """Run ``unicat serve --port 0`` on ``data_dir``; yields its base URL once ``/healthz`` says ok."""
    out_path, err_path = log_dir / "serve.out", log_dir / "serve.err"
    with out_path.open("w") as out, err_path.open("w") as err:
        process = subprocess.Popen(
            [*unicat_command(), "--data-dir", str(data_dir), "serve", "--host", "127.0.0.1", "--port", "0"],
            stdout=out,
            stderr=err,
            env=clean_environment(),
        )
    try:
        url = _await_url(process, out_path, err_path)
        requests.get(f"{url}healthz", timeout=10).raise_for_status()
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _await_url(process: subprocess.Popen[bytes], out_path: Path, err_path: Path) -> str:
    """The URL ``unicat serve`` prints once it listens (it chose a free port itself)."""
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        for line in out_path.read_text(encoding="utf-8").splitlines():
            if line.startswith(SERVING_PREFIX):
                return line[len(SERVING_PREFIX) :].split()[0]
        if process.poll() is not None:
            break
        time.sleep(0.05)
    raise SystemExit(f"foundation: `unicat serve` did not start:\n{err_path.read_text(encoding='utf-8')}")


# -- the report ------------------------------------------------------------------------------------


@dataclass(slots=True)
class Report:
    """Every figure of one benchmark run, as printed and as written with ``--json``."""

    machine: Machine
    settings: dict[str, Any]
    index_runs: list[IndexRun] = field(default_factory=list)
    pymarc_runs: list[PymarcRun] = field(default_factory=list)
    demo_build_seconds: float = 0.0
    demo_union_records: int = 0
    latencies: list[Latency] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "machine": asdict(self.machine),
            "settings": self.settings,
            "index": {
                "runs": [asdict(run) for run in self.index_runs],
                "phases": [figure.to_json() for figure in phase_figures(self.index_runs)],
            },
            "pymarc": [asdict(run) for run in self.pymarc_runs],
            "demo": {"build_seconds": self.demo_build_seconds, "union_records": self.demo_union_records},
            "search": [asdict(latency) for latency in self.latencies],
        }


PHASE_LABELS = {
    "import": "import (split + store)",
    "parse": "index: parse (decode + map)",
    "normalise_merge": "index: normalise + merge",
    "write": "index: write (searchable)",
    "end_to_end": "end to end: MARC → searchable",
}


def format_index(runs: Sequence[IndexRun], pymarc_runs: Sequence[PymarcRun]) -> list[str]:
    """The import + index section: counts, then per phase min/median seconds and records/s."""
    first = runs[0]
    lines = [
        f"Import + index of the corpus, {len(runs)} run(s), each into a fresh SQLite catalogue",
        f"  {first.source_records:,} source records stored ({first.import_quarantined:,} quarantined at "
        f"import, {len(first.refused_files)} file(s) refused); index: {first.index_read:,} read, "
        f"{first.index_quarantined:,} quarantined, {first.union_records:,} union records, "
        f"{first.merged_clusters:,} merged clusters",
        f"  {'phase':<32} {'min s':>8} {'median s':>9} {'best rec/s':>11} {'median rec/s':>13}",
    ]
    for figure in phase_figures(runs):
        lines.append(
            f"  {PHASE_LABELS[figure.phase]:<32} {figure.min_seconds:>8.3f} {figure.median_seconds:>9.3f} "
            f"{figure.best_rate:>11,.0f} {figure.median_rate:>13,.0f}"
        )
    write = next(figure for figure in phase_figures(runs) if figure.phase == "write")
    lines.append(f"  (write = {per_second(first.union_records, write.median_seconds):,.0f} union records/s)")
    if pymarc_runs:
        sample = pymarc_runs[0]
        best = min(run.seconds for run in pymarc_runs)
        median = statistics.median(run.seconds for run in pymarc_runs)
        parse = next(figure for figure in phase_figures(runs) if figure.phase == "parse")
        raw_rate = per_second(sample.records, median)
        lines.append(
            f"  raw pymarc MARCReader(to_unicode, permissive), {sample.files} ISO 2709 files, "
            f"{sample.records:,} records ({sample.failed} failed): {best:.3f} s min, {median:.3f} s median "
            f"= {per_second(sample.records, best):,.0f} / {raw_rate:,.0f} rec/s"
        )
        if raw_rate > 0:
            lines.append(f"  unicat parse phase / raw pymarc (medians): {parse.median_rate / raw_rate:.2f}x")
    return lines


def format_latencies(latencies: Sequence[Latency]) -> list[str]:
    """The search table: one row per case and layer; ``added`` is what the layer adds to the engine."""
    if not latencies:
        return []
    first = latencies[0]
    lines = [
        f"Search latency: {first.samples} timed queries per row after {first.warmup} untimed warm-up "
        "queries per layer (same query repeated, layers taking turns; ms)",
        f"  {'case':<21} {'layer':<7} {'hits':>6} {'p50':>8} {'p95':>8} {'max':>8} {'mean':>8} "
        f"{'dropped':>8} {'added':>8} {'web':>6}",
    ]
    for item in latencies:
        added = "" if item.added_ms is None else f"{item.added_ms:+.2f}"
        web = "" if item.web_ms is None else f"{item.web_ms:.2f}"
        lines.append(
            f"  {item.case:<21} {item.layer:<7} {item.hits:>6,} {item.p50_ms:>8.2f} {item.p95_ms:>8.2f} "
            f"{item.max_ms:>8.2f} {item.mean_ms:>8.2f} {item.facets_dropped:>8} {added:>8} {web:>6}"
        )
    lines += [
        "  added = median over the rounds of (http − engine) in the same round: web layer, network, client",
        "  web = median of the server's Server-Timing (app − engine): what the web layer adds on the server",
    ]
    return lines


def format_report(report: Report) -> str:
    lines = [f"Machine: {report.machine.line()}", ""]
    if report.index_runs:
        lines += [*format_index(report.index_runs, report.pymarc_runs), ""]
    if report.latencies:
        lines.append(
            f"Demo catalogue: {report.demo_union_records:,} union records, built by `unicat demo --no-serve` "
            f"in {report.demo_build_seconds:.1f} s (harvest over loopback OAI-PMH + index)"
        )
        lines += format_latencies(report.latencies)
    return "\n".join(lines)


# -- the command -----------------------------------------------------------------------------------


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Unicat's foundation benchmark (see bench/README.md).")
    parser.add_argument(
        "--data", type=Path, default=DEFAULT_DATA, help=f"MARC corpus (default {DEFAULT_DATA})"
    )
    parser.add_argument("--runs", type=int, default=3, help="import + index passes (default 3)")
    parser.add_argument("--queries", type=int, default=200, help="timed queries per row (default 200)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed queries before each row (default 20)")
    parser.add_argument("--selective-query", default=DEFAULT_SELECTIVE_QUERY, help="a look-up (≤ 5 hits)")
    parser.add_argument("--broad-query", default=DEFAULT_BROAD_QUERY, help="a query matching much")
    parser.add_argument("--skip-search", action="store_true", help="only the import + index figures")
    parser.add_argument("--json", type=Path, metavar="OUT", help="also write every figure as JSON")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.queries < 1 or args.warmup < 0:
        parser.error("--runs and --queries must be at least 1, --warmup at least 0")
    return args


def search_figures(report: Report, args: argparse.Namespace, work_dir: Path) -> None:
    """Build the demo catalogue with the real command, then time the query cases in and out of process."""
    demo_dir = work_dir / "demo"
    report.demo_build_seconds = build_demo(demo_dir)
    with open_index(catalogue_settings(demo_dir)) as index:
        report.demo_union_records = index.union_count()
    cases = query_cases(args.selective_query, args.broad_query)
    report.latencies = search_latencies(demo_dir, cases, work_dir, warmup=args.warmup, rounds=args.queries)


def selective_warning(latencies: Sequence[Latency]) -> str | None:
    """A note when the selective query is not selective on this catalogue (the row would mislead)."""
    for item in latencies:
        if item.case == "selective" and not 1 <= item.hits <= SELECTIVE_MAX_HITS:
            return f"NOTE: the selective query matched {item.hits} records, not 1–{SELECTIVE_MAX_HITS}"
    return None


def progress(text: str) -> None:
    """What the benchmark is doing, on stderr: stdout carries only the figures."""
    print(f"foundation: {text}", file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    quiet_logging()
    files = corpus_files(args.data)
    report = Report(
        machine(),
        {
            "data": str(args.data),
            "files": len(files),
            "runs": args.runs,
            "queries": args.queries,
            "warmup": args.warmup,
            "selective_query": args.selective_query,
            "broad_query": args.broad_query,
        },
    )
    with tempfile.TemporaryDirectory(prefix="unicat-bench-") as tmp:
        work_dir = Path(tmp)
        progress(f"indexing {len(files)} files of {args.data}, {args.runs} run(s)…")
        report.index_runs = index_runs(files, work_dir, args.runs)
        iso_paths = [item.path for item in files if item.is_iso2709]
        report.pymarc_runs = [pymarc_parse(iso_paths) for _ in range(args.runs)]
        if not args.skip_search:
            progress("building the demo catalogue and timing searches…")
            search_figures(report, args, work_dir)
    print(format_report(report))
    warning = selective_warning(report.latencies)
    if warning:
        print(warning)
    if args.json:
        args.json.write_text(
            json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        print(f"figures written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
