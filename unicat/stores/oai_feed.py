"""The OAI-PMH feed's history in SQL (``unicat/oai_items.py`` says what it is and why; part of
:class:`unicat.ports.records.RecordStore`), on SQLite or PostgreSQL.

Tables: ``oai_items`` one row per union id that ever existed, found by (generation, id) for the
unfiltered lists; ``oai_item_sets`` one row per item and set, found by (set, generation, id) for a
set's lists, so that every list page is one range seek whatever its set; ``oai_generations`` the
datestamp of each registered generation; ``oai_sets`` the name of each set. A new generation is written
in one transaction with its datestamp last, so a reader sees all of it or none of it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from unicat.oai_items import FeedCollector, OaiItem, OaiSelection, changed_items, next_datestamp
from unicat.ports.database import Connection, Database, delete_in, iter_keyset

ITEM_COLUMNS = "i.generation, i.id, i.deleted, i.sets, i.fingerprint"
# Items per statement when a generation reads the previous ones or writes its changes, so that no
# single statement runs long and no batch holds much memory.
BATCH = 1_000


def _item(row: Sequence[Any]) -> OaiItem:
    generation, union_id, deleted, sets, fingerprint = row
    return OaiItem(str(union_id), int(generation), bool(deleted), tuple(sets.split()), str(fingerprint))


def _previous_items(db: Database) -> Iterator[OaiItem]:
    """Every stored item, in id order, in keyset batches each read apart from the generation's
    transaction: they see the items as committed before it, whatever it has written since."""
    rows = iter_keyset(db, "oai_items", "id, generation, deleted, sets, fingerprint", "id", BATCH)
    for union_id, generation, deleted, sets, fingerprint in rows:
        yield _item((generation, union_id, deleted, sets, fingerprint))


def _write_items(db: Database, conn: Connection, items: Iterable[OaiItem]) -> int:
    """Store these items, each with its rows of ``oai_item_sets``, in place of any they had; returns
    how many. Batches of :data:`BATCH`, so that memory holds one batch whatever the number of items."""
    written = 0
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, BATCH)):
        ids = [item.id for item in batch]
        delete_in(conn, "oai_items", "id", ids)
        delete_in(conn, "oai_item_sets", "id", ids)
        db.insert_rows(
            conn,
            "oai_items",
            "id, generation, deleted, sets, fingerprint",
            (
                (item.id, item.generation, int(item.deleted), " ".join(item.sets), item.fingerprint)
                for item in batch
            ),
        )
        db.insert_rows(
            conn,
            "oai_item_sets",
            "set_spec, generation, id",
            ((spec, item.generation, item.id) for item in batch for spec in item.sets),
        )
        written += len(batch)
    return written


def _write_set_names(conn: Connection, names: Mapping[str, str]) -> None:
    conn.executemany(
        "INSERT INTO oai_sets (spec, name) VALUES (?, ?) "
        "ON CONFLICT (spec) DO UPDATE SET name = excluded.name",
        sorted(names.items()),
    )


def _next_generation(conn: Connection) -> int:
    """The number after every generation stored (registered, or only on items: a copy's)."""
    newest = conn.execute(
        "SELECT max(g) FROM (SELECT max(generation) AS g FROM oai_generations "
        "UNION ALL SELECT max(generation) FROM oai_items) AS stored"
    ).fetchone()[0]
    return int(newest or 0) + 1


def _register(conn: Connection, generation: int) -> None:
    """Register ``generation``'s datestamp, read from the clock now, never before the previous one's."""
    row = conn.execute("SELECT datestamp FROM oai_generations ORDER BY generation DESC LIMIT 1").fetchone()
    conn.execute(
        "INSERT INTO oai_generations (generation, datestamp) VALUES (?, ?)",
        (generation, next_datestamp(row[0] if row else None)),
    )


def write_generation(db: Database, conn: Connection, feed: FeedCollector) -> int:
    """Within ``conn``'s transaction: the feed brought up to the records ``feed`` gathered, as a new
    generation numbered after every one stored; its datestamp registered last (read from the clock now),
    and only when an item changed. Returns how many items changed."""
    generation = _next_generation(conn)
    changed = _write_items(db, conn, changed_items(_previous_items(db), feed.records, generation))
    _write_set_names(conn, feed.set_names())
    if changed:
        _register(conn, generation)
    return changed


def write_partial_generation(
    db: Database, conn: Connection, feed: FeedCollector, union_ids: Sequence[str]
) -> int:
    """Within ``conn``'s transaction (a partial generation's): the items of ``union_ids`` (the ids a
    partial update wrote or removed) brought up to the records ``feed`` gathered, as a new generation,
    as :func:`write_generation` does for the whole feed: an item that changed (or came, or came back)
    gets the new generation, a live one that ``feed`` lacks is kept as deleted, the others keep theirs.
    Returns how many items changed."""
    generation = _next_generation(conn)
    wanted = sorted(set(union_ids))
    previous: list[OaiItem] = []
    for start in range(0, len(wanted), BATCH):
        part = wanted[start : start + BATCH]
        rows = conn.execute(
            f"SELECT {ITEM_COLUMNS} FROM oai_items i WHERE i.id IN ({', '.join('?' * len(part))})", part
        ).fetchall()
        previous.extend(sorted((_item(row) for row in rows), key=lambda item: item.id))
    changed = _write_items(db, conn, changed_items(previous, feed.records, generation))
    _write_set_names(conn, feed.set_names())
    if changed:
        _register(conn, generation)
    return changed


def _selection_sql(
    selection: OaiSelection, after: tuple[int, str] | None = None
) -> tuple[str, list[Any], str]:
    """FROM and WHERE of a selection (the part after ``after`` when given), its parameters, and the
    table alias that orders it.

    A resumed list's range starts at ``after`` itself: ``(generation, id) > after`` implies
    ``generation >= low`` (``after`` is an item of the selection), so the lower bound is the row
    value alone, which the database seeks to. With ``generation BETWEEN low AND high`` beside it,
    SQLite seeks to ``low`` and steps over every item already served: a page's cost would grow with
    its position in the list."""
    if selection.set_spec is None:
        source, where, params, alias = "oai_items i", "", [], "i"
    else:
        source, where, alias = "oai_item_sets s JOIN oai_items i ON i.id = s.id", "s.set_spec = ? AND ", "s"
        params = [selection.set_spec]
    if after is not None and after[0] >= selection.low:
        range_sql = f"({alias}.generation, {alias}.id) > (?, ?) AND {alias}.generation <= ?"
        return f"FROM {source} WHERE {where}{range_sql}", [*params, *after, selection.high], alias
    # No position, or one before the selection's first generation: every item of it lies after it.
    range_sql = f"{alias}.generation BETWEEN ? AND ?"
    return f"FROM {source} WHERE {where}{range_sql}", [*params, selection.low, selection.high], alias


class SqlOaiFeed:
    """Tables ``oai_items``, ``oai_item_sets``, ``oai_generations`` and ``oai_sets``."""

    db: Database

    def oai_generations(self) -> list[tuple[int, str]]:
        with self.db.read() as conn:
            rows = conn.execute("SELECT generation, datestamp FROM oai_generations ORDER BY generation")
            return [(int(generation), str(datestamp)) for generation, datestamp in rows.fetchall()]

    def oai_items(self, selection: OaiSelection, after: tuple[int, str] | None, limit: int) -> list[OaiItem]:
        sql, params, alias = _selection_sql(selection, after)
        with self.db.read() as conn:
            rows = conn.execute(
                f"SELECT {ITEM_COLUMNS} {sql} ORDER BY {alias}.generation, {alias}.id LIMIT ?",
                [*params, limit],
            ).fetchall()
        return [_item(row) for row in rows]

    def oai_count(self, selection: OaiSelection) -> int:
        params: list[Any] = [selection.low, selection.high]
        if selection.set_spec is None:
            sql = "FROM oai_items i WHERE i.generation BETWEEN ? AND ?"
        else:
            # The set's own rows hold the generation: no need to join the items to count them.
            sql = "FROM oai_item_sets s WHERE s.set_spec = ? AND s.generation BETWEEN ? AND ?"
            params.insert(0, selection.set_spec)
        with self.db.read() as conn:
            return int(conn.execute(f"SELECT count(*) {sql}", params).fetchone()[0])

    def oai_item(self, union_id: str) -> OaiItem | None:
        with self.db.read() as conn:
            row = conn.execute(
                f"SELECT {ITEM_COLUMNS} FROM oai_items i WHERE i.id = ?", (union_id,)
            ).fetchone()
        return _item(row) if row is not None else None

    def oai_sets(self) -> dict[str, str]:
        with self.db.read() as conn:
            rows = conn.execute("SELECT spec, name FROM oai_sets ORDER BY spec").fetchall()
        return {str(spec): str(name) for spec, name in rows}

    def restore_oai_feed(
        self, items: Iterable[OaiItem], generations: Sequence[tuple[int, str]], sets: Mapping[str, str]
    ) -> int:
        with self.db.write(bulk=True) as conn:
            for table in ("oai_items", "oai_item_sets", "oai_generations", "oai_sets"):
                conn.execute(f"DELETE FROM {table}")
            written = _write_items(self.db, conn, items)
            conn.executemany(
                "INSERT INTO oai_generations (generation, datestamp) VALUES (?, ?)", list(generations)
            )
            _write_set_names(conn, sets)
        # Later generations come after the copy's by themselves: a new one is numbered after every
        # generation stored, in oai_generations and in oai_items alike.
        return written
