"""A page of union hits and the live records of one search → one list, deduplicated as ``unicat index``
deduplicates and ranked by reciprocal rank fusion.

Deduplication is the indexer's own (:func:`indexer.dedup.cluster_records`, with the librarians' merge
decisions): live records of one edition found by several targets become one line; a live record of an
edition the union holds joins that union record, whose members are read from the record store and
parsed as ``unicat index`` parses them. Such a union record may be off the page: the union index is
asked for it by the live record's identifiers (or, without any, by its title key's words), and it joins
the list where the live record ranks. What is left are editions only live targets hold.

Ranking: the lists' scores cannot be compared (a union index's BM25, a Z39.50 server's relevance or
its own sort order, an SRU server's nothing at all), so each list counts by rank only, which every
list has. Reciprocal rank fusion (Cormack, Clarke and Büttcher, SIGIR 2009) scores a line
``Σ 1 / (k + rank)`` over the lists it is found in, with ``k`` = :data:`RRF_K` = 60 (their value, which
damps the difference between the first ranks); a record several catalogues rank high rises above one
a single list ranks high. The union page keeps its order, since the reader may have seen it already:
a union hit is placed by the best score among itself and the union hits below it (a non-increasing
sequence), and the other lines are merged into that sequence by their own score, a union hit first on
a tie; so a union hit a live target confirms lifts the hits above it instead of passing them.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from indexer.dedup import Cluster, cluster_records, title_key
from indexer.extract import ExtractedRecord
from indexer.live_records import LIVE_ID_PREFIX, ReadLiveRecord
from indexer.matching import traits_of
from indexer.parsing import parse_outcome
from indexer.union import build_union_record
from unicat.errors import QueryTimeout
from unicat.live_search import LiveRecord, MergedHit
from unicat.model import MergeDecision, Source, UnionRecord
from unicat.ports.records import RecordStore
from unicat.ports.union_index import UnionIndex
from unicat.query import Clause, Expression, Or, SearchQuery, identifier_terms

log = logging.getLogger(__name__)

RRF_K = 60
"""Reciprocal rank fusion's constant (Cormack et al. 2009): a rank counts ``1 / (RRF_K + rank)``."""
UNION_LIST = "union"
"""The name of the union page's list in :attr:`MergedHit.found_by`."""
LOOKUP_SIZE = 5
"""Union records fetched per live edition looked up off the page: copies of one edition are one
union record, so a few candidates cover the editions an identifier is shared by."""


@dataclass(slots=True, eq=False)
class _Line:
    """A line being built: its record, the live records it gathered, and its best rank per list."""

    record: UnionRecord
    in_union: bool
    live: list[ReadLiveRecord] = field(default_factory=list)
    ranks: dict[str, int] = field(default_factory=dict)

    def found(self, name: str, rank: int) -> None:
        self.ranks[name] = min(rank, self.ranks.get(name, rank))

    @property
    def score(self) -> float:
        return sum(1.0 / (RRF_K + rank) for rank in self.ranks.values())

    @property
    def best(self) -> tuple[int, str]:
        """The best (rank, list) of the line, for breaking ties deterministically."""
        return min((rank, name) for name, rank in self.ranks.items())

    def hit(self) -> MergedHit:
        found_by = [name for _, name in sorted((rank, name) for name, rank in self.ranks.items())]
        holdings = [holding for live in self.live for holding in live.record.holdings]
        if self.in_union:
            return MergedHit(self.record, True, holdings, found_by, self.score)
        # A live-only line: every holding is a live target's, and the record carries them all.
        self.record.holdings = holdings
        return MergedHit(self.record, False, [], found_by, self.score)


