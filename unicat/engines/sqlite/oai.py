"""The OAI-PMH feed's tables as schema migration 7 made them, and the backfill it ran.

The feed's items are the record store's now (``unicat/stores``, the same SQL on SQLite and PostgreSQL);
this module keeps what an old database needs to reach the current schema, as migration 7 ran it: a
migration is a frozen step (like migration 3's copy of the text columns), so its writes stay here rather
than follow the store's. Tables: ``oai_items`` one row per union id that ever existed, found by
(generation, id) for the unfiltered lists; ``oai_item_sets`` one row per item and set, found by (set,
generation, id) for a set's lists, so that every list page is one range seek whatever its set;
``oai_generations`` the datestamp of each registered generation; ``oai_sets`` the name of each set.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from unicat.engines.sqlite import driver
from unicat.model import UnionRecord
from unicat.oai_items import (
    FeedCollector,
    OaiItem,
    changed_items,
    next_datestamp,
)

SCHEMA: tuple[str, ...] = (
    """CREATE TABLE oai_items (
        id TEXT PRIMARY KEY,
        generation INTEGER NOT NULL,
        deleted INTEGER NOT NULL,
        sets TEXT NOT NULL,
        fingerprint TEXT NOT NULL
    ) WITHOUT ROWID""",
    "CREATE INDEX oai_items_by_generation ON oai_items (generation, id)",
    """CREATE TABLE oai_item_sets (
        set_spec TEXT NOT NULL,
        generation INTEGER NOT NULL,
        id TEXT NOT NULL,
        PRIMARY KEY (set_spec, generation, id)
    ) WITHOUT ROWID""",
    "CREATE INDEX oai_item_sets_by_id ON oai_item_sets (id)",
    "CREATE TABLE oai_generations (generation INTEGER PRIMARY KEY, datestamp TEXT NOT NULL)",
    "CREATE TABLE oai_sets (spec TEXT PRIMARY KEY, name TEXT NOT NULL) WITHOUT ROWID",
)

_ITEM_COLUMNS = "i.generation, i.id, i.deleted, i.sets, i.fingerprint"


def load_items(conn: driver.Connection) -> dict[str, OaiItem]:
    """Every item, by id: what a rebuild compares its records with."""
    rows = conn.execute(f"SELECT {_ITEM_COLUMNS} FROM oai_items i")
    return {row[1]: _item(row) for row in rows}


def _item(row: Sequence[Any]) -> OaiItem:
    generation, union_id, deleted, sets, fingerprint = row[:5]
    return OaiItem(union_id, generation, bool(deleted), tuple(sets.split()), fingerprint)


def _write_items(conn: driver.Connection, items: Sequence[OaiItem]) -> None:
    """Store these items, each with its rows of ``oai_item_sets`` in place of any it had."""
    conn.executemany(
        "INSERT OR REPLACE INTO oai_items (id, generation, deleted, sets, fingerprint) "
        "VALUES (?, ?, ?, ?, ?)",
        [
            (item.id, item.generation, int(item.deleted), " ".join(item.sets), item.fingerprint)
            for item in items
        ],
    )
    conn.executemany("DELETE FROM oai_item_sets WHERE id = ?", [(item.id,) for item in items])
    conn.executemany(
        "INSERT INTO oai_item_sets (set_spec, generation, id) VALUES (?, ?, ?)",
        [(spec, item.generation, item.id) for item in items for spec in item.sets],
    )


def _write_set_names(conn: driver.Connection, names: Mapping[str, str]) -> None:
    conn.executemany("INSERT OR REPLACE INTO oai_sets (spec, name) VALUES (?, ?)", sorted(names.items()))


def save_changes(
    conn: driver.Connection, previous: Mapping[str, OaiItem], gathered: FeedCollector, generation: int
) -> int:
    """Within the rebuild's transaction: write the items the gathered records change, the set names,
    and, when anything changed, register ``generation`` with its datestamp (last, read from the clock
    now). Returns how many items changed."""
    stored = sorted(previous.values(), key=lambda item: item.id)
    changes = list(changed_items(stored, gathered.records, generation))
    _write_items(conn, changes)
    _write_set_names(conn, gathered.set_names())
    if changes:
        row = conn.execute(
            "SELECT datestamp FROM oai_generations ORDER BY generation DESC LIMIT 1"
        ).fetchone()
        conn.execute(
            "INSERT INTO oai_generations (generation, datestamp) VALUES (?, ?)",
            (generation, next_datestamp(row[0] if row else None)),
        )
    return len(changes)


def backfill(conn: driver.Connection) -> None:
    """Migration step: the items of a catalogue indexed before the feed existed, all of its current
    generation (registered now), so an upgraded database serves OAI-PMH at once."""
    row = conn.execute("SELECT generation FROM union_state").fetchone()
    generation = int(row[0]) if row else 0
    gathered = FeedCollector()
    for (doc,) in conn.execute("SELECT doc FROM union_records"):
        gathered.add(UnionRecord.from_json(orjson.loads(doc)))
    save_changes(conn, {}, gathered, generation)
