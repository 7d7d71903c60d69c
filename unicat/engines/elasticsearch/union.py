"""Union records as documents, the atomic rebuild of the union index, and the redirects that survive it.

A rebuild writes a whole new generation ``{prefix}-union-{n}`` while searches go on against the old
one, refreshes it, then moves the alias in ONE ``update_aliases`` call and deletes the old generation:
a search sees the old complete index or the new complete index, never a mix. A document the node
rejects (after a retry on its own) is quarantined, with the node's reason and the record's JSON, and
the rest of the rebuild goes on; a union id or a (source, local_id) member given twice aborts the
rebuild and leaves the old index in place, as the SQLite engine does.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from elasticsearch import ApiError, Elasticsearch, TransportError

from unicat.collector import collector_paused
from unicat.documents import index_fields
from unicat.engines.elasticsearch.bulk import FailedItem, write_all
from unicat.engines.elasticsearch.indices import IndexNames, create_index, current_union_index, finish_build
from unicat.engines.elasticsearch.records import KEY_SEPARATOR
from unicat.engines.elasticsearch.scan import scan
from unicat.errors import EngineError
from unicat.fields import FACETS
from unicat.model import QuarantineEntry, UnionRecord
from unicat.oai_items import FeedCollector
from unicat.settings import Settings

# Redirect ids checked against the new index per request when dropping redirects of live ids.
PRUNE_BATCH = 1_000


# Each facet's name, the field of the documents holding its values, and whether it has several per
# record (a list) or one (the value, or null), read once: every record of a rebuild is a document.
_KEYWORDS = tuple((facet.name, facet.index_key, facet.multi) for facet in FACETS)


def union_document(record: UnionRecord, document: dict[str, Any] | None = None) -> dict[str, Any]:
    """What is indexed for a record: analysed text, facet and sort values, and the public JSON
    (``document``, when the caller has ``record.to_json()`` already)."""
    fields = index_fields(record)
    indexed: dict[str, Any] = {"id": record.id, **fields.text_fields()}
    for name, key, multi in _KEYWORDS:
        values = fields.facets[name]
        indexed[key] = list(values) if multi else (values[0] if values else None)
    indexed["year"] = fields.year
    indexed["title_sort"] = fields.title_sort
    indexed["members"] = [f"{ref.source}{KEY_SEPARATOR}{ref.local_id}" for ref in record.sources]
    indexed["doc"] = document if document is not None else record.to_json()
    return indexed


class _Feed:
    """The actions of a rebuild, counted, refusing a union id or a (source, local_id) member given twice.

    Duplicates are caught here rather than left to the node (``create`` conflicts), so that the actions
    can be ``index`` ones: a bulk request sent again after a lost connection then rewrites the same
    documents instead of failing on them.
    """

    def __init__(self, records: Iterable[UnionRecord], index: str, gathered: FeedCollector) -> None:
        self.records = records
        self.index = index
        # What the OAI-PMH feed needs of each record, gathered on the way.
        self.gathered = gathered
        self.given = 0
        self.ids: set[str] = set()
        self.members: set[tuple[str, str]] = set()

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for record in self.records:
            if record.id in self.ids:
                raise EngineError(
                    f"the union index was not replaced: the union id {record.id!r} appears twice; "
                    "the previous index is unchanged"
                )
            self.ids.add(record.id)
            for ref in record.sources:
                key = (ref.source, ref.local_id)
                if key in self.members:
                    raise EngineError(
                        f"the union index was not replaced: source record {key} is a member of two union "
                        f"records (the second is {record.id!r}); the previous index is unchanged"
                    )
                self.members.add(key)
            self.given += 1
            document = record.to_json()
            self.gathered.add(record, document)
            yield {
                "_op_type": "index",
                "_index": self.index,
                "_id": record.id,
                "_source": union_document(record, document),
            }


def _quarantine_entry(failed: FailedItem) -> QuarantineEntry:
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
    generation: int,
    records: Iterable[UnionRecord],
    settings: Settings,
    gathered: FeedCollector,
) -> tuple[str, int, list[QuarantineEntry]]:
    """Write ``records`` into a new, refreshed generation; returns it, how many were written, and the
    rejected ones; ``gathered`` receives what the OAI-PMH feed needs of the written ones.
    On any error the new generation is deleted (if the node still answers) and the alias is untouched;
    a generation a failed rebuild could not delete is deleted by the next rebuild."""
    drop_abandoned_generations(client, names)
    index = names.union_generation(generation)
    create_index(client, index, "union", settings, build=True)
    try:
        actions = _Feed(records, index, gathered)
        with collector_paused():
            failed = list(write_all(client, actions, settings))
        finish_build(client, index, settings)
        # A record the node refused is not in the index: the feed must not list it as live.
        refused = {item.action["_id"] for item in failed}
        if refused:
            gathered.records[:] = [record for record in gathered.records if record.id not in refused]
        rejected = [_quarantine_entry(item) for item in failed]
    except BaseException:
        with contextlib.suppress(ApiError, TransportError):
            client.indices.delete(index=index, ignore_unavailable=True)
        raise
    return index, actions.given - len(rejected), rejected


def drop_abandoned_generations(client: Elasticsearch, names: IndexNames) -> None:
    """Delete union generations the alias does not name: rebuilds that failed while the node was away.

    A rebuild that another process is running at this moment goes too; it then fails (its index
    vanished) instead of swapping in a generation older than the one this rebuild will finish.
    """
    live = current_union_index(client, names)
    found = client.indices.get(index=f"{names.union}-*", ignore_unavailable=True, allow_no_indices=True)
    # The pattern also matches another catalogue whose prefix is ours + "-union"; keep to generations.
    generation = re.compile(re.escape(names.union) + r"-[0-9]+")
    for index in sorted(name for name in found.body if generation.fullmatch(name) and name != live):
        client.indices.delete(index=index, ignore_unavailable=True)


def swap_alias(client: Elasticsearch, names: IndexNames, index: str) -> None:
    """Point the union alias at ``index`` in one step, then delete the generation it left."""
    old = current_union_index(client, names)
    actions: list[dict[str, Any]] = [{"add": {"index": index, "alias": names.union}}]
    if old is not None:
        actions.insert(0, {"remove": {"index": old, "alias": names.union}})
    client.indices.update_aliases(actions=actions)
    if old is not None and old != index:
        client.indices.delete(index=old, ignore_unavailable=True)


def save_redirects(
    client: Elasticsearch, names: IndexNames, redirects: Mapping[str, str], settings: Settings
) -> None:
    """Add (or move) redirects; an id that lives again in ``index`` stops redirecting."""
    actions = (
        {
            "_op_type": "index",
            "_index": names.redirects,
            "_id": old,
            "_source": {"old_id": old, "new_id": new},
        }
        for old, new in redirects.items()
        if old != new
    )
    failures = [f"{item.action['_id']}: {item.reason}" for item in write_all(client, actions, settings)]
    if failures:
        raise EngineError(f"redirects not saved: {'; '.join(failures[:5])}")


def prune_redirects(client: Elasticsearch, names: IndexNames, index: str) -> None:
    """Drop redirects whose old id is a record of ``index`` again (a split undone)."""
    client.indices.refresh(index=names.redirects)
    olds = (doc["old_id"] for doc in scan(client, names.redirects, {"match_all": {}}, ["old_id"], ["old_id"]))
    while batch := list(itertools.islice(olds, PRUNE_BATCH)):
        answer = client.search(
            index=index,
            query={"ids": {"values": batch}},
            size=len(batch),
            source=False,
            track_total_hits=False,
        )
        live = [hit["_id"] for hit in answer["hits"]["hits"]]
        if live:
            client.bulk(
                operations=[{"delete": {"_index": names.redirects, "_id": doc_id}} for doc_id in live]
            )
