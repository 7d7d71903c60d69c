"""``unicat serve`` stops cleanly on SIGINT (Ctrl-C) and SIGTERM (``docker stop``, systemd, CI runners),
also when it inherited SIGINT as ignored, as a process started in the background by a shell without job
control does: it exits 0 and stops listening."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

SERVING = re.compile(r"Unicat is serving at (http://\S+/)")
STOP_SECONDS = 10


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _accepts(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=2):
            return True
    except OSError:
        return False


@pytest.mark.parametrize(
    ("signum", "inherited_ignored"),
    [(signal.SIGINT, False), (signal.SIGINT, True), (signal.SIGTERM, False)],
    ids=["sigint", "sigint-inherited-ignored", "sigterm"],
)
def test_serve_stops_cleanly_on_a_stop_signal(tmp_path: Path, signum: int, inherited_ignored: bool) -> None:
    # The harvest schedule's first round starts with the server: the signal may come while it reads.
    command = [sys.executable, "-m", "unicat", "--engine", f"sqlite:///{tmp_path / 'u.db'}", "serve"]
    process = subprocess.Popen(
        [*command, "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=tmp_path,
        preexec_fn=_ignore_sigint if inherited_ignored else None,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = SERVING.search(line)
        assert match, line
        url = match.group(1)
        assert _accepts(url)
        process.send_signal(signum)
        assert process.wait(timeout=STOP_SECONDS) == 0, process.stdout.read()
        assert not _accepts(url)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
