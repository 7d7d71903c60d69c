"""The application served in a process of its own, and what the benchmarks read of that process.

The web benchmarks (``bench/oai.py``, ``bench/readers.py``) time the real application
(``unicat_cli.steps.serve_step``, as ``unicat serve`` runs it) from a client in another process, so that
the client's work never counts as the server's. :func:`server` starts it, pinned to one core
(``os.sched_setaffinity``, before any thread exists, so every thread inherits it), with the default
settings but those a benchmark names; :func:`pick_cores` chooses the server's core and the client's,
:func:`client_on` pins the client; :func:`cpu_seconds` and :func:`memory_mib` read the server process,
:class:`NodeCpu` the Elasticsearch node. ``--profile DIR`` runs the server under cProfile in every
thread (its timings are not figures).

The server process is this file run as a script::

    python bench/served.py --engine-url URL [--core N] [--settings JSON] [--profile DIR]

It prints its base URL (``http://127.0.0.1:PORT``) on its first line and serves until SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import json
import logging
import os
import pstats
import signal
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from unicat.settings import Settings  # noqa: E402
from unicat_cli.wiring import open_catalogue  # noqa: E402

SERVER_TIMEOUT = 120.0
"""Seconds a server has to stop after SIGTERM before it is killed."""


# -- the server process ---------------------------------------------------------------------------------


class ThreadProfiles:
    """cProfile in every thread of the process: the event loop's and the ports' pool's (started later)."""

    def __init__(self) -> None:
        self._profiles: list[cProfile.Profile] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        threading.setprofile(self._hook)
        self._add().enable()

    def _add(self) -> cProfile.Profile:
        profile = cProfile.Profile()
        with self._lock:
            self._profiles.append(profile)
        return profile

    def _hook(self, frame: FrameType, event: str, arg: object) -> None:
        # The first event of a new thread: from now on that thread has a profiler of its own.
        self._add().enable()

    def dump(self, directory: Path) -> None:
        threading.setprofile(None)
        with self._lock:
            profiles = list(self._profiles)
        for profile in profiles:
            profile.disable()
        stats = pstats.Stats(profiles[0])
        for profile in profiles[1:]:
            stats.add(profile)
        directory.mkdir(parents=True, exist_ok=True)
        stats.dump_stats(str(directory / "server.pstats"))
        with (directory / "server.txt").open("w", encoding="utf-8") as out:
            for order in ("tottime", "cumulative"):
                pstats.Stats(str(directory / "server.pstats"), stream=out).sort_stats(order).print_stats(45)


async def _serve(settings: Settings, profile_dir: Path | None) -> None:
    from unicat_cli.steps import serve_step

    catalogue = open_catalogue(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    runner, url = await serve_step(catalogue, settings, "127.0.0.1", 0)
    # From here on, only what answers requests: building the app (its imports) is not profiled.
    profiles = ThreadProfiles() if profile_dir is not None else None
    if profiles is not None:
        profiles.start()
    print(url.rstrip("/"), flush=True)
    try:
        await stop.wait()
    finally:
        if profiles is not None and profile_dir is not None:
            profiles.dump(profile_dir)
        await runner.cleanup()
        catalogue.close()


def serve_main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/served.py")
    parser.add_argument("--engine-url", required=True)
    parser.add_argument("--core", type=int)
    parser.add_argument("--settings", default="{}", help="settings other than the defaults, as JSON")
    parser.add_argument("--profile", type=Path)
    args = parser.parse_args(argv)
    if args.core is not None:
        os.sched_setaffinity(0, {args.core})  # before any thread exists: they all inherit it
    logging.basicConfig(level=logging.WARNING)  # as `unicat serve` by default: no access log lines
    settings = Settings(engine_url=args.engine_url, **json.loads(args.settings))
    asyncio.run(_serve(settings, args.profile))
    return 0


@dataclass(frozen=True)
class Server:
    """A running server process and its base URL (no trailing slash)."""

    process: subprocess.Popen[str]
    url: str

    @property
    def pid(self) -> int:
        return self.process.pid


@contextlib.contextmanager
def server(
    engine_url: str,
    core: int | None,
    settings: Mapping[str, Any] | None = None,
    profile: Path | None = None,
) -> Iterator[Server]:
    """The app serving ``engine_url`` in a process of its own (pinned to ``core``) while in the block,
    with the default settings but ``settings``."""
    command = [sys.executable, str(Path(__file__).resolve()), "--engine-url", engine_url]
    command += ["--settings", json.dumps(dict(settings or {}))]
    if core is not None:
        command += ["--core", str(core)]
    if profile is not None:
        command += ["--profile", str(profile)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=REPO_ROOT)
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        if not url.startswith("http://"):
            raise RuntimeError(f"the server did not start (it said {url!r})")
        yield Server(process, url)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=SERVER_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def pick_cores() -> tuple[int | None, int | None]:
    """(server core, client core): the first and last cores this process may use; none on one core."""
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        return None, None
    return cores[0], cores[-1]


@contextlib.contextmanager
def client_on(core: int | None) -> Iterator[None]:
    """This process (the benchmark's client) on ``core`` while in the block; the server pins itself."""
    if core is None:
        yield
        return
    original = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {core})
    try:
        yield
    finally:
        os.sched_setaffinity(0, original)


# -- what is read of the processes ----------------------------------------------------------------------


def memory_mib(pid: int) -> dict[str, float]:
    """``VmRSS`` (resident now) and ``VmHWM`` (peak resident) of a process, in MiB."""
    values: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text(encoding="utf-8").splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(value.split()[0]) / 1024
    return values


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and all its threads so far."""
    fields = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8").rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class NodeCpu:
    """The Elasticsearch node's CPU time (``_nodes/_local/stats/process``), to show its share."""

    def __init__(self, es_url: str | None) -> None:
        self.url = es_url

    def seconds(self) -> float | None:
        if self.url is None:
            return None
        url = f"{self.url}/_nodes/_local/stats/process?filter_path=nodes.*.process.cpu"
        with urllib.request.urlopen(url, timeout=30) as answer:
            nodes = json.load(answer)["nodes"]
        return sum(float(node["process"]["cpu"]["total_in_millis"]) for node in nodes.values()) / 1000


# -- the Elasticsearch node -------------------------------------------------------------------------------


@contextlib.contextmanager
def elasticsearch(es_url: str | None) -> Iterator[str]:
    """``es_url``, or a node of the project's own (``tests.support.es_node``) started for the block."""
    if es_url:
        yield es_url.rstrip("/")
        return
    from tests.support.es_node import running_node

    with running_node() as url:
        yield url


@contextlib.contextmanager
def postgresql(database_url: str | None) -> Iterator[str]:
    """``database_url``, or a new database in a throwaway PostgreSQL cluster of the project's own
    (``tests.support.postgres``) started for the block."""
    if database_url:
        yield database_url
        return
    from tests.support.postgres import fresh_database, running_cluster

    with running_cluster() as cluster, fresh_database(cluster) as url:
        yield url


def es_version(es_url: str) -> str:
    # The node's version from its own description (the core-only build answers ``GET /`` with 405).
    with urllib.request.urlopen(f"{es_url}/_nodes/_local?filter_path=nodes.*.version", timeout=30) as answer:
        return ", ".join(sorted({str(node["version"]) for node in json.load(answer)["nodes"].values()}))


if __name__ == "__main__":
    raise SystemExit(serve_main())
