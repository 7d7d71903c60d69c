"""Unicat commands in processes of their own, as a librarian or a cron job runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from unicat.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def unicat_process(settings: Settings, config: str, *arguments: str) -> subprocess.Popen[bytes]:
    """``unicat --engine … --config FILE ARGUMENTS…`` started from the repository, with ``config`` as
    the ``[unicat]`` table of FILE and no ``UNICAT_*`` variable of the test's environment."""
    path = settings.data_dir / "unicat.toml"
    path.write_text(f"[unicat]\n{config}", encoding="utf-8")
    env = {key: value for key, value in os.environ.items() if not key.startswith("UNICAT_")}
    command = [sys.executable, "-m", "unicat", "--engine", settings.engine_url, "--config", str(path)]
    return subprocess.Popen(
        [*command, *arguments],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**env, "PYTHONPATH": str(ROOT)},
    )
