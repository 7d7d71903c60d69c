"""Unicat core: what every stage shares (settings, data model, text analysis, query model, the ports),
with the adapters that implement the ports beside it (``unicat.engines``, ``unicat.stores``).

Stages (``harvester``, ``indexer``, ``search_app``) import from here and never from each other; the
``unicat`` command (:mod:`unicat_cli`) is the composition root above them that wires them together.
import-linter checks both directions (``[tool.importlinter]`` in ``pyproject.toml``).
"""

__version__ = "0.1.0"
