"""Turn a :class:`~unicat.query.SearchQuery` into an Elasticsearch request body, and read the answer.

The match set, totals, facets, filters, year ranges and sort orders are those of the SQLite engine
(:mod:`unicat.engines.sqlite.search`): every clause must match in its field; a phrase is its tokens
adjacent and in order; ``prefix`` makes the last token a prefix; filters OR within a field and AND
across fields; facets count the whole match set (a facet with a choice, the match set without
that choice), count descending then value. Tokens arrive already analysed (:mod:`unicat.analysis`),
so clauses are exact ``term`` queries on whitespace-split fields and no user text is ever parsed by
the node.

A query's boolean ``expression`` (CQL's AND, OR, NOT) becomes nested bool queries: AND is ``must``
(with ``must_not`` for its negated parts), OR is ``should`` with one required, a lone NOT is
``must_not`` beside a ``match_all``. Text leaves score as the clauses do; year ranges and filters
only restrict (a filter-only bool scores 0), so relevance comes from the text.

Facets are multi-select (:class:`~unicat.query.SearchQuery`): the selections of the facets (their
values, the year range) go to ``post_filter``, which narrows the hits but not the aggregations, and
each facet's aggregation is wrapped in a ``filter`` aggregation holding the *other* facets'
selections; the query itself keeps the text, the exclusions and everything else. Exclusions are
``must_not`` (a record without the field stays, as on SQLite).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from unicat.documents import STEM_FIELDS, STEM_WEIGHTS, TEXT_WEIGHTS
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
    clause_stems,
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
    "newest": [{"first_seen": {"order": "desc", "missing": "_last"}}, {"id": "asc"}],
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


def _scored_clause(clause: Clause, languages: Sequence[str]) -> dict[str, Any]:
    """A clause as it is matched and ranked: in its own field, or for ``any`` each word in any text
    field (a phrase inside one field), a match in a title counting more than one in a note. Where the
    clause is stemmed, each word matches its exact token or any of its stems in the stems fields."""
    if clause.field not in SEARCH_FIELDS:
        raise BadParameter("q", f"unknown search field {clause.field!r}; known: {', '.join(SEARCH_FIELDS)}")
    stems = clause_stems(clause, languages)
    if stems is not None:
        words = [
            _stemmed_word(clause.field, term, forms) for term, forms in zip(clause.terms, stems, strict=True)
        ]
        return words[0] if len(words) == 1 else {"bool": {"must": words}}
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


def _stemmed_word(field: str, term: str, stems: tuple[str, ...]) -> dict[str, Any]:
    """One word in ``field`` (or any field) as written, or by one of its ``stems`` in the stems fields,
    a stem weighing less than the word (unicat.documents.STEM_WEIGHTS)."""
    exact = TEXT_WEIGHTS if field == "any" else {field: TEXT_WEIGHTS[field]}
    stemmed = STEM_WEIGHTS if field == "any" else {STEM_FIELDS[field]: STEM_WEIGHTS[STEM_FIELDS[field]]}
    should = [_word("term", name, term, boost) for name, boost in exact.items()]
    # A term query per stem, not one terms query: that one scores a constant, these by BM25 as SQLite.
    should += [_word("term", name, stem, boost) for name, boost in stemmed.items() for stem in stems]
    return {"bool": {"should": should, "minimum_should_match": 1}}


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
    if query.new_since is not None and query.new_at is None:
        filters.append({"range": {"first_seen": {"gte": query.new_since}}})
    elif query.new_since is not None:
        held = [
            {"term": {"held_since.library": query.new_at}},
            {"range": {"held_since.since": {"gte": query.new_since}}},
        ]
        filters.append({"nested": {"path": "held_since", "query": {"bool": {"filter": held}}}})
    return filters


_NOTHING: dict[str, Any] = {"bool": {"must_not": [{"match_all": {}}]}}


def expression_query(expression: Expression, languages: Sequence[str] = ()) -> dict[str, Any]:
    """The query of a boolean expression; see the module docstring."""
    if isinstance(expression, Clause):
        # A clause whose words analysis removed entirely matches nothing (as on SQLite).
        return _scored_clause(expression, languages) if expression.terms else _NOTHING
    if isinstance(expression, MatchAll):
        return {"bool": {"filter": [{"match_all": {}}]}}
    if isinstance(expression, YearRange):
        return {"bool": {"filter": [_year_range(expression.low, expression.high)]}}
    if isinstance(expression, ValueFilter):
        return {"bool": {"filter": [_value_filter(expression.field, expression.values)]}}
    if isinstance(expression, Not):
        negated = expression_query(expression.child, languages)
        return {"bool": {"filter": [{"match_all": {}}], "must_not": [negated]}}
    if isinstance(expression, Or):
        if not expression.children:
            return _NOTHING
        should = [expression_query(child, languages) for child in expression.children]
        return {"bool": {"should": should, "minimum_should_match": 1}}
    children = expression.children
    must = [expression_query(child, languages) for child in children if not isinstance(child, Not)]
    must_not = [expression_query(child.child, languages) for child in children if isinstance(child, Not)]
    body: dict[str, Any] = {"must": must or [{"bool": {"filter": [{"match_all": {}}]}}]}
    if must_not:
        body["must_not"] = must_not
    return {"bool": body}


def match_query(query: SearchQuery) -> dict[str, Any]:
    """The match set of ``query``: clauses score, filters and the year range only restrict; the
    whole query found as a phrase in a title scores again (:attr:`SearchQuery.title_phrase`)."""
    languages = query.stem_languages
    clauses = [_scored_clause(clause, languages) for clause in query.clauses if clause.terms]
    if query.expression is not None:
        clauses.append(expression_query(query.expression, languages))
    filters = _filters(query)
    excluded = [_value_filter(name, values) for name, values in query.exclusions.items() if values]
    if not clauses and not filters and not excluded:
        return {"match_all": {}}
    body: dict[str, Any] = {"must": clauses or [{"match_all": {}}], "filter": filters}
    if excluded:
        body["must_not"] = excluded
    phrase = query.title_phrase
    if phrase is not None:
        # Optional beside ``must``: it only adds the phrase's title score (SQLite adds the same).
        body["should"] = [clause_query(phrase, "title", TEXT_WEIGHTS["title"])]
    return {"bool": body}


def _selection_filter(query: SearchQuery, facet: str) -> dict[str, Any]:
    """The filter of ``facet``'s own selection in ``query`` (one of its selected facets)."""
    if facet == "year":
        return _year_range(query.year_from, query.year_to)
    return _value_filter(facet, query.filters[facet])


