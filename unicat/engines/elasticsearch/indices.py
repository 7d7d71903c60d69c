"""The catalogue's indices: their names, their definitions (JSON in ``mappings/elasticsearch``), and
creating the missing ones at open under a schema version kept in the meta index.

Since schema 10 a catalogue is the union index alone: its records live in generations
``{prefix}-union-{n}`` behind the alias ``{prefix}-union``, so a rebuild can write a new generation and
swap the alias in one step, and ``{prefix}-meta`` keeps the schema version and the marks of what an
older catalogue handed over to the stores' database.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from functools import cache
from typing import Any

from elasticsearch import BadRequestError, Elasticsearch, NotFoundError

from mappings import MAPPINGS_DIR
from unicat.errors import ConfigError, SchemaError
from unicat.fields import FACETS, STEMMED_FIELDS, TEXT_FIELDS
from unicat.settings import Settings

_log = logging.getLogger(__name__)

SCHEMA_VERSION = 14
"""1: the first catalogue. 2: fields added for unattended harvesting (a source's ``harvest_interval``,
the ``run`` that stored each record, a run's ``quarantined`` and ``server_time``). 3: a source's profile
override (``mapping``). 4: the librarians' merge decisions (index ``decisions``). 5: the OAI-PMH feed
(indices ``oai``, ``oai_generations``, ``oai_sets``; an older catalogue got its items when opened).
6: accounts and sessions (indices ``users``, ``sessions``).
7: what readers add (indices ``comments``, ``ratings``, ``tags``, ``reports``, ``moderation``, ``lists``,
``list_entries``). 8: accounts and what readers add move to the stores' database (``unicat/stores``);
the indices of 6 and 7 are no longer written or read, and an older catalogue keeps them untouched.
9: the union index's target audience (``audience``, a facet of unicat/fields.py). 10: the catalogue is
the union index only (Elasticsearch is not a system of record): sources, source records, harvest runs,
the quarantine, merge decisions, redirects, memberships and the OAI-PMH feed live in the record store
(``unicat/ports/records.py``); an older catalogue keeps the indices that held them, untouched, and
hands what they hold to the store once (``legacy_records.py``). Union documents lose ``members``.
11: the stems of titles and subjects (``title_stems``, ``subject_stems``; unicat/stemming.py); an older
generation gets the fields empty, finds words as written until a rebuild, and says so at open.
12: union documents carry ``library_count``, how many libraries hold the record, which orders equal
scores; documents of an older generation lack it (they rank after those that have it) until a rebuild.
13: the availability facets (``held_at``, ``available_at``, ``availability``; unicat/availability.py);
an older generation gets them mapped empty: they count and find nothing until a rebuild, said at open.
14: what counts as new (``first_seen``, a keyword, and ``held_since``, nested library and date;
unicat/first_seen.py); an older generation gets them mapped empty: new_since finds nothing until the
next ``unicat index``, said at open.
Changes that only add fields are applied to an older catalogue at open (see :func:`ensure_indices`)."""
STEMS_VERSION = 11
"""The schema whose union documents carry the stems fields."""
AVAILABILITY_VERSION = 13
"""The schema whose union documents carry the availability facets."""
FIRST_SEEN_VERSION = 14
"""The schema whose union documents carry ``first_seen`` and ``held_since``."""
DEFINITIONS_DIR = MAPPINGS_DIR / "elasticsearch"
# The index beside the union generations, defined by the JSON file of the same name.
META = "meta"
SCHEMA_DOC = "schema"
LEGACY_RECORD_INDICES = (
    "sources",
    "records",
    "harvests",
    "quarantine",
    "redirects",
    "decisions",
    "oai",
    "oai_generations",
    "oai_sets",
)
"""The indices where schemas up to 9 kept the record store and the OAI-PMH feed (``legacy_records.py``)."""
LEGACY_READER_INDICES = (
    "users",
    "sessions",
    "comments",
    "ratings",
    "tags",
    "reports",
    "moderation",
    "lists",
    "list_entries",
)
"""The indices where schemas 6 and 7 kept accounts and readers' data (``legacy_readers.py``)."""


@dataclass(frozen=True, slots=True)
class IndexNames:
    """The names of one catalogue's indices, all under its prefix."""

    prefix: str

    def plain(self, name: str) -> str:
        return f"{self.prefix}-{name}"

    @property
    def meta(self) -> str:
        return self.plain(META)

    @property
    def union(self) -> str:
        """The alias searches go through."""
        return self.plain("union")

    def union_generation(self, number: int) -> str:
        return f"{self.prefix}-union-{number}"

    @property
    def suggest(self) -> str:
        """The alias of the words and headings of the generation the union alias names."""
        return self.plain("suggest")

    def suggest_generation(self, union_index: str) -> str:
        """The words and headings written with the union generation ``union_index``."""
        return f"{self.suggest}-{union_index.rsplit('-', 1)[1]}"

    def all_patterns(self) -> list[str]:
        """Every index this catalogue may own (for deleting a whole catalogue, e.g. in tests)."""
        owned = (META, *LEGACY_RECORD_INDICES, *LEGACY_READER_INDICES)
        return [*(self.plain(name) for name in owned), f"{self.union}-*", f"{self.suggest}-*"]


@cache
def _document(name: str) -> dict[str, Any]:
    path = DEFINITIONS_DIR / f"{name}.json"
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"index definition {path}: {exc}") from exc
    if not isinstance(document.get("mappings"), dict) or not isinstance(document.get("settings", {}), dict):
        raise ConfigError(f"index definition {path}: expected a top-level 'mappings' object (and 'settings')")
    return dict(document)


