"""Turn a :class:`~unicat.query.SearchQuery` into an Elasticsearch request body, and read the answer.

The match set, totals, facets, filters, year ranges and sort orders are those of the SQLite engine
(:mod:`unicat.engines.sqlite.search`): every clause must match in its field; a phrase is its tokens
adjacent and in order; ``prefix`` makes the last token a prefix; filters OR within a field and AND
across fields; facets count the whole filtered match set, count descending then value. Tokens arrive
already analysed (:mod:`unicat.analysis`), so clauses are exact ``term`` queries on whitespace-split
fields and no user text is ever parsed by the node.

A query's boolean ``expression`` (CQL's AND, OR, NOT) becomes nested bool queries: AND is ``must``
(with ``must_not`` for its negated parts), OR is ``should`` with one required, a lone NOT is
``must_not`` beside a ``match_all``. Text leaves score as the clauses do; year ranges and filters
only restrict (a filter-only bool scores 0), so relevance comes from the text.
"""

from __future__ import annotations

from typing import Any

from unicat.documents import TEXT_WEIGHTS
from unicat.errors import BadParameter
from unicat.fields import FACETS
from unicat.query import (
    FACET_FIELDS,
    FILTER_FIELDS,
    SEARCH_FIELDS,
    Clause,
    Expression,
    FacetCount,
    MatchAll,
    Not,
    Or,
    SearchQuery,
    ValueFilter,
    YearRange,
)

# Facet (and filter) name → the keyword field holding its values.
FACET_SOURCES = {facet.name: facet.index_key for facet in FACETS}
# What a read of union documents takes from ``_source``: the public JSON, not the analysed fields.
HIT_SOURCE = ["doc"]
_TIEBREAK: list[dict[str, Any]] = [{"title_sort": "asc"}, {"id": "asc"}]
_SORTS: dict[str, list[dict[str, Any]]] = {
    # At equal score the edition more libraries hold first, as on SQLite (documents indexed before
    # library_count existed have none: they come after, until the next rebuild).
    "relevance": [{"_score": "desc"}, {"library_count": {"order": "desc", "missing": "_last"}}, *_TIEBREAK],
    "year_desc": [{"year": {"order": "desc", "missing": "_last"}}, *_TIEBREAK],
    "year_asc": [{"year": {"order": "asc", "missing": "_last"}}, *_TIEBREAK],
    "title": _TIEBREAK,
}


def _word(kind: str, field: str, term: str, boost: float) -> dict[str, Any]:
    return {kind: {field: {"value": term, "boost": boost}}}


def clause_query(clause: Clause, field: str | None = None, boost: float = 1.0) -> dict[str, Any]:
    """The query of one clause in ``field`` (default: the clause's own field)."""
    target = field or clause.field
    terms = list(clause.terms)
    last = len(terms) - 1
    if clause.phrase:
        spans: list[dict[str, Any]] = [
            {"span_multi": {"match": _word("prefix", target, term, 1.0)}}
            if clause.prefix and n == last
            else {"span_term": {target: term}}
            for n, term in enumerate(terms)
        ]
        return {"span_near": {"clauses": spans, "slop": 0, "in_order": True, "boost": boost}}
    parts = [
        _word("prefix" if clause.prefix and n == last else "term", target, term, boost)
        for n, term in enumerate(terms)
    ]
    return parts[0] if len(parts) == 1 else {"bool": {"must": parts}}


def _scored_clause(clause: Clause) -> dict[str, Any]:
    """A clause as it is matched and ranked: in its own field, or for ``any`` each word in any text
    field (a phrase inside one field), a match in a title counting more than one in a note."""
    if clause.field not in SEARCH_FIELDS:
        raise BadParameter("q", f"unknown search field {clause.field!r}; known: {', '.join(SEARCH_FIELDS)}")
    if clause.field != "any":
        return clause_query(clause)
    if clause.phrase or len(clause.terms) == 1:
        return _in_any_field(clause)
    # The words of one clause may match in different fields ("austen pride"), as separate clauses do.
    last = len(clause.terms) - 1
    return {
        "bool": {
            "must": [
                _in_any_field(Clause("any", (term,), prefix=clause.prefix and n == last))
                for n, term in enumerate(clause.terms)
            ]
        }
    }


def _in_any_field(clause: Clause) -> dict[str, Any]:
    ranked = [clause_query(clause, field, boost) for field, boost in TEXT_WEIGHTS.items()]
    return {"bool": {"should": ranked, "minimum_should_match": 1}}


