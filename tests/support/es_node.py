"""A real Elasticsearch node for tests, CI and benchmarks, with nothing but Maven, Java 21+ and Python.

The tests need no Docker: the node is Elasticsearch's core-only distribution from Maven Central, run as a
plain process on 127.0.0.1.

Where things live, so that a second run downloads and unpacks nothing:

- the zip: ``$UNICAT_CACHE_DIR`` or ``~/.cache/unicat`` — outside the clone, so every clone and every CI
  run shares it (Maven's ``~/.m2`` keeps a second copy);
- the unpacked distribution: next to the zip when we are an ordinary user (the node runs as us). As root
  it is ``/var/tmp/unicat/elasticsearch-VERSION`` instead, owned by root and world-readable: Elasticsearch
  refuses to run as root, the unprivileged user it runs as (``unicat-es``) cannot enter a mode-700
  ``/root``, and it must not be able to change the distribution. ``/var/tmp`` survives reboots;
- each node's private copy of the config directory (the node writes a keystore there), its data, logs
  and temporary files: one fresh temporary directory, removed when the node stops.

Command line: ``python -m tests.support.es_node fetch|start|stop|status`` (``start`` leaves a node running for
manual work and benchmarks until ``stop``; it prints the ``UNICAT_TEST_ES_URL`` to export).
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import os
import pwd
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from tests.support.loopback import free_port

ES_VERSION = "9.2.0"
MAVEN_ARTIFACT = f"org.elasticsearch.distribution.integ-test-zip:elasticsearch:{ES_VERSION}:zip"
# The zip's SHA-256, pinned: a mirror or proxy of Maven Central may serve the artifact without its
# checksum files (``.sha1``/``.sha512`` answer 404, and ``mvn -C`` then refuses the download), so the
# download is checked against this digest instead, recorded from Maven Central's copy on 2026-12-01.
ARCHIVE_SHA256 = "bf44938a0490ba2a303d39c9cb64b38963dd08c812ce93e10816e878585bcb6b"
MIN_JAVA = 21
NODE_USER = "unicat-es"
ROOT_DIST_DIR = Path("/var/tmp/unicat")
HEAP = "1g"
READY_TIMEOUT = 180.0
STOP_TIMEOUT = 60.0
_DIST_NAME = f"elasticsearch-{ES_VERSION}"
_STATE_FILE = "es-node.json"
_WORKDIR_PREFIX = "unicat-es-"

# Settings of every node: single node on loopback, no security (nothing but this machine reaches it),
# and no disk watermarks: a nearly full CI disk must not turn the test indices read-only.
_NODE_SETTINGS = {
    "discovery.type": "single-node",
    "xpack.security.enabled": "false",
    "network.host": "127.0.0.1",
    "cluster.name": "unicat-test",
    "cluster.routing.allocation.disk.threshold_enabled": "false",
    # Tests clean up with wildcards (DELETE /unicat-test-*), refused by default since 8.0.
    "action.destructive_requires_name": "false",
}


class EsNodeError(RuntimeError):
    """The test node cannot be fetched, started or reached; the message says what to do."""


class JavaNotFoundError(EsNodeError):
    """No Java 21+ runtime was found for Elasticsearch."""


# --- fetching the distribution ------------------------------------------------------------------------


def cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where the zip is kept: ``$UNICAT_CACHE_DIR`` or ``~/.cache/unicat``."""
    env = os.environ if environ is None else environ
    return Path(env.get("UNICAT_CACHE_DIR") or Path.home() / ".cache" / "unicat")


def dist_dir(cache: Path) -> Path:
    """Where the distribution is unpacked: readable by the user the node will run as."""
    return (ROOT_DIST_DIR if os.geteuid() == 0 else cache) / _DIST_NAME


