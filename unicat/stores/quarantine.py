"""The quarantine in SQL: records that could not be taken in, with their reason and raw bytes, kept for
a librarian to read (part of :class:`unicat.ports.records.RecordStore`), on SQLite or PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from unicat.clock import utc_now
from unicat.model import QUARANTINE_STAGES, QuarantineEntry, QuarantineStage
from unicat.ports.database import Database
from unicat.ports.records import one_entry_per_record

ENTRY_COLUMNS = "source, local_id, stage, reason, raw, created, kind"


def _entry(row: Sequence[Any]) -> QuarantineEntry:
    source, local_id, stage, reason, raw, created, kind = row
    return QuarantineEntry(source, local_id, stage, reason, bytes(raw), created, kind)


def _filter(source: str | None, stage: str | None, kind: str | None) -> tuple[str, tuple[str, ...]]:
    """The WHERE clause (or nothing) and its parameters for the filters given."""
    conditions = [
        (column, value) for column, value in (("source", source), ("stage", stage), ("kind", kind)) if value
    ]
    where = " AND ".join(f"{column} = ?" for column, _ in conditions)
    return ("WHERE " + where if where else ""), tuple(value for _, value in conditions)


class SqlQuarantine:
    """Table ``quarantine``: numbered in the order entries arrive (newest first is by ``id``), found by
    (source, stage, local_id) so that a record quarantined again replaces its entry."""

    db: Database

    def add_quarantine(self, entries: Sequence[QuarantineEntry]) -> None:
        now = utc_now()
        entries = one_entry_per_record(entries)
        with self.db.write() as conn:
            # A record quarantined again (a page fetched twice, a record still broken) keeps one entry.
            conn.executemany(
                "DELETE FROM quarantine WHERE source = ? AND stage = ? AND local_id = ?",
                [(e.source, e.stage, e.local_id) for e in entries if e.local_id is not None],
            )
            conn.executemany(
                f"INSERT INTO quarantine ({ENTRY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(e.source, e.local_id, e.stage, e.reason, e.raw, e.created or now, e.kind) for e in entries],
            )

    def clear_quarantine(self, stage: QuarantineStage, source: str | None = None) -> None:
        where, params = ("AND source = ?", (source,)) if source is not None else ("", ())
        with self.db.write() as conn:
            conn.execute(f"DELETE FROM quarantine WHERE stage = ? {where}", (stage, *params))

    def list_quarantine(
        self,
        source: str | None = None,
        limit: int = 100,
        *,
        stage: QuarantineStage | None = None,
        offset: int = 0,
        kind: str | None = None,
    ) -> list[QuarantineEntry]:
        where, params = _filter(source, stage, kind)
        with self.db.read() as conn:
            rows = conn.execute(
                f"SELECT {ENTRY_COLUMNS} FROM quarantine {where} ORDER BY id DESC LIMIT ? OFFSET ?",
                (*params, max(0, limit), max(0, offset)),
            ).fetchall()
        return [_entry(row) for row in rows]

    def count_quarantine(
        self, source: str | None = None, *, stage: QuarantineStage | None = None, kind: str | None = None
    ) -> int:
        where, params = _filter(source, stage, kind)
        with self.db.read() as conn:
            return int(conn.execute(f"SELECT count(*) FROM quarantine {where}", params).fetchone()[0])

    def quarantine_counts(self) -> dict[tuple[str, QuarantineStage], int]:
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT source, stage, count(*) FROM quarantine GROUP BY source, stage"
            ).fetchall()
        return {(row[0], row[1]): int(row[2]) for row in rows}

    def quarantine_kind_counts(self) -> dict[tuple[str, str], int]:
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT source, kind, count(*) FROM quarantine WHERE kind <> '' GROUP BY source, kind"
            ).fetchall()
        return {(row[0], row[1]): int(row[2]) for row in rows}

    def get_quarantined(self, source: str, local_id: str) -> list[QuarantineEntry]:
        # ``stage IN (…)`` lets the lookup use the (source, stage, local_id) index.
        marks = ", ".join("?" for _ in QUARANTINE_STAGES)
        with self.db.read() as conn:
            rows = conn.execute(
                f"SELECT {ENTRY_COLUMNS} FROM quarantine "
                f"WHERE source = ? AND stage IN ({marks}) AND local_id = ? ORDER BY id DESC",
                (source, *QUARANTINE_STAGES, local_id),
            ).fetchall()
        return [_entry(row) for row in rows]

    def remove_quarantine(
        self, source: str, local_ids: Sequence[str], stages: Sequence[QuarantineStage] = QUARANTINE_STAGES
    ) -> None:
        pairs = [(source, stage, local_id) for local_id in local_ids for stage in stages]
        if not pairs:
            return
        with self.db.write() as conn:
            conn.executemany("DELETE FROM quarantine WHERE source = ? AND stage = ? AND local_id = ?", pairs)
