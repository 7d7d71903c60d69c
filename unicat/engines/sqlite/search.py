"""Turn a :class:`~unicat.query.SearchQuery` into SQL over the FTS5 index and the union tables.

Every value reaches SQLite as a bound parameter; the FTS5 expression itself is one parameter in which
each token is a quoted string, so no token can be read as FTS5 syntax.
"""

from __future__ import annotations

from dataclasses import dataclass

from unicat.errors import BadParameter
from unicat.query import FILTER_FIELDS, SEARCH_FIELDS, Clause, SearchQuery

# bm25 weights in the FTS column order (title, author, subject, ident, publisher, series, any):
# a word in the title or an exact identifier says more about relevance than one in a note.
_BM25 = "bm25(union_fts, 4.0, 3.0, 2.0, 4.0, 1.0, 1.0, 1.0)"

_FILTER_COLUMNS = {"format": "u.format", "language": "u.language"}

_ORDER_BY = {
    "year_desc": "u.year IS NULL, u.year DESC, u.title_sort, u.id",
    "year_asc": "u.year IS NULL, u.year, u.title_sort, u.id",
    "title": "u.title_sort, u.id",
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
    filtered: bool

    def rids_sql(self) -> tuple[str, tuple[object, ...]] | None:
        """One row, the match set's rids joined by commas; ``None`` when everything matches.

        Without filters the FTS index alone knows the match set: skipping the join to union_records
        saves a b-tree seek per match (measured: 17 ms instead of 60 for 50,000 matches).
        """
        if not self.filtered:
            if not self.ranked:
                return None
            return "SELECT group_concat(rowid) FROM union_fts WHERE union_fts MATCH ?", self.params
        return f"SELECT group_concat(u.rid) FROM {self.source} WHERE {self.where}", self.params

    def count_sql(self) -> str:
        if self.ranked and not self.filtered:
            # The FTS index alone knows the count: no seek per match into union_records.
            return "SELECT count(*) FROM union_fts WHERE union_fts MATCH ?"
        return f"SELECT count(*) FROM {self.source} WHERE {self.where}"

    def page_sql(self, query: SearchQuery) -> tuple[str, tuple[object, ...]]:
        """The SQL of one page of hits (their ``rid``), sorted and paged.

        Only rids: a sorter that carried each candidate's long ``doc`` would read every matching
        record's document to keep twenty (the caller fetches those twenty by rid).
        """
        if query.sort == "relevance":
            order = f"{_BM25}, u.title_sort, u.id" if self.ranked else _ORDER_BY["title"]
        else:
            order = _ORDER_BY[query.sort]
        sql = f"SELECT u.rid FROM {self.source} WHERE {self.where} ORDER BY {order} LIMIT ? OFFSET ?"
        return sql, (*self.params, query.page_size, query.offset)


def compile_search(query: SearchQuery) -> CompiledSearch:
    """Build the match set of ``query``: the FTS match, the filters and the year range."""
    conditions: list[str] = []
    params: list[object] = []
    match = match_expression(query.clauses)
    if match is None:
        source = "union_records u"
    else:
        # CROSS JOIN fixes the join order (FTS first); without it the planner may scan union_records.
        # INDEXED BY: the narrow covering index (everything but ``doc``) instead of the wide table rows
        # (measured: 122 ms instead of 165 to rank 50,000 matches).
        source = (
            "union_fts CROSS JOIN union_records u INDEXED BY union_records_narrow ON u.rid = union_fts.rowid"
        )
        conditions.append("union_fts MATCH ?")
        params.append(match)
    for name, values in query.filters.items():
        if not values:
            continue
        marks = ", ".join("?" for _ in values)
        if name == "library":
            conditions.append(f"u.rid IN (SELECT record FROM union_libraries WHERE library IN ({marks}))")
        elif name == "subject":
            conditions.append(f"u.rid IN (SELECT record FROM union_subjects WHERE subject IN ({marks}))")
        elif name in _FILTER_COLUMNS:
            conditions.append(f"{_FILTER_COLUMNS[name]} IN ({marks})")
        else:
            raise BadParameter(name, f"unknown filter; known: {', '.join(FILTER_FIELDS)}")
        params.extend(values)
    if query.year_from is not None:
        conditions.append("u.year >= ?")
        params.append(query.year_from)
    if query.year_to is not None:
        conditions.append("u.year <= ?")
        params.append(query.year_to)
    where = " AND ".join(conditions) if conditions else "1"
    filtered = len(conditions) > (match is not None)
    return CompiledSearch(
        source=source, where=where, params=tuple(params), ranked=match is not None, filtered=filtered
    )