def fetch(cache: Path | None = None, *, dist_root: Path | None = None) -> Path:
    """Download (once, with ``mvn``), verify and unpack the distribution; returns its home directory.

    ``cache`` holds the zip (default :func:`cache_dir`); ``dist_root`` is where it is unpacked (default:
    see :func:`dist_dir`). Safe to call from several processes at once: a lock file serialises them, and
    the zip and the unpacked tree only ever appear complete (written under a temporary name, renamed).
    """
    cache = cache_dir() if cache is None else cache
    cache.mkdir(parents=True, exist_ok=True)
    home = dist_dir(cache) if dist_root is None else dist_root / _DIST_NAME
    with _locked(cache / ".lock"):
        if (home / "bin" / "elasticsearch").is_file():
            return home
        archive = cache / f"{_DIST_NAME}.zip"
        if archive.is_file() and _zip_problem(archive) is not None:
            archive.unlink()  # a damaged cached copy: fetch it again rather than fail forever
        if not archive.is_file():
            _download(archive)
        problem = _zip_problem(archive)
        if problem is not None:
            raise EsNodeError(f"{archive} is not a valid Elasticsearch {ES_VERSION} zip: {problem}")
        _unpack(archive, home)
    return home


@contextlib.contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _download(archive: Path) -> None:
    if shutil.which("mvn") is None:
        raise EsNodeError("`mvn` is not installed: run `sudo bash scripts/install-test-deps.sh`")
    with tempfile.TemporaryDirectory(dir=archive.parent, prefix=".download-") as tmp:
        # No -C: the registry serves no checksum files; the pinned digest is checked below instead.
        command = ["mvn", "-q", "-B", "dependency:copy", f"-Dartifact={MAVEN_ARTIFACT}"]
        result = subprocess.run(
            [*command, f"-DoutputDirectory={tmp}"], capture_output=True, text=True, check=False
        )
        downloaded = Path(tmp) / archive.name
        if result.returncode != 0 or not downloaded.is_file():
            output = (result.stdout + result.stderr).strip()
            raise EsNodeError(f"`mvn dependency:copy` could not fetch {MAVEN_ARTIFACT}:\n{output}")
        digest = sha256_of(downloaded)
        if digest != ARCHIVE_SHA256:
            raise EsNodeError(
                f"the downloaded {downloaded.name} has SHA-256 {digest}, expected {ARCHIVE_SHA256}: "
                "refusing it (remove it from ~/.m2/repository if a damaged copy is cached there)"
            )
        downloaded.replace(archive)


