"""Turn a :class:`~unicat.query.SearchQuery` into SQL over the FTS5 index and the union tables.

Every value reaches SQLite as a bound parameter; the FTS5 expression itself is one parameter in which
each token is a quoted string, so no token can be read as FTS5 syntax.
"""

from __future__ import annotations

from dataclasses import dataclass

from unicat.errors import BadParameter
from unicat.query import SEARCH_FIELDS, Clause, SearchQuery

# bm25 weights in the FTS column order (title, author, subject, ident, publisher, series, any):
# a word in the title or an exact identifier says more about relevance than one in a note.
_BM25 = "bm25(union_fts, 4.0, 3.0, 2.0, 4.0, 1.0, 1.0, 1.0)"

_FILTER_COLUMNS = {"format": "u.format", "language": "u.language"}

_ORDER_BY = {
    "year_desc": "u.year IS NULL, u.year DESC, u.title_sort, u.id",
    "year_asc": "u.year IS NULL, u.year, u.title_sort, u.id",
    "title": "u.title_sort, u.id",
}

# Facet name → the grouped expression and the extra join it needs.
_FACETS = {
    "library": ("l.library", "CROSS JOIN union_libraries l ON l.record = u.rid"),
    "format": ("u.format", ""),
    "language": ("u.language", ""),
    "year": ("u.decade", ""),
}


def _quote(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


def clause_expression(clause: Clause) -> str | None:
    """The FTS5 expression of one clause, or ``None`` if it has no terms."""
    if clause.field not in SEARCH_FIELDS:
        raise BadParameter("q", f"unknown search field {clause.field!r}; known: {', '.join(SEARCH_FIELDS)}")
    if not clause.terms:
        return None
    quoted = [_quote(term) for term in clause.terms]
    if clause.prefix:
        quoted[-1] += "*"
    body = " + ".join(quoted) if clause.phrase else " AND ".join(quoted)
    return f"{{{clause.field}}} : ({body})"


def match_expression(clauses: tuple[Clause, ...]) -> str | None:
    """All clauses ANDed, or ``None`` when nothing is asked (match everything)."""
    parts = [expr for expr in (clause_expression(c) for c in clauses) if expr is not None]
    return " AND ".join(f"({part})" for part in parts) if parts else None


@dataclass(frozen=True, slots=True)
class CompiledSearch:
    """The FROM/WHERE of a search's match set (``u`` is the union_records row) and its parameters."""

    source: str
    where: str
    params: tuple[object, ...]
    ranked: bool

    def count_sql(self) -> str:
        return f"SELECT count(*) FROM {self.source} WHERE {self.where}"

    def page_sql(self, query: SearchQuery) -> tuple[str, tuple[object, ...]]:
        """The SQL of one page of hits (their ``doc``), sorted and paged."""
        if query.sort == "relevance":
            order = f"{_BM25}, u.title_sort, u.id" if self.ranked else _ORDER_BY["title"]
        else:
            order = _ORDER_BY[query.sort]
        sql = f"SELECT u.doc FROM {self.source} WHERE {self.where} ORDER BY {order} LIMIT ? OFFSET ?"
        return sql, (*self.params, query.page_size, query.offset)

    def facet_sql(self, facet: str, size: int) -> tuple[str, tuple[object, ...]]:
        """The SQL of one facet: its top ``size`` values over the whole match set, count desc then value."""
        expression, join = _FACETS[facet]
        sql = (
            f"SELECT {expression} AS value, count(*) AS n FROM {self.source} {join} "
            f"WHERE {self.where} AND {expression} IS NOT NULL "
            "GROUP BY value ORDER BY n DESC, value LIMIT ?"
        )
        return sql, (*self.params, size)


def compile_search(query: SearchQuery) -> CompiledSearch:
    """Build the match set of ``query``: the FTS match, the filters and the year range."""
    conditions: list[str] = []
    params: list[object] = []
    match = match_expression(query.clauses)
    if match is None:
        source = "union_records u"
    else:
        # CROSS JOIN fixes the join order (FTS first); without it the planner may scan union_records.
        source = "union_fts CROSS JOIN union_records u ON u.rid = union_fts.rowid"
        conditions.append("union_fts MATCH ?")
        params.append(match)
    for name, values in query.filters.items():
        if not values:
            continue
        marks = ", ".join("?" for _ in values)
        if name == "library":
            conditions.append(f"u.rid IN (SELECT record FROM union_libraries WHERE library IN ({marks}))")
        elif name in _FILTER_COLUMNS:
            conditions.append(f"{_FILTER_COLUMNS[name]} IN ({marks})")
        else:
            raise BadParameter(name, "unknown filter; known: library, format, language")
        params.extend(values)
    if query.year_from is not None:
        conditions.append("u.year >= ?")
        params.append(query.year_from)
    if query.year_to is not None:
        conditions.append("u.year <= ?")
        params.append(query.year_to)
    where = " AND ".join(conditions) if conditions else "1"
    return CompiledSearch(source=source, where=where, params=tuple(params), ranked=match is not None)