class LiveResultMerger:
    """Merges a page of union hits with live records (:class:`unicat.live_search.LiveMerger`).

    ``store`` has the union records' member source records (parsed again to be compared) and the
    librarians' merge decisions; ``index`` finds the union records of live editions off the page.
    """

    def __init__(self, store: RecordStore, index: UnionIndex, lookup_size: int = LOOKUP_SIZE) -> None:
        self._store = store
        self._index = index
        self._lookup_size = lookup_size

    def merge(self, union_hits: Sequence[UnionRecord], live: Sequence[LiveRecord]) -> list[MergedHit]:
        page = [_Line(record, True) for record in union_hits]
        for rank, line in enumerate(page, start=1):
            line.found(UNION_LIST, rank)
        records = [_read(record) for record in live]
        if not records:
            return [line.hit() for line in page]
        sources = {source.code: source for source in self._store.list_sources()}
        decisions = self._store.merge_decisions()
        apart = self._attach(records, page, sources, decisions)
        looked_up: list[_Line] = []
        if apart:
            shown = {line.record.id for line in page}
            found = [record for record in self._lookup([g for g, _ in apart]) if record.id not in shown]
            looked_up = [_Line(record, True) for record in found]
            left = [record for group, _ in apart for record in group]
            apart = self._attach(left, looked_up, sources, decisions)
        others = [line for line in looked_up if line.live] + [_live_line(*group) for group in apart]
        return [line.hit() for line in _ranked(page, others)]

    def _attach(
        self,
        records: Sequence[ReadLiveRecord],
        lines: Sequence[_Line],
        sources: dict[str, Source],
        decisions: Sequence[MergeDecision],
    ) -> list[tuple[list[ReadLiveRecord], Cluster]]:
        """Cluster ``records`` with the members of ``lines``' union records: a live record clustered
        with a union record's members joins that line (the first of them, when the cluster spans
        several: the union index keeps those apart, and so does this list); the live records left are
        returned with the clusters they make, best ranked first."""
        order = {id(line): index for index, line in enumerate(lines)}
        owner: dict[int, _Line] = {}
        members: list[ExtractedRecord] = []
        for line in lines:
            for member in self._members(line.record, sources):
                owner[id(member)] = line
                members.append(member)
        clustered = [_clustered(record) for record in records]
        # cluster_records copies nothing: its clusters hold the objects given, so identity finds them.
        live_of = {id(extracted): record for extracted, record in zip(clustered, records, strict=True)}
        clusters = cluster_records([*members, *clustered], decisions)
        groups: list[tuple[list[ReadLiveRecord], Cluster]] = []
        for cluster in clusters:
            found = sorted((live_of[id(m)] for m in cluster.members if id(m) in live_of), key=_rank)
            if not found:
                continue
            owners = [owner[id(m)] for m in cluster.members if id(m) in owner]
            if owners:
                line = min(owners, key=lambda candidate: order[id(candidate)])
                line.live.extend(found)
                for record in found:
                    line.found(record.target, record.position)
            else:
                groups.append((found, cluster))
        return sorted(groups, key=lambda group: min(_rank(record) for record in group[0]))

    def _members(self, record: UnionRecord, sources: dict[str, Source]) -> Iterable[ExtractedRecord]:
        """The union record's member source records, parsed as ``unicat index`` parses them (those
        deleted or unreadable since the index was built are left out)."""
        for ref in record.sources:
            stored = self._store.get_source_record(ref.source, ref.local_id)
            if stored is None or stored.deleted:
                continue
            _, outcome = parse_outcome(stored, sources)
            if isinstance(outcome, ExtractedRecord):
                yield outcome

    def _lookup(self, groups: Sequence[Sequence[ReadLiveRecord]]) -> list[UnionRecord]:
        """The union records the index finds for each group by its identifiers (ISBN, a serial's ISSN,
        system numbers: what the ``ident`` field holds; an LCCN is not indexed), or for a group without
        any by its title key's words, name and year, in one
        :meth:`~unicat.ports.union_index.UnionIndex.search_many`; each record once."""
        queries = [query for group in groups if (query := self._query(group)) is not None]
        if not queries:
            return []
        try:
            results = self._index.search_many(queries)
        except QueryTimeout as exc:
            # The live records then stay lines of their own: the page is still right, only less merged.
            log.warning("looking up live editions in the union index timed out: %s", exc)
            return []
        found: dict[str, UnionRecord] = {}
        for result in results:
            for record in result.hits:
                found.setdefault(record.id, record)
        return list(found.values())

    def _query(self, group: Sequence[ReadLiveRecord]) -> SearchQuery | None:
        # The identifiers clustering keys on (indexer.dedup.merge_keys) that the index holds: a
        # monograph's ISSN is its series', which would fill the few hits with the series' other books.
        identifiers = dict.fromkeys(
            value
            for record in group
            for value in (
                *record.extracted.isbns,
                *(record.extracted.issns if record.extracted.format == "serial" else ()),
                *record.extracted.system_numbers,
            )
        )
        clauses = [
            Clause("ident", terms, phrase=len(terms) > 1)
            for value in identifiers
            if (terms := identifier_terms(value))
        ]
        if clauses:
            expression: Expression = clauses[0] if len(clauses) == 1 else Or(tuple(clauses))
            return SearchQuery(expression=expression, page_size=self._lookup_size, facets=False)
        for record in group:
            traits = traits_of(record.extracted)
            if title_key(traits) is None:
                continue
            name = traits.author or traits.publisher or ""
            named = Clause("author" if traits.author else "publisher", (name,))
            return SearchQuery(
                clauses=(Clause("title", traits.title), named),
                year_from=traits.year,
                year_to=traits.year,
                page_size=self._lookup_size,
                facets=False,
            )
        return None


def _read(record: LiveRecord) -> ReadLiveRecord:
    if not isinstance(record, ReadLiveRecord):
        raise TypeError(
            "live records are merged by what they were read from: read them with "
            "indexer.live_records.LiveReader"
        )
    return record


def _rank(record: ReadLiveRecord) -> tuple[int, str, str]:
    return (record.position, record.target, record.record.id)


def _clustered(record: ReadLiveRecord) -> ExtractedRecord:
    """The live record as clustering sees it, under a source no harvested one can share (a target and
    a source may have one code), so that merge decisions only ever name union members."""
    return dataclasses.replace(record.extracted, source=f"{LIVE_ID_PREFIX}{record.target}")


def _live_line(group: Sequence[ReadLiveRecord], cluster: Cluster) -> _Line:
    """The line of an edition only live targets hold: the union record its copies make, under the id
    of the best ranked one, with the targets' own references."""
    first = group[0]
    if len(group) == 1:
        record = dataclasses.replace(first.record)
    else:
        record = build_union_record(first.record.id, cluster)
        record.sources = [ref for live in group for ref in live.record.sources]
    line = _Line(record, False, list(group))
    for live in group:
        line.found(live.target, live.position)
    return line


def _ranked(page: Sequence[_Line], others: Sequence[_Line]) -> list[_Line]:
    """The union page in its order, the other lines merged in by score (module docstring)."""
    placed: list[float] = []
    ceiling = 0.0
    for line in reversed(page):
        ceiling = max(ceiling, line.score)
        placed.append(ceiling)
    placed.reverse()
    pending = sorted(others, key=lambda line: (-line.score, line.best, line.record.id))
    merged: list[_Line] = []
    position = 0
    for line, score in zip(page, placed, strict=True):
        while position < len(pending) and pending[position].score > score:
            merged.append(pending[position])
            position += 1
        merged.append(line)
    merged.extend(pending[position:])
    return merged
