"""``yaz-client`` (Debian's ``yaz``), YAZ's own command-line client, run as a second opinion on what a
Z39.50 server answers: the hit count it prints and the raw records it dumps."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

_HITS_RE = re.compile(r"Number of hits: (\d+)")


@dataclass(frozen=True, slots=True)
class ClientAnswer:
    hits: int
    records: bytes
    """The records ``show`` fetched, as the server sent them (``set_marcdump``)."""


def yaz_client(address: str, pqf: str, show: str, workdir: Path) -> ClientAnswer:
    """Open ``address`` (``host:port/database``), find ``pqf`` and ``show`` (``3+2``: from record 3,
    two records) with yaz-client."""
    dump = workdir / "yaz-client-dump.mrc"
    dump.unlink(missing_ok=True)
    script = f"open tcp:{address}\nset_marcdump {dump}\nfind {pqf}\nshow {show}\nquit\n"
    run = subprocess.run(
        ["yaz-client"], input=script, capture_output=True, text=True, cwd=workdir, timeout=60, check=False
    )
    found = _HITS_RE.search(run.stdout)
    if found is None:
        raise AssertionError(f"yaz-client printed no hit count:\n{run.stdout}\n{run.stderr}")
    return ClientAnswer(int(found.group(1)), dump.read_bytes() if dump.exists() else b"")
