"""The test PostgreSQL cluster: finding Debian's programs, the fixtures' databases, and a server that never
outlives the process that started it. The server is checked with psycopg and /proc, never with the
harness's own readiness check."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Literal

import psycopg
import pytest

from tests.support import postgres
from tests.support.loopback import process_running

REPO_ROOT = Path(__file__).resolve().parents[2]
_LISTEN = "0A"  # TCP_LISTEN in /proc/net/tcp


def _listening_addresses(port: int) -> list[str]:
    """The local addresses (hex, as the kernel writes them) of the TCP sockets listening on ``port``."""
    addresses: list[str] = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, _, state = line.split()[1:4]
            address, _, hex_port = local.partition(":")
            if state == _LISTEN and int(hex_port, 16) == port:
                addresses.append(address)
    return addresses


def test_a_row_written_is_read_back(postgres_database_url: str) -> None:
    with psycopg.connect(postgres_database_url) as conn:
        conn.execute("CREATE TABLE comments (id integer PRIMARY KEY, body text NOT NULL)")
        conn.execute("INSERT INTO comments VALUES (%s, %s)", (1, "Très lisible, même en poche"))
    with psycopg.connect(postgres_database_url) as conn:  # a second connection: the row was committed
        assert conn.execute("SELECT id, body FROM comments").fetchall() == [
            (1, "Très lisible, même en poche")
        ]


def test_the_server_is_postgresql_15_or_newer_on_loopback_only(postgres_cluster: postgres.Cluster) -> None:
    with psycopg.connect(postgres_cluster.url) as conn:
        version = conn.execute("SHOW server_version_num").fetchone()
        listen = conn.execute("SHOW listen_addresses").fetchone()
    assert version is not None and int(version[0]) >= 150000
    assert listen == ("127.0.0.1",)
    assert _listening_addresses(postgres_cluster.port) == ["0100007F"]  # 127.0.0.1, little-endian


def test_the_server_runs_as_an_unprivileged_user(postgres_cluster: postgres.Cluster) -> None:
    status = Path(f"/proc/{postgres_cluster.pid}/status").read_text()
    real_uid = int(next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1])
    assert real_uid != 0
    if os.geteuid() != 0:
        assert real_uid == os.geteuid()


def test_the_session_database_is_the_clusters_own(
    postgres_url: str, postgres_cluster: postgres.Cluster
) -> None:
    with psycopg.connect(postgres_url) as conn:
        row = conn.execute("SELECT current_database(), current_user, inet_server_port()").fetchone()
    assert row == ("unicat", "unicat", postgres_cluster.port)


_DATABASES_SEEN: list[str] = []


@pytest.mark.parametrize("turn", ["one test", "another test"])
def test_each_test_gets_a_new_empty_database(
    turn: str, postgres_database_url: str, postgres_url: str
) -> None:
    with psycopg.connect(postgres_database_url) as conn:
        name = conn.execute("SELECT current_database()").fetchone()
        tables = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()
        conn.execute("CREATE TABLE left_behind (id integer)")  # must not be seen by the other test
    assert name is not None and name[0] not in _DATABASES_SEEN and name[0] != "unicat"
    assert tables == (0,)
    with psycopg.connect(postgres_url) as conn:
        existing = {row[0] for row in conn.execute("SELECT datname FROM pg_database")}
    assert name[0] in existing
    assert not existing & set(_DATABASES_SEEN)  # the other test's database was dropped after it
    _DATABASES_SEEN.append(name[0])


def test_missing_programs_say_to_run_the_install_script(tmp_path: Path) -> None:
    with pytest.raises(postgres.PostgresError, match=r"run `sudo bash scripts/install-test-deps.sh`"):
        postgres.find_bindir({"PATH": str(tmp_path)}, debian_root=tmp_path)


def test_the_newest_complete_installation_is_chosen(tmp_path: Path) -> None:
    for version, programs in [
        ("9.6", ["initdb", "postgres"]),
        ("15", ["initdb", "postgres"]),
        ("16", ["initdb"]),
    ]:
        bindir = tmp_path / version / "bin"
        bindir.mkdir(parents=True)
        for program in programs:
            (bindir / program).write_text("#!/bin/sh\n")
            (bindir / program).chmod(0o755)
    # 16 lacks its server (only the client package's programs), so 15 is the newest that can run.
    assert postgres.find_bindir({"PATH": str(tmp_path / "none")}, debian_root=tmp_path) == tmp_path / "15/bin"


@pytest.mark.postgresql
def test_the_installed_programs_are_found() -> None:
    bindir = postgres.find_bindir()
    result = subprocess.run([bindir / "postgres", "--version"], capture_output=True, text=True, check=True)
    assert result.stdout.startswith("postgres (PostgreSQL) ")


@pytest.mark.postgresql
def test_a_server_that_cannot_start_fails_with_its_log() -> None:
    cluster = postgres.start_cluster(settings={"shared_buffers": "1x"})
    try:
        with pytest.raises(postgres.PostgresError, match="exited while starting") as raised:
            postgres.wait_ready(cluster, timeout=60)
        assert 'invalid value for parameter "shared_buffers"' in str(raised.value)  # the server's own words
    finally:
        postgres.stop_cluster(cluster)
    assert not cluster.workdir.exists()


def _start_session() -> subprocess.Popen[str]:
    """A Python process that holds a cluster from ``running_cluster`` and prints it once it is ready."""
    holder = "import json, time\nfrom tests.support.postgres import running_cluster\n"
    holder += "with running_cluster() as c:\n"
    holder += "    print(json.dumps([c.url, c.pid, str(c.workdir)]), flush=True)\n    time.sleep(600)\n"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", holder], cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, text=True
    )


def _answers(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=5):
            return True
    except psycopg.OperationalError:
        return False


@pytest.mark.postgresql
def test_a_server_never_outlives_the_process_that_started_it() -> None:
    """Two sessions at once, each holding a cluster: one ends by SIGTERM (its cleanup runs, the files go),
    the other by SIGKILL (nothing of it runs: the parent-death signal alone stops the server)."""
    sessions = {sig: _start_session() for sig in (signal.SIGTERM, signal.SIGKILL)}
    try:
        for sig, session in sessions.items():
            assert session.stdout is not None
            url, pid, workdir = json.loads(session.stdout.readline())
            assert _answers(url), url
            session.send_signal(sig)
            assert session.wait(timeout=60) != 0
            deadline = time.monotonic() + 60
            while process_running(pid) and time.monotonic() < deadline:
                time.sleep(0.2)
            assert not process_running(pid), sig
            assert not _answers(url)
            if sig == signal.SIGKILL:  # its files stay behind until the next cluster starts, or:
                assert Path(workdir).exists()
                postgres.sweep_orphans()
            assert not Path(workdir).exists()
    finally:
        for session in sessions.values():
            session.kill()
            session.wait()


@pytest.mark.postgresql
@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_a_restart_breaks_open_connections_and_keeps_the_data(mode: Literal["fast", "immediate"]) -> None:
    with postgres.running_cluster() as cluster:
        first_pid = cluster.pid
        held = psycopg.connect(cluster.url, autocommit=True)
        # The test clusters commit asynchronously (_SERVER_SETTINGS): an immediate stop, as a crash, may
        # lose the last commits. This session waits for its commits to reach the WAL, as a server
        # configured for durability does.
        held.execute("SET synchronous_commit = on")
        held.execute("CREATE TABLE shelves (code text PRIMARY KEY)")
        held.execute("INSERT INTO shelves VALUES ('R-1')")
        down = postgres.restart(cluster, mode)
        assert down > 0
        with pytest.raises(psycopg.OperationalError):
            held.execute("SELECT 1")
        held.close()
        assert cluster.pid != first_pid and not process_running(first_pid)
        with psycopg.connect(cluster.url) as conn:  # same port, same files: the row committed is there
            assert conn.execute("SELECT code FROM shelves").fetchall() == [("R-1",)]
    assert not process_running(cluster.pid) and not cluster.workdir.exists()
