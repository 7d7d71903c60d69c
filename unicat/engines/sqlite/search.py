"""Turn a :class:`~unicat.query.SearchQuery` into SQL over the FTS5 index and the union tables.

Every value reaches SQLite as a bound parameter; the FTS5 expression itself is one parameter in which
each token is a quoted string, so no token can be read as FTS5 syntax.

A query's boolean ``expression`` (CQL's AND, OR, NOT) is compiled in two parts: its text, wherever
FTS5 can match it (AND, OR, ``a NOT b``, parentheses), joins the clauses' MATCH expression so it is
ranked by bm25; what FTS5 cannot express (a year range or a filter under an OR, a NOT with nothing
positive beside it) becomes SQL conditions over ``u``, text inside them as ``rid IN (MATCH …)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from unicat.documents import INDEXED_FIELDS, INDEXED_WEIGHTS, STEM_FIELDS
from unicat.engines.sqlite.facets import MULTI_VALUED, SINGLE_VALUED
from unicat.errors import BadParameter
from unicat.query import (
    FILTER_FIELDS,
    SEARCH_FIELDS,
    And,
    Clause,
    Expression,
    MatchAll,
    Not,
    Or,
    SearchQuery,
    ValueFilter,
    YearRange,
    clause_stems,
    is_text,
)

# bm25 weights in the FTS column order (INDEXED_FIELDS: the exact columns, then the stems).
_BM25 = f"bm25(union_fts, {', '.join(str(INDEXED_WEIGHTS[name]) for name in INDEXED_FIELDS)})"


# The title's part of the score alone: what a phrase match of the whole query in the title adds.
_TITLE_WEIGHTS = (str(INDEXED_WEIGHTS[name]) if name == "title" else "0" for name in INDEXED_FIELDS)
_TITLE_BM25 = f"bm25(union_fts, {', '.join(_TITLE_WEIGHTS)})"


def _score(phrase: Clause | None) -> tuple[str, tuple[object, ...]]:
    """A match's relevance (lower is better, as bm25's) and its parameters: bm25 over every field,
    plus once more the title's part where the title holds the whole query as a phrase
    (:attr:`~unicat.query.SearchQuery.title_phrase`; Elasticsearch adds the same)."""
    if phrase is None:
        return _BM25, ()
    phrase_rows = "SELECT rowid FROM union_fts WHERE union_fts MATCH ?"
    score = f"({_BM25} + CASE WHEN union_fts.rowid IN ({phrase_rows}) THEN {_TITLE_BM25} ELSE 0 END)"
    return score, (clause_expression(phrase),)


def _held_by(rid: str) -> str:
    """How many libraries hold the record ``rid``: at equal text score, the edition more libraries
    hold ranks first (the one a reader is likelier to mean, and to get). One primary-key range of
    union_libraries per record, read only for the rows being ordered."""
    return f"(SELECT count(*) FROM union_libraries WHERE record = {rid}) DESC"


# Pages of a relevance search that end within the best SCORED_PAGE_MAX matches are ranked by score
# alone first (CompiledSearch.scored_sql); deeper ones, rare, by the full sort.
SCORED_PAGE_MAX = 1_000
# Rows read past a page's last match, at least, to hold the matches that tie with its score.
SCORED_MARGIN = 100

# Filters on a union_records column; the others look for rows of (record, value) (facets.MULTI_VALUED).
_FILTER_COLUMNS = {name: f"u.{column}" for name, column in SINGLE_VALUED.items() if name in FILTER_FIELDS}

_ORDER_BY = {
    "year_desc": "u.year IS NULL, u.year DESC, u.title_sort, u.id",
    "year_asc": "u.year IS NULL, u.year, u.title_sort, u.id",
    "title": "u.title_sort, u.id",
    "newest": "u.first_seen IS NULL, u.first_seen DESC, u.id",
}


def _quote(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


def clause_expression(clause: Clause, languages: Sequence[str] = ()) -> str | None:
    """The FTS5 expression of one clause, or ``None`` if it has no terms; its words also match their
    stems under ``languages`` in the stems columns, where the clause is stemmed."""
    if clause.field not in SEARCH_FIELDS:
        raise BadParameter("q", f"unknown search field {clause.field!r}; known: {', '.join(SEARCH_FIELDS)}")
    if not clause.terms:
        return None
    # ``any`` is every column, no filter needed: each word in any of them, a phrase inside one; a stem
    # only ever meets the stems columns, marked as it is (unicat.stemming.STEM_MARK).
    exact = "" if clause.field == "any" else f"{{{clause.field}}} : "
    stems = clause_stems(clause, languages)
    if stems is not None:
        where = "" if clause.field == "any" else f"{{{STEM_FIELDS[clause.field]}}} : "
        words = [
            f"({exact}{_quote(term)} OR {where}({' OR '.join(_quote(stem) for stem in forms)}))"
            if forms
            else f"{exact}{_quote(term)}"
            for term, forms in zip(clause.terms, stems, strict=True)
        ]
        return words[0] if len(words) == 1 else " AND ".join(words)
    quoted = [_quote(term) for term in clause.terms]
    if clause.prefix:
        quoted[-1] += "*"
    body = " + ".join(quoted) if clause.phrase else " AND ".join(quoted)
    return f"{exact}({body})"


def match_expression(clauses: tuple[Clause, ...], languages: Sequence[str] = ()) -> str | None:
    """All clauses ANDed, or ``None`` when nothing is asked (match everything)."""
    parts = [expr for expr in (clause_expression(c, languages) for c in clauses) if expr is not None]
    return " AND ".join(f"({part})" for part in parts) if parts else None


def text_expression(expression: Expression, languages: Sequence[str] = ()) -> str:
    """The FTS5 expression of a text expression (:func:`~unicat.query.is_text` holds for it)."""
    if isinstance(expression, Clause):
        body = clause_expression(expression, languages)
        assert body is not None, "is_text() refuses clauses without terms"
        return body
    if isinstance(expression, Or):
        return " OR ".join(f"({text_expression(child, languages)})" for child in expression.children)
    assert isinstance(expression, And), f"not a text expression: {expression!r}"
    positive = [
        text_expression(child, languages) for child in expression.children if not isinstance(child, Not)
    ]
    negative = [
        text_expression(child.child, languages) for child in expression.children if isinstance(child, Not)
    ]
    return _fts_and_not(positive, negative)


def _fts_and_not(positive: Sequence[str], negative: Sequence[str]) -> str:
    """``(p1) AND (p2) … NOT (n1) NOT (n2)``: FTS5's NOT is binary, its left side all the positives."""
    if len(positive) == 1 and not negative:
        return positive[0]
    expression = " AND ".join(f"({part})" for part in positive)
    for part in negative:
        expression = f"({expression}) NOT ({part})"
    return expression


