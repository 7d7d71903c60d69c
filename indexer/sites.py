"""Each copy of a union record resolved to the library of the network's directory that keeps it
(:meth:`unicat.libraries.LibraryDirectory.site_of`), as union records are built.

Done in the indexing process, after the workers have parsed: the directory (read once per run) never
travels to them, and a holding's site costs one dictionary lookup.
"""

from __future__ import annotations

import dataclasses

from unicat.libraries import LibraryDirectory
from unicat.model import UnionRecord


def with_sites(record: UnionRecord, directory: LibraryDirectory) -> UnionRecord:
    """``record`` with each holding's ``site`` set from ``directory`` (``None`` for a source the
    directory does not list)."""
    record.holdings = [
        dataclasses.replace(holding, site=site)
        if (site := directory.site_of(holding.library, holding.branch)) != holding.site
        else holding
        for holding in record.holdings
    ]
    return record
