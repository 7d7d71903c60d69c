"""The OAI-PMH feed's items in Elasticsearch (``unicat/oai_items.py`` says what they are and why).

Indices: ``oai`` one document per union id that ever existed (id, generation, deleted, sets,
fingerprint), read in (generation, id) order with ``search_after``; ``oai_generations`` the datestamp
of each registered generation; ``oai_sets`` the sets' names. A rebuild writes its changed items after
the alias swap, refreshes them, and registers its generation last, so a list's snapshot ("generation
<= the newest registered one") never includes an item of a rebuild that is not wholly searchable; a
changed item is invisible to older snapshots from the moment it is rewritten, which the protocol
allows (its datestamp changed).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from elasticsearch import Elasticsearch, NotFoundError

from unicat.engines.elasticsearch.bulk import write_all
from unicat.engines.elasticsearch.counters import raise_to, reserve
from unicat.engines.elasticsearch.indices import IndexNames, create_index
from unicat.engines.elasticsearch.scan import scan, scan_values
from unicat.errors import EngineError
from unicat.model import UnionRecord
from unicat.oai_items import (
    FeedCollector,
    OaiEntry,
    OaiItem,
    OaiSelection,
    changed_items,
    next_datestamp,
)
from unicat.settings import Settings

ITEM_FIELDS = ("id", "generation", "deleted", "sets", "fingerprint")


def _item(source: Mapping[str, Any]) -> OaiItem:
    sets = source.get("sets") or []
    return OaiItem(
        str(source["id"]),
        int(source["generation"]),
        bool(source["deleted"]),
        tuple(sets if isinstance(sets, list) else [sets]),
        str(source["fingerprint"]),
    )


def _item_values(values: Mapping[str, list[Any]]) -> OaiItem:
    """An item from doc values (lists; ``sets`` come back sorted, as they were written)."""
    return OaiItem(
        str(values["id"][0]),
        int(values["generation"][0]),
        bool(values["deleted"][0]),
        tuple(values.get("sets", [])),
        str(values["fingerprint"][0]),
    )


def load_items(client: Elasticsearch, names: IndexNames) -> dict[str, OaiItem]:
    """Every item, by id: what a rebuild compares its records with."""
    client.indices.refresh(index=names.oai)
    rows = scan_values(client, names.oai, {"match_all": {}}, ["id"], ITEM_FIELDS)
    return {item.id: item for item in map(_item_values, rows)}


def generations(client: Elasticsearch, names: IndexNames) -> list[tuple[int, str]]:
    """Every registered generation, oldest first (one request until there are thousands)."""
    return [
        (int(doc["generation"]), str(doc["datestamp"]))
        for doc in scan(client, names.oai_generations, {"match_all": {}}, ["generation"])
    ]


def _item_action(names: IndexNames, item: OaiItem) -> dict[str, Any]:
    return {
        "_op_type": "index",
        "_index": names.oai,
        "_id": item.id,
        "_source": {
            "id": item.id,
            "generation": item.generation,
            "deleted": item.deleted,
            "sets": list(item.sets),
            "fingerprint": item.fingerprint,
        },
    }


def _set_actions(names: IndexNames, named: Mapping[str, str]) -> Iterator[dict[str, Any]]:
    for spec, name in sorted(named.items()):
        yield {
            "_op_type": "index",
            "_index": names.oai_sets,
            "_id": spec,
            "_source": {"spec": spec, "name": name},
        }


def save_changes(
    client: Elasticsearch,
    names: IndexNames,
    previous: Mapping[str, OaiItem],
    gathered: FeedCollector,
    generation: int,
    settings: Settings,
) -> int:
    """After a rebuild's alias swap: write the items the gathered records change and the set names,
    make them searchable, then (when anything changed) register ``generation`` with its datestamp,
    read from the clock now. Returns how many items changed."""
    changes = changed_items(previous, gathered.records, generation)
    actions = (_item_action(names, item) for item in changes)
    set_actions = _set_actions(names, gathered.set_names())
    failures = [f"{item.action['_id']}: {item.reason}" for item in write_all(client, actions, settings)]
    failures += [f"{item.action['_id']}: {item.reason}" for item in write_all(client, set_actions, settings)]
    if failures:
        raise EngineError(f"the OAI-PMH feed was not updated: {'; '.join(failures[:5])}")
    client.indices.refresh(index=[names.oai, names.oai_sets])
    if changes:
        known = generations(client, names)
        client.index(
            index=names.oai_generations,
            id=str(generation),
            document={"generation": generation, "datestamp": next_datestamp(known[-1][1] if known else None)},
            refresh=True,
        )
    return len(changes)


def backfill_if_missing(client: Elasticsearch, names: IndexNames, settings: Settings) -> None:
    """Give a catalogue indexed before the feed existed its items, all of one new generation, so that
    it serves OAI-PMH at once: when no generation is registered but union records exist. (Generations
    are written with a refresh, so the count sees them without one here.)"""
    if client.count(index=names.oai_generations)["count"] or not client.count(index=names.union)["count"]:
        return
    gathered = FeedCollector()
    for doc in scan(client, names.union, {"match_all": {}}, ["id"], ["doc"]):
        gathered.add(UnionRecord.from_json(doc["doc"]))
    generation = reserve(client, names.meta, "union-generation")
    save_changes(client, names, load_items(client, names), gathered, generation, settings)


def _selection_query(selection: OaiSelection) -> dict[str, Any]:
    conditions: list[dict[str, Any]] = [
        {"range": {"generation": {"gte": selection.low, "lte": selection.high}}}
    ]
    if selection.set_spec is not None:
        conditions.append({"term": {"sets": selection.set_spec}})
    return {"bool": {"filter": conditions}}


def list_items(
    client: Elasticsearch,
    names: IndexNames,
    selection: OaiSelection,
    after: tuple[int, str] | None,
    limit: int,
) -> list[OaiItem]:
    body: dict[str, Any] = {
        "query": _selection_query(selection),
        "sort": [{"generation": "asc"}, {"id": "asc"}],
        "size": limit,
        "track_total_hits": False,
        "_source": list(ITEM_FIELDS),
    }
    if after is not None:
        body["search_after"] = list(after)
    answer = client.search(index=names.oai, body=body)
    return [_item(hit["_source"]) for hit in answer["hits"]["hits"]]


def count_items(client: Elasticsearch, names: IndexNames, selection: OaiSelection) -> int:
    return int(client.count(index=names.oai, query=_selection_query(selection))["count"])


def with_records(client: Elasticsearch, names: IndexNames, items: Sequence[OaiItem]) -> list[OaiEntry]:
    """The items with the union records of the live ones, read in one multi-get."""
    live = [item.id for item in items if not item.deleted]
    found: dict[str, UnionRecord] = {}
    if live:
        answer = client.mget(index=names.union, ids=live, source=["doc"])
        found = {
            doc["_id"]: UnionRecord.from_json(doc["_source"]["doc"])
            for doc in answer["docs"]
            if doc.get("found")
        }
    return [OaiEntry(item, found.get(item.id)) for item in items]


def get_item(client: Elasticsearch, names: IndexNames, union_id: str) -> OaiItem | None:
    try:
        return _item(client.get(index=names.oai, id=union_id)["_source"])
    except NotFoundError:
        return None


def set_list(client: Elasticsearch, names: IndexNames) -> dict[str, str]:
    return {doc["spec"]: doc["name"] for doc in scan(client, names.oai_sets, {"match_all": {}}, ["spec"])}


def restore(
    client: Elasticsearch,
    names: IndexNames,
    items: Iterable[OaiItem],
    registered: Sequence[tuple[int, str]],
    set_names_given: Mapping[str, str],
    settings: Settings,
) -> int:
    """The feed replaced by a copy (its indices dropped and made again: a core-only node has no
    delete-by-query), and the union generation counter raised past the copy's newest generation."""
    for index, kind in (
        (names.oai, "oai"),
        (names.oai_generations, "oai_generations"),
        (names.oai_sets, "oai_sets"),
    ):
        client.indices.delete(index=index, ignore_unavailable=True)
        create_index(client, index, kind, settings)
    written = 0

    def item_actions() -> Iterator[dict[str, Any]]:
        nonlocal written
        for item in items:
            written += 1
            yield _item_action(names, item)

    generation_actions = (
        {
            "_op_type": "index",
            "_index": names.oai_generations,
            "_id": str(generation),
            "_source": {"generation": generation, "datestamp": datestamp},
        }
        for generation, datestamp in registered
    )
    failures = [
        f"{failed.action['_id']}: {failed.reason}"
        for actions in (item_actions(), generation_actions, _set_actions(names, set_names_given))
        for failed in write_all(client, actions, settings)
    ]
    if failures:
        raise EngineError(f"the OAI-PMH feed was not copied: {'; '.join(failures[:5])}")
    raise_to(client, names.meta, "union-generation", max((g for g, _ in registered), default=0))
    client.indices.refresh(index=[names.oai, names.oai_generations, names.oai_sets])
    return written
