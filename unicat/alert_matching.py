"""Which saved searches find which of a day's new or changed union records: the core of alerts.

A saved search matches a candidate exactly when its search page would list that candidate among its
hits. So the engine answers every search (:meth:`UnionIndex.search` with :attr:`SearchQuery.ids`, the
filter both engines already apply), in the search's own order: there is no second implementation of
query semantics here whose answers could drift from the page's.

What is here is a *prefilter* that spares the engine most of the work. From the candidates' own index
fields (:func:`unicat.documents.index_fields`, what the engines index) it computes, per search, a
superset of the candidates the search can match: a clause needs each of its words (or one of the
word's stems, or for ``word*`` a word starting so) in a record; a filter needs its value, a year range
the record's year; AND intersects, OR unites, and NOT and exclusions, which only ever remove records,
remove none here. A search whose superset is empty is answered without a query, and the others are
limited to their superset, a shorter id list than every candidate. Since the superset only ever
leaves out records that cannot match, the answers are the engine's, prefiltered or not.

Searches stream through in batches (:func:`match_saved_searches` yields per batch), so memory holds
the candidates' words and one batch, whatever the number of searches; the searches left after the
prefilter reach the index many at a time (:meth:`UnionIndex.search_many`, one ``_msearch`` request
on Elasticsearch).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from itertools import islice

from unicat.documents import index_fields
from unicat.model import UnionRecord
from unicat.ports.union_index import UnionIndex
from unicat.query import (
    FILTER_FIELDS,
    MAX_ID_FILTER,
    And,
    Clause,
    Expression,
    Or,
    SearchQuery,
    ValueFilter,
    YearRange,
    clause_stems,
)

DEFAULT_FIRST = 10
"""Ids of matches kept per search: the titles a digest shows before "and M more"."""
DEFAULT_BATCH = 500
"""Saved searches read, answered and yielded at a time."""


@dataclass(frozen=True, slots=True)
class SavedSearch:
    """A saved search as the matcher sees it: the caller's ``key`` and the engine-ready query (built by
    :func:`unicat.query.parse_search_params` from its stored parameters; a reader's tags already
    turned into :attr:`SearchQuery.ids`, as the web app does before a search)."""

    key: str
    query: SearchQuery


@dataclass(frozen=True, slots=True)
class SearchMatches:
    """What one saved search finds among the candidates: how many, the first ids in the search's
    own order, and whether the engine was asked (``False``: the prefilter showed none can match)."""

    key: str
    total: int
    first: tuple[str, ...]
    queried: bool


class Candidates:
    """The day's candidates, by what a search can find of them: their words, facet values and years."""

    def __init__(self, records: Iterable[UnionRecord]) -> None:
        self.ids: tuple[str, ...] = ()
        self._by_word: dict[str, set[int]] = {}
        self._by_value: dict[tuple[str, str], set[int]] = {}
        self._years: list[tuple[int, int]] = []
        ids: list[str] = []
        for number, record in enumerate(records):
            ids.append(record.id)
            fields = index_fields(record)
            # Every indexed column, exact and stems: a word or a stem found in any field is enough
            # for a necessary condition (a field prefix only narrows where the engine looks).
            for text in fields.text_fields().values():
                for word in text.split():
                    self._by_word.setdefault(word, set()).add(number)
            for name, values in fields.facets.items():
                for value in values:
                    self._by_value.setdefault((name, value), set()).add(number)
            if fields.year is not None:
                self._years.append((fields.year, number))
        self.ids = tuple(ids)
        self._all = frozenset(range(len(ids)))
        self._words = sorted(self._by_word)
        self._years.sort()

    def __len__(self) -> int:
        return len(self.ids)

    def possible(self, query: SearchQuery) -> frozenset[int]:
        """The candidates (by number) ``query`` may match: a superset of those it does match."""
        found: frozenset[int] = self._all
        if query.ids is not None:
            allowed = set(query.ids)
            found = frozenset(n for n in found if self.ids[n] in allowed)
        for clause in query.clauses:
            found &= self._clause(clause, query.stem_languages)
        for name, values in query.filters.items():
            if name in FILTER_FIELDS and values:
                found &= self._values(name, values)
        if query.year_from is not None or query.year_to is not None:
            found &= self._year_range(query.year_from, query.year_to)
        if query.expression is not None:
            found &= self._expression(query.expression, query.stem_languages)
        return found

    def _expression(self, expression: Expression, languages: Sequence[str]) -> frozenset[int]:
        if isinstance(expression, Clause):
            return self._clause(expression, languages)
        if isinstance(expression, ValueFilter):
            return self._values(expression.field, expression.values)
        if isinstance(expression, YearRange):
            return self._year_range(expression.low, expression.high)
        if isinstance(expression, And):
            found = self._all
            for child in expression.children:
                found &= self._expression(child, languages)
            return found
        if isinstance(expression, Or):
            return frozenset().union(*(self._expression(child, languages) for child in expression.children))
        # MatchAll, and NOT, which only removes records: no candidate is ruled out by it.
        return self._all

    def _clause(self, clause: Clause, languages: Sequence[str]) -> frozenset[int]:
        if not clause.terms:
            return self._all
        stems = clause_stems(clause, languages)
        found = self._all
        for position, term in enumerate(clause.terms):
            holding = set(self._by_word.get(term, ()))
            if clause.prefix and position == len(clause.terms) - 1:
                start = bisect.bisect_left(self._words, term)
                for word in islice(self._words, start, None):
                    if not word.startswith(term):
                        break
                    holding |= self._by_word[word]
            if stems is not None:
                for stem in stems[position]:
                    holding |= self._by_word.get(stem, set())
            found &= holding
        return found

    def _values(self, name: str, values: Sequence[str]) -> frozenset[int]:
        return frozenset().union(*(self._by_value.get((name, value), ()) for value in values))

    def _year_range(self, low: int | None, high: int | None) -> frozenset[int]:
        start = 0 if low is None else bisect.bisect_left(self._years, (low, -1))
        stop = len(self._years) if high is None else bisect.bisect_right(self._years, (high, len(self.ids)))
        return frozenset(number for _, number in self._years[start:stop])


