"""Where a query's words occur in a text as displayed: spans to highlight, for every engine alike.

Engines index folded tokens, so an engine's own highlighter would mark the folded form, not the text
a reader sees. Matching here uses the same analysis on each word of the original text, so
``etranger`` marks "Étranger" in "L'Étranger" and the result does not depend on the engine.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from unicat.analysis import tokens
from unicat.query import Clause

_WORD_RE = re.compile(r"[^\W_]+")


def match_spans(text: str, clauses: Sequence[Clause], field: str) -> list[tuple[int, int]]:
    """(start, end) of each word of ``text`` that a clause on ``field`` (or on ``any``) matches."""
    terms: set[str] = set()
    prefixes: list[str] = []
    for clause in clauses:
        if clause.field not in ("any", field):
            continue
        *whole, last = clause.terms
        terms.update(whole)
        if clause.prefix:
            prefixes.append(last)
        else:
            terms.add(last)
    if not terms and not prefixes:
        return []
    spans = []
    for match in _WORD_RE.finditer(text):
        for token in tokens(match.group(0)):
            if token in terms or any(token.startswith(prefix) for prefix in prefixes):
                spans.append(match.span())
                break
    return spans
