"""A partial update of the SQLite union index: some records written, some removed, in place.

What an incremental index pass calls (through :meth:`unicat.ports.union_index.UnionIndex.
update_union_records`) with the records of the region it rebuilt. Everything happens in one write
transaction, so a reader's snapshot shows the generation before or after it, never half of it. A
record written again keeps its ``rid`` (its ``union_records`` row is updated in place, so that no
foreign key cascade runs) and a new one takes the next; the rows of the stored versions are removed
first (:mod:`unicat.engines.sqlite.union_rows`). The words and headings are adjusted by the
differences between the stored versions and the new ones (:class:`unicat.vocabulary.VocabularyChange`),
and the ranked heads of the short prefixes those touch ranked again. The generation number is raised,
so that searches load the facet columns of the new state (:mod:`unicat.engines.sqlite.facets`).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence

import orjson

from unicat.documents import IndexFields, index_fields
from unicat.engines.sqlite import driver
from unicat.engines.sqlite.schema import INSERT_TEXT
from unicat.engines.sqlite.union_rows import (
    INSERT_UNION_RECORD,
    UPDATE_UNION_RECORD,
    insert_children,
    remove_children,
    union_rows,
)
from unicat.errors import EngineError
from unicat.model import UnionRecord
from unicat.ports.union_index import RecordObserver
from unicat.vocabulary import MAX_SUGGESTIONS, VocabularyChange, prefix_bounds

BATCH = 1_000
"""Records read, removed and written per round: memory holds one batch's old and new versions."""

Stored = tuple[int, UnionRecord, IndexFields]

# The ranked heads of one short prefix, as a rebuild ranks every one (engine.py _RANK_HEADS).
_RANK_PREFIX = """
    INSERT INTO union_suggestion_heads (prefix, rank, key, kind, count, text)
    SELECT ?, row_number() OVER (ORDER BY count DESC, key, kind), key, kind, count, text
    FROM union_suggestions WHERE key >= ? AND key < ? ORDER BY count DESC, key, kind LIMIT ?
"""


def _stored(conn: driver.Connection, union_ids: Sequence[str]) -> dict[str, Stored]:
    """The stored version of each of these records that the index holds, by id."""
    if not union_ids:
        return {}
    marks = ", ".join("?" * len(union_ids))
    found: dict[str, Stored] = {}
    for rid, union_id, doc in conn.execute(
        f"SELECT rid, id, doc FROM union_records WHERE id IN ({marks})", list(union_ids)
    ):
        record = UnionRecord.from_json(orjson.loads(doc))
        found[str(union_id)] = (int(rid), record, index_fields(record))
    return found


def update_records(
    conn: driver.Connection,
    upserts: Iterable[UnionRecord],
    deletes: Sequence[str],
    observe: RecordObserver | None,
) -> int:
    """Within ``conn``'s write transaction: write ``upserts`` and remove ``deletes`` (ids the index does
    not hold are ignored); returns how many records were written. A union id given twice, or both
    written and removed, raises :class:`EngineError` (the caller's transaction then rolls back)."""
    removing = list(dict.fromkeys(deletes))
    if len(removing) != len(deletes):
        raise EngineError("the union index was not updated: a union id is given twice to remove")
    seen = set(removing)
    change = VocabularyChange()
    next_rid = int(conn.execute("SELECT coalesce(max(rid), 0) FROM union_records").fetchone()[0]) + 1
    written = 0
    records = iter(upserts)
    while batch := list(itertools.islice(records, BATCH)):
        for record in batch:
            if record.id in seen:
                raise EngineError(
                    f"the union index was not updated: the union id {record.id!r} is given twice; "
                    "it is unchanged"
                )
            seen.add(record.id)
        stored = _stored(conn, [record.id for record in batch])
        _remove_stored(conn, list(stored.values()), change)
        numbered: list[tuple[int, UnionRecord]] = []
        for record in batch:
            old = stored.get(record.id)
            if old is None:
                numbered.append((next_rid, record))
                next_rid += 1
            else:
                numbered.append((old[0], record))
        rows = list(union_rows(numbered, observe, change.add))
        conn.executemany(INSERT_UNION_RECORD, [row[0] for row in rows if row[0][1] not in stored])
        conn.executemany(
            UPDATE_UNION_RECORD, [(*row[0][1:], row[0][0]) for row in rows if row[0][1] in stored]
        )
        insert_children(conn, rows, INSERT_TEXT)
        written += len(rows)
    for start in range(0, len(removing), BATCH):
        stored = _stored(conn, removing[start : start + BATCH])
        gone = list(stored.values())
        _remove_stored(conn, gone, change)
        rids = [rid for rid, _record, _fields in gone]
        if rids:
            conn.execute(f"DELETE FROM union_records WHERE rid IN ({', '.join('?' * len(rids))})", rids)
    apply_vocabulary(conn, change)
    conn.execute("UPDATE union_state SET generation = generation + 1")
    return written


def _remove_stored(conn: driver.Connection, stored: Sequence[Stored], change: VocabularyChange) -> None:
    remove_children(conn, stored)
    for _rid, record, fields in stored:
        change.remove(record, fields)


def apply_vocabulary(conn: driver.Connection, change: VocabularyChange) -> None:
    """Within ``conn``'s transaction: the words' and headings' counts moved by ``change``, those no
    record holds any more removed, and the heads of the short prefixes it touched ranked again."""
    words = change.changed_words()
    conn.executemany(
        "INSERT INTO union_words (word, count) VALUES (?, ?) "
        "ON CONFLICT (word) DO UPDATE SET count = count + excluded.count",
        words.items(),
    )
    conn.executemany(
        "DELETE FROM union_words WHERE word = ? AND count <= 0",
        [(word,) for word, delta in words.items() if delta < 0],
    )
    headings = change.changed_headings()
    conn.executemany(
        "INSERT INTO union_suggestions (key, kind, count, text) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (key, kind) DO UPDATE SET count = count + excluded.count",
        [(key, kind, delta, change.texts.get((kind, key), "")) for (kind, key), delta in headings.items()],
    )
    conn.executemany(
        "DELETE FROM union_suggestions WHERE key = ? AND kind = ? AND count <= 0",
        [(key, kind) for (kind, key), delta in headings.items() if delta < 0],
    )
    for prefix in sorted(change.short_prefixes()):
        conn.execute("DELETE FROM union_suggestion_heads WHERE prefix = ?", (prefix,))
        conn.execute(_RANK_PREFIX, (prefix, *prefix_bounds(prefix), MAX_SUGGESTIONS))
