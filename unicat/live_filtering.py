"""What a search's filters make of live records, and what its facets count of them.

A live target is sent the words of a search (and its years, where the target can take them), never
its facets' filters: a remote catalogue has other codes for languages and formats, and knows nothing of
the network's libraries. So the records a target answers are filtered here, by the same values the
union index holds for a union record (:func:`unicat.documents.index_fields`), and the facets of a page
count them apart, so that a reader sees which counts come from the live catalogues.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from unicat import fields
from unicat.documents import facet_values, index_fields
from unicat.live_search import MergedHit
from unicat.model import Holding, UnionRecord
from unicat.query import NOTHING, FacetCount, SearchQuery

_FOLDED = frozenset(facet.name for facet in fields.FACETS if facet.folded)
# The facets a record's copies make (the libraries, where they are held, available, their status): what
# the copies live targets add to a union record add to its counts.
_HOLDINGS_FACETS = tuple(
    (facet.name, facet.source, facet.derive)
    for facet in fields.FACETS
    if facet.source in ("holdings", "libraries")
)


def can_match_live(query: SearchQuery) -> bool:
    """Whether a live record can be a hit of ``query`` at all.

    Searches limited to union ids (readers' tags, a record's other editions) or to what is new in the
    catalogue ask about the union's own records: a live record is in none of those sets. Text with no
    word left to search finds nothing anywhere.
    """
    return (
        query.expression != NOTHING
        and query.ids is None
        and query.new_since is None
        and not query.filters.get("tag")
        and not query.filters.get("editions_of")
    )


def matches_filters(record: UnionRecord, query: SearchQuery) -> bool:
    """Whether ``record`` passes the filters, exclusions and year range of ``query`` as the union
    index would judge it: one value of each filtered facet, none of an excluded one."""
    if query.year_from is not None or query.year_to is not None:
        if record.year is None:
            return False
        if query.year_from is not None and record.year < query.year_from:
            return False
        if query.year_to is not None and record.year > query.year_to:
            return False
    wanted = {name: values for name, values in query.filters.items() if name in _FACET_NAMES}
    if not wanted and not query.exclusions:
        return True
    values = _record_facets(record)
    for name, chosen in wanted.items():
        if not values.get(name, set()) & _folded(name, chosen):
            return False
    return all(
        not values.get(name, set()) & _folded(name, left_out) for name, left_out in query.exclusions.items()
    )


def live_facet_counts(hits: Sequence[MergedHit], query: SearchQuery) -> dict[str, list[FacetCount]]:
    """Per facet, the values the live part of ``hits`` adds, most frequent first: every facet of the
    editions only live targets hold, and the library facets of the copies live targets add to union
    records (counted once per record, as the union's facets count records)."""
    counts: dict[str, Counter[str]] = {name: Counter() for name in _FACET_NAMES}
    for hit in hits:
        if not hit.in_union:
            for name, found in _record_facets(hit.record).items():
                counts[name].update(found)
        elif hit.live_holdings:
            for name, found in _holding_facets(hit.live_holdings).items():
                counts[name].update(found - _holding_facets(hit.record.holdings).get(name, set()))
    return {
        name: [FacetCount(value, count) for value, count in _ordered(counter)[: query.size_of(name)]]
        for name, counter in counts.items()
        if counter
    }


_FACET_NAMES = tuple(facet.name for facet in fields.FACETS)


def _record_facets(record: UnionRecord) -> dict[str, set[str]]:
    found = index_fields(record).facets
    return {name: {_fold(name, value) for value in values} for name, values in found.items()}


def _holding_facets(holdings: Iterable[Holding]) -> dict[str, set[str]]:
    listed = list(holdings)
    libraries = sorted({holding.library for holding in listed})
    return {
        name: set(facet_values(derive, listed if source == "holdings" else libraries))
        for name, source, derive in _HOLDINGS_FACETS
    }


def _fold(name: str, value: str) -> str:
    return value.casefold() if name in _FOLDED else value


def _folded(name: str, values: Iterable[str]) -> set[str]:
    return {_fold(name, value) for value in values}


def _ordered(counter: Counter[str]) -> list[tuple[str, int]]:
    return sorted(counter.items(), key=lambda item: (-item[1], item[0]))