def _condition(
    expression: Expression, params: list[object], *, per_match: bool, languages: Sequence[str]
) -> str:
    """A SQL condition over ``u`` for ``expression``, its values appended to ``params``."""
    if is_text(expression):
        params.append(text_expression(expression, languages))
        return "u.rid IN (SELECT rowid FROM union_fts WHERE union_fts MATCH ?)"
    if isinstance(expression, Clause):
        return "0"  # no terms left after analysis: matches nothing, as on Elasticsearch
    if isinstance(expression, MatchAll):
        return "1"
    if isinstance(expression, YearRange):
        bounds = ["u.year IS NOT NULL"]
        if expression.low is not None:
            bounds.append("u.year >= ?")
            params.append(expression.low)
        if expression.high is not None:
            bounds.append("u.year <= ?")
            params.append(expression.high)
        return "(" + " AND ".join(bounds) + ")"
    if isinstance(expression, ValueFilter):
        return _filter_condition(expression.field, expression.values, params, per_match=per_match)
    if isinstance(expression, Not):
        # coalesce: a NULL (a record without a language, say) is "does not match", so NOT keeps it.
        child = _condition(expression.child, params, per_match=per_match, languages=languages)
        return f"NOT coalesce({child}, 0)"
    joiner = " AND " if isinstance(expression, And) else " OR "
    parts = [
        _condition(child, params, per_match=per_match, languages=languages) for child in expression.children
    ]
    return "(" + joiner.join(parts) + ")" if parts else ("1" if isinstance(expression, And) else "0")


def _filter_condition(name: str, values: Sequence[str], params: list[object], *, per_match: bool) -> str:
    if name in MULTI_VALUED:
        params.extend(values)
        return _membership(name, values, per_match=per_match)
    if name in _FILTER_COLUMNS:
        params.extend(values)
        return f"{_FILTER_COLUMNS[name]} IN ({_marks(values)})"
    raise BadParameter(name, f"unknown filter; known: {', '.join(FILTER_FIELDS)}")