# The union index's fields of the field registry (unicat/fields.py): text analysed in Python that the
# built-in whitespace analyzer only splits, and facet values as keywords whose global ordinals are built
# at the refresh that ends a rebuild, not by the first search. Their mapping follows from the queries
# the engine sends them (span and term queries on text, terms filters and aggregations on keywords), so
# union.json does not list them again: it holds the index's own choices and the fields that are not
# the registry's.
TEXT_PROPERTY: dict[str, Any] = {"type": "text", "analyzer": "whitespace"}
# Stems are matched word by word, never as a phrase (unicat.query.clause_stems): no positions to keep.
STEMS_PROPERTY: dict[str, Any] = {**TEXT_PROPERTY, "index_options": "freqs"}
KEYWORD_PROPERTY: dict[str, Any] = {"type": "keyword", "eager_global_ordinals": True}


def registry_properties() -> dict[str, Any]:
    """The mapping of every text field and facet of the registry, by its name in the documents."""
    return {
        **{field.name: TEXT_PROPERTY for field in TEXT_FIELDS},
        **{field.stems: STEMS_PROPERTY for field in STEMMED_FIELDS if field.stems},
        **{facet.index_key: KEYWORD_PROPERTY for facet in FACETS},
    }


@cache
def _union_mappings() -> dict[str, Any]:
    mappings = _document("union")["mappings"]
    written = mappings.get("properties", {})
    added = registry_properties()
    both = sorted(written.keys() & added.keys())
    if both:
        raise ConfigError(
            f"index definition {DEFINITIONS_DIR / 'union.json'}: {', '.join(both)} come from the field "
            "registry (unicat/fields.py); remove them from the file"
        )
    return {**mappings, "properties": {**written, **added}}


def definition(name: str) -> dict[str, Any]:
    """The mappings of one index, read from its JSON file (comments dropped); the union index's with
    the fields of the registry."""
    if name == "union":
        return _union_mappings()
    mappings: dict[str, Any] = _document(name)["mappings"]
    return mappings


def definition_settings(name: str) -> dict[str, Any]:
    """The index settings its JSON file asks for beside the shards and replicas (e.g. its sort)."""
    settings: dict[str, Any] = _document(name).get("settings", {})
    return settings


# While a union generation is written nothing searches it, and a failed build is thrown away whole: no
# refreshes, and no fsync of the translog per bulk request. Its replicas are there from the start,
# though: a node that dies mid-build then takes one copy of each shard with it, the other is promoted
# and the write goes on (tests/unicat/engines/test_elasticsearch_node_killed_mid_index.py). Without
# them the only copy of a shard went with its node, every bulk request waited for it until it timed
# out, and the run failed after the whole write; an acknowledged write is on every copy, so what the
# promoted replica holds is all the build wrote.
BUILD_SETTINGS: dict[str, Any] = {
    "refresh_interval": "-1",
    "translog": {"durability": "async"},
}


