"""Each source's tables of holdings codes in SQL (part of :class:`unicat.ports.records.RecordStore`),
on SQLite or PostgreSQL: one row per (source, kind, code) with its name."""

from __future__ import annotations

from collections.abc import Sequence

from unicat.holding_codes import CodeName
from unicat.ports.database import Database


class SqlHoldingCodes:
    """Table ``holding_codes``, unique per (source, kind, code)."""

    db: Database

    def set_holding_codes(self, source: str, entries: Sequence[CodeName]) -> None:
        with self.db.write() as conn:
            conn.executemany(
                "INSERT INTO holding_codes (source, kind, code, name) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (source, kind, code) DO UPDATE SET name = excluded.name",
                [(source, entry.kind, entry.code, entry.name) for entry in entries],
            )

    def remove_holding_codes(self, source: str, kind: str | None = None, codes: Sequence[str] = ()) -> int:
        with self.db.write() as conn:
            if kind is None:
                return conn.execute("DELETE FROM holding_codes WHERE source = ?", (source,)).rowcount
            if not codes:
                sql = "DELETE FROM holding_codes WHERE source = ? AND kind = ?"
                return conn.execute(sql, (source, kind)).rowcount
            marks = ", ".join("?" * len(codes))
            sql = f"DELETE FROM holding_codes WHERE source = ? AND kind = ? AND code IN ({marks})"
            return conn.execute(sql, (source, kind, *codes)).rowcount

    def holding_codes(self, source: str | None = None) -> dict[str, list[CodeName]]:
        where, params = ("WHERE source = ?", (source,)) if source is not None else ("", ())
        with self.db.read() as conn:
            rows = conn.execute(
                f"SELECT source, kind, code, name FROM holding_codes {where} ORDER BY source, kind, code",
                params,
            ).fetchall()
        tables: dict[str, list[CodeName]] = {}
        for row_source, kind, code, name in rows:
            tables.setdefault(row_source, []).append(CodeName(kind, code, name))
        return tables