def sha256_of(path: Path) -> str:
    """The hex SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _zip_problem(archive: Path) -> str | None:
    """Why ``archive`` is not a complete, intact distribution zip (every CRC checked), or None."""
    try:
        with zipfile.ZipFile(archive) as zipped:
            names = zipped.namelist()
            outside = [name for name in names if not name.startswith(f"{_DIST_NAME}/") or ".." in name]
            if outside:
                return f"unexpected entry {outside[0]!r}"
            if f"{_DIST_NAME}/bin/elasticsearch" not in names:
                return "no bin/elasticsearch"
            damaged = zipped.testzip()
            return None if damaged is None else f"damaged entry {damaged!r}"
    except (zipfile.BadZipFile, OSError) as error:
        return str(error)


def _unpack(archive: Path, home: Path) -> None:
    if not home.parent.is_dir():
        home.parent.mkdir(parents=True)
        home.parent.chmod(0o755)  # whatever the umask: the node's user must be able to enter it
    with tempfile.TemporaryDirectory(dir=home.parent, prefix=".unpack-") as tmp:
        with zipfile.ZipFile(archive) as zipped:
            for member in zipped.infolist():
                target = Path(zipped.extract(member, tmp))
                target.chmod(_readable_mode(member))
        Path(tmp).chmod(0o755)
        (Path(tmp) / _DIST_NAME).replace(home)


def _readable_mode(member: zipfile.ZipInfo) -> int:
    """The zip's Unix mode, readable (and, if executable or a directory, enterable) by everyone, written
    by the owner only: some entries are 660/750, which the unprivileged node user could not read."""
    mode = stat.S_IMODE(member.external_attr >> 16) or 0o644
    executable = member.is_dir() or mode & 0o111
    return (mode & 0o700) | 0o444 | (0o111 if executable else 0)


# --- Java ---------------------------------------------------------------------------------------------


def java_major_version(banner: str) -> int | None:
    """The major version in ``java -version`` output (``"1.8.0_392"`` → 8, ``"25.0.1"`` → 25)."""
    match = re.search(r'version "(\d+)(?:\.(\d+))?', banner)
    if match is None:
        return None
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def _java_version(home: Path) -> int | None:
    try:
        result = subprocess.run(
            [str(home / "bin" / "java"), "-version"], capture_output=True, text=True, timeout=60, check=False
        )
    except OSError:
        return None
    return java_major_version(result.stderr)


def find_java(
    environ: Mapping[str, str] | None = None,
    *,
    jvm_root: Path = Path("/usr/lib/jvm"),
    alternatives: bool = True,
) -> Path:
    """The home directory of a Java 21+ runtime, to pass to Elasticsearch as ``ES_JAVA_HOME``.

    Looks at ``ES_JAVA_HOME`` (which must then be 21+: it is an explicit choice), ``JAVA_HOME``, the JDKs
    under ``jvm_root`` and ``update-alternatives --list java``; the first one that is 21+ wins. The
    machine's default Java may well be older (Debian 12's is 17), so it is not enough to run ``java``.
    """
    env = os.environ if environ is None else environ
    explicit = env.get("ES_JAVA_HOME")
    if explicit:
        version = _java_version(Path(explicit))
        if version is None or version < MIN_JAVA:
            raise JavaNotFoundError(
                f"ES_JAVA_HOME={explicit} is {_describe(version)}; Elasticsearch {ES_VERSION} needs Java "
                f"{MIN_JAVA}+: point ES_JAVA_HOME at a JDK {MIN_JAVA}+ or unset it"
            )
        return Path(explicit)
    seen: list[str] = []
    for home in _java_candidates(env, jvm_root, alternatives):
        version = _java_version(home)
        if version is not None and version >= MIN_JAVA:
            return home
        seen.append(f"{home} ({_describe(version)})")
    raise JavaNotFoundError(
        f"Elasticsearch {ES_VERSION} needs Java {MIN_JAVA}+, and none was found; looked at: "
        f"{', '.join(seen) or 'nothing (no JAVA_HOME, no JDK under ' + str(jvm_root) + ')'}. "
        f"Install a JDK {MIN_JAVA}+ (e.g. Temurin) and/or set ES_JAVA_HOME to its home directory."
    )


def _describe(version: int | None) -> str:
    return "not a runnable Java" if version is None else f"Java {version}"


def _java_candidates(env: Mapping[str, str], jvm_root: Path, alternatives: bool) -> Iterator[Path]:
    homes: list[Path] = []
    if env.get("JAVA_HOME"):
        homes.append(Path(env["JAVA_HOME"]))
    if jvm_root.is_dir():
        homes.extend(sorted(path for path in jvm_root.iterdir() if (path / "bin" / "java").is_file()))
    if alternatives and shutil.which("update-alternatives"):
        listed = subprocess.run(
            ["update-alternatives", "--list", "java"], capture_output=True, text=True, check=False
        )
        homes.extend(Path(line).resolve().parent.parent for line in listed.stdout.split())
    unique: dict[Path, Path] = {}
    for home in homes:
        unique.setdefault(home.resolve(), home)
    yield from unique.values()


# --- running a node -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NodeProcess:
    """A started node: its URL, the process group to signal, and the directory that holds its files."""

    url: str
    pgid: int
    workdir: Path

    def log_tail(self, lines: int = 40) -> str:
        """The end of the node's console output, for error messages."""
        log = self.workdir / "node.log"
        text = log.read_text(errors="replace") if log.is_file() else "(no output)"
        return "\n".join(text.splitlines()[-lines:])


def cluster_health(url: str, timeout: float = 5.0) -> dict[str, Any] | None:
    """``GET /_cluster/health`` (``GET /`` answers 405 on this distribution), or None when unreachable."""
    try:
        with urllib.request.urlopen(f"{url}/_cluster/health", timeout=timeout) as response:
            health: dict[str, Any] = json.load(response)
            return health
    except (OSError, ValueError):
        return None


def _is_ready(url: str) -> bool:
    health = cluster_health(url)
    return health is not None and health.get("status") in ("green", "yellow")


def node_user() -> str | None:
    """The user the node runs as when we are root (created on first use); None: run it as ourselves."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(NODE_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", NODE_USER],
            capture_output=True,
            check=False,  # another process may have created it meanwhile: checked just below
        )
        pwd.getpwnam(NODE_USER)
    return NODE_USER


def sweep_orphans() -> None:
    """Remove the files of nodes whose processes are gone: a session killed outright (SIGKILL) still
    stops its node, through the parent-death signal, but cannot remove the node's data itself."""
    for workdir in Path(tempfile.gettempdir()).glob(f"{_WORKDIR_PREFIX}*"):
        try:
            pgid = int((workdir / "node.pgid").read_text())
        except (OSError, ValueError):
            continue  # not written yet: a node being started right now
        if not group_alive(pgid):
            shutil.rmtree(workdir, ignore_errors=True)


