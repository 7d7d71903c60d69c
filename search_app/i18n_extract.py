"""A Babel extractor for the words of the mapping files that pages show (babel.cfg names it).

Facet titles and value labels (``mappings/facets.toml``) and relator roles (``[relators]`` of the MARC
profiles) are data librarians edit; their English words are the message ids, translated where shown.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping
from typing import IO, Any

# The tables whose values are words for readers; other values of these files are codes and rules.
SHOWN_TABLES = ("facets.titles", "labels", "relators")


def extract_toml(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Mapping[str, Any]
) -> Iterator[tuple[int, str | None, str, list[str]]]:
    """Yield Babel's ``(line, funcname, message, comments)`` for every string of the shown tables."""
    text = fileobj.read().decode("utf-8")
    lines = text.splitlines()
    for path, value in _strings(tomllib.loads(text), ""):
        if any(path == table or path.startswith(table + ".") for table in SHOWN_TABLES):
            yield _line_of(lines, value), None, value, [path.rpartition(".")[0]]


def _strings(table: Mapping[str, Any], prefix: str) -> Iterator[tuple[str, str]]:
    for key, value in table.items():
        path = f"{prefix}{key}"
        if isinstance(value, str):
            yield path, value
        elif isinstance(value, Mapping):
            yield from _strings(value, path + ".")


def _line_of(lines: list[str], value: str) -> int:
    quoted = f'"{value}"'
    return next((number for number, line in enumerate(lines, 1) if quoted in line), 0)
