"""A partial update of the Elasticsearch union index: some records written, some removed, in place.

What an incremental index pass calls (through :meth:`unicat.ports.union_index.UnionIndex.
update_union_records`) with the records of the region it rebuilt. Unlike a rebuild, no new
generation is made: the documents are indexed into, and deleted from, the generation the union alias
names, then that index is refreshed. Searches keep answering throughout; until the refresh (or the
node's own, each second) a search sees the records before the update, and a search during it may see
some records of the update and not others, never a half-written record.

The words and headings of the generation's suggest index are adjusted by the differences between
the stored versions (read back with one multi-get per batch before they are replaced) and the new
ones (:class:`unicat.vocabulary.VocabularyChange`): counts read, moved, written back, and the entries
no record holds any more deleted. A record the node refuses is not in the index afterwards (its
stored version is deleted too, as a rebuild would leave it out) and is returned with why.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from elasticsearch import Elasticsearch

from unicat.documents import index_fields
from unicat.engines.elasticsearch.bulk import write_all
from unicat.engines.elasticsearch.indices import IndexNames, current_union_index
from unicat.engines.elasticsearch.union import heading_source, quarantine_entry, union_document
from unicat.errors import EngineError
from unicat.model import QuarantineEntry, UnionRecord
from unicat.ports.union_index import RecordObserver, UnionWrite
from unicat.settings import Settings
from unicat.vocabulary import VocabularyChange

BATCH = 1_000
"""Records read back, written and removed per round: memory holds one batch's old and new versions."""


def _batches(items: Iterable[Any]) -> Iterator[list[Any]]:
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, BATCH)):
        yield batch


def _stored(client: Elasticsearch, index: str, union_ids: Sequence[str]) -> dict[str, UnionRecord]:
    """The stored version of each of these records that ``index`` holds (real time, as GET reads)."""
    if not union_ids:
        return {}
    answer = client.mget(index=index, ids=list(union_ids), source=["doc"])
    return {
        str(doc["_id"]): UnionRecord.from_json(doc["_source"]["doc"])
        for doc in answer["docs"]
        if doc.get("found")
    }


def update_generation(
    client: Elasticsearch,
    names: IndexNames,
    upserts: Iterable[UnionRecord],
    deletes: Sequence[str],
    settings: Settings,
    observe: RecordObserver | None,
) -> UnionWrite:
    """Write ``upserts`` into, and remove ``deletes`` from, the live generation; adjust its words and
    headings; refresh both. Returns what was written, with the records the node refused."""
    index = current_union_index(client, names)
    if index is None:
        raise EngineError("the union index was not updated: there is none yet; run `unicat index` first")
    removing = list(dict.fromkeys(deletes))
    if len(removing) != len(deletes):
        raise EngineError("the union index was not updated: a union id is given twice to remove")
    seen = set(removing)
    change = VocabularyChange()
    refused: dict[str, QuarantineEntry] = {}
    written = 0
    for batch in _batches(upserts):
        for record in batch:
            if record.id in seen:
                raise EngineError(
                    f"the union index was not fully updated: the union id {record.id!r} is given twice"
                )
            seen.add(record.id)
        stored = _stored(client, index, [record.id for record in batch])
        actions: list[dict[str, Any]] = []
        fresh = []
        for record in batch:
            document = record.to_json()
            if observe is not None:
                observe(record, document)
            fields = index_fields(record)
            fresh.append((record, fields))
            actions.append(
                {
                    "_op_type": "index",
                    "_index": index,
                    "_id": record.id,
                    "_source": union_document(record, document, fields),
                }
            )
        now_refused = {
            str(item.action["_id"]): quarantine_entry(item) for item in write_all(client, actions, settings)
        }
        refused.update(now_refused)
        for old in stored.values():
            change.remove(old, index_fields(old))
        for record, fields in fresh:
            if record.id not in now_refused:
                change.add(record, fields)
        _delete(client, index, [union_id for union_id in now_refused if union_id in stored], settings)
        written += len(batch) - len(now_refused)
    for batch in _batches(removing):
        stored = _stored(client, index, batch)
        for old in stored.values():
            change.remove(old, index_fields(old))
        _delete(client, index, list(stored), settings)
    client.indices.refresh(index=index)
    apply_vocabulary(client, names.suggest_generation(index), change, settings)
    return UnionWrite(written, refused)


def _delete(client: Elasticsearch, index: str, union_ids: Sequence[str], settings: Settings) -> None:
    actions = ({"_op_type": "delete", "_index": index, "_id": union_id} for union_id in union_ids)
    failed = list(write_all(client, actions, settings))
    if failed:
        raise EngineError(
            f"the union index was not fully updated: Elasticsearch refused to delete {len(failed)} records "
            f"({failed[0].reason}); run the update again"
        )


def _word_id(word: str) -> str:
    return f"word:{word}"[:500]


def _heading_id(kind: str, key: str) -> str:
    return f"{kind}:{key}"[:500]


def apply_vocabulary(client: Elasticsearch, index: str, change: VocabularyChange, settings: Settings) -> None:
    """Move the counts of the words and headings ``change`` touches in the suggest index ``index``:
    read, add the difference, write back, delete those no record holds any more; then refresh it."""
    wanted: dict[str, tuple[str, str, int]] = {}  # document id → (kind, key, difference)
    for word, delta in change.changed_words().items():
        wanted[_word_id(word)] = ("word", word, delta)
    for (kind, key), delta in change.changed_headings().items():
        wanted[_heading_id(kind, key)] = (kind, key, delta)
    actions: list[dict[str, Any]] = []
    for ids in _batches(wanted):
        answer = client.mget(index=index, ids=ids)
        stored = {str(doc["_id"]): doc["_source"] for doc in answer["docs"] if doc.get("found")}
        for doc_id in ids:
            kind, key, delta = wanted[doc_id]
            before = stored.get(doc_id)
            count = (int(before["count"]) if before else 0) + delta
            if count <= 0:
                if before is not None:
                    actions.append({"_op_type": "delete", "_index": index, "_id": doc_id})
                continue
            if kind == "word":
                source: dict[str, Any] = {"key": key, "kind": "word", "count": count}
            else:
                text = before["text"] if before else change.texts.get((kind, key), "")
                source = heading_source(kind, key, count, text)
            actions.append({"_op_type": "index", "_index": index, "_id": doc_id, "_source": source})
    failed = list(write_all(client, actions, settings))
    if failed:
        raise EngineError(
            f"the catalogue's words and headings were not fully updated: Elasticsearch refused {len(failed)} "
            f"({failed[0].reason}); run `unicat index --rebuild` to write them whole"
        )
    client.indices.refresh(index=index)
