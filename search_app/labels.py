"""Facet configuration and the human labels of stored codes, read from ``mappings/facets.toml``.

Labels are data a librarian edits, not code: a code with no label is shown as stored, so a new format
or language never breaks a page, it only looks less friendly until someone names it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from mappings import MAPPINGS_DIR
from search_app.i18n import gettext
from unicat.errors import ConfigError
from unicat.fields import FACET
from unicat.query import FACET_FIELDS
from unicat.tomlfile import read_toml

DEFAULT_FACETS_FILE = MAPPINGS_DIR / "facets.toml"


@dataclass(frozen=True, slots=True)
class Labels:
    """Which facets show, in what order, under what title, and the labels of their values."""

    facet_order: tuple[str, ...] = FACET_FIELDS
    facet_titles: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def label(self, kind: str, code: str) -> str:
        """The label of ``code`` in table ``kind`` (``format``, ``language``, ``merge_rule``…), in the
        reader's language: the file's English label is the message id (search_app/i18n_extract.py)."""
        label = self.values.get(kind, {}).get(code)
        return gettext(label) if label else code

    def facet_title(self, facet: str) -> str:
        """The facet's title in the file, else the registry's (:data:`unicat.fields.FACETS`); a filter
        that is no facet of the registry (readers' tags) by its name."""
        if facet in self.facet_titles:
            return gettext(self.facet_titles[facet])
        return FACET[facet].title if facet in FACET else facet.replace("_", " ").capitalize()


def _string_table(table: object, where: str) -> dict[str, str]:
    if not isinstance(table, dict) or not all(
        isinstance(key, str) and isinstance(value, str) for key, value in table.items()
    ):
        raise ConfigError(f"{where} must be a table of strings")
    return dict(table)


def load_labels(path: Path = DEFAULT_FACETS_FILE) -> Labels:
    """Read the facet file; a broken file is a :class:`ConfigError` at startup, never a 500 later."""
    document = read_toml(path, "facet file")
    facets = document.get("facets", {})
    order = facets.get("order", list(FACET_FIELDS))
    if not isinstance(order, list) or any(name not in FACET_FIELDS for name in order):
        raise ConfigError(f"{path}: facets.order must list facets among {', '.join(FACET_FIELDS)}")
    titles = _string_table(facets.get("titles", {}), f"{path}: facets.titles")
    tables = document.get("labels", {})
    if not isinstance(tables, dict):
        raise ConfigError(f"{path}: [labels] must be a table")
    values = {kind: _string_table(table, f"{path}: labels.{kind}") for kind, table in tables.items()}
    return Labels(facet_order=tuple(order), facet_titles=titles, values=values)
