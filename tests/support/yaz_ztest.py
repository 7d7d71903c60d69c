"""YAZ's test server, ``yaz-ztest`` (Debian's ``yaz``), on a free loopback port: a real Z39.50 and SRU
peer for the federated search's clients.

It answers every search on database ``Default`` with MARC 21 records of its own making (``computer``
finds 23 of them), over Z39.50 and, on the same port, over SRU (``http://127.0.0.1:PORT/Default``).
It forks a process per session, so it is started in a process group of its own and stopped as a group.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.loopback import free_port
from tests.support.peer_process import start_group, stop_group, wait_listening


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
    process = start_group(["yaz-ztest", f"tcp:127.0.0.1:{port}"], workdir, log)
    try:
        wait_listening(process, port, log)
        yield ZtestServer("127.0.0.1", port, log)
    finally:
        stop_group(process)
