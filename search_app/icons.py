"""Format badges (an SVG icon and the format's label) built once per format, not per result.

A jinja macro per result card cost more than the rest of the results page together; the badge of a
format never changes while the app runs, so it is rendered once and reused.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from markupsafe import Markup

from search_app.i18n import current_language
from search_app.labels import Labels

_BOOK = "M4 4.5A2.5 2.5 0 0 1 6.5 2H20v17H6.5A2.5 2.5 0 0 0 4 21.5z M4 21.5A2.5 2.5 0 0 1 6.5 19H20v3H6.5"
_PATHS = {
    "serial": "M5 3h11l3 3v15H5z M8 8h8 M8 12h8 M8 16h5",
    "map": "M3 6l6-3 6 3 6-3v15l-6 3-6-3-6 3z M9 3v15 M15 6v15",
    "score": "M9 18V5l11-2v13 M9 18a3 3 0 1 1-6 0a3 3 0 1 1 6 0z M20 16a3 3 0 1 1-6 0a3 3 0 1 1 6 0z",
    "video": "M3 5h18v14H3z M10 9l5 3-5 3z",
    "computer": "M4 5h16v11H4z M2 19h20",
    "manuscript": "M6 3h9l4 4v14H6z M9 10c2-1 4 1 6 0 M9 14c2-1 4 1 6 0",
}
_ALIASES = {
    "article": "serial",
    "music": "score",
    "audio": "score",
    "visual": "video",
    "image": "video",
    "ebook": "computer",
    "music score": "score",
    "sound recording": "score",
    "computer file": "computer",
}


def icon_path(code: str) -> str:
    """The SVG path of a format's icon; a book for formats without their own."""
    return _PATHS.get(_ALIASES.get(code, code), _BOOK)


def format_badges(labels: Labels) -> Callable[[str], Markup]:
    """A function from a format code to its badge markup, each badge rendered once per language."""

    @lru_cache(maxsize=256)
    def cached(code: str, language: str) -> Markup:  # the language is the key: labels are translated
        return Markup(
            '<span class="format-badge format-badge--{code}">'
            '<svg class="format-icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false">'
            '<path d="{path}"/></svg>{label}</span>'
        ).format(code=code.replace(" ", "-"), path=icon_path(code), label=labels.label("format", code))

    def badge(code: str) -> Markup:
        return cached(code, current_language())

    return badge
