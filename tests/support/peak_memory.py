"""``python -m tests.support.peak_memory OUT MAX_FILE_BYTES ARGS…``: run the ``unicat`` command with
ARGS in this process, every file it writes held to MAX_FILE_BYTES (``RLIMIT_FSIZE``: a write past it
fails with EFBIG), and at its exit write its peak resident memory (``VmHWM``, bytes) to the file OUT.

The limit is set here, not by the parent between fork and exec (``preexec_fn``): a test process runs
threads (servers, clients), and Python warns that a child forked from one may deadlock or die before
its exec.

Why not ``wait4``'s ``ru_maxrss`` in the parent: Linux carries a process's high-water mark across fork
and exec, so a child of a large test process reports the parent's size at the fork, whatever it used
itself. ``VmHWM`` belongs to the memory the program runs in, which exec made anew.
"""

from __future__ import annotations

import atexit
import resource
import sys
from pathlib import Path

from unicat_cli.cli import main as unicat_main


def peak_resident_bytes() -> int:
    """This process's peak resident memory since its exec, from ``/proc/self/status``."""
    for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024  # kB
    raise RuntimeError("/proc/self/status has no VmHWM line")


def main() -> int:
    out, max_file_bytes = Path(sys.argv[1]), int(sys.argv[2])
    resource.setrlimit(resource.RLIMIT_FSIZE, (max_file_bytes, max_file_bytes))
    atexit.register(lambda: out.write_text(str(peak_resident_bytes()), encoding="ascii"))
    return unicat_main(sys.argv[3:])


if __name__ == "__main__":
    sys.exit(main())
