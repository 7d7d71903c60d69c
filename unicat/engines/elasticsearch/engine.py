"""The Elasticsearch union index: the searchable union records of a catalogue, for networks that outgrow
one machine.

Indices (definitions in ``mappings/elasticsearch``), all named ``{prefix}-…``: ``meta`` (schema
version, hand-over marks) and the union generations behind the alias ``{prefix}-union``. Nothing else
lives here: Elasticsearch is not a system of record. The record store (sources, source records,
harvest state, quarantine, decisions, memberships, redirects, the OAI-PMH feed's history), accounts
and what readers add live in the stores' database (``unicat/stores``), which is transactional, as such
data must be; a catalogue written before that hands its old indices over once
(:meth:`ElasticsearchEngine.hand_over_records`, :meth:`ElasticsearchEngine.hand_over_readers`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

from elasticsearch import Elasticsearch, NotFoundError

from unicat.engines.elasticsearch import legacy_readers, legacy_records, overlap
from unicat.engines.elasticsearch.async_search import ElasticsearchAsyncSearcher
from unicat.engines.elasticsearch.connection import make_client, parse_engine_url, translated
from unicat.engines.elasticsearch.execute import (
    SEARCH_ATTEMPTS,
    in_one_request,
    run_search,
    run_searches,
    search_result,
    vanished,
)
from unicat.engines.elasticsearch.indices import (
    LEGACY_RECORD_INDICES,
    SCHEMA_VERSION,
    IndexNames,
    current_union_index,
    ensure_indices,
    generation_schema,
)
from unicat.engines.elasticsearch.scan import scan
from unicat.engines.elasticsearch.search import HIT_SOURCE
from unicat.engines.elasticsearch.union import build_generation, swap_alias
from unicat.engines.elasticsearch.union_update import update_generation
from unicat.errors import EngineError
from unicat.model import UnionRecord
from unicat.overlap import LibraryOverlap
from unicat.ports.accounts import AccountStore
from unicat.ports.contributions import ContributionStore
from unicat.ports.records import RecordStore
from unicat.ports.union_index import AsyncSearcher, RecordObserver, UnionIndex, UnionWrite
from unicat.query import SearchQuery, SearchResult
from unicat.readers_copy import copy_readers
from unicat.records_copy import copy_records
from unicat.settings import Settings
from unicat.vocabulary import SHORT_PREFIX, SUGGESTION_KINDS, Suggestion

T = TypeVar("T")

logger = logging.getLogger(__name__)


class ElasticsearchEngine(UnionIndex):
    """The union index of a catalogue in an Elasticsearch cluster, under the index prefix named by the
    URL's path."""

    def __init__(self, url: str, settings: Settings) -> None:
        self.url = url
        self.settings = settings
        address = parse_engine_url(url)
        self.node_url = address.node_url
        self.names = IndexNames(address.prefix)
        self._address = address
        self._client: Elasticsearch = make_client(address, settings)
        # The searches' client, made once: ``options()`` builds a new client (some forty objects,
        # 0.4 ms) on every call, more than the app adds to a selective search otherwise.
        self._search_client = self._client.options(request_timeout=settings.query_timeout)
        try:
            self.ping()
            with translated(self.node_url, "index creation"):
                ensure_indices(self._client, self.names, settings)
        except BaseException:
            self._client.close()
            raise

    def _call(self, what: str, action: Callable[[], T]) -> T:
        with translated(self.node_url, what):
            return action()

    # -- lifecycle -------------------------------------------------------------------------------
    def ping(self) -> None:
        # ``GET /`` is refused by a core-only node, so ping()/info() would fail: ask the cluster health.
        self._call("health check", lambda: self._client.cluster.health())

    def close(self) -> None:
        self._client.close()

    def hand_over_readers(
        self, accounts: AccountStore, contributions: ContributionStore, store_url: str
    ) -> int:
        """Copy what a catalogue of schema 6 or 7 kept of accounts and readers' data into the stores,
        once (``legacy_readers.py``); returns how many accounts went (0: nothing waited). A store that
        has accounts already is left alone, with a warning: merging two sets of accounts is not a copy."""
        waiting = self._call("read", lambda: legacy_readers.waiting(self._client, self.names))
        if waiting is None:
            return 0
        if accounts.list_users():
            logger.warning(
                "the catalogue %s still holds accounts and readers' data from before they moved to the "
                "store, but the store %s has accounts already: they were not copied",
                self.url,
                store_url,
            )
            return 0
        with translated(self.node_url, "readers' hand-over"):
            counts = copy_readers(waiting, accounts, contributions, lambda _what, _count: None)
            legacy_readers.mark_handed_over(self._client, self.names, counts["users"])
        logger.warning("accounts and readers' data moved from %s to the store %s", self.url, store_url)
        return counts["users"]

    def delete_catalogue(self) -> None:
        """Delete every index of this catalogue (its prefix): for tests and for starting over."""
        with translated(self.node_url, "delete"):
            # Wildcard deletes are refused by default (destructive_requires_name): name each index.
            found = self._client.indices.get(index=self.names.all_patterns(), ignore_unavailable=True)
            for index in sorted(found.body):
                self._client.indices.delete(index=index, ignore_unavailable=True)

    def hand_over_records(self, store: RecordStore, store_url: str) -> None:
        """Copy what a catalogue of schema 9 or older kept of the record store and the OAI-PMH feed into
        ``store``, once (``legacy_records.py``). A store that has sources already is left alone, with a
        warning: merging two record stores is not a copy.

        The old indices are left where they are, read no more: until the operator has seen the store
        serve the catalogue (and backed it up), they are the only other copy of harvested records that
        may no longer be fetchable; deleting them is the operator's step, by name (the warning logged
        here lists them), and :meth:`delete_catalogue` removes them with the rest.
        """
        waiting = self._call("read", lambda: legacy_records.waiting(self._client, self.names))
        if waiting is None:
            return
        if store.list_sources():
            logger.warning(
                "the catalogue %s still holds sources and source records from before they moved to the "
                "store, but the store %s has sources already: they were not copied (if an earlier copy "
                "was interrupted, open the catalogue with an empty store to copy them again)",
                self.url,
                store_url,
            )
            return
        with translated(self.node_url, "record store hand-over"):
            copied = copy_records(waiting, store)
            legacy_records.mark_handed_over(self._client, self.names, copied.source_records)
        logger.warning(
            "sources, %d source records, harvest history, quarantine, merge decisions, redirects and the "
            "OAI-PMH feed moved from %s to the store %s; the old indices (%s) are no longer read and "
            "may be deleted once the store is backed up",
            copied.source_records,
            self.url,
            store_url,
            ", ".join(self.names.plain(name) for name in LEGACY_RECORD_INDICES),
        )

    # -- union index -----------------------------------------------------------------------------
    def replace_union_records(
        self, records: Iterable[UnionRecord], observe: RecordObserver | None = None
    ) -> UnionWrite:
        """Build a new generation, then swap the alias to it in one step.

        Records the node refuses are left out and returned with why (``UnionWrite.refused``), for the
        caller to quarantine."""
        with translated(self.node_url, "union rebuild"):
            index, written = build_generation(self._client, self.names, records, self.settings, observe)
            swap_alias(self._client, self.names, index)
        return written

    def rebuild_reason(self) -> str | None:
        def reason() -> str | None:
            live = current_union_index(self._client, self.names)
            if live is None:
                return "the union index was never built"
            version = generation_schema(self._client, live)
            if version is None:
                return "the union index was built before its generations recorded their schema"
            if version != SCHEMA_VERSION:
                return f"the union index was built with schema {version}, not {SCHEMA_VERSION}"
            if int(self._client.count(index=live)["count"]) == 0:
                return "the union index holds no record"
            return None

        return self._call("read", reason)

    def update_union_records(
        self,
        upserts: Iterable[UnionRecord],
        deletes: Sequence[str] = (),
        observe: RecordObserver | None = None,
    ) -> UnionWrite:
        """In the generation the alias names, refreshed at the end (``union_update.py``)."""
        with translated(self.node_url, "union update"):
            return update_generation(self._client, self.names, upserts, deletes, self.settings, observe)

    def get_union_record(self, union_id: str) -> UnionRecord | None:
        def get() -> dict[str, Any] | None:
            try:
                answer = self._client.get(index=self.names.union, id=union_id, source=HIT_SOURCE)
            except NotFoundError:
                return None
            return dict(answer["_source"]["doc"])

        doc = self._call("read", get)
        return UnionRecord.from_json(doc) if doc is not None else None

    def get_union_records(self, union_ids: Sequence[str]) -> list[UnionRecord]:
        if not union_ids:
            return []
        # The alias names one generation, so one multi-get reads them all (real time, like GET).
        answer = self._call(
            "read", lambda: self._client.mget(index=self.names.union, ids=list(union_ids), source=HIT_SOURCE)
        )
        return [UnionRecord.from_json(doc["_source"]["doc"]) for doc in answer["docs"] if doc.get("found")]

    def iter_union_records(self) -> Iterator[UnionRecord]:
        with translated(self.node_url, "union read"):
            for doc in scan(self._client, self.names.union, {"match_all": {}}, ["id"], HIT_SOURCE):
                yield UnionRecord.from_json(doc["doc"])

    def union_count(self) -> int:
        answer = self._call("count", lambda: self._client.count(index=self.names.union))
        return int(answer["count"])

    def vocabulary(self) -> dict[str, int]:
        def read() -> dict[str, int]:
            hits = scan(
                self._client, self.names.suggest, {"term": {"kind": "word"}}, ["key"], ["key", "count"]
            )
            try:
                return {hit["key"]: int(hit["count"]) for hit in hits}
            except NotFoundError:
                # A catalogue last rebuilt before its words were kept: none until the next rebuild.
                return {}

        return self._call("vocabulary", read)

    def suggest(self, prefix: str, limit: int) -> list[Suggestion]:
        kinds = {"terms": {"kind": list(SUGGESTION_KINDS)}}
        # A short prefix is a term of its own (``starts``); a longer one matches few keys.
        match = {"term": {"starts": prefix}} if len(prefix) <= SHORT_PREFIX else {"prefix": {"key": prefix}}

        def ask() -> list[dict[str, Any]]:
            try:
                answer = self._client.search(
                    index=self.names.suggest,
                    query={"bool": {"filter": [match, kinds]}},
                    sort=[{"count": "desc"}, {"key": "asc"}, {"kind": "asc"}],
                    size=limit,
                    track_total_hits=False,
                    source_includes=["text", "kind", "count", "key"],
                    timeout=f"{int(self.settings.query_timeout * 1000)}ms",
                )
            except NotFoundError:
                return []
            return [hit["_source"] for hit in answer["hits"]["hits"]]

        return [
            Suggestion(hit["text"], hit["kind"], int(hit["count"]), hit["key"])
            for hit in self._call("suggestions", ask)
        ]

    def library_overlap(self) -> LibraryOverlap:
        return self._call("library overlap", lambda: overlap.library_overlap(self._client, self.names))

    def search(self, query: SearchQuery) -> SearchResult:
        began = time.perf_counter()
        timeout = self.settings.query_timeout
        client = self._search_client
        for attempt in range(SEARCH_ATTEMPTS):
            try:
                with translated(self.node_url, "search"):
                    answer = run_search(client, self.names.union, query, timeout, self.settings.es_shards)
                break
            except EngineError as exc:
                # A rebuild may delete the generation a search started on; the alias now names the
                # new one, so a second try answers from a complete index.
                if attempt + 1 == SEARCH_ATTEMPTS or not vanished(exc):
                    raise
        return search_result(answer, query, began)

    def async_searcher(self) -> AsyncSearcher:
        return ElasticsearchAsyncSearcher(self._address, self.names.union, self.settings)

    def search_many(self, queries: Sequence[SearchQuery]) -> list[SearchResult]:
        """Searches without facets in one ``_msearch`` request; any other, and any the node refused
        or answered in part, alone (:meth:`search`, with its retry and its errors)."""
        together = [position for position, query in enumerate(queries) if in_one_request(query)]
        answers: dict[int, dict[str, Any] | None] = {}
        if together:
            # Each search keeps its own time limit (in its body); the request may take as long as
            # all of them one after the other.
            client = self._client.options(request_timeout=self.settings.query_timeout * len(together))
            with translated(self.node_url, "search"):
                found = run_searches(
                    client, self.names.union, [queries[n] for n in together], self.settings.query_timeout
                )
            answers = dict(zip(together, found, strict=True))
        results: list[SearchResult] = []
        for position, query in enumerate(queries):
            answer = answers.get(position)
            if answer is None:
                results.append(self.search(query))
                continue
            hits = [UnionRecord.from_json(hit["_source"]["doc"]) for hit in answer["hits"]["hits"]]
            results.append(SearchResult(total=int(answer["hits"]["total"]["value"]), hits=hits))
        return results
