"""Files the command line is told to write (``--out``) or read (``import FILE...``): whatever stops them
— a directory, a missing folder, no permission, a full disk — is one line naming the option and what to
do, and a usage error (exit status 2), never a traceback."""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import BinaryIO

from unicat.errors import BadParameter

_WHAT_TO_DO = {
    errno.EISDIR: "it is a directory: give a file name inside it",
    errno.ENOENT: "its folder does not exist: create it first",
    errno.ENOTDIR: "a part of its path is a file, not a folder",
    errno.EACCES: "no permission to write there: choose another place or change the permissions",
    errno.EPERM: "no permission to write there: choose another place or change the permissions",
    errno.EROFS: "the file system is read-only: choose another place",
    errno.ENOSPC: "the disk is full: free some space or choose another disk",
    errno.EDQUOT: "the disk quota is used up: free some space or choose another disk",
}


def _refused(option: str, path: Path, exc: OSError) -> BadParameter:
    advice = _WHAT_TO_DO.get(exc.errno or 0, exc.strerror or str(exc))
    return BadParameter(option, f"cannot write {path}: {advice}")


@contextmanager
def output_file(option: str, path: Path) -> Iterator[BinaryIO]:
    """``path`` open for writing bytes (replacing what it held), closed at the end.

    A failure to open, write or close it raises :class:`BadParameter` for ``option``; a regular file
    left half written is removed, so no one mistakes it for a whole export.
    """
    if path.is_dir():
        raise _refused(option, path, IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR)))
    try:
        handle = path.open("wb")
    except OSError as exc:
        raise _refused(option, path, exc) from exc
    try:
        with handle:
            yield handle
    except OSError as exc:
        if path.is_file():
            with suppress(OSError):  # a file the system keeps (under /proc) stays; the message says why
                path.unlink(missing_ok=True)
        raise _refused(option, path, exc) from exc


def check_readable(option: str, path: Path) -> None:
    """Refuse an input that is not a regular file this process may read, before anything is stored."""
    if not path.exists():
        raise BadParameter(option, f"{path} does not exist")
    if not path.is_file():
        raise BadParameter(option, f"{path} is not a regular file (a directory?): name the file itself")
    if not os.access(path, os.R_OK):
        raise BadParameter(option, f"no permission to read {path}")
