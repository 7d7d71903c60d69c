"""The test Elasticsearch node: Java detection, the cached download, and a node that never outlives
the process that started it. The node itself is checked with independent tools (urllib, the official
client, /proc), never with the helper's own health check."""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
import urllib.request
import uuid
import zipfile
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from tests.support import es_node
from tests.support.loopback import free_port, process_running

REPO_ROOT = Path(__file__).resolve().parents[2]


def _spec_version(java_home: Path) -> int:
    """The Java version a JDK reports in its system properties (not its ``-version`` banner)."""
    result = subprocess.run(
        [str(java_home / "bin" / "java"), "-XshowSettings:properties", "-version"],
        capture_output=True,
        text=True,
        check=True,
    )
    match = re.search(r"java\.specification\.version = (\d+)", result.stderr)
    assert match is not None, result.stderr
    return int(match.group(1))


@pytest.mark.parametrize(
    ("banner", "major"),
    [
        ('openjdk version "17.0.15" 2025-04-15\nOpenJDK Runtime Environment (build 17.0.15+6-Debian)', 17),
        ('openjdk version "25.0.3" 2026-04-21 LTS\nOpenJDK Runtime Environment Temurin-25.0.3+9', 25),
        ('openjdk version "21" 2023-09-19\nOpenJDK Runtime Environment (build 21+35-2513)', 21),
        ('java version "1.8.0_392"\nJava(TM) SE Runtime Environment (build 1.8.0_392-b08)', 8),
        ("Error: could not find libjava.so", None),
    ],
)
def test_java_major_version_reads_real_banners(banner: str, major: int | None) -> None:
    assert es_node.java_major_version(banner) == major


@pytest.mark.elasticsearch
def test_find_java_picks_a_jdk_of_21_or_newer() -> None:
    home = es_node.find_java({})
    assert _spec_version(home) >= 21


def test_find_java_skips_older_jdks_and_says_what_it_saw(tmp_path: Path) -> None:
    older = [home for home in Path("/usr/lib/jvm").iterdir() if (home / "bin" / "java").is_file()]
    older = [home for home in older if not home.is_symlink() and _spec_version(home) < 21]
    for home in older:
        (tmp_path / home.name).symlink_to(home)
    with pytest.raises(es_node.JavaNotFoundError) as raised:
        es_node.find_java({}, jvm_root=tmp_path, alternatives=False)
    message = str(raised.value)
    assert "Java 21+" in message and "ES_JAVA_HOME" in message
    for home in older:
        assert str(tmp_path / home.name) in message


def test_an_explicit_es_java_home_that_is_no_jdk_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(es_node.JavaNotFoundError, match=f"ES_JAVA_HOME={tmp_path} is not a runnable Java"):
        es_node.find_java({"ES_JAVA_HOME": str(tmp_path)})


@pytest.mark.elasticsearch
def test_fetch_replaces_a_damaged_cached_zip_and_unpacks_a_readable_tree(tmp_path: Path) -> None:
    real_zip = es_node.cache_dir() / f"elasticsearch-{es_node.ES_VERSION}.zip"
    es_node.fetch()  # the shared cache, which this test must not damage
    cache = tmp_path / "cache"
    cache.mkdir()
    damaged = cache / real_zip.name
    damaged.write_bytes(real_zip.read_bytes()[: 1 << 20])  # an interrupted copy

    home = es_node.fetch(cache, dist_root=tmp_path / "dist")

    assert home == tmp_path / "dist" / f"elasticsearch-{es_node.ES_VERSION}"
    assert damaged.stat().st_size == real_zip.stat().st_size
    assert es_node.sha256_of(damaged) == es_node.ARCHIVE_SHA256
    with zipfile.ZipFile(damaged) as zipped:
        assert zipped.testzip() is None
    for directory, _, files in os.walk(home):
        assert stat.S_IMODE(os.stat(directory).st_mode) & 0o005 == 0o005, directory
        for name in files:
            assert stat.S_IMODE(os.stat(os.path.join(directory, name)).st_mode) & 0o004, name
    assert os.access(home / "bin" / "elasticsearch", os.X_OK)
    mtime = damaged.stat().st_mtime_ns
    assert es_node.fetch(cache, dist_root=tmp_path / "dist") == home
    assert damaged.stat().st_mtime_ns == mtime


