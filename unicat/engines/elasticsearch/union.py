"""Union records as documents, and the atomic rebuild of the union index.

A rebuild writes a whole new generation ``{prefix}-union-{n}`` while searches go on against the old
one, refreshes it, then moves the alias in ONE ``update_aliases`` call and deletes the old generation:
a search sees the old complete index or the new complete index, never a mix. A document the node
rejects (after a retry on its own) is left out and reported back, with the node's reason and the
record's JSON, for the caller to quarantine; the rest of the rebuild goes on. A union id given twice,
or an observer that raises, aborts the rebuild and leaves the old index in place, as the SQLite index
does.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from elasticsearch import ApiError, Elasticsearch, TransportError

from unicat.collector import collector_paused
from unicat.documents import IndexFields, index_fields
from unicat.engines.elasticsearch.bulk import FailedItem, write_all
from unicat.engines.elasticsearch.indices import IndexNames, create_index, current_union_index, finish_build
from unicat.errors import EngineError
from unicat.fields import FACETS
from unicat.model import QuarantineEntry, UnionRecord
from unicat.ports.union_index import RecordObserver, UnionWrite
from unicat.settings import Settings
from unicat.spill import SortedRows
from unicat.vocabulary import SHORT_PREFIX, VocabularyCollector

# Each facet's name, the field of the documents holding its values, and whether it has several per
# record (a list) or one (the value, or null), read once: every record of a rebuild is a document.
_KEYWORDS = tuple((facet.name, facet.index_key, facet.multi) for facet in FACETS)


def union_document(
    record: UnionRecord, document: dict[str, Any] | None = None, fields: IndexFields | None = None
) -> dict[str, Any]:
    """What is indexed for a record: analysed text, facet and sort values, and the public JSON
    (``document``, when the caller has ``record.to_json()`` already; ``fields`` likewise)."""
    fields = fields or index_fields(record)
    indexed: dict[str, Any] = {"id": record.id, **fields.text_fields()}
    for name, key, multi in _KEYWORDS:
        values = fields.facets[name]
        indexed[key] = list(values) if multi else (values[0] if values else None)
    indexed["year"] = fields.year
    indexed["title_sort"] = fields.title_sort
    indexed["library_count"] = len(record.libraries)
    indexed["first_seen"] = record.first_seen
    indexed["held_since"] = [{"library": code, "since": since} for code, since in record.held_since.items()]
    indexed["doc"] = document if document is not None else record.to_json()
    return indexed


class _Feed:
    """The actions of a rebuild, counted, refusing a union id given twice, showing each record to the
    observer as it goes.

    Duplicates are caught here rather than left to the node (``create`` conflicts), so that the actions
    can be ``index`` ones: a bulk request sent again after a lost connection then rewrites the same
    documents instead of failing on them.
    """

    def __init__(self, records: Iterable[UnionRecord], index: str, observe: RecordObserver | None) -> None:
        self.records = records
        self.index = index
        self.observe = observe
        self.given = 0
        # Checked once the last record is given (a rebuild of millions cannot hold every id): they
        # wait in a temporary file beyond a run's worth, and come back sorted.
        self.ids: SortedRows[str] = SortedRows(str)
        self.vocabulary = VocabularyCollector()

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for record in self.records:
            self.ids.add(record.id)
            self.given += 1
            document = record.to_json()
            if self.observe is not None:
                self.observe(record, document)
            fields = index_fields(record)
            self.vocabulary.add(record, fields)
            yield {
                "_op_type": "index",
                "_index": self.index,
                "_id": record.id,
                "_source": union_document(record, document, fields),
            }
        last = None
        for union_id in self.ids:
            if union_id == last:
                raise EngineError(
                    f"the union index was not replaced: the union id {union_id!r} appears twice; "
                    "the previous index is unchanged"
                )
            last = union_id

    def close(self) -> None:
        self.ids.close()
        self.vocabulary.close()


def quarantine_entry(failed: FailedItem) -> QuarantineEntry:
    """The quarantine entry of a record the node refused: its first member, the reason, its JSON."""
    doc = failed.action["_source"].get("doc", {})
    members = doc.get("sources") or [{"source": "union", "local_id": failed.action["_id"]}]
    return QuarantineEntry(
        source=members[0]["source"],
        local_id=members[0]["local_id"],
        stage="index",
        reason=f"Elasticsearch refused union record {failed.action['_id']!r}: {failed.reason}",
        raw=json.dumps(doc, ensure_ascii=False).encode("utf-8"),
    )


def build_generation(
    client: Elasticsearch,
    names: IndexNames,
    records: Iterable[UnionRecord],
    settings: Settings,
    observe: RecordObserver | None,
) -> tuple[str, UnionWrite]:
    """Write ``records`` into a new, refreshed generation; returns it and what was written (the records
    the node refused, with why, are not in it). ``observe`` sees each record as it is given.
    On any error the new generation is deleted (if the node still answers) and the alias is untouched;
    a generation a failed rebuild could not delete is deleted by the next rebuild."""
    # Numbered before the abandoned generations go: a rebuild running meanwhile in another process,
    # whose generation this one deletes, then never shares a number (an index) with this one.
    index = names.union_generation(next_generation(client, names))
    drop_abandoned_generations(client, names)
    if not create_index(client, index, "union", settings, build=True):
        raise EngineError(
            f"the union index was not replaced: another rebuild is writing {index}; the previous index "
            "is unchanged, run the rebuild again once that one has finished"
        )
    actions = _Feed(records, index, observe)
    try:
        with collector_paused():
            failed = list(write_all(client, actions, settings))
        finish_build(client, index)
        refused = {str(item.action["_id"]): quarantine_entry(item) for item in failed}
        check_complete(client, index, actions.given - len(refused))
        _build_vocabulary(client, names.suggest_generation(index), actions.vocabulary, settings)
    except BaseException:
        with contextlib.suppress(ApiError, TransportError):
            client.indices.delete(index=index, ignore_unavailable=True)
            client.indices.delete(index=names.suggest_generation(index), ignore_unavailable=True)
        raise
    finally:
        actions.close()
    return index, UnionWrite(actions.given - len(refused), refused)


def heading_source(kind: str, key: str, count: int, text: str) -> dict[str, Any]:
    """The document of a heading in the suggest index: ``starts`` holds the short prefixes of its key,
    which a short typed prefix matches as a term."""
    starts = [key[:length] for length in range(1, min(len(key), SHORT_PREFIX) + 1)]
    return {"key": key, "starts": starts, "kind": kind, "count": count, "text": text}


def _vocabulary_actions(index: str, vocabulary: VocabularyCollector) -> Iterator[dict[str, Any]]:
    for word, count in vocabulary.words.items():
        source = {"key": word, "kind": "word", "count": count}
        yield {"_op_type": "index", "_index": index, "_id": f"word:{word}"[:500], "_source": source}
    for entry in vocabulary.suggestions():
        source = heading_source(entry.kind, entry.key, entry.count, entry.text)
        yield {
            "_op_type": "index",
            "_index": index,
            "_id": f"{entry.kind}:{entry.key}"[:500],
            "_source": source,
        }


def _build_vocabulary(
    client: Elasticsearch, index: str, vocabulary: VocabularyCollector, settings: Settings
) -> None:
    """Write the generation's words and headings into their own index, swapped in with it."""
    client.indices.delete(index=index, ignore_unavailable=True)
    create_index(client, index, "suggest", settings, build=True)
    failed = list(write_all(client, _vocabulary_actions(index, vocabulary), settings))
    if failed:
        raise EngineError(
            f"the union index was not replaced: Elasticsearch refused {len(failed)} of the catalogue's words "
            f"and headings ({failed[0].reason}); the previous index is unchanged"
        )
    finish_build(client, index)