def prepare_workdir(home: Path, user: str | None, parent: Path | None = None) -> Path:
    """A fresh directory for one node's config copy, data, logs and temporary files, owned by ``user``
    (under ``parent``, default the temporary directory)."""
    workdir = Path(tempfile.mkdtemp(prefix=_WORKDIR_PREFIX, dir=parent))
    shutil.copytree(home / "config", workdir / "config")
    for name in ("data", "logs", "tmp"):
        (workdir / name).mkdir()
    if user is not None:
        account = pwd.getpwnam(user)
        for directory, _, files in os.walk(workdir):
            for path in [directory, *(os.path.join(directory, name) for name in files)]:
                os.chown(path, account.pw_uid, account.pw_gid)
    return workdir


def start_node(home: Path, java_home: Path, *, detached: bool = False, heap: str = HEAP) -> NodeProcess:
    """Start a node on a free port (not waiting for it to be ready).

    Unless ``detached``, the node gets SIGTERM when the thread that started it dies, even by SIGKILL
    (``setpriv --pdeathsig``), so no test session can leave it behind. Its own session keeps a Ctrl-C
    meant for the tests from reaching it: the caller stops it, in order.
    """
    sweep_orphans()
    workdir = prepare_workdir(home, node_user())
    port = free_port()
    pgid = launch(home, java_home, workdir, {**_NODE_SETTINGS, "http.port": str(port)}, detached, heap)
    return NodeProcess(url=f"http://127.0.0.1:{port}", pgid=pgid, workdir=workdir)


def launch(
    home: Path, java_home: Path, workdir: Path, settings: Mapping[str, str], detached: bool, heap: str
) -> int:
    """Run ``bin/elasticsearch`` with ``settings`` on the files of ``workdir`` (a fresh one from
    :func:`prepare_workdir`, or the same again to restart a node on its data); returns its process group.

    Unless ``detached``, the node gets SIGTERM when the thread that started it dies (see :func:`start_node`).
    """
    user = node_user()
    settings = {**settings, **{f"path.{name}": str(workdir / name) for name in ("data", "logs")}}
    command = [
        *([] if detached else ["setpriv", "--pdeathsig", "TERM"]),
        *([] if user is None else ["runuser", "-u", user, "--"]),
        "env",
        f"ES_JAVA_HOME={java_home}",
        f"ES_PATH_CONF={workdir / 'config'}",
        f"ES_TMPDIR={workdir / 'tmp'}",
        f"ES_JAVA_OPTS=-Xms{heap} -Xmx{heap}",
        str(home / "bin" / "elasticsearch"),
        *(argument for key, value in settings.items() for argument in ("-E", f"{key}={value}")),
    ]
    with (workdir / "node.log").open("ab") as log:
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    (workdir / "node.pgid").write_text(str(process.pid))
    return process.pid


def wait_ready(node: NodeProcess, timeout: float = READY_TIMEOUT) -> None:
    """Wait until the node's cluster health is green or yellow; raise with its log if it dies or is late."""
    deadline = time.monotonic() + timeout
    while not _is_ready(node.url):
        if not group_alive(node.pgid):
            raise EsNodeError(
                f"the Elasticsearch node exited while starting; its log ends:\n{node.log_tail()}"
            )
        if time.monotonic() > deadline:
            raise EsNodeError(
                f"the Elasticsearch node at {node.url} was not ready after {timeout:.0f} s; "
                f"its log ends:\n{node.log_tail()}"
            )
        time.sleep(0.5)


def stop_node(node: NodeProcess, timeout: float = STOP_TIMEOUT) -> None:
    """Stop the node's whole process group (SIGTERM, then SIGKILL after ``timeout``), remove its files."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(node.pgid, sig)
        deadline = time.monotonic() + timeout
        while group_alive(node.pgid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if not group_alive(node.pgid):
            break
    shutil.rmtree(node.workdir, ignore_errors=True)


def group_alive(pgid: int) -> bool:
    """Whether a process of the group still runs, read from /proc. Zombies do not count: an orphaned
    process exits before init reaps it, and signalling its group still succeeds until then."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pgid, os.WNOHANG)  # our own child: reap it, so it does not linger as a zombie
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, _, group = stat_file.read_text().rsplit(")", 1)[1].split()[:3]
        except (OSError, ValueError):
            continue  # the process ended while we looked
        if state != "Z" and int(group) == pgid:
            return True
    return False


