"""A third-party server the tests start on loopback: in a process group of its own (the Z39.50
servers fork a process per session), waited for until it accepts connections, stopped as a group."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

START_SECONDS = 10.0


class PeerStartError(RuntimeError):
    """The server did not start; the message holds the end of its log."""


def start_group(argv: list[str], workdir: Path, log: Path) -> subprocess.Popen[bytes]:
    """Run ``argv`` in ``workdir`` as the leader of a new process group, its output in ``log``."""
    with log.open("ab") as out:
        try:
            return subprocess.Popen(
                argv, stdout=out, stderr=subprocess.STDOUT, cwd=workdir, start_new_session=True
            )
        except FileNotFoundError as exc:
            raise PeerStartError(not_installed(argv[0])) from exc


def not_installed(command: str) -> str:
    """The error for a peer's program that is not on this machine: what to run to get it."""
    return (
        f"{command} is not installed: run `sudo bash scripts/install-test-deps.sh`, which installs the peers"
    )


def wait_listening(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    """Return once the server accepts a TCP connection on the loopback ``port``; fail with its log
    when it exits first or does not listen within :data:`START_SECONDS`."""
    name = Path(str(process.args[0] if isinstance(process.args, list) else process.args)).name
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise PeerStartError(f"{name} exited with {process.returncode}:\n{tail(log)}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise PeerStartError(f"{name} did not listen on port {port} within {START_SECONDS} s:\n{tail(log)}")


def stop_group(process: subprocess.Popen[bytes]) -> None:
    """Stop the server and the session processes it forked: SIGTERM to the group, SIGKILL if it lingers."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def tail(log: Path, lines: int = 20) -> str:
    """The end of a server's log, for an error message."""
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
