"""The ``highlight`` template filter: the query's words marked with ``<mark>`` in escaped text."""

from __future__ import annotations

from markupsafe import Markup, escape

from search_app.catalogue.spans import match_spans
from unicat.query import SearchQuery


def highlight(text: str | None, query: SearchQuery, field: str) -> Markup:
    """``text`` escaped, with each word the query matches in ``field`` wrapped in ``<mark>``."""
    if not text:
        return Markup("")
    parts: list[str] = []
    position = 0
    for start, end in match_spans(text, query.highlighted, field):
        parts.append(escape(text[position:start]))
        parts.append(Markup("<mark>%s</mark>") % text[start:end])
        position = end
    parts.append(escape(text[position:]))
    return Markup("").join(parts)
