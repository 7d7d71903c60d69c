"""Readers' searches kept for later: the history of the searches a reader ran, and the searches a
signed-in reader saved under a name.

Both keep a search as its **canonical query**: the parameters of the search page that decide which
records match and in what order (:data:`SEARCHED_PARAMETERS`), without those that only page or
present the answer, as a query string sorted by name then value. Two searches that differ only in
their page are one search; a saved search runs again exactly (the page is opened with the string),
and other code (alerts matching new records) can read it back with
:func:`unicat.query.parse_search_params`.

A history entry belongs to an account or, before signing in, to a browser: its owner is then the
SHA-256 of a random token kept in the browser's cookie (:func:`visitor_owner`), never the token.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qs, urlencode

from unicat.errors import BadParameter
from unicat.query import SEARCH_PARAMETERS, parse_search_params
from unicat.settings import Settings

PRESENTATION_PARAMETERS = frozenset({"page", "page_size", "facets", "facet_more"})
"""Parameters that page through or lay out one search's answer: paging is the same search."""
SEARCHED_PARAMETERS = SEARCH_PARAMETERS - PRESENTATION_PARAMETERS
"""What a kept search keeps: the text, filters, exclusions, year range and sort."""
SINGLE_PARAMETERS = frozenset({"q", "year", "sort"})
"""Parameters the search reads once (the first value): a second value changes nothing."""
DEFAULTS = {"sort": "relevance"}
"""Values the search takes when the parameter is missing: kept as missing, so that they are one search."""
MAX_NAME = 100
MAX_QUERY = 4_000
"""The longest canonical query kept (the search box takes 1,000 characters, each filter value 300)."""


def canonical_query(params: Mapping[str, Sequence[str]]) -> str:
    """The canonical form of a search's parameters (see the module's docstring): unknown and
    presentation parameters dropped, empty values and defaults dropped, a single-valued parameter's
    first value only, repeated values once, sorted by name then value."""
    pairs: set[tuple[str, str]] = set()
    for name in SEARCHED_PARAMETERS & params.keys():
        values = [value for value in params[name] if value]
        for value in values[:1] if name in SINGLE_PARAMETERS else values:
            if DEFAULTS.get(name) != value:
                pairs.add((name, value))
    return urlencode(sorted(pairs))


def query_params(query: str) -> dict[str, list[str]]:
    """A canonical query's parameters, each with its values in order."""
    return parse_qs(query, keep_blank_values=False)


def checked_query(params: Mapping[str, Sequence[str]], settings: Settings) -> str:
    """The canonical query of ``params`` after the search itself accepted it (:class:`BadParameter`
    naming the parameter it refuses, or the query when it is empty or too long)."""
    query = canonical_query(params)
    if not query:
        raise BadParameter("query", "the search is empty: give words to search for or a filter")
    if len(query) > MAX_QUERY:
        raise BadParameter("query", f"a saved search has at most {MAX_QUERY:,} characters of parameters")
    parse_search_params(query_params(query), settings)
    return query


def check_search_name(raw: str, field: str = "name") -> str:
    """A saved search's name: spaces trimmed and runs of them made one, 1 to 100 characters."""
    name = " ".join("".join(ch for ch in raw if ch.isprintable()).split())
    if not name:
        raise BadParameter(field, "give the search a name")
    if len(name) > MAX_NAME:
        raise BadParameter(field, f"a search's name has at most {MAX_NAME} characters")
    return name


def account_owner(user_id: int) -> str:
    """The owner of a signed-in reader's history entries."""
    return f"user:{user_id}"


def visitor_owner(token: str) -> str:
    """The owner of the history entries of a browser not signed in, from its cookie's token: only
    the hash is stored, so the table does not hold what would let one read the history."""
    return "visitor:" + hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One search run: its canonical query, how many records it found, when it last ran."""

    owner: str
    query: str
    total: int
    id: int | None = None
    at: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "query": query_params(self.query), "total": self.total, "at": self.at}


@dataclass(frozen=True, slots=True)
class SavedSearch:
    """A search a reader saved under a name (unique among theirs). Alerts hang off it later."""

    user_id: int
    name: str
    query: str
    id: int | None = None
    created: str = ""
    updated: str = ""

    def with_changes(self, **changes: Any) -> SavedSearch:
        return replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "query": query_params(self.query),
            "created": self.created,
            "updated": self.updated,
        }
