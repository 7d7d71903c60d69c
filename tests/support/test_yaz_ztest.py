"""The yaz-ztest harness starts a peer that Debian's own client can search, and stops it."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest

from tests.support.yaz_ztest import running_ztest

pytestmark = pytest.mark.peers


def test_yaz_client_searches_the_started_server(tmp_path: Path) -> None:
    with running_ztest(tmp_path) as server:
        commands = f"open tcp:{server.z3950_address}\nfind @attr 1=4 computer\nquit\n"
        out = subprocess.run(
            ["yaz-client"], input=commands, capture_output=True, text=True, timeout=30, check=False
        ).stdout
        # yaz-ztest's own records: every search for "computer" finds its 23 dummy records.
        assert "Number of hits: 23" in out
    with pytest.raises(OSError), socket.create_connection((server.host, server.port), timeout=1):
        pass
