"""The live search, put together: the federated stage's fan-out with the indexer's reader and merger
over the catalogue's stores and union index (the stages never import each other; this root does)."""

from __future__ import annotations

from dataclasses import dataclass

from federated.fanout import FederatedSearch
from indexer.live_merge import LiveResultMerger
from indexer.live_records import LiveReader
from unicat.catalogue import Catalogue
from unicat.libraries import DirectoryCache


@dataclass(frozen=True, slots=True)
class LiveParts:
    """The live search service and the parts it was built from (``unicat target test`` uses them apart)."""

    service: FederatedSearch
    reader: LiveReader
    merger: LiveResultMerger


def open_live_parts(catalogue: Catalogue) -> LiveParts:
    """The live search over ``catalogue``, its records read with the network's libraries as they are now."""
    # Read from the store at the first search and again at most once a minute: a library a librarian
    # adds while the app runs names the holdings of a target that stands for it, without a restart.
    reader = LiveReader(DirectoryCache(catalogue.libraries.directory))
    merger = LiveResultMerger(catalogue.records, catalogue.index)
    return LiveParts(FederatedSearch(reader, merger), reader, merger)
