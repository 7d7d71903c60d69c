"""The indexer: source records → normalised fields (MARC profiles) → merged union records."""

from indexer.pipeline import IndexProgress, IndexReport, run_index

__all__ = ["IndexProgress", "IndexReport", "run_index"]