def search_parts(query: SearchQuery) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The ``query`` and ``post_filter`` of a search: the facets' selections apart when facets are
    counted, so that each facet's aggregation can leave its own selection out."""
    selected = query.selected_facets if query.facets else ()
    if not selected:
        return match_query(query), None
    base = query
    for facet in selected:
        base = base.without_selection(facet)
    post_filter = {"bool": {"filter": [_selection_filter(query, facet) for facet in selected]}}
    return match_query(base), post_filter


def sort_of(query: SearchQuery) -> list[dict[str, Any]]:
    """The total order of ``query``'s hits (the id is the last key, so pages never overlap)."""
    if query.sort == "newest" and query.new_at is not None:
        # The date of the one library asked about, from its nested object (as SQLite's row of it).
        nested = {"path": "held_since", "filter": {"term": {"held_since.library": query.new_at}}}
        return [{"held_since.since": {"order": "desc", "missing": "_last", "nested": nested}}, {"id": "asc"}]
    return _SORTS[query.sort]


def facet_aggregations(query: SearchQuery, shards: int) -> dict[str, Any]:
    """One terms aggregation per facet, in the same request as the hits; under a ``filter``
    aggregation of the other facets' selections when there are any (:func:`search_parts`)."""
    if not query.facets:
        return {}
    selected = query.selected_facets
    aggregations: dict[str, Any] = {}
    for facet in FACET_FIELDS:
        size = max(query.size_of(facet), 1)
        # With one shard the counts are exact; with several, ask each shard for many more candidates
        # than shown so that the top values and their counts match an exact count in practice.
        shard_size = size if shards <= 1 else max(size * 20, 200)
        terms = {
            "terms": {
                "field": FACET_SOURCES[facet],
                "size": size,
                "shard_size": shard_size,
                "order": [{"_count": "desc"}, {"_key": "asc"}],
            }
        }
        others = [_selection_filter(query, name) for name in selected if name != facet]
        if others:
            aggregations[facet] = {"filter": {"bool": {"filter": others}}, "aggs": {_VALUES: terms}}
        else:
            aggregations[facet] = terms
    return aggregations


# The terms aggregation inside a facet's ``filter`` aggregation.
_VALUES = "values"


def read_facets(aggregations: dict[str, Any]) -> dict[str, list[FacetCount]]:
    """The facet counts of an answer's aggregations (plain, or under a ``filter`` aggregation)."""
    facets: dict[str, list[FacetCount]] = {}
    for facet, body in aggregations.items():
        buckets = body[_VALUES]["buckets"] if _VALUES in body else body["buckets"]
        facets[facet] = [FacetCount(str(bucket["key"]), int(bucket["doc_count"])) for bucket in buckets]
    return facets
