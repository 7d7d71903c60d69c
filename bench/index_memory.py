"""The index run at catalogue size: its time, the peak memory of every process, bytes per record.

Run from the repository root::

    .venv/bin/python bench/index_memory.py [--records 200000] [--setup sqlite|cluster] [--day]

1. **Corpus.** The per-library MARC files of ``bench/scale.py`` (``--records`` editions over 40
   libraries, real-record based, cached under ``~/.cache/unicat``).
2. **Import.** Each file imported by ``unicat import`` (one process per library) into a fresh SQLite
   catalogue: the import's wall time, and its processes' largest peak.
3. **Index.** ``unicat index`` as its own process: wall time, and the peak resident memory
   (``VmHWM``, the memory the program itself ran in) of the indexing process, read at its exit
   (``tests/support/peak_memory.py``), and of each parse worker, sampled from ``/proc`` every
   0.1 s. Bytes per source record are the indexing process's peak over the records it read.

The process that indexes is what must not grow with the catalogue: its peak over the source records
says how much each record costs it.

4. **A day** (``--day``). A day's changes (``bench/day_changes.py``: ``--changed`` 1 % of the records
   edited, ``--deleted`` 0.1 % withdrawn, over every library) stored as a harvest stores them, then
   ``unicat index`` again, an incremental pass, while ``--load-threads`` threads search the union
   index (broad words, default facets) back to back: its wall time and peak memory, what it printed,
   and the searches answered and failed meanwhile, with their p50/p95.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psycopg

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.corpus import DEFAULT_SEED  # noqa: E402
from bench.foundation import machine  # noqa: E402
from bench.scale import library_files  # noqa: E402

MIB = 1024 * 1024


class Sampler:
    """Calls ``sample`` every ``every`` seconds on a thread of its own, from creation until ``stop``."""

    def __init__(self, every: float) -> None:
        self.every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def sample(self) -> None:
        raise NotImplementedError

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.sample()


class TreePeaks(Sampler):
    """The peak resident memory (``VmHWM``) of every descendant of a process, sampled from /proc."""

    def __init__(self, root: int, every: float = 0.1) -> None:
        self.root = root
        self.peaks: dict[int, int] = {}
        super().__init__(every)

    def sample(self) -> None:
        for pid in _descendants(self.root):
            peak = _vm_hwm(pid)
            if peak is not None:
                self.peaks[pid] = max(peak, self.peaks.get(pid, 0))


def _processes() -> Iterator[tuple[int, list[str]]]:
    """Each process's id and the fields of its ``/proc/PID/stat`` after the command (state, parent,
    group…)."""
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                yield int(entry.name), Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for pid, fields in _processes():
        children.setdefault(int(fields[1]), []).append(pid)
    found, pending = [], list(children.get(root, []))
    while pending:
        pid = pending.pop()
        found.append(pid)
        pending.extend(children.get(pid, []))
    return found


def _group_peak(pgid: int) -> int:
    """The largest peak resident memory among the processes of group ``pgid`` (a server's)."""
    return max([0, *((_vm_hwm(pid) or 0) for pid, fields in _processes() if int(fields[2]) == pgid)])


def _vm_hwm(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def unicat(
    args: Sequence[str],
    peak_file: Path,
    env: dict[str, str],
    output: Path | None = None,
    errors: Path | None = None,
) -> tuple[float, int, list[int]]:
    """Run ``unicat ARGS`` (its standard output to ``output``, its errors to ``errors`` when given):
    wall seconds, its own peak bytes, and the peaks of its children."""
    command = [sys.executable, "-m", "tests.support.peak_memory", str(peak_file), str(1 << 50), *args]
    started = time.perf_counter()
    with contextlib.ExitStack() as stack:
        stdout = stack.enter_context(output.open("w", encoding="utf-8")) if output is not None else None
        stderr = stack.enter_context(errors.open("w", encoding="utf-8")) if errors is not None else None
        process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=stdout, stderr=stderr)
        sampler = TreePeaks(process.pid)
        code = process.wait()
        sampler.stop()
    seconds = time.perf_counter() - started
    if code:
        raise SystemExit(f"unicat {' '.join(args)} failed with status {code}")
    return seconds, int(peak_file.read_text()), sorted(sampler.peaks.values(), reverse=True)


@dataclass(slots=True)
class Setup:
    """Where the catalogue lives: the environment of ``unicat``, and how to read its disk use."""

    env: dict[str, str]
    disk: Callable[[], dict[str, int]]
    servers: Callable[[], dict[str, int]] = dict


@contextlib.contextmanager
def sqlite_setup(folder: Path) -> Iterator[Setup]:
    env = {**os.environ, "UNICAT_ENGINE": f"sqlite:///{folder / 'unicat.db'}", "TMPDIR": str(folder)}
    for name in ("UNICAT_STORE", "UNICAT_INDEX"):
        env.pop(name, None)

    def disk() -> dict[str, int]:
        return {"SQLite file": sum(path.stat().st_size for path in folder.glob("unicat.db*"))}

    yield Setup(env, disk)


@contextlib.contextmanager
def cluster_setup(folder: Path, heap: str, logs: Path | None = None) -> Iterator[Setup]:
    """PostgreSQL for the stores and three Elasticsearch nodes for the union (one shard, one replica).
    PostgreSQL logs every statement of a second or more; with ``logs``, its log is copied there at the
    end (the cluster's files go with it)."""
    from bench.served import postgresql
    from tests.support.es_cluster import running_cluster

    with running_cluster(heap=heap) as cluster, postgresql(None) as database:
        with psycopg.connect(database, autocommit=True) as conn:
            name = conn.execute("SELECT current_database()").fetchone()
            conn.execute(f'ALTER DATABASE "{name[0] if name else ""}" SET log_min_duration_statement = 1000')
            found = conn.execute("SHOW data_directory").fetchone()
        data = Path(str(found[0])) if found else None
        env = {
            **os.environ,
            "UNICAT_STORE": database,
            "UNICAT_INDEX": cluster.engine_url("bench"),
            "UNICAT_ES_SHARDS": "1",
            "UNICAT_ES_REPLICAS": "1",
            "TMPDIR": str(folder),
        }
        env.pop("UNICAT_ENGINE", None)

        def disk() -> dict[str, int]:
            with psycopg.connect(database) as conn:
                size = conn.execute("SELECT pg_database_size(current_database())").fetchone()
            url = cluster.urls[0]
            with urllib.request.urlopen(f"{url}/_cat/indices?format=json&bytes=b", timeout=60) as answer:
                indices = json.load(answer)
            return {
                "PostgreSQL database": int(size[0]) if size else 0,
                "Elasticsearch indices (primaries + replicas)": sum(int(i["store.size"]) for i in indices),
            }

        def servers() -> dict[str, int]:
            peaks = {
                f"Elasticsearch node {n}": _group_peak(node.pgid) for n, node in enumerate(cluster.nodes, 1)
            }
            if data is not None:
                postmaster = int((data / "postmaster.pid").read_text().split()[0])
                serving = [postmaster, *_descendants(postmaster)]
                peaks["PostgreSQL (largest process)"] = max((_vm_hwm(pid) or 0) for pid in serving)
            return peaks

        try:
            yield Setup(env, disk, servers)
        finally:
            if logs is not None and data is not None and (data.parent / "server.log").exists():
                logs.mkdir(parents=True, exist_ok=True)
                shutil.copy(data.parent / "server.log", logs / "postgresql.log")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=200_000, help="editions (200,000)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--setup", choices=("sqlite", "cluster"), default="sqlite")
    parser.add_argument("--heap", default="1g", help="each Elasticsearch node's heap (--setup cluster)")
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "unicat")
    parser.add_argument(
        "--keep",
        type=Path,
        help="(SQLite) keep the imported catalogue in this folder; when it holds one, index it again",
    )
    parser.add_argument(
        "--day",
        action="store_true",
        help="then store a day's changes (bench/day_changes.py) and time the incremental `unicat index` "
        "under a search load",
    )
    parser.add_argument("--changed", type=float, default=0.01, help="share of records a day edits (0.01)")
    parser.add_argument("--deleted", type=float, default=0.001, help="share of records a day deletes (0.001)")
    parser.add_argument("--load-threads", type=int, default=2, help="searching threads during the pass (2)")
    parser.add_argument("--json", type=Path, help="write every figure to this file")
    args = parser.parse_args(argv)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
    print(machine().line(), flush=True)
    started = time.perf_counter()
    files = library_files(args.records, args.seed, args.cache)
    records = _source_records(files)
    print(f"Corpus: {args.records:,} editions = {records:,} source records over {len(files)} library files "
          f"(made or reused in {time.perf_counter() - started:.1f}s)", flush=True)  # fmt: skip
    with contextlib.ExitStack() as stack:
        if args.keep is None or args.setup != "sqlite":
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="unicat-index-memory-")))
        else:
            folder = args.keep
            folder.mkdir(parents=True, exist_ok=True)
        setup = stack.enter_context(
            sqlite_setup(folder)
            if args.setup == "sqlite"
            else cluster_setup(folder, args.heap, args.json.parent if args.json else None)
        )
        spills = SpillWatch(folder)
        import_seconds, import_peak = 0.0, 0
        imported = folder / "IMPORTED"
        if not imported.exists():
            for path in files:
                seconds, peak, _ = unicat(["import", path.stem, str(path)], folder / "peak", setup.env)
                import_seconds += seconds
                import_peak = max(import_peak, peak)
            imported.write_text(f"{import_seconds} {import_peak}\n")
        else:
            said = imported.read_text().split()
            import_seconds, import_peak = float(said[0]), int(said[1])
            print(f"Reusing the catalogue imported in {folder}", flush=True)
        seconds, peak, children = unicat(["-v", "index", "--rebuild"], folder / "peak", setup.env)
        spills.stop()
        figures = {
            "machine": asdict(machine()),
            "setup": args.setup,
            "editions": args.records,
            "source_records": records,
            "import_seconds": import_seconds,
            "import_peak_bytes": import_peak,
            "index_seconds": seconds,
            "index_peak_bytes": peak,
            "worker_peak_bytes": children,
            "temporary_bytes": spills.largest,
            "server_peak_bytes": setup.servers(),
            "disk_bytes": setup.disk(),
            "day": None,
        }
        # Printed and written before the day: a day that fails leaves the full run's figures.
        print(full_run_lines(figures), flush=True)
        if args.json:
            args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
        if args.day:
            day = run_day(setup, folder, files, args)
            print(day.line(), flush=True)
            figures["day"] = asdict(day)
            if args.json:
                args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
            if day.failed:
                return 1
    return 0


