"""Unicat core: what every stage shares (settings, data model, text analysis, query model, engines).

Stages (``harvester``, ``indexer``, ``search_app``) import from here and never from each other; the
``unicat`` CLI in :mod:`unicat.cli` is the composition root that wires them together.
"""

__version__ = "0.1.0"
