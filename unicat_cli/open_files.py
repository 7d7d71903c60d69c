"""The process's ceiling on open files, raised for serving, with the connection cap fitted under it.

Every client connection is a descriptor, and so is every database, index and log file. A server whose
clients may take them all cannot open its database any more; so ``unicat serve`` raises its soft
``RLIMIT_NOFILE`` as far as the hard limit allows, and lowers ``max_connections`` if even that leaves
less than :data:`KEPT_FOR_FILES` descriptors beside the connections.
"""

from __future__ import annotations

import logging
import sys

from unicat.errors import ConfigError
from unicat.settings import Settings

log = logging.getLogger(__name__)

KEPT_FOR_FILES = 256
"""Descriptors kept beside the client connections: the SQLite files (three for each connection), the
Elasticsearch and PostgreSQL connections, the scheduled harvests' connections, log files and the standard
streams. A server with the default settings holds about 30; the rest is room for larger pools."""


def raise_open_files_limit(wanted: int) -> int:
    """Raise the soft limit on open files towards ``wanted``, no further than the hard limit; returns the
    soft limit now in force."""
    if sys.platform == "win32":  # sockets are not files there: no such limit
        return wanted
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return wanted
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if target > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError) as exc:  # a system ceiling below the hard limit (macOS)
            log.warning("could not raise the limit on open files from %d to %d: %s", soft, target, exc)
            return int(soft)
        return target
    return int(soft)


def fit_connections(settings: Settings) -> Settings:
    """``settings`` with ``max_connections`` lowered, if needed, to leave :data:`KEPT_FOR_FILES`
    descriptors for the files, after raising the process's limit as far as it goes."""
    files = raise_open_files_limit(settings.max_connections + KEPT_FOR_FILES)
    fitted = min(settings.max_connections, files - KEPT_FOR_FILES)
    if fitted < 1:
        raise ConfigError(
            f"this process may open only {files} files, not enough to serve: raise its limit "
            f"(`ulimit -n`, or LimitNOFILE= in a systemd unit) above {KEPT_FOR_FILES}"
        )
    if fitted < settings.max_connections:
        log.warning(
            "serving at most %d connections, not max_connections = %d: this process may open %d files "
            "and keeps %d for the database, index and log files; raise its hard limit (`ulimit -Hn`, "
            "LimitNOFILE=) to allow more",
            fitted,
            settings.max_connections,
            files,
            KEPT_FOR_FILES,
        )
    else:
        log.info(
            "serving at most %d connections (max_connections); %d more descriptors are kept for the "
            "database, index and log files",
            fitted,
            KEPT_FOR_FILES,
        )
    return settings.replace(max_connections=fitted)
