"""The record store and the OAI-PMH feed as an Elasticsearch catalogue of schema 9 or older kept them,
read once to hand them to the store.

Since schema 10 the catalogue is the union index alone; sources, source records, harvest runs, the
quarantine, merge decisions, redirects, memberships and the OAI-PMH feed's history live in the record
store (``unicat/ports/records.py``), which is transactional, as a system of record must be. A catalogue
written before keeps its indices ``sources``, ``records``, ``harvests``, ``quarantine``, ``decisions``,
``redirects``, ``oai``, ``oai_generations`` and ``oai_sets`` untouched; the memberships are read from
its union documents. The first time such a catalogue is opened with a store,
:func:`unicat.records_copy.copy_records` gives all of it to the store with the store's own methods (as
``unicat migrate`` copies a store), and :func:`mark_handed_over` records in the meta index that it did,
so it is done once. The indices are read only: an index a catalogue never had (one
older than the feature) reads as empty.
"""

from __future__ import annotations

import binascii
from collections.abc import Iterator, Sequence
from typing import Any

from elasticsearch import Elasticsearch, NotFoundError

from unicat.engines.elasticsearch.indices import LEGACY_RECORD_INDICES, IndexNames
from unicat.engines.elasticsearch.scan import scan, scan_values
from unicat.holding_codes import CodeName
from unicat.member_keys import MemberKeys
from unicat.model import HarvestRun, MergeDecision, QuarantineEntry, Source, SourceRecord
from unicat.oai_items import OaiItem

HANDED_OVER_DOC = "records-handed-over"
"""The meta document that says the record store went to a store, with how many source records
(``value``)."""
KEY_SEPARATOR = "\x1f"
"""Between the source and the local id of a member in the ``members`` field of old union documents."""


def _source_record(doc: dict[str, Any]) -> SourceRecord:
    return SourceRecord(
        source=doc["source"],
        local_id=doc["local_id"],
        raw=binascii.a2b_base64(doc.get("raw") or ""),
        syntax=doc["syntax"],
        datestamp=doc.get("datestamp"),
        deleted=bool(doc.get("deleted")),
    )


def _harvest_run(doc: dict[str, Any]) -> HarvestRun:
    # Fields added by later schemas are absent from the runs of older ones.
    return HarvestRun(
        id=int(doc["id"]),
        source=doc["source"],
        started=doc["started"],
        status=doc["status"],
        mode=doc["mode"],
        from_=doc.get("from_"),
        until=doc.get("until"),
        finished=doc.get("finished"),
        resumption_token=doc.get("resumption_token"),
        pages=int(doc.get("pages") or 0),
        records=int(doc.get("records") or 0),
        deleted=int(doc.get("deleted") or 0),
        quarantined=int(doc.get("quarantined") or 0),
        error=doc.get("error"),
        server_time=doc.get("server_time"),
    )


def _quarantine_entry(doc: dict[str, Any]) -> QuarantineEntry:
    return QuarantineEntry(
        source=doc["source"],
        local_id=doc.get("local_id"),
        stage=doc["stage"],
        reason=doc["reason"],
        raw=binascii.a2b_base64(doc.get("raw") or ""),
        created=doc.get("created"),
    )


def _oai_item(doc: dict[str, Any]) -> OaiItem:
    sets = doc.get("sets") or []
    return OaiItem(
        str(doc["id"]),
        int(doc["generation"]),
        bool(doc["deleted"]),
        tuple(sets if isinstance(sets, list) else [sets]),
        str(doc["fingerprint"]),
    )