def full_run_lines(figures: dict[str, Any]) -> str:
    """The import's and the full index's figures, as printed."""
    records, import_seconds, seconds = (
        figures["source_records"],
        figures["import_seconds"],
        figures["index_seconds"],
    )
    peak = figures["index_peak_bytes"]
    workers = ", ".join(f"{child / MIB:,.0f} MiB" for child in figures["worker_peak_bytes"]) or "none"
    lines = [
        f"import: {import_seconds:.1f}s = {records / import_seconds:,.0f} records/s, "
        f"largest process peak {figures['import_peak_bytes'] / MIB:,.0f} MiB",
        f"index: {seconds:.1f}s = {records / seconds:,.0f} source records/s",
        f"  indexing process peak: {peak / MIB:,.0f} MiB = {peak / records:,.0f} bytes per source record",
        f"  parse workers' peaks: {workers}",
        f"  temporary files at most: {figures['temporary_bytes'] / MIB:,.0f} MiB",
        *(f"  {name} peak: {size / MIB:,.0f} MiB" for name, size in figures["server_peak_bytes"].items()),
        *(f"disk: {name} {size / MIB:,.0f} MiB" for name, size in figures["disk_bytes"].items()),
        f"end to end: {records:,} source records in {import_seconds + seconds:.1f}s = "
        f"{records / (import_seconds + seconds):,.0f} records/s",
    ]
    return "\n".join(lines)


