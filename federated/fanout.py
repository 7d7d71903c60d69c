"""One live search: every selected target asked at once, each under its own deadline, the answers read,
filtered and merged with the union's page as they come.

The union's results never wait for this: the web app shows them first and follows the updates this
yields (a stream for the page, a poll for the API). A target that is slow, dead or answers nonsense
costs only its own line: its status says why, and the others go on. Blocking work (reading MARC,
clustering against the record store) runs through ``blocking``, the caller's thread pool, so that the
event loop keeps serving while a page of records is read.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import aiohttp

from federated.query_translation import NothingToSearch, to_cql, to_pqf
from federated.sru_client import search_sru
from federated.z3950_client import search_z3950
from unicat.analysis import sort_key
from unicat.live_filtering import can_match_live, live_facet_counts, matches_filters
from unicat.live_search import (
    Blocking,
    LiveMerger,
    LiveRecord,
    LiveRecordReader,
    LiveTarget,
    LiveTargetError,
    LiveUpdate,
    MergedHit,
    RawLiveRecord,
    TargetAnswer,
    TargetStatus,
)
from unicat.model import UnionRecord
from unicat.query import SearchQuery

log = logging.getLogger(__name__)

T = TypeVar("T")

DEADLINE_MARGIN = 0.5
"""Seconds a target's client gets beyond its timeout to report the timeout itself (with its words)
before the fan-out gives up on it."""


async def _to_thread(function: Callable[..., T], *args: Any) -> T:
    return await asyncio.to_thread(function, *args)


@dataclass(slots=True)
class _Outcome:
    target: LiveTarget
    seconds: float
    answer: TargetAnswer | None = None
    error: LiveTargetError | None = None


class FederatedSearch:
    """Asks live targets and merges their answers with the union's page (:class:`LiveUpdate`): the
    :class:`unicat.live_search.LiveSearch` the web app and ``unicat target test`` use."""

    def __init__(self, reader: LiveRecordReader, merger: LiveMerger) -> None:
        self._reader = reader
        self._merger = merger
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        """Close the HTTP connections SRU targets use."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def ask(self, target: LiveTarget, query: SearchQuery) -> TargetAnswer:
        """One target's answer to ``query`` (the records of the query's page), or
        :class:`LiveTargetError`; the target's timeout bounds the whole exchange."""
        start = query.offset + 1
        count = min(query.page_size, target.max_records)
        try:
            if target.protocol == "sru":
                call = search_sru(self._http(), target, to_cql(query, target), start, count)
            else:
                call = search_z3950(target, to_pqf(query, target), start, count)
        except NothingToSearch:
            return TargetAnswer(0)  # as the union: text with no word in it finds nothing
        try:
            return await asyncio.wait_for(call, target.timeout + DEADLINE_MARGIN)
        except TimeoutError:
            raise LiveTargetError("timeout", f"no answer within {target.timeout:g} s (its timeout)") from None

    async def run(
        self,
        query: SearchQuery,
        union_hits: Sequence[UnionRecord],
        targets: Sequence[LiveTarget],
        *,
        blocking: Blocking = _to_thread,
    ) -> AsyncIterator[LiveUpdate]:
        """Yield the live search's state: first with every target waiting, then once per target as it
        answers, fails or runs out of time; the last update is ``done``. Closing the iterator early
        (a reader who left) stops asking the targets that have not answered."""
        started = time.monotonic()
        statuses = [TargetStatus(target.code, target.name) for target in targets]
        by_code = {status.code: status for status in statuses}
        hits = [MergedHit(record, True, found_by=["union"]) for record in union_hits]
        if not targets or not can_match_live(query):
            for status in statuses:
                status.state, status.message = (
                    "done",
                    "not asked: this search is about the union's own records",
                )
            yield LiveUpdate(_snapshot(statuses), hits, {}, True, 0.0)
            return
        yield LiveUpdate(_snapshot(statuses), hits, {}, False, 0.0)
        outcomes: asyncio.Queue[_Outcome] = asyncio.Queue()
        tasks = [asyncio.create_task(self._answer(target, query, outcomes)) for target in targets]
        kept: list[LiveRecord] = []
        raw: dict[tuple[str, str], RawLiveRecord] = {}
        try:
            for remaining in range(len(targets) - 1, -1, -1):
                outcome = await outcomes.get()
                status = by_code[outcome.target.code]
                status.seconds = round(outcome.seconds, 3)
                if outcome.error is not None:
                    status.state = "timed_out" if outcome.error.kind == "timeout" else "failed"
                    status.message, status.error = outcome.error.message, outcome.error.kind
                elif outcome.answer is not None:
                    answered = outcome.answer
                    batch = await blocking(self._reader.read, outcome.target, answered.records)
                    records = [record for record in batch.records if matches_filters(record.record, query)]
                    status.state, status.hits = "done", answered.total
                    status.records, status.rejected, status.kept = (
                        len(answered.records),
                        len(batch.rejected),
                        len(records),
                    )
                    for rejected in batch.rejected:
                        log.info(
                            "live record %s #%d set aside: %s",
                            rejected.target,
                            rejected.position,
                            rejected.reason,
                        )
                    if records:
                        kept.extend(records)
                        raw.update(_raw_of(records, answered.records))
                        merged = await blocking(self._merger.merge, union_hits, kept)
                        hits = ordered(merged, query)
                yield LiveUpdate(
                    _snapshot(statuses),
                    hits,
                    live_facet_counts(hits, query),
                    remaining == 0,
                    round(time.monotonic() - started, 3),
                    dict(raw),
                )
        finally:
            for task in tasks:
                task.cancel()

    async def _answer(
        self, target: LiveTarget, query: SearchQuery, outcomes: asyncio.Queue[_Outcome]
    ) -> None:
        started = time.monotonic()
        try:
            answer = await self.ask(target, query)
        except LiveTargetError as error:
            outcomes.put_nowait(_Outcome(target, time.monotonic() - started, error=error))
        except Exception as error:  # a defect must cost one target's line, never the whole search
            log.exception("live target %s failed unexpectedly", target.code)
            message = f"unexpected error ({type(error).__name__}); the server log has the details"
            outcomes.put_nowait(
                _Outcome(target, time.monotonic() - started, error=LiveTargetError("internal", message))
            )
        else:
            outcomes.put_nowait(_Outcome(target, time.monotonic() - started, answer=answer))

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(headers={"User-Agent": "Unicat live search"})
        return self._session