def test_elasticsearch_url_answers_cluster_health(elasticsearch_url: str) -> None:
    with urllib.request.urlopen(f"{elasticsearch_url}/_cluster/health", timeout=10) as response:
        health = json.load(response)
    assert health["status"] in ("green", "yellow")
    assert health["number_of_nodes"] == 1


def test_python_client_indexes_and_searches(elasticsearch_url: str) -> None:
    index = f"unicat-test-esnode-{uuid.uuid4().hex}"
    with Elasticsearch(elasticsearch_url) as client:
        try:
            client.index(index=index, id="b1", document={"title": "Les Misérables"}, refresh=True)
            found = client.search(index=index, query={"match": {"title": "misérables"}})
            assert [hit["_id"] for hit in found["hits"]["hits"]] == ["b1"]
            assert found["hits"]["hits"][0]["_source"] == {"title": "Les Misérables"}
        finally:
            client.indices.delete(index=index, ignore_unavailable=True)


@pytest.mark.elasticsearch
def test_a_given_node_that_does_not_answer_is_a_clear_error() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with (
        pytest.raises(es_node.EsNodeError, match="UNICAT_TEST_ES_URL"),
        es_node.running_node({"UNICAT_TEST_ES_URL": url}),
    ):
        pass


@pytest.mark.elasticsearch
def test_a_node_that_cannot_start_fails_with_its_log() -> None:
    node = es_node.start_node(es_node.fetch(), es_node.find_java(), heap="1x")
    try:
        with pytest.raises(es_node.EsNodeError, match="exited while starting") as raised:
            es_node.wait_ready(node, timeout=120)
        assert "-Xms1x" in str(raised.value)  # the JVM's own complaint, from the node's log
    finally:
        es_node.stop_node(node)
    assert not node.workdir.exists()


def _node_processes(port: int) -> tuple[list[int], Path]:
    """The processes that run the node on ``port`` and its working directory, read from /proc."""
    pids: list[int] = []
    workdirs: set[Path] = set()
    for entry in Path("/proc").iterdir():
        try:
            cmdline = (entry / "cmdline").read_bytes().decode().split("\0")
        except (OSError, UnicodeDecodeError):
            continue
        if f"http.port={port}" in cmdline:
            pids.append(int(entry.name))
            workdirs.update(
                Path(arg.split("=", 1)[1]).parent for arg in cmdline if arg.startswith("ES_PATH_CONF=")
            )
    assert pids and len(workdirs) == 1, (pids, workdirs)
    return pids, workdirs.pop()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_cluster/health", timeout=5):
            return True
    except OSError:
        return False


def _start_session(env: dict[str, str]) -> subprocess.Popen[str]:
    """A Python process that holds a node from ``running_node`` and prints its URL once it is ready."""
    holder = "import time\nfrom tests.support.es_node import running_node\n"
    holder += "with running_node() as url:\n    print(url, flush=True)\n    time.sleep(600)\n"
    return subprocess.Popen(
        [sys.executable, "-c", holder], cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, text=True
    )


@pytest.mark.elasticsearch
def test_a_node_never_outlives_the_process_that_started_it() -> None:
    """Two sessions at once, each holding a node: one ends by SIGTERM (its cleanup runs, the node's
    files go), the other by SIGKILL (nothing of it runs: the parent-death signal alone stops the node)."""
    env = {key: value for key, value in os.environ.items() if key != "UNICAT_TEST_ES_URL"}
    env["PYTHONPATH"] = str(REPO_ROOT)
    sessions = {sig: _start_session(env) for sig in (signal.SIGTERM, signal.SIGKILL)}  # nodes start together
    try:
        for sig, session in sessions.items():
            assert session.stdout is not None
            url = session.stdout.readline().strip()
            assert _answers(url), url
            pids, workdir = _node_processes(int(url.rsplit(":", 1)[1]))
            session.send_signal(sig)
            assert session.wait(timeout=120) != 0
            deadline = time.monotonic() + 90
            while any(map(process_running, pids)) and time.monotonic() < deadline:
                time.sleep(0.5)
            assert not any(map(process_running, pids)), (sig, pids)
            assert not _answers(url)
            if sig == signal.SIGKILL:  # its files stay behind until the next node starts, or:
                assert workdir.exists()
                es_node.sweep_orphans()
            assert not workdir.exists()
    finally:
        for session in sessions.values():
            session.kill()
            session.wait()
