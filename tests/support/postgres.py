"""A real PostgreSQL server for tests and developers: a throwaway cluster made with Debian's own programs.

``initdb`` makes a fresh cluster in a temporary directory; its server listens on a free port of 127.0.0.1
only (and on a Unix socket in that directory), trusts its one superuser, and runs with durability off
(``fsync``, ``synchronous_commit``, ``full_page_writes``): nothing in it must outlive the tests. As root,
it runs as the unprivileged user of the Elasticsearch test node, since PostgreSQL refuses to run as root.

The server is started as a child of this process, not with ``pg_ctl start``, which detaches it: under
``setpriv --pdeathsig INT`` it makes a fast shutdown when the process that started it dies, even by
SIGKILL, so no test session can leave one behind; the next cluster started removes the files of such
a session.

:func:`restart` stops the server as ``pg_ctl restart -m fast|immediate`` would and starts it again on
the same files and port, as a child again, for the tests of a database that goes away under a running
command.

Command line: ``python -m tests.support.postgres`` starts a cluster, prints its URL and stops it on
Ctrl-C (for trying a store by hand: ``unicat --store URL …``, ``psql URL``).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import psycopg
from psycopg import sql

from tests.support.es_node import node_user, sigterm_unwinds
from tests.support.loopback import free_port

SUPERUSER = "unicat"
DATABASE = "unicat"
DEBIAN_ROOT = Path("/usr/lib/postgresql")
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
_PROGRAMS = ("initdb", "postgres")
_WORKDIR_PREFIX = "unicat-pg-"
_PID_FILE = "server.pid"
_LOG_FILE = "server.log"

# Every cluster's settings beyond its address: durability off, as nothing in it must survive a crash.
_SERVER_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


class PostgresError(RuntimeError):
    """The test cluster cannot be made, started or reached; the message says what to do."""


# --- finding the programs -----------------------------------------------------------------------------


def find_bindir(environ: Mapping[str, str] | None = None, *, debian_root: Path = DEBIAN_ROOT) -> Path:
    """The directory of PostgreSQL's server programs (``initdb``, ``postgres``), newest version first.

    Debian keeps them under ``/usr/lib/postgresql/VERSION/bin``, off PATH; other systems put them where
    ``pg_config --bindir`` says, or on PATH. ``pg_config`` is asked first, but only believed when the
    programs are there: Debian's comes with the client library and may name a version not installed.
    """
    env = os.environ if environ is None else environ
    search_path = env.get("PATH", os.defpath)
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config", path=search_path)
    if pg_config is not None:
        result = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        if result.returncode == 0 and result.stdout.strip():
            candidates.append(Path(result.stdout.strip()))
    candidates.extend(sorted(debian_root.glob("*/bin"), key=_version_key, reverse=True))
    initdb = shutil.which("initdb", path=search_path)
    if initdb is not None:
        candidates.append(Path(initdb).parent)
    for bindir in candidates:
        if all(os.access(bindir / program, os.X_OK) for program in _PROGRAMS):
            return bindir
    looked_at = ", ".join(str(bindir) for bindir in candidates) or "nothing found"
    raise PostgresError(
        f"PostgreSQL's server programs ({', '.join(_PROGRAMS)}) were not found in {debian_root}/*/bin, "
        f"pg_config --bindir or PATH ({looked_at}): run `sudo bash scripts/install-test-deps.sh` to "
        "install Debian's postgresql, or put the directory of another installation's programs on PATH"
    )


def _version_key(bindir: Path) -> tuple[int, ...]:
    """``/usr/lib/postgresql/15/bin`` → (15,): versions compare as numbers, so 9.6 < 10 < 15."""
    return tuple(int(part) for part in re.findall(r"\d+", bindir.parent.name))


# --- running a cluster --------------------------------------------------------------------------------


@dataclass
class Cluster:
    """A running cluster: where it listens, its superuser, its server's process and its files, and the
    command that started the server; ``pid`` changes when the server is restarted."""

    host: str
    port: int
    user: str
    pid: int
    workdir: Path
    command: tuple[str, ...] = ()

    @property
    def url(self) -> str:
        """The URL of the cluster's own database, :data:`DATABASE`."""
        return self.url_of(DATABASE)

    def url_of(self, database: str) -> str:
        """The URL of one database of the cluster, as its superuser (trusted: no password)."""
        return f"postgresql://{self.user}@{self.host}:{self.port}/{database}"

    def log_tail(self, lines: int = 40) -> str:
        """The end of the server's log, for error messages."""
        log = self.workdir / _LOG_FILE
        text = log.read_text(errors="replace") if log.is_file() else "(no output)"
        return "\n".join(text.splitlines()[-lines:])