@contextlib.contextmanager
def sigterm_unwinds() -> Iterator[None]:
    """Treat SIGTERM (a CI timeout, `kill`) like Ctrl-C while a node runs, so the node is stopped too.

    KeyboardInterrupt rather than SystemExit: pytest reports SystemExit as one failed test and goes on,
    while it ends the session on KeyboardInterrupt, tearing down its fixtures (and so the node).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def unwind(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, unwind)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def running_node(environ: Mapping[str, str] | None = None) -> Iterator[str]:
    """Yield the base URL (``http://127.0.0.1:PORT``) of a ready Elasticsearch node.

    With ``UNICAT_TEST_ES_URL`` set, that node is used (its health is checked; it is left running).
    Otherwise a fresh node is fetched if needed, started, and stopped with its files removed at exit —
    also on an exception, Ctrl-C or SIGTERM, and (through the parent-death signal) if this process is
    killed outright. Enter it from the main thread: the node's lifetime is tied to the thread's.
    """
    env = os.environ if environ is None else environ
    given = env.get("UNICAT_TEST_ES_URL")
    if given:
        url = given.rstrip("/")
        if not _is_ready(url):
            raise EsNodeError(
                f"UNICAT_TEST_ES_URL={given} does not answer a green or yellow /_cluster/health: start "
                "that node, or unset UNICAT_TEST_ES_URL to let the tests start their own"
            )
        yield url
        return
    home = fetch(cache_dir(env))
    java_home = find_java(env)
    with sigterm_unwinds():
        node = start_node(home, java_home)
        try:
            wait_ready(node)
            yield node.url
        finally:
            stop_node(node)


# --- command line -------------------------------------------------------------------------------------


def _load_state(state_file: Path) -> NodeProcess | None:
    if not state_file.is_file():
        return None
    fields = json.loads(state_file.read_text())
    return NodeProcess(url=fields["url"], pgid=fields["pgid"], workdir=Path(fields["workdir"]))


def _cmd_fetch(cache: Path, state_file: Path) -> int:
    print(f"Elasticsearch {ES_VERSION}: {fetch(cache)}")
    print(f"Java: {find_java()}")
    return 0


def _cmd_start(cache: Path, state_file: Path) -> int:
    running = _load_state(state_file)
    if running is not None and group_alive(running.pgid):
        print(f"already running: export UNICAT_TEST_ES_URL={running.url}")
        return 0
    node = start_node(fetch(cache), find_java(), detached=True)
    try:
        wait_ready(node)
    except BaseException:
        stop_node(node)
        raise
    state_file.write_text(json.dumps({**asdict(node), "workdir": str(node.workdir)}))
    print(f"export UNICAT_TEST_ES_URL={node.url}")
    return 0


def _cmd_stop(cache: Path, state_file: Path) -> int:
    node = _load_state(state_file)
    if node is None:
        print("no node started by `python -m tests.support.es_node start` is recorded")
        return 0
    stop_node(node)
    state_file.unlink()
    print(f"stopped the node at {node.url}")
    return 0


def _cmd_status(cache: Path, state_file: Path) -> int:
    node = _load_state(state_file)
    if node is None or not group_alive(node.pgid):
        print("not running")
        return 1
    health = cluster_health(node.url)
    print(f"{node.url} {json.dumps(health) if health else 'does not answer yet'}")
    return 0 if _is_ready(node.url) else 1


def main(argv: list[str] | None = None) -> int:
    """``python -m tests.support.es_node fetch|start|stop|status``."""
    commands = {"fetch": _cmd_fetch, "start": _cmd_start, "stop": _cmd_stop, "status": _cmd_status}
    parser = argparse.ArgumentParser(
        prog="python -m tests.support.es_node", description=__doc__.split("\n")[0]
    )
    parser.add_argument("command", choices=commands)
    args = parser.parse_args(argv)
    cache = cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    try:
        return commands[args.command](cache, cache / _STATE_FILE)
    except EsNodeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
