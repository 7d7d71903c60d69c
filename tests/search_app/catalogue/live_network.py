"""The live-search tests' network: a union catalogue holding every other record of the shared Pride and
Prejudice set (harvested from a file by the real pipeline), and Zebra holding all of them. What must
merge comes from the data: the union and Zebra hold copies of the same records.

Used by the HTTP tests on both setups (test_live_search_http.py) and by the browser tests
(test_browser_live.py), which each choose the targets beside Zebra.
"""

from __future__ import annotations

from pathlib import Path

from harvester.importer import import_files
from indexer import run_index
from tests.indexer.indexer_testdata import iso2709_records
from tests.support.zebra import MARC21_DATABASE, ZebraServer
from unicat.catalogue import Catalogue
from unicat.live_search import LiveTarget
from unicat.model import Source

PRIDE_FILE = "dedup/pride-and-prejudice-fixed.mrc"
UNION_POSITIONS = range(0, 383, 2)  # every other record: the rest only Zebra holds
UNION_SOURCE = Source("AUS", "Austen library")


def load_half_pride(catalogue: Catalogue, folder: Path) -> None:
    """Harvest every other Pride and Prejudice record from a file as the library AUS's and index them."""
    raws = iso2709_records(PRIDE_FILE)
    dump = folder / "pride-half.mrc"
    dump.write_bytes(b"".join(raws[p] for p in UNION_POSITIONS))
    catalogue.records.save_source(UNION_SOURCE)
    import_files(catalogue.records, UNION_SOURCE, [dump])
    run_index(catalogue.records, catalogue.index, workers=1)


def zebra_target(zebra: ZebraServer) -> LiveTarget:
    """Zebra's MARC 21 database as the live target ZEB, which stands for no library of the network."""
    return LiveTarget("ZEB", "Zebra library", "z3950", zebra.z3950_address(MARC21_DATABASE), "usmarc")