def _as_user(user: str | None) -> list[str]:
    """The ``setpriv`` options that run a program as ``user`` (None: as ourselves)."""
    if user is None:
        return []
    account = pwd.getpwnam(user)
    return [f"--reuid={account.pw_uid}", f"--regid={account.pw_gid}", "--init-groups"]


def _process_alive(pid: int) -> bool:
    """Whether ``pid`` runs, read from /proc: a zombie (exited, not yet reaped) does not count."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def sweep_orphans() -> None:
    """Remove the files of clusters whose server is gone: the server of a session killed outright stops
    through the parent-death signal, but nothing is left to remove its files."""
    for workdir in Path(tempfile.gettempdir()).glob(f"{_WORKDIR_PREFIX}*"):
        try:
            pid = int((workdir / _PID_FILE).read_text())
        except (OSError, ValueError):
            continue  # not written yet: a cluster being made right now
        if not _process_alive(pid):
            shutil.rmtree(workdir, ignore_errors=True)


def _initdb(bindir: Path, workdir: Path, user: str | None) -> None:
    if user is not None:
        account = pwd.getpwnam(user)
        os.chown(workdir, account.pw_uid, account.pw_gid)  # initdb, run as the user, makes data/ in it
    command = [
        "setpriv",
        *_as_user(user),
        str(bindir / "initdb"),
        f"--pgdata={workdir / 'data'}",
        f"--username={SUPERUSER}",
        "--auth=trust",
        "--encoding=UTF8",
        # Unicode-aware character classes (lower(), upper()), code point order, on every machine.
        "--locale=C.UTF-8",
        "--no-sync",
    ]
    result = subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=120, check=False)
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip()
        raise PostgresError(f"`initdb` could not make a cluster in {workdir / 'data'}:\n{output}")


def start_cluster(
    bindir: Path | None = None, *, settings: Mapping[str, str] | None = None, detached: bool = False
) -> Cluster:
    """Make a cluster in a fresh temporary directory and start its server on a free port (not waiting
    for it to accept connections: see :func:`wait_ready`). ``settings`` are added to the server's.

    Unless ``detached``, the server makes a fast shutdown when the thread that started it dies. It runs
    in its own session, so a Ctrl-C meant for the tests does not reach it: the caller stops it, in order.
    """
    bindir = find_bindir() if bindir is None else bindir
    sweep_orphans()
    user = node_user()
    workdir = Path(tempfile.mkdtemp(prefix=_WORKDIR_PREFIX))
    try:
        _initdb(bindir, workdir, user)
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    port = free_port()
    options = {**_SERVER_SETTINGS, **(settings or {})}
    command = [
        "setpriv",
        *([] if detached else ["--pdeathsig", "INT"]),  # SIGINT: PostgreSQL's fast shutdown
        *_as_user(user),
        str(bindir / "postgres"),
        "-D",
        str(workdir / "data"),
        "-h",
        "127.0.0.1",
        "-p",
        str(port),
        "-k",
        str(workdir),
        *(argument for key, value in options.items() for argument in ("-c", f"{key}={value}")),
    ]
    pid = _launch(command, workdir)
    return Cluster("127.0.0.1", port, SUPERUSER, pid, workdir, tuple(command))


def _launch(command: list[str], workdir: Path) -> int:
    """Start the server's ``command`` in its own session, its output appended to the log; its pid."""
    with (workdir / _LOG_FILE).open("ab") as log:
        process = subprocess.Popen(
            command,
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    (workdir / _PID_FILE).write_text(str(process.pid))
    return process.pid


def _server_alive(cluster: Cluster) -> bool:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(cluster.pid, os.WNOHANG)  # our own child: reap it, so it does not linger as a zombie
    return _process_alive(cluster.pid)


def wait_ready(cluster: Cluster, timeout: float = READY_TIMEOUT) -> None:
    """Wait until the server accepts connections; raise with its log if it exits or is late."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with psycopg.connect(cluster.url_of("postgres"), connect_timeout=2):
                return
        except psycopg.OperationalError as error:
            refusal = error
        if not _server_alive(cluster):
            raise PostgresError(
                f"the PostgreSQL server exited while starting; its log ends:\n{cluster.log_tail()}"
            )
        if time.monotonic() > deadline:
            raise PostgresError(
                f"the PostgreSQL server at {cluster.url} did not accept connections after {timeout:.0f} s "
                f"({refusal}); its log ends:\n{cluster.log_tail()}"
            )
        time.sleep(0.1)


# The signals ``pg_ctl stop -m`` sends the server: fast ends every session (their transactions rolled
# back) and shuts down cleanly; immediate ends at once, as a crash, recovered from the WAL at the next start.
_STOP_SIGNALS = {"fast": signal.SIGINT, "immediate": signal.SIGQUIT}


def restart(cluster: Cluster, mode: Literal["fast", "immediate"] = "fast") -> float:
    """Restart the server as ``pg_ctl restart -m MODE`` does, and wait until it accepts connections
    again; returns how long nothing answered (seconds). Every connection open before is broken.

    ``pg_ctl`` itself is not used: it would start the new server detached, out of reach of the
    parent-death signal that stops it with the tests (see :func:`start_cluster`). The same signals
    and the same command line are used instead, on the same files and port.
    """
    began = time.monotonic()
    os.kill(cluster.pid, _STOP_SIGNALS[mode])
    deadline = began + STOP_TIMEOUT
    while _server_alive(cluster):
        if time.monotonic() > deadline:
            raise PostgresError(
                f"the PostgreSQL server did not stop ({mode}); its log ends:\n{cluster.log_tail()}"
            )
        time.sleep(0.05)
    cluster.pid = _launch(list(cluster.command), cluster.workdir)
    wait_ready(cluster)
    return time.monotonic() - began


def _run_in_cluster(cluster: Cluster, statement: sql.Composed) -> None:
    """Run a statement that must run outside a transaction (CREATE or DROP DATABASE)."""
    with psycopg.connect(cluster.url_of("postgres"), autocommit=True) as conn:
        conn.execute(statement)


def stop_cluster(cluster: Cluster, timeout: float = STOP_TIMEOUT) -> None:
    """Stop the server (fast shutdown, then immediate, then SIGKILL of its whole process group, each
    after ``timeout``) and remove the cluster's files."""
    for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            if sig == signal.SIGKILL:
                os.killpg(cluster.pid, sig)  # the backends too, if the server could not end them
            else:
                os.kill(cluster.pid, sig)
        deadline = time.monotonic() + timeout
        while _server_alive(cluster) and time.monotonic() < deadline:
            time.sleep(0.1)
        if not _server_alive(cluster):
            break
    shutil.rmtree(cluster.workdir, ignore_errors=True)


@contextlib.contextmanager
def running_cluster(bindir: Path | None = None) -> Iterator[Cluster]:
    """Yield a ready cluster with an empty :data:`DATABASE`; stop it and remove its files at exit, also
    on an exception, Ctrl-C or SIGTERM, and (through the parent-death signal) if this process is killed
    outright. Enter it from the main thread: the server's lifetime is tied to the thread's."""
    bindir = find_bindir() if bindir is None else bindir
    with sigterm_unwinds():
        cluster = start_cluster(bindir)
        try:
            wait_ready(cluster)
            _run_in_cluster(cluster, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))
            yield cluster
        finally:
            stop_cluster(cluster)


@contextlib.contextmanager
def fresh_database(cluster: Cluster) -> Iterator[str]:
    """Yield the URL of a new, empty database of ``cluster``, dropped at exit even if connections to it
    remain open (a pool a test did not close must not make the next test fail)."""
    name = f"test_{uuid.uuid4().hex[:16]}"
    _run_in_cluster(cluster, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield cluster.url_of(name)
    finally:
        _run_in_cluster(cluster, sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


# --- command line -------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """``python -m tests.support.postgres``: a cluster for working by hand, until Ctrl-C or SIGTERM."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.support.postgres", description=__doc__.split("\n")[0]
    )
    parser.parse_args(argv)
    try:
        with running_cluster() as cluster:
            print(f"PostgreSQL is ready at {cluster.url}, its files in {cluster.workdir}")
            print(f"  psql {cluster.url}")
            print(f"  export UNICAT_STORE={cluster.url}")
            print("Stop it with Ctrl-C.", flush=True)
            while True:
                signal.pause()
    except KeyboardInterrupt:
        return 0
    except PostgresError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
