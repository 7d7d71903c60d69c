"""An Elasticsearch catalogue of schema 9 (the record store and the OAI-PMH feed in its own indices)
hands all of it to a record store once, when opened with one (unicat/engines/elasticsearch/
legacy_records.py): written here as schema 9 wrote it, with real records of the shared data as the
harvested bytes and the index definitions schema 9 created (fixtures/es_schema_9)."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pytest
from elasticsearch import Elasticsearch
from elasticsearch.helpers import bulk

from tests.conftest import build_union_record
from tests.support.postgres import Cluster, fresh_database
from tests.support.shared_data import SHARED_DATA
from unicat.engines.elasticsearch import ElasticsearchEngine
from unicat.engines.elasticsearch.connection import parse_engine_url
from unicat.engines.elasticsearch.indices import SCHEMA_VERSION, IndexNames, definition
from unicat.engines.elasticsearch.union import union_document
from unicat.engines.postgresql import PostgresDatabase
from unicat.model import (
    HarvestRun,
    MergeDecision,
    QuarantineEntry,
    RecordCounts,
    Source,
    SourceRecord,
    SourceRef,
    UnionRecord,
)
from unicat.oai_items import OaiItem
from unicat.settings import Settings
from unicat.stores.records import SqlRecordStore

SCHEMA_9 = Path(__file__).parent / "fixtures" / "es_schema_9"
SEPARATOR = "\x1f"  # between source and local id in schema 9's ``members`` and document ids
UVA_RECORDS = 1_500  # more than one page of the hand-over (1,000)


def _marc_records(path: Path, count: int) -> list[bytes]:
    """The first ``count`` ISO 2709 records of a file, each ending with its record terminator."""
    return [chunk + b"\x1d" for chunk in path.read_bytes().split(b"\x1d")[:count]]


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


@dataclass
class OldCatalogue:
    """What a schema 9 catalogue held, as the store should hold it after the hand-over."""

    sources: list[Source]
    records: list[SourceRecord]
    runs: list[HarvestRun]
    quarantine: list[QuarantineEntry]  # oldest first
    decisions: list[MergeDecision]  # oldest first
    union: list[UnionRecord]
    redirects: list[tuple[str, str]]
    oai_items: list[OaiItem]
    oai_generations: list[tuple[int, str]]
    oai_sets: dict[str, str]

    @property
    def memberships(self) -> dict[tuple[str, str], str]:
        return {ref.key: record.id for record in self.union for ref in record.sources}


def old_catalogue() -> OldCatalogue:
    uva_raw = _marc_records(SHARED_DATA / "marc21" / "uva_001_2000.mrc", UVA_RECORDS)
    brk_raw = _marc_records(SHARED_DATA / "marc21" / "brkrtest.mrc", 8)
    union = [
        build_union_record(f"u{n:04d}", f"UVA record {n}", libraries=["UVA"]) for n in range(UVA_RECORDS)
    ]
    union += [build_union_record(f"b{n}", f"Brooklyn record {n}", libraries=["BRK"]) for n in range(8)]
    # A record held by both libraries: two members, one union id.
    union[0] = build_union_record("u0000", "UVA record 0", libraries=["UVA", "BRK"])
    records = [
        SourceRecord("UVA", f"uva-u{n:04d}", raw, datestamp="2025-03-01") for n, raw in enumerate(uva_raw)
    ]
    records += [SourceRecord("BRK", f"brk-b{n}", raw) for n, raw in enumerate(brk_raw)]
    records += [SourceRecord("BRK", "brk-u0000", brk_raw[0])]
    records += [SourceRecord("BRK", f"brk-gone-{n}", b"", deleted=True) for n in range(2)]
    malformed = (SHARED_DATA / "malformed" / "error.mrc").read_bytes()[:300]
    at = "2025-03-02T10:00:00Z"
    return OldCatalogue(
        sources=[
            Source("BRK", "Brooklyn", None, profile="marc21"),
            Source(
                "UVA", "University of Virginia Library", "http://127.0.0.1:1/oai", harvest_interval=3600.0
            ),
        ],
        records=sorted(records, key=lambda record: (record.source, record.local_id)),
        runs=[
            HarvestRun(
                1,
                "UVA",
                "2025-03-01T08:00:00Z",
                "ok",
                "full",
                finished="2025-03-01T08:10:00Z",
                pages=2,
                records=UVA_RECORDS,
                quarantined=1,
                server_time="2025-03-01T08:00:01Z",
            ),
            HarvestRun(
                2,
                "BRK",
                "2025-03-01T09:00:00Z",
                "ok",
                "import",
                finished="2025-03-01T09:00:05Z",
                pages=1,
                records=9,
                deleted=2,
            ),
            HarvestRun(
                3,
                "UVA",
                "2025-03-02T08:00:00Z",
                "running",
                "incremental",
                from_="2025-03-01T08:00:00Z",
                resumption_token="token-3",
                pages=1,
                records=0,
            ),
        ],
        quarantine=[
            QuarantineEntry(
                "UVA", "uva-bad", "harvest", "unreadable leader", malformed, "2025-03-01T08:05:00Z"
            ),
            QuarantineEntry(
                "BRK", None, "import", "the file ended inside a record", b"", "2025-03-01T09:00:04Z"
            ),
            QuarantineEntry("BRK", "brk-b7", "index", "no title", brk_raw[7], "2025-03-01T09:30:00Z"),
        ],
        decisions=[
            MergeDecision(
                "split",
                SourceRef("BRK", "brk-b1"),
                SourceRef("BRK", "brk-b2"),
                "two printings",
                "anne@example.org",
                at,
                1,
            ),
            MergeDecision(
                "force",
                SourceRef("UVA", "uva-u0001"),
                SourceRef("BRK", "brk-b3"),
                "same book",
                "anne@example.org",
                "2025-03-02T11:00:00Z",
                2,
            ),
        ],
        union=union,
        redirects=[("gone-1", "u0001"), ("gone-2", "gone-1")],
        oai_items=[OaiItem("gone-1", 6, True, ("library:UVA",), "f-gone")]
        + [
            OaiItem(record.id, 7, False, (f"library:{record.sources[0].source}",), f"f-{record.id}")
            for record in union
        ],
        oai_generations=[(6, "2025-03-01T08:10:00Z"), (7, "2025-03-01T09:10:00Z")],
        oai_sets={"library:BRK": "Brooklyn", "library:UVA": "University of Virginia Library"},
    )


def _old_documents(
    old: OldCatalogue, names: IndexNames, generation: str, members: bool
) -> Iterator[dict[str, Any]]:
    """Every document of ``old`` as schema 9 wrote it (its unicat/engines/elasticsearch/records.py,
    oai.py, union.py), as bulk actions."""

    def action(index: str, doc_id: str, source: dict[str, Any]) -> dict[str, Any]:
        return {"_op_type": "index", "_index": index, "_id": doc_id, "_source": source}

    for source in old.sources:
        document = source.to_json()
        if source.code == "BRK":  # a source written before schema 2: no harvest_interval, no mapping
            del document["harvest_interval"], document["mapping"]
        yield action(names.plain("sources"), source.code, document)
    for record in old.records:
        yield action(
            names.plain("records"),
            f"{record.source}{SEPARATOR}{record.local_id}",
            {
                "source": record.source,
                "local_id": record.local_id,
                "syntax": record.syntax,
                "datestamp": record.datestamp,
                "deleted": record.deleted,
                "raw": "" if record.deleted else _b64(record.raw),
                "run": 1 if record.source == "UVA" else 2,
            },
        )
    for run in old.runs:
        document = asdict(run)
        if run.id == 2:  # a run written before schema 2: no quarantined, no server_time
            del document["quarantined"], document["server_time"]
        yield action(names.plain("harvests"), str(run.id), document)
    for seq, entry in enumerate(old.quarantine, 1):
        yield action(
            names.plain("quarantine"),
            str(seq),
            {
                "seq": seq,
                "source": entry.source,
                "local_id": entry.local_id,
                "stage": entry.stage,
                "reason": entry.reason,
                "created": entry.created,
                "raw": _b64(entry.raw),
            },
        )
    for decision in old.decisions:
        yield action(names.plain("decisions"), str(decision.id), decision.to_json())
    for old_id, new_id in old.redirects:
        yield action(names.plain("redirects"), old_id, {"old_id": old_id, "new_id": new_id})
    for item in old.oai_items:
        yield action(
            names.plain("oai"),
            item.id,
            {
                "id": item.id,
                "generation": item.generation,
                "deleted": item.deleted,
                "sets": list(item.sets),
                "fingerprint": item.fingerprint,
            },
        )
    for number, datestamp in old.oai_generations:
        yield action(
            names.plain("oai_generations"), str(number), {"generation": number, "datestamp": datestamp}
        )
    for spec, name in old.oai_sets.items():
        yield action(names.plain("oai_sets"), spec, {"spec": spec, "name": name})
    for union_record in old.union:
        indexed = union_document(union_record)
        if members:
            indexed["members"] = [f"{ref.source}{SEPARATOR}{ref.local_id}" for ref in union_record.sources]
        yield action(generation, union_record.id, indexed)


def write_schema_9_catalogue(
    client: Elasticsearch, names: IndexNames, old: OldCatalogue, members: bool
) -> None:
    """``old`` in the indices of schema 9, its union records in generation 7 behind the alias (with the
    ``members`` field schema 9 had, unless ``members`` is false: what earlier schemas wrote)."""
    for path in sorted(SCHEMA_9.glob("*.json")):
        body = json.loads(path.read_text(encoding="utf-8"))
        client.indices.create(
            index=names.plain(path.stem), mappings=body["mappings"], settings=body.get("settings", {})
        )
    properties = dict(definition("union")["properties"])
    if members:
        properties["members"] = {"type": "keyword", "index": False}
    generation = names.union_generation(7)
    client.indices.create(index=generation, mappings={"dynamic": "strict", "properties": properties})
    client.indices.put_alias(index=generation, name=names.union)
    client.indices.create(index=names.meta, mappings={"dynamic": False})
    client.index(index=names.meta, id="schema", document={"version": 9})
    bulk(client, _old_documents(old, names, generation, members), refresh=True)


@pytest.fixture
def catalogue_url(elasticsearch_url: str) -> Iterator[str]:
    """A URL naming a fresh catalogue (index prefix) on the test node; its indices go afterwards."""
    url = f"{elasticsearch_url}/test-{uuid.uuid4().hex[:16]}"
    yield url
    with Elasticsearch(parse_engine_url(url).node_url) as client:
        patterns = IndexNames(parse_engine_url(url).prefix).all_patterns()
        for index in client.indices.get(index=patterns, ignore_unavailable=True).body:
            client.indices.delete(index=index)


@pytest.fixture
def node(catalogue_url: str) -> Iterator[Elasticsearch]:
    with Elasticsearch(parse_engine_url(catalogue_url).node_url) as client:
        yield client


@pytest.fixture
def names(catalogue_url: str) -> IndexNames:
    return IndexNames(parse_engine_url(catalogue_url).prefix)


@pytest.fixture
def store(postgres_database_url: str) -> Iterator[SqlRecordStore]:
    database = PostgresDatabase(postgres_database_url, Settings())
    yield SqlRecordStore(database)
    database.close()


def hand_over(catalogue_url: str, store: SqlRecordStore) -> None:
    """Open the catalogue and hand its records over, as opening it with a store does."""
    with ElasticsearchEngine(catalogue_url, Settings(engine_url=catalogue_url)) as engine:
        engine.hand_over_records(store, store.db.url)


def assert_holds(store: SqlRecordStore, old: OldCatalogue) -> None:
    """The store holds every kind of ``old``, whole and in order."""
    assert store.list_sources() == old.sources
    assert list(store.iter_source_records(include_deleted=True)) == old.records
    assert store.source_counts("UVA") == RecordCounts(live=UVA_RECORDS, deleted=0)
    assert store.source_counts("BRK") == RecordCounts(live=9, deleted=2)
    assert store.harvest_history(limit=10) == old.runs[::-1]
    assert store.list_quarantine(limit=10) == old.quarantine[::-1]
    kept = [(d.kind, d.pair, d.reason, d.by, d.at) for d in store.merge_decisions()]
    assert kept == [(d.kind, d.pair, d.reason, d.by, d.at) for d in old.decisions]
    assert store.memberships() == old.memberships
    assert list(store.iter_redirects()) == old.redirects
    assert store.resolve_redirect("gone-2") == "u0001"
    assert list(store.iter_oai_items()) == sorted(old.oai_items, key=lambda item: (item.generation, item.id))
    assert store.oai_generations() == old.oai_generations
    assert store.oai_sets() == old.oai_sets


def test_a_schema_9_catalogue_hands_its_record_store_to_the_store_once(
    catalogue_url: str,
    node: Elasticsearch,
    names: IndexNames,
    store: SqlRecordStore,
    postgres_cluster: Cluster,
) -> None:
    old = old_catalogue()
    write_schema_9_catalogue(node, names, old, members=True)

    hand_over(catalogue_url, store)

    assert_holds(store, old)
    assert node.get(index=names.meta, id="records-handed-over")["_source"] == {"value": len(old.records)}
    assert node.get(index=names.meta, id="schema")["_source"] == {"version": SCHEMA_VERSION}
    # What comes next is numbered after what came over.
    assert store.start_harvest("UVA", "incremental").id == 4
    # The old indices stay as they were, read no more: opened again, even with an empty store, nothing
    # is copied a second time.
    assert node.count(index=names.plain("records"))["count"] == len(old.records)
    with fresh_database(postgres_cluster) as other_url:
        other = PostgresDatabase(other_url, Settings())
        try:
            hand_over(catalogue_url, SqlRecordStore(other))
            assert SqlRecordStore(other).list_sources() == []
        finally:
            other.close()
    # The union index serves on.
    with ElasticsearchEngine(catalogue_url, Settings(engine_url=catalogue_url)) as engine:
        assert engine.union_count() == len(old.union)
        assert engine.get_union_record("u0000") == old.union[0]


def test_memberships_come_from_union_documents_written_before_members_were_indexed(
    catalogue_url: str, node: Elasticsearch, names: IndexNames, store: SqlRecordStore
) -> None:
    old = old_catalogue()
    write_schema_9_catalogue(node, names, old, members=False)
    hand_over(catalogue_url, store)
    assert store.memberships() == old.memberships
    assert len(old.memberships) == len(old.union) + 1


def test_a_store_with_sources_already_is_not_given_a_second_set(
    catalogue_url: str,
    node: Elasticsearch,
    names: IndexNames,
    store: SqlRecordStore,
    caplog: pytest.LogCaptureFixture,
) -> None:
    store.save_source(Source("OXF", "Bodleian Libraries, Oxford"))
    write_schema_9_catalogue(node, names, old_catalogue(), members=True)
    hand_over(catalogue_url, store)
    assert [source.code for source in store.list_sources()] == ["OXF"]
    assert store.source_counts() == RecordCounts(live=0, deleted=0)
    assert "has sources already: they were not copied" in caplog.text
    assert not node.exists(index=names.meta, id="records-handed-over")


def test_a_catalogue_created_at_schema_10_has_nothing_to_hand_over(
    catalogue_url: str, node: Elasticsearch, names: IndexNames, store: SqlRecordStore
) -> None:
    with ElasticsearchEngine(catalogue_url, Settings(engine_url=catalogue_url)) as engine:
        engine.replace_union_records([build_union_record("u1", "Emma")])
        engine.hand_over_records(store, store.db.url)
    assert store.list_sources() == [] and store.memberships() == {}
    assert sorted(node.indices.get(index=names.all_patterns(), ignore_unavailable=True).body) == [
        names.meta,
        names.suggest_generation(names.union_generation(1)),
        names.union_generation(1),
    ]