def _snapshot(statuses: Sequence[TargetStatus]) -> list[TargetStatus]:
    """Copies of the statuses as they are now: an update a reader holds never changes under them."""
    return [replace(status) for status in statuses]


def _raw_of(
    records: Sequence[LiveRecord], answered: Sequence[RawLiveRecord]
) -> dict[tuple[str, str], RawLiveRecord]:
    """The raw record each read record came from, by (target, local id): the reader keeps a target's
    ranks, and a record read alone has one source reference, the target's."""
    by_position = {(raw.target, raw.position): raw for raw in answered}
    found: dict[tuple[str, str], RawLiveRecord] = {}
    for record in records:
        source = record.record.sources[0] if record.record.sources else None
        came_from = by_position.get((record.target, record.position))
        if source is not None and came_from is not None:
            found[(source.source, source.local_id)] = came_from
    return found


def ordered(hits: Sequence[MergedHit], query: SearchQuery) -> list[MergedHit]:
    """The merged page in the search's order. By relevance the merger's order stands (reciprocal rank
    fusion); by year or title, the union's hits keep the order the reader saw and each live-only
    edition goes before the first union hit it sorts before (a live record is never "newest": the
    network has no date for it)."""
    if query.sort == "relevance":
        return list(hits)
    union = [hit for hit in hits if hit.in_union]
    live = sorted((hit for hit in hits if not hit.in_union), key=lambda hit: _sort_key(hit, query))
    merged: list[MergedHit] = []
    index = 0
    for hit in union:
        while index < len(live) and _sort_key(live[index], query) < _sort_key(hit, query):
            merged.append(live[index])
            index += 1
        merged.append(hit)
    merged.extend(live[index:])
    return merged


def _sort_key(hit: MergedHit, query: SearchQuery) -> tuple[Any, ...]:
    record = hit.record
    if query.sort == "year_desc":
        return (record.year is None, -(record.year or 0))
    if query.sort == "year_asc":
        return (record.year is None, record.year or 0)
    if query.sort == "title":
        return (sort_key(record.title),)
    return (not hit.in_union,)
