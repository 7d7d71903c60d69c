"""Live targets in SQL (:class:`unicat.ports.live_targets.LiveTargetStore`), on SQLite or PostgreSQL: one
row per target, keyed by its code, its query map and libraries as JSON text (a small table read whole)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from typing import Any

from unicat.clock import utc_now
from unicat.live_search import LiveTarget
from unicat.ports.database import Database
from unicat.ports.live_targets import LiveTargetStore

COLUMNS = (
    "code, name, protocol, address, record_syntax, profile, charset, query_map, timeout, libraries, "
    "max_records, enabled, created, updated"
)
_UPDATES = ", ".join(f"{name} = excluded.{name}" for name in COLUMNS.split(", ")[1:])


def _row(target: LiveTarget) -> tuple[Any, ...]:
    return (
        target.code, target.name, target.protocol, target.address, target.record_syntax, target.profile,
        target.charset, json.dumps(dict(target.query_map), ensure_ascii=False), float(target.timeout),
        json.dumps(list(target.libraries)), target.max_records, int(target.enabled), target.created,
        target.updated,
    )  # fmt: skip


def _target(row: Sequence[Any]) -> LiveTarget:
    (code, name, protocol, address, record_syntax, profile, charset, query_map, timeout, libraries,
     max_records, enabled, created, updated) = row  # fmt: skip
    return LiveTarget(
        code=code,
        name=name,
        protocol=protocol,
        address=address,
        record_syntax=record_syntax,
        profile=profile,
        charset=charset,
        query_map=json.loads(query_map),
        timeout=float(timeout),
        libraries=tuple(json.loads(libraries)),
        max_records=int(max_records),
        enabled=bool(enabled),
        created=created,
        updated=updated,
    )


class SqlLiveTargetStore(LiveTargetStore):
    """Table ``live_targets``, keyed by code."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def save_target(self, target: LiveTarget) -> LiveTarget:
        now = utc_now()
        with self.db.write() as conn:
            row = conn.execute("SELECT created FROM live_targets WHERE code = ?", (target.code,)).fetchone()
            created = target.created or (row[0] if row is not None else now)
            stored = dataclasses.replace(target, created=created, updated=target.updated or now)
            marks = ", ".join("?" * (COLUMNS.count(",") + 1))
            conn.execute(
                f"INSERT INTO live_targets ({COLUMNS}) VALUES ({marks}) "
                f"ON CONFLICT (code) DO UPDATE SET {_UPDATES}",
                _row(stored),
            )
        return stored

    def get_target(self, code: str) -> LiveTarget | None:
        with self.db.read() as conn:
            row = conn.execute(f"SELECT {COLUMNS} FROM live_targets WHERE code = ?", (code,)).fetchone()
        return _target(row) if row is not None else None

    def list_targets(self) -> list[LiveTarget]:
        with self.db.read() as conn:
            rows = conn.execute(f"SELECT {COLUMNS} FROM live_targets ORDER BY code").fetchall()
        return [_target(row) for row in rows]

    def remove_target(self, code: str) -> bool:
        with self.db.write(single=True) as conn:
            return conn.execute("DELETE FROM live_targets WHERE code = ?", (code,)).rowcount > 0
