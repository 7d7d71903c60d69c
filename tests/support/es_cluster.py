"""A real three-node Elasticsearch cluster on 127.0.0.1, for the tests of failures and for benchmarks.

The nodes are three processes of the very distribution :mod:`tests.support.es_node` fetches (cached, no
Docker), each with its own HTTP and transport ports, data, logs and config copy, all under one temporary
directory removed when the cluster stops. They find each other through ``discovery.seed_hosts`` (their
three transport addresses) and bootstrap from ``cluster.initial_master_nodes`` (their three names): every
node is master-eligible, so two of them keep a quorum when the third dies.

Heap: 512 MB per node by default (``--heap`` or ``heap=`` to change it). Three nodes share the cores of
one machine, beside the tests and perhaps other nodes; 512 MB holds the tests' catalogues (thousands of
records) with room for the merges, keeps the three JVMs to about 2.5 GB resident in all, and leaves the
file-system cache, which serves Elasticsearch's searches, the rest of the memory. A benchmark at millions
of records asks for more (``--heap 2g``).

Each cluster has a name of its own (``unicat-cluster-<its first HTTP port>``), so that two clusters on
one machine never join each other.

Command line: ``python -m tests.support.es_cluster start|stop|status [--heap SIZE]`` (``start`` leaves the
cluster running until ``stop``; it prints the ``UNICAT_INDEX`` that names the three nodes).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from tests.support.es_node import (
    READY_TIMEOUT,
    STOP_TIMEOUT,
    EsNodeError,
    cache_dir,
    cluster_health,
    fetch,
    find_java,
    group_alive,
    launch,
    node_user,
    prepare_workdir,
    sigterm_unwinds,
)
from tests.support.loopback import free_port

SIZE = 3
HEAP = "512m"
_CLUSTER_PREFIX = "unicat-es-cluster-"
_STATE_FILE = "es-cluster.json"


@dataclass
class ClusterNode:
    """One node: its name, ports and files; ``pgid`` changes when it is restarted."""

    name: str
    http_port: int
    transport_port: int
    workdir: Path
    pgid: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def log_tail(self, lines: int = 30) -> str:
        log = self.workdir / "node.log"
        text = log.read_text(errors="replace") if log.is_file() else "(no output)"
        return "\n".join(text.splitlines()[-lines:])


class EsCluster:
    """Three started nodes: their URLs, and killing, restarting and stopping them."""

    def __init__(
        self, home: Path, java_home: Path, root: Path, nodes: list[ClusterNode], heap: str, detached: bool
    ) -> None:
        self.home = home
        self.java_home = java_home
        self.root = root
        self.nodes = nodes
        self.heap = heap
        self.detached = detached

    @property
    def urls(self) -> list[str]:
        return [node.url for node in self.nodes]

    def engine_url(self, prefix: str = "") -> str:
        """The ``--index`` of a catalogue on this cluster: every node, comma-separated, then the prefix."""
        return ",".join(self.urls) + (f"/{prefix}" if prefix else "")

    def settings_of(self, node: ClusterNode) -> dict[str, str]:
        return {
            "cluster.name": f"unicat-cluster-{self.nodes[0].http_port}",
            "node.name": node.name,
            "network.host": "127.0.0.1",
            "http.port": str(node.http_port),
            "transport.port": str(node.transport_port),
            "discovery.seed_hosts": ",".join(f"127.0.0.1:{other.transport_port}" for other in self.nodes),
            "cluster.initial_master_nodes": ",".join(other.name for other in self.nodes),
            # As the single test node (es_node.py): no security on loopback, no disk watermarks, and the
            # tests' wildcard clean-up allowed.
            "xpack.security.enabled": "false",
            "cluster.routing.allocation.disk.threshold_enabled": "false",
            "action.destructive_requires_name": "false",
        }

    def start(self, node: ClusterNode) -> None:
        """Start ``node`` on its files (fresh, or those it left when it was killed)."""
        node.pgid = launch(
            self.home, self.java_home, node.workdir, self.settings_of(node), self.detached, self.heap
        )

    def kill(self, node: ClusterNode) -> None:
        """SIGKILL the node's whole process group, as a crash would: no goodbye to the cluster."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(node.pgid, signal.SIGKILL)
        deadline = time.monotonic() + STOP_TIMEOUT
        while group_alive(node.pgid) and time.monotonic() < deadline:
            time.sleep(0.1)

    def restart(self, node: ClusterNode) -> None:
        """Start a killed node again on its data, and wait until the cluster is whole and green."""
        self.start(node)
        self.wait_ready()

    def health(self) -> dict[str, object] | None:
        """The cluster health as the first live node answers it, or None if none answers."""
        for node in self.nodes:
            if group_alive(node.pgid):
                answer = cluster_health(node.url)
                if answer is not None:
                    return answer
        return None

    def wait_ready(self, timeout: float = READY_TIMEOUT, nodes: int = SIZE, status: str = "green") -> None:
        """Wait for ``status`` with ``nodes`` nodes in the cluster and every shard in place (none
        relocating or initializing); raise with the nodes' logs if late."""
        deadline = time.monotonic() + timeout
        while True:
            health = self.health()
            if health is not None and _settled(health, status, nodes):
                return
            dead = [node for node in self.nodes if node.pgid and not group_alive(node.pgid)]
            if len(dead) > SIZE - nodes or time.monotonic() > deadline:
                logs = "\n".join(f"--- {node.name}:\n{node.log_tail()}" for node in self.nodes)
                raise EsNodeError(
                    f"the Elasticsearch cluster was not {status} with {nodes} nodes after {timeout:.0f} s "
                    f"(health: {health}); the nodes' logs end:\n{logs}"
                )
            time.sleep(0.5)

    def stop(self) -> None:
        """Stop every node (SIGTERM, then SIGKILL) and remove the cluster's files."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for node in self.nodes:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(node.pgid, sig)
            deadline = time.monotonic() + STOP_TIMEOUT
            while any(group_alive(node.pgid) for node in self.nodes) and time.monotonic() < deadline:
                time.sleep(0.2)
        shutil.rmtree(self.root, ignore_errors=True)


def _settled(health: dict[str, object], status: str, nodes: int) -> bool:
    """``status`` with ``nodes`` nodes, and no shard still moving or being copied."""
    moving = health.get("relocating_shards") or health.get("initializing_shards")
    return health.get("status") == status and health.get("number_of_nodes") == nodes and not moving


def sweep_orphans() -> None:
    """Remove the files of clusters none of whose nodes runs any more (their session was killed)."""
    for root in Path(tempfile.gettempdir()).glob(f"{_CLUSTER_PREFIX}*"):
        pgids = []
        for pgid_file in root.glob("*/node.pgid"):
            with contextlib.suppress(OSError, ValueError):
                pgids.append(int(pgid_file.read_text()))
        if len(pgids) == SIZE and not any(group_alive(pgid) for pgid in pgids):
            shutil.rmtree(root, ignore_errors=True)


def start_cluster(home: Path, java_home: Path, *, detached: bool = False, heap: str = HEAP) -> EsCluster:
    """Start three nodes on free ports (not waiting for them); unless ``detached`` they die with us."""
    sweep_orphans()
    root = Path(tempfile.mkdtemp(prefix=_CLUSTER_PREFIX))
    root.chmod(0o711)  # the node's user (when we are root) must reach its own folder inside
    user = node_user()
    nodes = [
        ClusterNode(f"es0{n}", free_port(), free_port(), prepare_workdir(home, user, parent=root))
        for n in range(1, SIZE + 1)
    ]
    cluster = EsCluster(home, java_home, root, nodes, heap, detached)
    try:
        for node in nodes:
            cluster.start(node)
    except BaseException:
        cluster.stop()
        raise
    return cluster


@contextlib.contextmanager
def running_cluster(environ: Mapping[str, str] | None = None, heap: str = HEAP) -> Iterator[EsCluster]:
    """Yield a green three-node cluster (``.urls``, ``.kill(node)``, ``.restart(node)``), stopped with
    its files removed at exit, also on Ctrl-C or SIGTERM and, through the parent-death signal, if this
    process is killed outright. Enter it from the main thread."""
    env = os.environ if environ is None else environ
    home = fetch(cache_dir(env))
    java_home = find_java(env)
    with sigterm_unwinds():
        cluster = start_cluster(home, java_home, heap=heap)
        try:
            cluster.wait_ready()
            yield cluster
        finally:
            cluster.stop()


# --- command line -------------------------------------------------------------------------------------


def _save(cluster: EsCluster, state_file: Path) -> None:
    nodes = [{**vars(node), "workdir": str(node.workdir)} for node in cluster.nodes]
    state = {"root": str(cluster.root), "heap": cluster.heap, "nodes": nodes}
    state_file.write_text(json.dumps(state))


def _load(state_file: Path) -> EsCluster | None:
    if not state_file.is_file():
        return None
    state = json.loads(state_file.read_text())
    nodes = [ClusterNode(**{**fields, "workdir": Path(fields["workdir"])}) for fields in state["nodes"]]
    return EsCluster(Path(), Path(), Path(state["root"]), nodes, state["heap"], detached=True)


def _cmd_start(state_file: Path, heap: str) -> int:
    running = _load(state_file)
    if running is not None and any(group_alive(node.pgid) for node in running.nodes):
        print(f"already running: export UNICAT_INDEX={running.engine_url()}")
        return 0
    cluster = start_cluster(fetch(cache_dir()), find_java(), detached=True, heap=heap)
    try:
        cluster.wait_ready()
    except BaseException:
        cluster.stop()
        raise
    _save(cluster, state_file)
    print(f"export UNICAT_INDEX={cluster.engine_url()}")
    return 0


def _cmd_stop(state_file: Path, heap: str) -> int:
    cluster = _load(state_file)
    if cluster is None:
        print("no cluster started by `python -m tests.support.es_cluster start` is recorded")
        return 0
    cluster.stop()
    state_file.unlink()
    print(f"stopped the cluster at {cluster.engine_url()}")
    return 0


def _cmd_status(state_file: Path, heap: str) -> int:
    cluster = _load(state_file)
    if cluster is None or not any(group_alive(node.pgid) for node in cluster.nodes):
        print("not running")
        return 1
    health = cluster.health()
    print(f"{cluster.engine_url()} {json.dumps(health) if health else 'does not answer yet'}")
    return 0 if health is not None and health.get("status") == "green" else 1


def main(argv: list[str] | None = None) -> int:
    """``python -m tests.support.es_cluster start|stop|status [--heap SIZE]``."""
    commands = {"start": _cmd_start, "stop": _cmd_stop, "status": _cmd_status}
    parser = argparse.ArgumentParser(
        prog="python -m tests.support.es_cluster", description=__doc__.split("\n")[0]
    )
    parser.add_argument("command", choices=commands)
    parser.add_argument("--heap", default=HEAP, help=f"each node's Java heap (default {HEAP})")
    args = parser.parse_args(argv)
    cache = cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    try:
        return commands[args.command](cache / _STATE_FILE, args.heap)
    except EsNodeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
