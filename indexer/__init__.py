"""The indexer: source records → normalised fields (MARC profiles) → merged union records."""

from indexer.incremental import update_index
from indexer.pipeline import IndexProgress, IndexReport, run_index

__all__ = ["IndexProgress", "IndexReport", "run_index", "update_index"]