class LegacyRecords:
    """The record store of one catalogue's old indices (a :class:`~unicat.records_copy.RecordsSource`),
    each kind in its stored order (by id, or by the fields that made it one)."""

    def __init__(self, client: Elasticsearch, names: IndexNames) -> None:
        self._client = client
        self._names = names
        found = client.indices.get(
            index=[names.plain(name) for name in LEGACY_RECORD_INDICES], ignore_unavailable=True
        )
        self._present = set(found.body)

    def _docs(self, name: str, sort: Sequence[str]) -> Iterator[dict[str, Any]]:
        index = self._names.plain(name)
        if index not in self._present:
            return iter(())
        # Writes of schema 9 were not refreshed one by one: make the last of them visible to the scan.
        self._client.indices.refresh(index=index)
        return scan(self._client, index, {"match_all": {}}, sort)

    def list_sources(self) -> list[Source]:
        return [Source.from_json(doc) for doc in self._docs("sources", ["code"])]

    def iter_source_records(self) -> Iterator[SourceRecord]:
        return map(_source_record, self._docs("records", ["source", "local_id"]))

    def harvest_runs(self) -> list[HarvestRun]:
        return [_harvest_run(doc) for doc in self._docs("harvests", ["id"])]

    def iter_quarantine(self) -> Iterator[QuarantineEntry]:
        """Every quarantined entry, oldest first."""
        return map(_quarantine_entry, self._docs("quarantine", ["seq"]))

    def merge_decisions(self) -> list[MergeDecision]:
        """Every decision, oldest first."""
        return [MergeDecision.from_json(doc) for doc in self._docs("decisions", ["id"])]

    def holding_codes(self) -> dict[str, list[CodeName]]:
        """None: tables of holdings codes came after the record store left Elasticsearch."""
        return {}

    def redirects(self) -> list[tuple[str, str]]:
        return [(doc["old_id"], doc["new_id"]) for doc in self._docs("redirects", ["old_id"])]

    def iter_first_seen(self) -> Iterator[tuple[str, str, str]]:
        """None: first-seen dates came after the record store left Elasticsearch; the next generation
        dates every member it finds without one."""
        return iter(())

    def iter_first_held(self) -> Iterator[tuple[str, str, str, str]]:
        return iter(())

    def iter_record_keys(self) -> Iterator[MemberKeys]:
        # Kept by no older catalogue: the store's first index run computes them.
        return iter(())

    def indexed_in_full(self) -> bool:
        # The old indices kept no change marks: the store's first index pass reads everything.
        return False

    def indexed_inputs(self) -> dict[str, int]:
        return {}

    def memberships(self) -> list[tuple[str, str, str]]:
        """(source, local_id, union id) of every member of the union generation the alias names."""
        found: list[tuple[str, str, str]] = []
        fields = ["id", "members"]
        for values in scan_values(self._client, self._names.union, {"match_all": {}}, ["id"], fields):
            if "members" not in values:
                # Every union record has members: this generation was written before they were
                # indexed apart, so read them from the documents themselves (slower).
                return self._memberships_from_documents()
            (union_id,) = values["id"]
            for member in values["members"]:
                source, local_id = member.split(KEY_SEPARATOR, 1)
                found.append((source, local_id, union_id))
        return found

    def _memberships_from_documents(self) -> list[tuple[str, str, str]]:
        documents = scan(
            self._client, self._names.union, {"match_all": {}}, ["id"], ["doc.id", "doc.sources"]
        )
        return [
            (ref["source"], ref["local_id"], document["doc"]["id"])
            for document in documents
            for ref in document["doc"].get("sources", [])
        ]

    def iter_oai_items(self) -> Iterator[OaiItem]:
        """Every item of the feed, live and deleted, in (generation, id) order."""
        return map(_oai_item, self._docs("oai", ["generation", "id"]))

    def oai_generations(self) -> list[tuple[int, str]]:
        return [
            (int(doc["generation"]), str(doc["datestamp"]))
            for doc in self._docs("oai_generations", ["generation"])
        ]

    def oai_sets(self) -> dict[str, str]:
        return {doc["spec"]: doc["name"] for doc in self._docs("oai_sets", ["spec"])}


def waiting(client: Elasticsearch, names: IndexNames) -> LegacyRecords | None:
    """The old record store's indices of this catalogue, unless there are none or they were handed over."""
    if not client.indices.exists(index=names.plain("sources")):
        return None
    try:
        client.get(index=names.meta, id=HANDED_OVER_DOC)
    except NotFoundError:
        return LegacyRecords(client, names)
    return None


def mark_handed_over(client: Elasticsearch, names: IndexNames, source_records: int) -> None:
    client.index(index=names.meta, id=HANDED_OVER_DOC, document={"value": source_records}, refresh=True)
