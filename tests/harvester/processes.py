"""Unicat commands in processes of their own, as a librarian or a cron job runs them (and measured)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class Finished:
    """A process that ran to its end: its exit status, output and peak resident memory (VmHWM)."""

    returncode: int
    stdout: str
    stderr: str
    peak_rss: int  # bytes


def run_measured(
    settings: Settings, config: str, *arguments: str, max_file_bytes: int, timeout: float = 120.0
) -> Finished:
    """``unicat ARGUMENTS…`` as :func:`unicat_process` runs it, to its end, with every file it writes
    held to ``max_file_bytes`` (RLIMIT_FSIZE: a write past it fails with EFBIG, so a spool that grew
    past its bound would fail the harvest) and temporary files under ``settings.data_dir/tmp``. Its
    peak memory is its own ``VmHWM`` (:mod:`tests.support.peak_memory`: ``wait4``'s ``ru_maxrss`` would
    count this test process's size at the fork)."""
    path = settings.data_dir / "unicat.toml"
    path.write_text(f"[unicat]\n{config}", encoding="utf-8")
    spool = settings.data_dir / "tmp"
    spool.mkdir(exist_ok=True)
    env = {key: value for key, value in os.environ.items() if not key.startswith("UNICAT_")}
    env.update(PYTHONPATH=str(ROOT), TMPDIR=str(spool))
    peak_path = settings.data_dir / "peak-memory.txt"
    peak_path.unlink(missing_ok=True)
    command = [sys.executable, "-m", "tests.support.peak_memory", str(peak_path), str(max_file_bytes)]
    command += ["--engine", settings.engine_url, "--config", str(path)]

    out_path, err_path = settings.data_dir / "stdout.txt", settings.data_dir / "stderr.txt"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        process = subprocess.Popen([*command, *arguments], cwd=ROOT, stdout=out, stderr=err, env=env)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise AssertionError(
            f"unicat {' '.join(arguments)} ran past {timeout} s: {err_path.read_text()}"
        ) from None
    errors = err_path.read_text(encoding="utf-8")
    if not peak_path.exists():
        raise AssertionError(
            f"unicat {' '.join(arguments)} ended ({process.returncode}) before its exit: {errors}"
        )
    return Finished(
        process.returncode,
        out_path.read_text(encoding="utf-8"),
        errors,
        int(peak_path.read_text(encoding="ascii")),
    )
