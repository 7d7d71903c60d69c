"""``unicat serve`` raises its limit on open files for its connections and keeps room for its files
(unicat_cli/open_files.py): it raises the soft limit as far as the connection cap needs, lowers the cap
when the hard limit is too low, and refuses to start when not even its files fit."""

from __future__ import annotations

import resource
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.serve_process import ServeProcess
from unicat_cli.open_files import KEPT_FOR_FILES

A_REQUEST = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


@pytest.fixture
def hard_limit() -> int:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 4096 + KEPT_FOR_FILES:
        pytest.skip(f"this hard limit on open files ({hard}) cannot be raised to")
    return hard


def test_the_soft_limit_is_raised_for_the_connection_cap_and_the_files(
    tmp_path: Path, hard_limit: int
) -> None:
    engine_url = f"sqlite:///{tmp_path / 'u.db'}"
    limits = (1024, hard_limit)
    with ServeProcess(tmp_path, open_files=limits, engine_url=engine_url, max_connections=4096) as served:
        assert served.open_files_limit() == (4096 + KEPT_FOR_FILES, hard_limit)
    assert (
        f"serving at most 4096 connections (max_connections); {KEPT_FOR_FILES} more descriptors are kept for "
        "the database, index and log files"
    ) in served.log.read_text()


def test_a_hard_limit_below_the_cap_lowers_the_cap_and_says_so(tmp_path: Path) -> None:
    files = KEPT_FOR_FILES + 40
    with ServeProcess(
        tmp_path, open_files=(files, files), engine_url=f"sqlite:///{tmp_path / 'u.db'}", max_connections=4096
    ) as served:
        assert (
            f"serving at most 40 connections, not max_connections = 4096: this process may open {files} files"
        ) in served.log.read_text()
        held = [socket.create_connection(("127.0.0.1", served.port), timeout=10) for _ in range(40)]
        try:
            for sock in held:
                sock.sendall(A_REQUEST)
                assert sock.recv(4096).startswith(b"HTTP/1.1 200")
            with socket.create_connection(("127.0.0.1", served.port), timeout=10) as refused:
                try:
                    refused.sendall(A_REQUEST)
                    assert refused.recv(4096) == b""
                except ConnectionResetError:
                    pass
        finally:
            for sock in held:
                sock.close()
    log = served.log.read_text()
    assert "refusing new connections: 40 are open" in log
    assert "Too many open files" not in log


def test_serve_refuses_to_start_when_not_even_its_files_fit(tmp_path: Path) -> None:
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (KEPT_FOR_FILES - 56, KEPT_FOR_FILES - 56))

    engine = f"sqlite:///{tmp_path / 'u.db'}"
    done = subprocess.run(
        [sys.executable, "-m", "unicat", "--engine", engine, "serve", "--port", "0"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        preexec_fn=limit,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        f"unicat: error: this process may open only {KEPT_FOR_FILES - 56} files, not enough to serve: raise "
        f"its limit (`ulimit -n`, or LimitNOFILE= in a systemd unit) above {KEPT_FOR_FILES}"
    )