def _value_filter(name: str, values: tuple[str, ...]) -> dict[str, Any]:
    if name not in FILTER_FIELDS:
        raise BadParameter(name, f"unknown filter; known: {', '.join(FILTER_FIELDS)}")
    return {"terms": {FACET_SOURCES[name]: list(values)}}


def _year_range(low: int | None, high: int | None) -> dict[str, Any]:
    bounds: dict[str, int] = {}
    if low is not None:
        bounds["gte"] = low
    if high is not None:
        bounds["lte"] = high
    return {"range": {"year": bounds}} if bounds else {"exists": {"field": "year"}}


def _filters(query: SearchQuery) -> list[dict[str, Any]]:
    filters: list[dict[str, Any]] = [
        _value_filter(name, values) for name, values in query.filters.items() if values
    ]
    if query.year_from is not None or query.year_to is not None:
        filters.append(_year_range(query.year_from, query.year_to))
    if query.ids is not None:  # a tag's records (unicat/query.py TAG_FILTER)
        filters.append({"terms": {"id": list(query.ids)}})
    return filters


_NOTHING: dict[str, Any] = {"bool": {"must_not": [{"match_all": {}}]}}


def expression_query(expression: Expression) -> dict[str, Any]:
    """The query of a boolean expression; see the module docstring."""
    if isinstance(expression, Clause):
        # A clause whose words analysis removed entirely matches nothing (as on SQLite).
        return _scored_clause(expression) if expression.terms else _NOTHING
    if isinstance(expression, MatchAll):
        return {"bool": {"filter": [{"match_all": {}}]}}
    if isinstance(expression, YearRange):
        return {"bool": {"filter": [_year_range(expression.low, expression.high)]}}
    if isinstance(expression, ValueFilter):
        return {"bool": {"filter": [_value_filter(expression.field, expression.values)]}}
    if isinstance(expression, Not):
        return {"bool": {"filter": [{"match_all": {}}], "must_not": [expression_query(expression.child)]}}
    if isinstance(expression, Or):
        if not expression.children:
            return _NOTHING
        should = [expression_query(child) for child in expression.children]
        return {"bool": {"should": should, "minimum_should_match": 1}}
    must = [expression_query(child) for child in expression.children if not isinstance(child, Not)]
    must_not = [expression_query(child.child) for child in expression.children if isinstance(child, Not)]
    body: dict[str, Any] = {"must": must or [{"bool": {"filter": [{"match_all": {}}]}}]}
    if must_not:
        body["must_not"] = must_not
    return {"bool": body}


def match_query(query: SearchQuery) -> dict[str, Any]:
    """The match set of ``query``: clauses score, filters and the year range only restrict; the
    whole query found as a phrase in a title scores again (:attr:`SearchQuery.title_phrase`)."""
    clauses = [_scored_clause(clause) for clause in query.clauses if clause.terms]
    if query.expression is not None:
        clauses.append(expression_query(query.expression))
    filters = _filters(query)
    if not clauses and not filters:
        return {"match_all": {}}
    body: dict[str, Any] = {"must": clauses or [{"match_all": {}}], "filter": filters}
    phrase = query.title_phrase
    if phrase is not None:
        # Optional beside ``must``: it only adds the phrase's title score (SQLite adds the same).
        body["should"] = [clause_query(phrase, "title", TEXT_WEIGHTS["title"])]
    return {"bool": body}


def sort_of(query: SearchQuery) -> list[dict[str, Any]]:
    """The total order of ``query``'s hits (the id is the last key, so pages never overlap)."""
    return _SORTS[query.sort]


def facet_aggregations(query: SearchQuery, shards: int) -> dict[str, Any]:
    """One terms aggregation per facet, in the same request as the hits."""
    if not query.facets:
        return {}
    size = max(query.facet_size, 1)
    # With one shard the counts are exact; with several, ask each shard for many more candidates
    # than shown so that the top values and their counts match an exact count in practice.
    shard_size = size if shards <= 1 else max(size * 20, 200)
    return {
        facet: {
            "terms": {
                "field": FACET_SOURCES[facet],
                "size": size,
                "shard_size": shard_size,
                "order": [{"_count": "desc"}, {"_key": "asc"}],
            }
        }
        for facet in FACET_FIELDS
    }


def read_facets(aggregations: dict[str, Any]) -> dict[str, list[FacetCount]]:
    """The facet counts of an answer's aggregations."""
    return {
        facet: [FacetCount(str(bucket["key"]), int(bucket["doc_count"])) for bucket in body["buckets"]]
        for facet, body in aggregations.items()
    }