def check_complete(client: Elasticsearch, index: str, expected: int) -> None:
    """Refuse to swap in a generation that holds fewer documents than the node acknowledged: a copy of
    a shard lost with its node (no replica to take over, or a second node lost) must fail the rebuild,
    never serve a catalogue with holes."""
    answer = client.count(index=index)
    shards = answer.get("_shards", {})
    if answer["count"] != expected or shards.get("successful") != shards.get("total"):
        raise EngineError(
            f"the union index was not replaced: the new generation {index} holds {answer['count']:,} of "
            f"the {expected:,} records written ({shards.get('successful')} of {shards.get('total')} shards "
            "answered: a node holding part of it left the cluster during the write); the previous index "
            "is unchanged, run `unicat index` again once the cluster is green"
        )


def _generations(client: Elasticsearch, names: IndexNames) -> dict[str, int]:
    """Every union generation of the catalogue (the aliased one and any abandoned), with its number."""
    found = client.indices.get(index=f"{names.union}-*", ignore_unavailable=True, allow_no_indices=True)
    # The pattern also matches another catalogue whose prefix is ours + "-union"; keep to generations.
    generation = re.compile(re.escape(names.union) + r"-([0-9]+)")
    return {name: int(match[1]) for name in found.body if (match := generation.fullmatch(name))}


def next_generation(client: Elasticsearch, names: IndexNames) -> int:
    """The number of a new generation: one above every generation there is (no counter to keep)."""
    return 1 + max(_generations(client, names).values(), default=0)


def drop_abandoned_generations(client: Elasticsearch, names: IndexNames) -> None:
    """Delete union generations the alias does not name: rebuilds that failed while the node was away.

    A rebuild that another process is running at this moment goes too; it then fails (its index
    vanished) instead of swapping in a generation older than the one this rebuild will finish.
    """
    live = current_union_index(client, names)
    for index in sorted(name for name in _generations(client, names) if name != live):
        client.indices.delete(index=index, ignore_unavailable=True)
        client.indices.delete(index=names.suggest_generation(index), ignore_unavailable=True)


def swap_alias(client: Elasticsearch, names: IndexNames, index: str) -> None:
    """Point the union alias at ``index`` in one step, then delete the generation it left."""
    old = current_union_index(client, names)
    actions: list[dict[str, Any]] = [
        {"add": {"index": index, "alias": names.union}},
        {"add": {"index": names.suggest_generation(index), "alias": names.suggest}},
    ]
    if old is not None:
        actions.insert(0, {"remove": {"index": old, "alias": names.union}})
        # The previous generation's words may be missing (written before they were kept): remove the
        # alias from whichever index holds it.
        actions.insert(
            1, {"remove": {"index": f"{names.suggest}-*", "alias": names.suggest, "must_exist": False}}
        )
    client.indices.update_aliases(actions=actions)
    if old is not None and old != index:
        client.indices.delete(index=old, ignore_unavailable=True)
        client.indices.delete(index=names.suggest_generation(old), ignore_unavailable=True)
