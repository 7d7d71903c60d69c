"""The rows of a union record in the SQLite index, written by a rebuild and by a partial update.

Per record: its ``union_records`` row (facet and sort columns before the long document), its row of
the contentless text index, a row per value of each multi-valued facet, a row per library of its
``held_since``. A partial update also removes the rows of a record's stored version: a contentless
FTS5 row is removed by giving it back the very text it was indexed with, which the stored document
gives again (``index_fields`` of the record it decodes to, as migrations 3 and 15 refill the text
index), and every other row by the record's ``rid``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import orjson

from unicat.documents import IndexFields, index_fields
from unicat.engines.sqlite import driver
from unicat.engines.sqlite.facets import MULTI_VALUED, SINGLE_VALUED
from unicat.engines.sqlite.schema import V15_TEXT_COLUMNS
from unicat.model import UnionRecord
from unicat.ports.union_index import RecordObserver

_RECORD_COLUMNS = ("id", *SINGLE_VALUED.values(), "year", "title_sort", "first_seen", "doc")
INSERT_UNION_RECORD = (
    f"INSERT INTO union_records (rid, {', '.join(_RECORD_COLUMNS)}) VALUES (?{', ?' * len(_RECORD_COLUMNS)})"
)
_SETTINGS = ", ".join(f"{name} = ?" for name in _RECORD_COLUMNS)
UPDATE_UNION_RECORD = f"UPDATE union_records SET {_SETTINGS} WHERE rid = ?"
INSERT_HELD_SINCE = "INSERT INTO union_held_since (record, library, since) VALUES (?, ?, ?)"
DELETE_TEXT = (
    f"INSERT INTO union_fts (union_fts, rowid, {', '.join(V15_TEXT_COLUMNS)}) "
    f"VALUES ('delete', ?{', ?' * len(V15_TEXT_COLUMNS)})"
)
# The tables of a record's rows other than its own and its text, by the record's rid: each has it as
# the leading column of an index (the shared facet values table since migration 26), so that
# removing one record's rows never walks a table.
CHILD_TABLES = (*sorted({storage.table for storage in MULTI_VALUED.values()}), "union_held_since")

UnionRows = tuple[
    tuple[Any, ...], tuple[Any, ...], dict[str, list[tuple[int, str]]], list[tuple[int, str, str]]
]
Counted = Callable[[UnionRecord, IndexFields], None]


def union_rows(
    numbered: Iterable[tuple[int, UnionRecord]], observe: RecordObserver | None, count: Counted
) -> Iterator[UnionRows]:
    """Per (rid, record): its union_records row, FTS row, rows of (record, value) per multi-valued
    facet and rows of (record, library, since) of its held_since; ``observe`` is shown each record and
    its document on the way, and ``count`` each record with its analysed fields (the words and
    headings)."""
    for rid, record in numbered:
        fields = index_fields(record)
        count(record, fields)
        text = fields.text_fields()
        document = record.to_json()
        if observe is not None:
            observe(record, document)
        facets = fields.facets
        yield (
            (
                rid,
                record.id,
                *(values[0] if (values := facets[name]) else None for name in SINGLE_VALUED),
                fields.year,
                fields.title_sort,
                record.first_seen,
                # Compact UTF-8 JSON, stored as text; read back with orjson too.
                orjson.dumps(document).decode(),
            ),
            (rid, *text.values()),
            {name: [(rid, value) for value in facets[name]] for name in MULTI_VALUED},
            [(rid, library, since) for library, since in record.held_since.items()],
        )


def insert_children(conn: driver.Connection, batch: Sequence[UnionRows], text: str) -> None:
    """The text rows (by ``text``: the statement that adds one) and the facet and held_since rows of
    ``batch``."""
    conn.executemany(text, [row[1] for row in batch])
    for name, storage in MULTI_VALUED.items():
        conn.executemany(storage.insert, [value for row in batch for value in row[2][name]])
    conn.executemany(INSERT_HELD_SINCE, [held for row in batch for held in row[3]])


def remove_children(conn: driver.Connection, stored: Sequence[tuple[int, UnionRecord, IndexFields]]) -> None:
    """Remove every row but its union_records row of each stored (rid, record, fields): its text (given
    back as it was indexed), facet values and held_since."""
    conn.executemany(DELETE_TEXT, [(rid, *fields.text_fields().values()) for rid, _record, fields in stored])
    rids = [rid for rid, _record, _fields in stored]
    for start in range(0, len(rids), 500):
        part = rids[start : start + 500]
        marks = ", ".join("?" * len(part))
        for table in CHILD_TABLES:
            conn.execute(f"DELETE FROM {table} WHERE record IN ({marks})", part)