def _split_expression(
    expression: Expression | None, *, has_text: bool, languages: Sequence[str]
) -> tuple[list[str], list[str], list[Expression]]:
    """The top-level (ANDed) parts of ``expression`` that FTS5 can match, positive and negated, and
    the others. A negated text goes to FTS5 only beside a positive one (``has_text``: the clauses'),
    since its NOT is binary."""
    if expression is None:
        return [], [], []
    parts = expression.children if isinstance(expression, And) else (expression,)
    positive = [text_expression(part, languages) for part in parts if is_text(part)]
    negative: list[str] = []
    others: list[Expression] = []
    for part in parts:
        if is_text(part):
            continue
        if isinstance(part, Not) and is_text(part.child) and (positive or has_text):
            negative.append(text_expression(part.child, languages))
        else:
            others.append(part)
    return positive, negative, others


@dataclass(frozen=True, slots=True)
class CompiledSearch:
    """The FROM/WHERE of a search's match set (``u`` is the union_records row) and its parameters."""

    source: str
    where: str
    params: tuple[object, ...]
    ranked: bool
    filtered: bool
    score: str = _BM25
    """The relevance of a match (:func:`_score`), an SQL expression over ``union_fts``."""
    score_params: tuple[object, ...] = ()

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

    def scored_sql(self, query: SearchQuery) -> tuple[str, tuple[object, ...], int, int] | None:
        """The best matches by score alone, best first, as (rid, score) rows; ``None`` when that
        cannot give the page (another sort, no text to score, a page too deep).

        Also returns ``wanted``, the rows down to the page's last, and ``limit``, the rows asked: the
        margin past ``wanted`` is there to hold every match that ties with the page's last score.
        With filters the match set needs union_records, yet scoring alone still spares the sorter the
        other keys of every match (the libraries holding each record cost a lookup apiece).
        """
        wanted = query.offset + query.page_size
        if query.sort != "relevance" or not self.ranked or wanted > SCORED_PAGE_MAX:
            return None
        limit = wanted + max(wanted, SCORED_MARGIN)
        if self.filtered:
            source = f"SELECT u.rid, {self.score} AS score FROM {self.source} WHERE {self.where}"
        else:
            source = f"SELECT rowid, {self.score} AS score FROM union_fts WHERE union_fts MATCH ?"
        return f"{source} ORDER BY score LIMIT ?", (*self.score_params, *self.params, limit), wanted, limit

    def page_sql(self, query: SearchQuery) -> tuple[str, tuple[object, ...]]:
        """The SQL of one page of hits (their ``rid``), sorted and paged.

        Only rids: a sorter that carried each candidate's long ``doc`` would read every matching
        record's document to keep twenty (the caller fetches those twenty by rid).
        """
        order_params: tuple[object, ...] = ()
        if query.sort == "relevance" and self.ranked:
            order = f"{self.score}, {_held_by('u.rid')}, u.title_sort, u.id"
            order_params = self.score_params
        elif query.sort == "relevance":
            order = _ORDER_BY["title"]
        elif query.sort == "newest" and query.new_at is not None:
            since = "(SELECT since FROM union_held_since WHERE record = u.rid AND library = ?)"
            order = f"{since} IS NULL, {since} DESC, u.id"
            order_params = (query.new_at, query.new_at)
        else:
            order = _ORDER_BY[query.sort]
        sql = f"SELECT u.rid FROM {self.source} WHERE {self.where} ORDER BY {order} LIMIT ? OFFSET ?"
        return sql, (*self.params, *order_params, query.page_size, query.offset)


def order_scored(rows: Sequence[tuple[int, float]], query: SearchQuery) -> tuple[str, tuple[object, ...]]:
    """The SQL of the page among scored candidates, in the full relevance order: score, libraries
    holding the record (most first), title_sort, id.

    The scores are bound as doubles, the very values bm25 returned, so SQLite compares them and the
    sort keys exactly as in :meth:`CompiledSearch.page_sql`.
    """
    values = ", ".join("(?, ?)" for _ in rows)
    sql = (
        f"WITH scored (rid, score) AS (VALUES {values}) SELECT scored.rid FROM scored "
        "JOIN union_records u INDEXED BY union_records_narrow ON u.rid = scored.rid "
        f"ORDER BY scored.score, {_held_by('scored.rid')}, u.title_sort, u.id LIMIT ? OFFSET ?"
    )
    params = [value for row in rows for value in row]
    return sql, (*params, query.page_size, query.offset)