def create_index(
    client: Elasticsearch, index: str, kind: str, settings: Settings, build: bool = False
) -> bool:
    """Create ``index`` with the definition ``kind`` (with :data:`BUILD_SETTINGS` when ``build``);
    ``False`` if it already existed."""
    index_settings: dict[str, Any] = {
        **definition_settings(kind),
        "number_of_shards": settings.es_shards,
        "number_of_replicas": settings.es_replicas,
    }
    if build:
        index_settings.update(BUILD_SETTINGS)
    mappings = definition(kind)
    if kind == "union":
        # Each generation says which schema wrote it: one written by an older Unicat lacks what a
        # partial update cannot fill, and only a rebuild replaces it (generation_schema).
        mappings = {**mappings, "_meta": {"schema_version": SCHEMA_VERSION}}
    try:
        client.indices.create(index=index, settings=index_settings, mappings=mappings)
    except BadRequestError as exc:
        # Another process opening the same catalogue created it first: that is fine.
        if exc.error == "resource_already_exists_exception":
            return False
        raise
    return True


def finish_build(client: Elasticsearch, index: str) -> None:
    """Give a built generation the settings of a served index back and make every document searchable."""
    client.indices.put_settings(
        index=index, settings={"refresh_interval": None, "translog": {"durability": "request"}}
    )
    client.indices.refresh(index=index)


def add_missing_fields(client: Elasticsearch, index: str) -> None:
    """Give the union generation ``index`` the fields of :func:`definition` it lacks (empty until the
    next rebuild fills them: a search filtering on one finds nothing meanwhile, instead of failing).
    Only the missing ones: a field an older Unicat mapped otherwise keeps that mapping until a rebuild
    replaces the generation."""
    present = client.indices.get_mapping(index=index)[index]["mappings"].get("properties", {})
    missing = {name: body for name, body in definition("union")["properties"].items() if name not in present}
    if missing:
        client.indices.put_mapping(index=index, properties=missing)


def stored_schema_version(client: Elasticsearch, names: IndexNames) -> int | None:
    try:
        doc = client.get(index=names.meta, id=SCHEMA_DOC)
    except NotFoundError:
        return None
    return int(doc["_source"]["version"])


def generation_schema(client: Elasticsearch, index: str) -> int | None:
    """The schema version that wrote the union generation ``index`` (``None``: one written before
    generations said so)."""
    mappings = client.indices.get_mapping(index=index)[index]["mappings"]
    version = mappings.get("_meta", {}).get("schema_version")
    return int(version) if version is not None else None


def current_union_index(client: Elasticsearch, names: IndexNames) -> str | None:
    """The generation the union alias points at, if the alias exists."""
    try:
        answer = client.indices.get_alias(name=names.union)
    except NotFoundError:
        return None
    indices = sorted(answer.body)
    return indices[0] if indices else None


def ensure_indices(client: Elasticsearch, names: IndexNames, settings: Settings) -> None:
    """Create what is missing and record the schema version; refuse a catalogue from a newer Unicat."""
    create_index(client, names.meta, META, settings)
    version = stored_schema_version(client, names)
    if version is not None and version > SCHEMA_VERSION:
        raise SchemaError(
            f"the Elasticsearch catalogue {names.prefix!r} has schema version {version}, newer than this "
            f"Unicat's {SCHEMA_VERSION}: upgrade Unicat"
        )
    live = current_union_index(client, names)
    if live is not None and version is not None and version < SCHEMA_VERSION:
        add_missing_fields(client, live)
        if version < STEMS_VERSION:
            _log.warning(
                "the union index %s was built before stemming: searches find words only as written "
                "until `unicat index --rebuild` indexes their stems",
                live,
            )
        if version < AVAILABILITY_VERSION:
            _log.warning(
                "the union index %s was built before availability per copy: the facets held_at, "
                "available_at and availability find nothing until `unicat index --rebuild`",
                live,
            )
        if version < FIRST_SEEN_VERSION:
            _log.warning(
                "the union index %s was built before first-seen dates: new_since and the newest sort find "
                "no date until the next `unicat index`",
                live,
            )
    if live is None:
        first = names.union_generation(0)
        create_index(client, first, "union", settings)
        try:
            client.indices.put_alias(index=first, name=names.union)
        except BadRequestError:
            # A concurrent opener aliased another generation; ours stays unused.
            client.indices.delete(index=first, ignore_unavailable=True)
    if version is None or version < SCHEMA_VERSION:
        client.index(index=names.meta, id=SCHEMA_DOC, document={"version": SCHEMA_VERSION}, refresh=True)