def load_candidates(index: UnionIndex, union_ids: Sequence[str]) -> Candidates:
    """The candidates among ``union_ids`` that are in the index (a record deleted since is not new).

    At most :data:`~unicat.query.MAX_ID_FILTER`: every search limits its engine query to them.
    """
    if len(union_ids) > MAX_ID_FILTER:
        raise ValueError(
            f"{len(union_ids)} candidate records is more than MAX_ID_FILTER ({MAX_ID_FILTER}); "
            "match them in parts of at most that many"
        )
    return Candidates(index.get_union_records(list(dict.fromkeys(union_ids))))


def match_saved_searches(
    index: UnionIndex,
    searches: Iterable[SavedSearch],
    candidates: Candidates,
    *,
    first: int = DEFAULT_FIRST,
    batch: int = DEFAULT_BATCH,
    workers: int = 1,
    prefilter: bool = True,
) -> Iterator[list[SearchMatches]]:
    """For each batch of ``searches``, what each finds among ``candidates`` (in the batch's order).

    The searches the prefilter leaves go to the index :data:`PER_REQUEST` at a time
    (:meth:`UnionIndex.search_many`: one request on Elasticsearch), ``workers`` of those at once (the
    index is safe to call from several threads, and SQLite runs a query in C without the GIL).
    ``prefilter=False`` asks the engine about every search with every candidate: the same answers,
    slower (the check that the prefilter only skips what cannot match).
    """
    if first < 1 or batch < 1 or workers < 1:
        raise ValueError("first, batch and workers must be at least 1")
    with ThreadPoolExecutor(workers, thread_name_prefix="alert-matching") as pool:
        iterator = iter(searches)
        while chunk := list(islice(iterator, batch)):
            yield _match_batch(index, pool, chunk, candidates, first, prefilter)


PER_REQUEST = 50
"""Searches sent to the index in one :meth:`UnionIndex.search_many` call."""


def _match_batch(
    index: UnionIndex,
    pool: ThreadPoolExecutor,
    searches: Sequence[SavedSearch],
    candidates: Candidates,
    first: int,
    prefilter: bool,
) -> list[SearchMatches]:
    asked: list[tuple[int, SearchQuery]] = []
    for position, search in enumerate(searches):
        ids = _possible_ids(search.query, candidates, prefilter)
        if ids:
            asked.append((position, replace(search.query, ids=ids, facets=False, page=1, page_size=first)))
    parts = [asked[start : start + PER_REQUEST] for start in range(0, len(asked), PER_REQUEST)]
    answered = pool.map(lambda part: index.search_many([query for _, query in part]), parts)
    results = {
        position: result
        for part, found in zip(parts, answered, strict=True)
        for (position, _), result in zip(part, found, strict=True)
    }
    matches: list[SearchMatches] = []
    for position, search in enumerate(searches):
        result = results.get(position)
        if result is None:
            matches.append(SearchMatches(search.key, 0, (), queried=False))
        else:
            ids = tuple(hit.id for hit in result.hits)
            matches.append(SearchMatches(search.key, result.total, ids, queried=True))
    return matches


def _possible_ids(query: SearchQuery, candidates: Candidates, prefilter: bool) -> tuple[str, ...]:
    """The candidates' ids ``query`` is run with: those it may match, or every one it is limited to."""
    if prefilter:
        return tuple(candidates.ids[n] for n in sorted(candidates.possible(query)))
    allowed = set(query.ids) if query.ids is not None else None
    return tuple(i for i in candidates.ids if allowed is None or i in allowed)