@dataclass(slots=True)
class DayRun:
    """A day's changes stored and indexed by an incremental pass, under a search load."""

    changes: dict[str, float]
    store_seconds: float
    index_seconds: float
    index_peak_bytes: int
    index_output: str
    searches: int
    failures: int
    errors: list[str]
    search_p50_ms: float
    search_p95_ms: float
    failure: str = ""  # why the pass failed, if it did

    @property
    def failed(self) -> bool:
        return bool(self.failure)

    def line(self) -> str:
        kinds = ", ".join(
            f"{value:,.0f} {name}" for name, value in self.changes.items() if name != "store_seconds"
        )
        return (
            f"a day's changes ({kinds}): stored in {self.store_seconds:.1f}s; `unicat index` "
            f"{self.index_seconds:.1f}s, peak {self.index_peak_bytes / MIB:,.0f} MiB\n"
            f"  {self.index_output.strip()}\n"
            f"  searches meanwhile: {self.searches:,} answered, {self.failures} failed, p50 "
            f"{self.search_p50_ms:.0f} ms, p95 {self.search_p95_ms:.0f} ms"
            + (f"\n  first errors: {self.errors}" if self.errors else "")
            + (f"\n  THE PASS FAILED: {self.failure}" if self.failure else "")
        )


def run_day(setup: Setup, folder: Path, files: Sequence[Path], args: argparse.Namespace) -> DayRun:
    """Store a day's changes of ``files`` into the catalogue, then run ``unicat index`` (an incremental
    pass) while :class:`~bench.day_changes.SearchLoad` searches the union index."""
    from bench.day_changes import SearchLoad, apply_day
    from unicat.settings import load_settings
    from unicat_cli.wiring import open_catalogue

    settings = load_settings(environ=setup.env)
    with open_catalogue(settings) as catalogue:
        changes = apply_day(catalogue.records, files, args.changed, args.deleted, args.seed)
        load = SearchLoad(catalogue.index, settings, args.load_threads).start()
        output, errors = folder / "day-index.txt", folder / "day-index-errors.txt"
        failure = ""
        began = time.perf_counter()
        try:
            seconds, peak, _ = unicat(["index"], folder / "peak", setup.env, output, errors)
        except SystemExit as exc:
            # Reported with the figures (the pass's own words), not in place of them.
            seconds, peak = time.perf_counter() - began, 0
            failure = f"{exc}: {errors.read_text(encoding='utf-8').strip()}"
        finally:
            load.stop()
    ordered = sorted(load.seconds) or [0.0]
    return DayRun(
        changes={key: value for key, value in asdict(changes).items()},
        store_seconds=changes.store_seconds,
        index_seconds=seconds,
        index_peak_bytes=peak,
        index_output=output.read_text(encoding="utf-8"),
        searches=len(load.seconds),
        failures=load.failures,
        errors=load.errors,
        search_p50_ms=ordered[len(ordered) // 2] * 1000,
        search_p95_ms=ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] * 1000,
        failure=failure,
    )


class SpillWatch(Sampler):
    """The largest total size of the index run's temporary files (``*.spill`` in its ``TMPDIR``)."""

    def __init__(self, folder: Path, every: float = 0.5) -> None:
        self.folder, self.largest = folder, 0
        super().__init__(every)

    def sample(self) -> None:
        total = 0
        for path in self.folder.glob("*.spill"):
            with contextlib.suppress(OSError):
                total += path.stat().st_size
        self.largest = max(self.largest, total)


def _source_records(files: Sequence[Path]) -> int:
    """The records of the library files (ISO 2709: one record terminator each)."""
    return sum(path.read_bytes().count(b"\x1d") for path in files)


if __name__ == "__main__":
    sys.exit(main())