def _marks(values: Sequence[object]) -> str:
    return ", ".join("?" for _ in values)


def _membership(name: str, values: Sequence[str], *, per_match: bool) -> str:
    """The condition that a record has one of ``values`` in the multi-valued facet ``name``.

    After a text match, one primary-key lookup per match (measured: 46 ms instead of 89 for a text
    match of 20,000 records and two libraries holding 95,000): the ``IN (SELECT …)`` form first
    builds a temporary index of every record of the values. Without a text match that list is what
    drives the search instead of a scan of every record, so it stays.
    """
    rows = MULTI_VALUED[name]
    among = f"{rows.column} IN ({_marks(values)})"
    if per_match:
        return f"EXISTS (SELECT 1 FROM {rows.table} WHERE {rows.where}record = u.rid AND {among})"
    return f"u.rid IN (SELECT record FROM {rows.table} WHERE {rows.where}{among})"


def compile_search(query: SearchQuery) -> CompiledSearch:
    """Build the match set of ``query``: the FTS match, the filters, the year range and the parts of
    the expression FTS5 cannot match."""
    conditions: list[str] = []
    params: list[object] = []
    languages = query.stem_languages
    clauses = match_expression(query.clauses, languages)
    positive, negative, others = _split_expression(
        query.expression, has_text=clauses is not None, languages=languages
    )
    if clauses is not None:
        positive.insert(0, clauses)
    match = _fts_and_not(positive, negative) if positive else None
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
    memberships: list[tuple[str, tuple[str, ...]]] = []
    for name, values in query.filters.items():
        if not values:
            continue
        if name in MULTI_VALUED:
            memberships.append((name, values))
        elif name in _FILTER_COLUMNS:
            conditions.append(f"{_FILTER_COLUMNS[name]} IN ({_marks(values)})")
            params.extend(values)
        else:
            raise BadParameter(name, f"unknown filter; known: {', '.join(FILTER_FIELDS)}")
    if not query.ids and query.ids is not None:
        conditions.append("0")
    elif query.ids is not None and match is None:
        # A tag's records (unicat/query.py TAG_FILTER): ids checked against the primary key.
        conditions.append(f"u.id IN ({_marks(query.ids)})")
        params.extend(query.ids)
    elif query.ids is not None:
        # After a text match, the ids' rids checked on the FTS row itself, before the seek into
        # union_records (which then happens for the few that pass, not for every match of a common
        # word: measured 5 ms instead of 26 for "the", 49,000 matches, among 500 ids). ``+`` keeps
        # FTS5 from reading the list as rowid lookups, one full-text query per id.
        conditions.append(
            f"+union_fts.rowid IN (SELECT rid FROM union_records WHERE id IN ({_marks(query.ids)}))"
        )
        params.extend(query.ids)
    if query.year_from is not None:
        conditions.append("u.year >= ?")
        params.append(query.year_from)
    if query.year_to is not None:
        conditions.append("u.year <= ?")
        params.append(query.year_to)
    if query.new_since is not None and query.new_at is None:
        conditions.append("u.first_seen >= ?")
        params.append(query.new_since)
    elif query.new_since is not None:
        # One primary-key lookup per match after a text match; the library's rows by date otherwise.
        if match is not None:
            conditions.append(
                "EXISTS (SELECT 1 FROM union_held_since h WHERE h.record = u.rid AND h.library = ? "
                "AND h.since >= ?)"
            )
        else:
            conditions.append(
                "u.rid IN (SELECT record FROM union_held_since WHERE library = ? AND since >= ?)"
            )
        params.extend((query.new_at, query.new_since))
    # Last: the cheap tests on the record's own columns first spare a membership lookup.
    for name, values in memberships:
        conditions.append(_membership(name, values, per_match=match is not None))
        params.extend(values)
    for name, values in query.exclusions.items():
        # ``not_language=eng``: a record without a language is not English, so it stays (coalesce).
        conditions.append(
            _condition(
                Not(ValueFilter(name, values)), params, per_match=match is not None, languages=languages
            )
        )
    for part in others:
        conditions.append(_condition(part, params, per_match=match is not None, languages=languages))
    where = " AND ".join(conditions) if conditions else "1"
    filtered = len(conditions) > (match is not None)
    score, score_params = _score(query.title_phrase if match is not None else None)
    return CompiledSearch(
        source=source,
        where=where,
        params=tuple(params),
        ranked=match is not None,
        filtered=filtered,
        score=score,
        score_params=score_params,
    )
