"""The Elasticsearch engine: the catalogue's records, harvest state and union index in one cluster.

Indices (definitions in ``mappings/elasticsearch``), all named ``{prefix}-…``: ``meta`` (schema
version, counters), ``sources``, ``records`` (source records), ``harvests``, ``quarantine``,
``redirects``, ``decisions`` (librarians' merge decisions), the OAI-PMH feed (``oai``,
``oai_generations``, ``oai_sets``), and the union generations behind the alias ``{prefix}-union``.
Accounts and what readers add are not here: they live in the stores' database (``unicat/stores``),
which is transactional, as such data must be. Writes are not refreshed one by one: reads that must see
recent writes refresh the index they read first, or GET by id (which is real time).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import itertools
import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Literal, TypeVar

from elasticsearch import Elasticsearch, NotFoundError

from unicat.clock import utc_now
from unicat.engine import Engine, HarvestMode, one_entry_per_record
from unicat.engines.elasticsearch import legacy_readers, oai, overlap, redirects
from unicat.engines.elasticsearch import records as docs
from unicat.engines.elasticsearch.bulk import write_all
from unicat.engines.elasticsearch.connection import make_client, parse_engine_url, translated
from unicat.engines.elasticsearch.counters import raise_to, reserve
from unicat.engines.elasticsearch.execute import RetryableSearchError, run_search
from unicat.engines.elasticsearch.indices import IndexNames, ensure_indices
from unicat.engines.elasticsearch.scan import scan, scan_ids, scan_values
from unicat.engines.elasticsearch.search import HIT_SOURCE, read_facets
from unicat.engines.elasticsearch.union import (
    build_generation,
    prune_redirects,
    save_redirects,
    swap_alias,
)
from unicat.errors import EngineError, SourceNotFound
from unicat.model import (
    QUARANTINE_STAGES,
    HarvestCheckpoint,
    HarvestRun,
    MergeDecision,
    QuarantineEntry,
    QuarantineStage,
    RecordCounts,
    Source,
    SourceRecord,
    SourceRef,
    UnionRecord,
)
from unicat.oai_items import FeedCollector, OaiEntry, OaiItem, OaiSelection
from unicat.overlap import LibraryOverlap
from unicat.ports.accounts import AccountStore
from unicat.ports.contributions import ContributionStore
from unicat.query import SearchQuery, SearchResult
from unicat.readers_copy import copy_readers
from unicat.settings import Settings

# Redirect chains longer than this are treated as a cycle (as in the SQLite engine).
MAX_REDIRECT_HOPS = 16
# Sources and harvest history are small; one request reads them whole.
MAX_SMALL_READ = 10_000
# Documents deleted per bulk request when clearing the quarantine.
DELETE_BATCH = 1_000
# A search whose index was deleted under it by a rebuild is run again once, on the new generation.
SEARCH_ATTEMPTS = 2

T = TypeVar("T")


def _term(field: str, value: Any) -> dict[str, Any]:
    return {"term": {field: value}}


logger = logging.getLogger(__name__)


def _all_of(*conditions: dict[str, Any] | None) -> dict[str, Any]:
    kept = [condition for condition in conditions if condition is not None]
    return {"bool": {"filter": kept}} if kept else {"match_all": {}}


class ElasticsearchEngine(Engine):
    """Unicat's state in an Elasticsearch cluster, under the index prefix named by the URL's path."""

    def __init__(self, url: str, settings: Settings) -> None:
        self.url = url
        self.settings = settings
        address = parse_engine_url(url)
        self.node_url = address.node_url
        self.names = IndexNames(address.prefix)
        self._client: Elasticsearch = make_client(address, settings)
        try:
            self.ping()
            with translated(self.node_url, "index creation"):
                ensure_indices(self._client, self.names, settings)
                oai.backfill_if_missing(self._client, self.names, settings)
        except BaseException:
            self._client.close()
            raise

    def _call(self, what: str, action: Callable[[], T]) -> T:
        with translated(self.node_url, what):
            return action()

    def _refresh(self, index: str) -> None:
        self._call("refresh", lambda: self._client.indices.refresh(index=index))

    def _get(self, index: str, doc_id: str) -> dict[str, Any] | None:
        """A document's ``_source`` by id (real time, no refresh needed), or ``None``."""

        def get() -> dict[str, Any] | None:
            try:
                return dict(self._client.get(index=index, id=doc_id)["_source"])
            except NotFoundError:
                return None

        return self._call("read", get)

    def _hits(self, index: str, **search: Any) -> list[dict[str, Any]]:
        answer = self._call("read", lambda: self._client.search(index=index, **search))
        return [hit["_source"] for hit in answer["hits"]["hits"]]

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

    # -- sources ---------------------------------------------------------------------------------
    def save_source(self, source: Source) -> None:
        self._call(
            "write",
            lambda: self._client.index(index=self.names.sources, id=source.code, document=source.to_json()),
        )

    def get_source(self, code: str) -> Source:
        doc = self._get(self.names.sources, code)
        if doc is None:
            raise SourceNotFound(code)
        return docs.source_from_doc(doc)

    def list_sources(self) -> list[Source]:
        self._refresh(self.names.sources)
        found = self._hits(self.names.sources, sort=[{"code": "asc"}], size=MAX_SMALL_READ)
        return [docs.source_from_doc(doc) for doc in found]

    # -- record store ----------------------------------------------------------------------------
    def store_page(
        self, source: str, records: Sequence[SourceRecord], checkpoint: HarvestCheckpoint | None
    ) -> None:
        """Store one page: its records first, then the checkpoint.

        Elasticsearch has no multi-document transaction, so the atomic step of the interface becomes an
        order. Everything that can refuse the page is checked before anything is written (records of
        another source, a checkpoint naming no run of this source). Then the records are written as
        upserts whose ids derive from (source, local_id), and only then the checkpoint. A harvest
        killed between the two resumes from the previous checkpoint, fetches this page again and
        overwrites the same documents: nothing is lost and nothing is duplicated. A record write that
        fails raises before the checkpoint moves, with the same effect.
        """
        strays = {record.source for record in records} - {source}
        if strays:
            raise EngineError(f"store_page({source!r}) was given records of other sources: {sorted(strays)}")
        if checkpoint is not None:
            run_doc = self._get(self.names.harvests, str(checkpoint.run_id))
            if run_doc is None or run_doc["source"] != source:
                raise EngineError(f"no harvest run {checkpoint.run_id} of source {source!r} to checkpoint")
        run_id = checkpoint.run_id if checkpoint is not None else None
        actions = (
            {
                "_op_type": "index",
                "_index": self.names.records,
                "_id": docs.record_doc_id(record.source, record.local_id),
                "_source": docs.record_doc(record, run_id),
            }
            for record in records
        )
        failures = self._call("record write", lambda: list(write_all(self._client, actions, self.settings)))
        if failures:
            reasons = "; ".join(
                f"{item.action['_source']['local_id']}: {item.reason}" for item in failures[:5]
            )
            raise EngineError(
                f"{len(failures)} record(s) of {source!r} not stored ({reasons}); page not checkpointed"
            )
        if checkpoint is not None:
            progress = {
                "resumption_token": checkpoint.resumption_token,
                "pages": checkpoint.pages,
                "records": checkpoint.records,
                "deleted": checkpoint.deleted,
                "quarantined": checkpoint.quarantined,
            }
            self._call(
                "checkpoint",
                lambda: self._client.update(
                    index=self.names.harvests, id=str(checkpoint.run_id), doc=progress
                ),
            )

    @staticmethod
    def _unseen(source: str, run_id: int) -> dict[str, Any]:
        return {
            "bool": {
                "filter": [_term("source", source), _term("deleted", False)],
                "must_not": [_term("run", run_id)],
            }
        }

    def unseen_count(self, source: str, run_id: int) -> int:
        self._refresh(self.names.records)
        query = self._unseen(source, run_id)
        answer = self._call("count", lambda: self._client.count(index=self.names.records, query=query))
        return int(answer["count"])

    def delete_unseen(self, source: str, run_id: int) -> int:
        # update_by_query belongs to the reindex module, which a core-only node lacks: find, then update.
        self._refresh(self.names.records)
        query = self._unseen(source, run_id)
        marked = 0
        with translated(self.node_url, "record update"):
            keys = scan_values(self._client, self.names.records, query, ["local_id"], ["local_id"])
            while batch := [key["local_id"][0] for key in itertools.islice(keys, DELETE_BATCH)]:
                answer = self._client.bulk(
                    operations=[
                        operation
                        for local_id in batch
                        for operation in (
                            {
                                "update": {
                                    "_index": self.names.records,
                                    "_id": docs.record_doc_id(source, local_id),
                                }
                            },
                            {"doc": {"deleted": True, "raw": ""}},
                        )
                    ]
                )
                if answer["errors"]:
                    failed = [item["update"] for item in answer["items"] if item["update"].get("error")]
                    raise EngineError(f"{len(failed)} records of {source!r} not marked deleted: {failed[0]}")
                marked += len(batch)
            self._client.indices.refresh(index=self.names.records)
        return marked

    def iter_source_records(
        self, source: str | None = None, include_deleted: bool = False
    ) -> Iterator[SourceRecord]:
        self._refresh(self.names.records)
        query = _all_of(
            _term("source", source) if source is not None else None,
            None if include_deleted else _term("deleted", False),
        )
        # One translation around the whole read: only the read runs inside it (a generator's caller
        # never raises into it), and entering it once per record would cost more than the record.
        with translated(self.node_url, "record read"):
            for doc in scan(self._client, self.names.records, query, ["source", "local_id"]):
                yield docs.source_record(doc)

    def get_source_record(self, source: str, local_id: str) -> SourceRecord | None:
        doc = self._get(self.names.records, docs.record_doc_id(source, local_id))
        return docs.source_record(doc) if doc is not None else None

    def source_counts(self, source: str | None = None) -> RecordCounts:
        self._refresh(self.names.records)
        answer = self._call(
            "count",
            lambda: self._client.search(
                index=self.names.records,
                query=_all_of(_term("source", source) if source is not None else None),
                size=0,
                track_total_hits=True,
                aggs={"deleted": {"filter": _term("deleted", True)}},
            ),
        )
        total = int(answer["hits"]["total"]["value"])
        deleted = int(answer["aggregations"]["deleted"]["doc_count"])
        return RecordCounts(live=total - deleted, deleted=deleted)

    # -- harvest state ---------------------------------------------------------------------------
    def start_harvest(
        self,
        source: str,
        mode: HarvestMode,
        from_: str | None = None,
        until: str | None = None,
        server_time: str | None = None,
    ) -> HarvestRun:
        run_id = self._call("run id", lambda: reserve(self._client, self.names.meta, "harvest"))
        run = HarvestRun(
            id=run_id,
            source=source,
            started=utc_now(),
            mode=mode,
            from_=from_,
            until=until,
            server_time=server_time,
        )
        self._call(
            "write",
            lambda: self._client.index(index=self.names.harvests, id=str(run_id), document=docs.run_doc(run)),
        )
        return run

    def _runs(self, source: str | None, status: str | None, limit: int) -> list[HarvestRun]:
        self._refresh(self.names.harvests)
        query = _all_of(
            _term("source", source) if source is not None else None,
            _term("status", status) if status is not None else None,
        )
        found = self._hits(self.names.harvests, query=query, sort=[{"id": "desc"}], size=limit)
        return [docs.harvest_run(doc) for doc in found]

    def unfinished_harvest(self, source: str) -> HarvestRun | None:
        runs = self._runs(source, "running", 1)
        return runs[0] if runs else None

    def finish_harvest(self, run_id: int, status: Literal["ok", "failed"], error: str | None = None) -> None:
        if status not in ("ok", "failed"):
            raise EngineError(f"a harvest finishes 'ok' or 'failed', not {status!r}")
        if self._get(self.names.harvests, str(run_id)) is None:
            raise EngineError(f"no harvest run with id {run_id}")
        change: dict[str, Any] = {"status": status, "finished": utc_now(), "error": error}
        if status == "ok":
            # A finished run has nothing to resume; a failed one keeps its token for the record.
            change["resumption_token"] = None
        self._call(
            "write", lambda: self._client.update(index=self.names.harvests, id=str(run_id), doc=change)
        )

    def last_successful_harvest(self, source: str) -> HarvestRun | None:
        runs = self._runs(source, "ok", 1)
        return runs[0] if runs else None

    def harvest_history(self, source: str | None = None, limit: int = 20) -> list[HarvestRun]:
        return self._runs(source, None, max(0, min(limit, MAX_SMALL_READ)))

    def restore_harvest_runs(self, runs: Sequence[HarvestRun]) -> None:
        if not runs:
            return
        actions = (
            {
                "_op_type": "index",
                "_index": self.names.harvests,
                "_id": str(run.id),
                "_source": docs.run_doc(run),
            }
            for run in runs
        )
        failures = self._call("write", lambda: list(write_all(self._client, actions, self.settings)))
        if failures:
            raise EngineError(f"{len(failures)} harvest runs not stored: {failures[0].reason}")
        highest = max(run.id for run in runs)
        self._call("run id", lambda: raise_to(self._client, self.names.meta, "harvest", highest))

    # -- quarantine ------------------------------------------------------------------------------
    def add_quarantine(self, entries: Sequence[QuarantineEntry]) -> None:
        if not entries:
            return
        # Consecutive numbers keep "newest first" exact even for entries added in one call.
        first = self._call(
            "quarantine", lambda: reserve(self._client, self.names.meta, "quarantine", len(entries))
        )
        now = utc_now()
        # A record's entry has an id of its own (source, stage, local_id): quarantining it again
        # overwrites the entry, with a new seq. Entries without a local id are numbered.
        actions = (
            {
                "_op_type": "index",
                "_index": self.names.quarantine,
                "_id": docs.quarantine_doc_id(entry, seq),
                "_source": docs.quarantine_doc(entry, seq, now),
            }
            for seq, entry in enumerate(one_entry_per_record(entries), first)
        )
        failures = self._call("quarantine", lambda: list(write_all(self._client, actions, self.settings)))
        if failures:
            raise EngineError(f"{len(failures)} quarantine entries not stored: {failures[0].reason}")

    def clear_quarantine(self, stage: QuarantineStage, source: str | None = None) -> None:
        # delete_by_query belongs to the reindex module, which a core-only node lacks: find, then delete.
        self._refresh(self.names.quarantine)
        query = _all_of(_term("stage", stage), _term("source", source) if source is not None else None)
        with translated(self.node_url, "quarantine clear"):
            found = scan_ids(self._client, self.names.quarantine, query, ["seq"])
            while batch := list(itertools.islice(found, DELETE_BATCH)):
                self._client.bulk(
                    operations=[
                        {"delete": {"_index": self.names.quarantine, "_id": doc_id}} for doc_id in batch
                    ]
                )
            self._client.indices.refresh(index=self.names.quarantine)

    def list_quarantine(
        self,
        source: str | None = None,
        limit: int = 100,
        *,
        stage: QuarantineStage | None = None,
        offset: int = 0,
    ) -> list[QuarantineEntry]:
        self._refresh(self.names.quarantine)
        query = _all_of(
            _term("source", source) if source is not None else None,
            _term("stage", stage) if stage is not None else None,
        )
        size, offset = max(0, min(limit, MAX_SMALL_READ)), max(0, offset)
        if size == 0:
            return []
        page: dict[str, Any] = {"from_": offset}
        if offset + size > MAX_SMALL_READ:
            # Past the node's result window, ``from`` is refused: skip to the page by ``search_after``.
            after = self._quarantine_seq_at(query, offset)
            if after is None:
                return []
            page = {"search_after": [after]}
        found = self._hits(self.names.quarantine, query=query, sort=[{"seq": "desc"}], size=size, **page)
        return [docs.quarantine_entry(doc) for doc in found]

    def _quarantine_seq_at(self, query: dict[str, Any], offset: int) -> int | None:
        """The ``seq`` of the ``offset``-th entry matching ``query``, newest first (1-based), if any."""
        after: list[Any] | None = None
        while offset > 0:
            request: dict[str, Any] = {
                "index": self.names.quarantine,
                "query": query,
                "sort": [{"seq": "desc"}],
                "size": min(offset, MAX_SMALL_READ),
                "source": False,
            }
            if after is not None:
                request["search_after"] = after
            answer = self._call("read", functools.partial(self._client.search, **request))
            hits = answer["hits"]["hits"]
            if len(hits) < request["size"]:
                return None
            after = hits[-1]["sort"]
            offset -= request["size"]
        return int(after[0]) if after else None

    def count_quarantine(self, source: str | None = None) -> int:
        self._refresh(self.names.quarantine)
        query = _all_of(_term("source", source) if source is not None else None)
        answer = self._call("count", lambda: self._client.count(index=self.names.quarantine, query=query))
        return int(answer["count"])

    def quarantine_counts(self) -> dict[tuple[str, QuarantineStage], int]:
        self._refresh(self.names.quarantine)
        stages = {"stage": {"terms": {"field": "stage", "size": len(QUARANTINE_STAGES)}}}
        aggs = {"source": {"terms": {"field": "source", "size": MAX_SMALL_READ}, "aggs": stages}}
        answer = self._call(
            "count", lambda: self._client.search(index=self.names.quarantine, size=0, aggs=aggs)
        )
        return {
            (source["key"], stage["key"]): int(stage["doc_count"])
            for source in answer["aggregations"]["source"]["buckets"]
            for stage in source["stage"]["buckets"]
        }

    def get_quarantined(self, source: str, local_id: str) -> list[QuarantineEntry]:
        # An entry's id is known from (source, stage, local_id): GETs, real time, no refresh needed.
        found = [
            doc
            for stage in QUARANTINE_STAGES
            if (doc := self._get(self.names.quarantine, docs.record_quarantine_id(source, stage, local_id)))
        ]
        found.sort(key=lambda doc: int(doc.get("seq", 0)), reverse=True)
        return [docs.quarantine_entry(doc) for doc in found]

    def remove_quarantine(
        self, source: str, local_ids: Sequence[str], stages: Sequence[QuarantineStage] = QUARANTINE_STAGES
    ) -> None:
        doc_ids = (
            docs.record_quarantine_id(source, stage, local_id) for local_id in local_ids for stage in stages
        )
        with translated(self.node_url, "quarantine remove"):
            # A delete of an id without an entry answers not_found for that item: nothing to do.
            while batch := list(itertools.islice(doc_ids, DELETE_BATCH)):
                self._client.bulk(
                    operations=[
                        {"delete": {"_index": self.names.quarantine, "_id": doc_id}} for doc_id in batch
                    ]
                )

    # -- librarians' merge decisions -------------------------------------------------------------
    def save_merge_decision(self, decision: MergeDecision) -> MergeDecision:
        decision_id = self._call("decision", lambda: reserve(self._client, self.names.meta, "decisions", 1))
        first, second = (SourceRef(*key) for key in decision.pair)
        at = decision.at or utc_now()
        saved = dataclasses.replace(decision, first=first, second=second, id=decision_id, at=at)
        doc_id = hashlib.sha1(json.dumps(decision.pair).encode("utf-8")).hexdigest()
        self._call(
            "decision",
            lambda: self._client.index(
                index=self.names.decisions, id=doc_id, document=saved.to_json(), refresh="wait_for"
            ),
        )
        return saved

    def merge_decisions(self) -> list[MergeDecision]:
        self._refresh(self.names.decisions)
        with translated(self.node_url, "decisions read"):
            found = list(scan(self._client, self.names.decisions, {"match_all": {}}, ["id"]))
        return [MergeDecision.from_json(doc) for doc in found]

    def remove_merge_decision(self, decision_id: int) -> bool:
        self._refresh(self.names.decisions)
        found = self._call(
            "decision",
            lambda: self._client.search(index=self.names.decisions, query=_term("id", decision_id), size=1),
        )
        hits = found["hits"]["hits"]
        if not hits:
            return False
        self._call(
            "decision",
            lambda: self._client.delete(index=self.names.decisions, id=hits[0]["_id"], refresh="wait_for"),
        )
        return True

    # -- union index -----------------------------------------------------------------------------
    def replace_union_records(self, records: Iterable[UnionRecord], redirects: Mapping[str, str]) -> int:
        """Build a new generation, swap the alias to it in one step, then save the redirects.

        Records the node rejects are quarantined (stage ``index``) and not counted as written.
        """
        with translated(self.node_url, "union rebuild"):
            generation = reserve(self._client, self.names.meta, "union-generation")
            previous = oai.load_items(self._client, self.names)
            gathered = FeedCollector()
            index, written, rejected = build_generation(
                self._client, self.names, generation, records, self.settings, gathered
            )
            swap_alias(self._client, self.names, index)
            save_redirects(self._client, self.names, redirects, self.settings)
            prune_redirects(self._client, self.names, index)
            # Record pages read the redirects by search (what was merged into a record): make them current.
            self._client.indices.refresh(index=self.names.redirects)
            # Last: the feed's items, then the generation's datestamp (engines/elasticsearch/oai.py).
            oai.save_changes(self._client, self.names, previous, gathered, generation, self.settings)
        self.add_quarantine(rejected)
        return written

    def memberships(self) -> dict[tuple[str, str], str]:
        found: dict[tuple[str, str], str] = {}
        with translated(self.node_url, "membership load"):
            for values in scan_values(
                self._client, self.names.union, {"match_all": {}}, ["id"], ["id", "members"]
            ):
                if "members" not in values:
                    # Every union record has members: this generation was written before they were
                    # indexed apart, so read them from the documents themselves (slower).
                    return self._memberships_from_documents()
                (union_id,) = values["id"]
                for member in values["members"]:
                    source, local_id = member.split(docs.KEY_SEPARATOR, 1)
                    found[(source, local_id)] = union_id
        return found

    def _memberships_from_documents(self) -> dict[tuple[str, str], str]:
        found: dict[tuple[str, str], str] = {}
        for doc in scan(self._client, self.names.union, {"match_all": {}}, ["id"], ["doc.id", "doc.sources"]):
            record = doc["doc"]
            for ref in record.get("sources", []):
                found[(ref["source"], ref["local_id"])] = record["id"]
        return found

    def iter_redirects(self) -> Iterator[tuple[str, str]]:
        self._refresh(self.names.redirects)
        with translated(self.node_url, "redirect load"):
            for doc in scan(self._client, self.names.redirects, {"match_all": {}}, ["old_id"]):
                yield doc["old_id"], doc["new_id"]

    def resolve_redirect(self, union_id: str) -> str | None:
        current = union_id
        for _ in range(MAX_REDIRECT_HOPS):
            redirect = self._get(self.names.redirects, current)
            if redirect is None:
                break
            current = redirect["new_id"]
        if current == union_id:
            return None
        exists = self._call("read", lambda: self._client.exists(index=self.names.union, id=current))
        return current if exists else None

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

    # -- redirects -------------------------------------------------------------------------------
    def redirects_from(self, union_ids: Sequence[str]) -> dict[str, str]:
        return self._call("read", lambda: redirects.redirects_from(self._client, self.names, union_ids))

    def redirects_to(self, union_ids: Sequence[str]) -> dict[str, list[str]]:
        return self._call("read", lambda: redirects.redirects_to(self._client, self.names, union_ids))

    # -- OAI-PMH feed ----------------------------------------------------------------------------
    def oai_generations(self) -> list[tuple[int, str]]:
        return self._call("read", lambda: oai.generations(self._client, self.names))

    def oai_list(
        self, selection: OaiSelection, after: tuple[int, str] | None, limit: int, with_records: bool
    ) -> list[OaiEntry]:
        def read() -> list[OaiEntry]:
            items = oai.list_items(self._client, self.names, selection, after, limit)
            if with_records:
                return oai.with_records(self._client, self.names, items)
            return [OaiEntry(item) for item in items]

        return self._call("read", read)

    def oai_count(self, selection: OaiSelection) -> int:
        return self._call("read", lambda: oai.count_items(self._client, self.names, selection))

    def oai_entry(self, union_id: str, with_record: bool) -> OaiEntry | None:
        def read() -> OaiEntry | None:
            item = oai.get_item(self._client, self.names, union_id)
            if item is None:
                return None
            return oai.with_records(self._client, self.names, [item])[0] if with_record else OaiEntry(item)

        return self._call("read", read)

    def oai_sets(self) -> dict[str, str]:
        return self._call("read", lambda: oai.set_list(self._client, self.names))

    def restore_oai_feed(
        self, items: Iterable[OaiItem], generations: Sequence[tuple[int, str]], sets: Mapping[str, str]
    ) -> int:
        with translated(self.node_url, "OAI-PMH feed copy"):
            return oai.restore(self._client, self.names, items, generations, sets, self.settings)

    def union_count(self) -> int:
        answer = self._call("count", lambda: self._client.count(index=self.names.union))
        return int(answer["count"])

    def library_overlap(self) -> LibraryOverlap:
        return self._call("library overlap", lambda: overlap.library_overlap(self._client, self.names))

    def search(self, query: SearchQuery) -> SearchResult:
        began = time.perf_counter()
        timeout = self.settings.query_timeout
        client = self._client.options(request_timeout=timeout)
        for attempt in range(SEARCH_ATTEMPTS):
            try:
                with translated(self.node_url, "search"):
                    answer = run_search(client, self.names.union, query, timeout, self.settings.es_shards)
                break
            except EngineError as exc:
                # A rebuild may delete the generation a search started on; the alias now names the
                # new one, so a second try answers from a complete index.
                if attempt + 1 == SEARCH_ATTEMPTS or not _vanished(exc):
                    raise
        hits = [UnionRecord.from_json(hit["_source"]["doc"]) for hit in answer["hits"]["hits"]]
        total = int(answer["hits"]["total"]["value"])
        result = SearchResult(total=total, hits=hits)
        if query.facets and total:
            result.facets = read_facets(answer.get("aggregations", {}))
        result.took_ms = (time.perf_counter() - began) * 1000
        return result


def _vanished(exc: BaseException) -> bool:
    """Whether a search failed because its index (or point in time) disappeared under it."""
    if isinstance(exc, RetryableSearchError):
        return True
    text = str(exc)
    return any(
        marker in text
        for marker in (
            "index_not_found",
            "search_context_missing",
            "no_shard_available",
            "search_phase_execution",
        )
    )
