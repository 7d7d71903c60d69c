"""YAZ's test server, ``yaz-ztest`` (Debian's ``yaz``), on a free loopback port: a real Z39.50 and SRU
peer for the federated search's clients.

It answers every search on database ``Default`` with MARC 21 records of its own making (``computer``
finds 23 of them), over Z39.50 and, on the same port, over SRU (``http://127.0.0.1:PORT/Default``).
It forks a process per session, so it is started in a process group of its own and stopped as a group.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.loopback import free_port

START_SECONDS = 10.0


class ZtestError(RuntimeError):
    """yaz-ztest did not start; the message holds the end of its log."""


@dataclass(frozen=True, slots=True)
class ZtestServer:
    host: str
    port: int
    log: Path

    @property
    def z3950_address(self) -> str:
        """The ``host:port/database`` a Z39.50 target names."""
        return f"{self.host}:{self.port}/Default"

    @property
    def sru_url(self) -> str:
        """The base URL an SRU target names."""
        return f"http://{self.host}:{self.port}/Default"


@contextmanager
def running_ztest(workdir: Path) -> Iterator[ZtestServer]:
    """Start ``yaz-ztest`` on a free loopback port, yield it once it accepts connections, stop it."""
    port = free_port()
    log = workdir / f"yaz-ztest-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["yaz-ztest", f"tcp:127.0.0.1:{port}"],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=workdir,
            start_new_session=True,
        )
    try:
        _wait_listening(process, port, log)
        yield ZtestServer("127.0.0.1", port, log)
    finally:
        _stop(process)


def _wait_listening(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ZtestError(f"yaz-ztest exited with {process.returncode}:\n{_tail(log)}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise ZtestError(f"yaz-ztest did not listen on port {port} within {START_SECONDS} s:\n{_tail(log)}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _tail(log: Path, lines: int = 20) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
