"""Sources, their records as harvested, and harvest runs with their checkpoints, in SQL (the part of
:class:`unicat.ports.records.RecordStore` the harvester and importers write), on SQLite or PostgreSQL.

A page of records and its run's checkpoint are one transaction: a harvest killed at any moment resumes
from the last page stored. Each record keeps the run that last stored it, so that a full harvest can
mark deleted what it no longer saw, and the number of the write that last changed it, so that an index
pass reads only what changed since the last one (``record_changes.py``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Literal

from unicat.clock import utc_now
from unicat.errors import EngineError, SourceNotFound
from unicat.model import HarvestCheckpoint, HarvestRun, RecordCounts, Source, SourceRecord
from unicat.ports.database import Database, insert_numbered, iter_keyset
from unicat.ports.records import HarvestMode
from unicat.stores.record_changes import next_change

SOURCE_COLUMNS = "code, name, oai_url, metadata_prefix, set_spec, profile, harvest_interval, mapping"
RECORD_COLUMNS = "source, local_id, raw, syntax, datestamp, deleted"
RUN_COLUMNS = (
    "id, source, started, status, mode, from_, until, finished, "
    "resumption_token, pages, records, deleted, quarantined, error, server_time"
)
# Source records read per statement by the streaming iterator: each batch is its own short read.
RECORD_BATCH = 500
# A record stored again keeps its change number unless what the indexer reads of it changed: a full
# harvest that finds a record as it was must not make the next index pass read it again.
_STORE_RECORD = (
    "INSERT INTO source_records (source, local_id, syntax, datestamp, deleted, raw, run, change_seq) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source, local_id) DO UPDATE SET "
    "syntax = excluded.syntax, datestamp = excluded.datestamp, "
    "deleted = excluded.deleted, raw = excluded.raw, run = excluded.run, "
    "change_seq = CASE WHEN source_records.raw = excluded.raw "
    "AND source_records.deleted = excluded.deleted AND source_records.syntax = excluded.syntax "
    "AND source_records.datestamp IS NOT DISTINCT FROM excluded.datestamp "
    "THEN source_records.change_seq ELSE excluded.change_seq END"
)


def _source(row: Sequence[Any]) -> Source:
    code, name, oai_url, metadata_prefix, set_spec, profile, interval, mapping = row
    interval = float(interval) if interval is not None else None
    return Source(code, name, oai_url, metadata_prefix, set_spec, profile, interval, mapping)


def _record(row: Sequence[Any]) -> SourceRecord:
    source, local_id, raw, syntax, datestamp, deleted = row
    return SourceRecord(source, local_id, bytes(raw), syntax, datestamp, bool(deleted))


def _run(row: Sequence[Any]) -> HarvestRun:
    (
        run_id, source, started, status, mode, from_, until, finished,
        token, pages, records, deleted, quarantined, error, server_time,
    ) = row  # fmt: skip
    return HarvestRun(
        id=int(run_id),
        source=source,
        started=started,
        status=status,
        mode=mode,
        from_=from_,
        until=until,
        finished=finished,
        resumption_token=token,
        pages=int(pages),
        records=int(records),
        deleted=int(deleted),
        quarantined=int(quarantined),
        error=error,
        server_time=server_time,
    )


class SqlHarvests:
    """Tables ``sources``, ``source_records`` (a deleted record is a tombstone with empty ``raw``) and
    ``harvests`` (one row per run, its checkpoint updated with each page)."""

    db: Database

    # -- sources ---------------------------------------------------------------------------------
    def save_source(self, source: Source) -> None:
        settings = ", ".join(f"{name} = excluded.{name}" for name in SOURCE_COLUMNS.split(", ")[1:])
        with self.db.write() as conn:
            conn.execute(
                f"INSERT INTO sources ({SOURCE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                f"ON CONFLICT (code) DO UPDATE SET {settings}",
                (
                    source.code,
                    source.name,
                    source.oai_url,
                    source.metadata_prefix,
                    source.set_spec,
                    source.profile,
                    source.harvest_interval,
                    source.mapping,
                ),
            )

    def get_source(self, code: str) -> Source:
        with self.db.read() as conn:
            row = conn.execute(f"SELECT {SOURCE_COLUMNS} FROM sources WHERE code = ?", (code,)).fetchone()
        if row is None:
            raise SourceNotFound(code)
        return _source(row)

    def list_sources(self) -> list[Source]:
        with self.db.read() as conn:
            rows = conn.execute(f"SELECT {SOURCE_COLUMNS} FROM sources ORDER BY code").fetchall()
        return [_source(row) for row in rows]

    # -- source records --------------------------------------------------------------------------
    def store_page(
        self, source: str, records: Sequence[SourceRecord], checkpoint: HarvestCheckpoint | None
    ) -> None:
        strays = {record.source for record in records} - {source}
        if strays:
            raise EngineError(f"store_page({source!r}) was given records of other sources: {sorted(strays)}")
        run = checkpoint.run_id if checkpoint is not None else None
        with self.db.write() as conn:
            if records:
                change = next_change(conn)
                conn.executemany(
                    _STORE_RECORD,
                    [
                        (
                            record.source,
                            record.local_id,
                            record.syntax,
                            record.datestamp,
                            int(record.deleted),
                            b"" if record.deleted else record.raw,
                            run,
                            change,
                        )
                        for record in records
                    ],
                )
            if checkpoint is not None:
                cursor = conn.execute(
                    "UPDATE harvests SET resumption_token = ?, pages = ?, records = ?, deleted = ?, "
                    "quarantined = ? WHERE id = ? AND source = ?",
                    (
                        checkpoint.resumption_token,
                        checkpoint.pages,
                        checkpoint.records,
                        checkpoint.deleted,
                        checkpoint.quarantined,
                        checkpoint.run_id,
                        source,
                    ),
                )
                if cursor.rowcount != 1:
                    # Raising rolls the page back too: records without their checkpoint would be a
                    # page the resumed harvest cannot account for.
                    raise EngineError(
                        f"no harvest run {checkpoint.run_id} of source {source!r} to checkpoint"
                    )

    def unseen_count(self, source: str, run_id: int) -> int:
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT count(*) FROM source_records "
                "WHERE source = ? AND deleted = 0 AND run IS DISTINCT FROM ?",
                (source, run_id),
            ).fetchone()
        return int(row[0])

    def delete_unseen(self, source: str, run_id: int) -> int:
        with self.db.write() as conn:
            cursor = conn.execute(
                "UPDATE source_records SET deleted = 1, raw = ?, change_seq = ? "
                "WHERE source = ? AND deleted = 0 AND run IS DISTINCT FROM ?",
                (b"", next_change(conn), source, run_id),
            )
            return int(cursor.rowcount)

    def iter_source_records(
        self, source: str | None = None, include_deleted: bool = False
    ) -> Iterator[SourceRecord]:
        conditions = [
            *(["source = ?"] if source is not None else []),
            *([] if include_deleted else ["deleted = 0"]),
        ]
        rows = iter_keyset(
            self.db,
            "source_records",
            RECORD_COLUMNS,
            "source, local_id",
            RECORD_BATCH,
            where=" AND ".join(conditions),
            params=[source] if source is not None else [],
        )
        return map(_record, rows)

    def get_source_record(self, source: str, local_id: str) -> SourceRecord | None:
        with self.db.read() as conn:
            row = conn.execute(
                f"SELECT {RECORD_COLUMNS} FROM source_records WHERE source = ? AND local_id = ?",
                (source, local_id),
            ).fetchone()
        return _record(row) if row is not None else None

    def source_counts(self, source: str | None = None) -> RecordCounts:
        where, params = ("WHERE source = ?", (source,)) if source is not None else ("", ())
        with self.db.read() as conn:
            total, deleted = conn.execute(
                f"SELECT count(*), coalesce(sum(deleted), 0) FROM source_records {where}", params
            ).fetchone()
        return RecordCounts(live=int(total) - int(deleted), deleted=int(deleted))

    # -- harvest runs ----------------------------------------------------------------------------
    def start_harvest(
        self,
        source: str,
        mode: HarvestMode,
        from_: str | None = None,
        until: str | None = None,
        server_time: str | None = None,
    ) -> HarvestRun:
        started = utc_now()
        with self.db.write() as conn:
            run_id = insert_numbered(
                self.db,
                conn,
                "harvests",
                "id, source, mode, from_, until, started, server_time",
                None,
                (source, mode, from_, until, started, server_time),
            )
        assert run_id is not None  # no ON CONFLICT clause: the row is always inserted
        return HarvestRun(
            id=run_id,
            source=source,
            started=started,
            mode=mode,
            from_=from_,
            until=until,
            server_time=server_time,
        )

    def _one_run(self, where: str, params: Sequence[Any]) -> HarvestRun | None:
        with self.db.read() as conn:
            row = conn.execute(
                f"SELECT {RUN_COLUMNS} FROM harvests WHERE {where} ORDER BY id DESC LIMIT 1", params
            ).fetchone()
        return _run(row) if row is not None else None

    def unfinished_harvest(self, source: str) -> HarvestRun | None:
        return self._one_run("source = ? AND status = 'running'", (source,))

    def finish_harvest(self, run_id: int, status: Literal["ok", "failed"], error: str | None = None) -> None:
        if status not in ("ok", "failed"):
            raise EngineError(f"a harvest finishes 'ok' or 'failed', not {status!r}")
        # A finished run has nothing to resume; a failed one keeps its token for the record.
        token = ", resumption_token = NULL" if status == "ok" else ""
        with self.db.write() as conn:
            cursor = conn.execute(
                f"UPDATE harvests SET status = ?, finished = ?, error = ?{token} WHERE id = ?",
                (status, utc_now(), error, run_id),
            )
            if cursor.rowcount != 1:
                raise EngineError(f"no harvest run with id {run_id}")

    def pause_harvest(self, run_id: int, reason: str) -> None:
        with self.db.write() as conn:
            cursor = conn.execute(
                "UPDATE harvests SET error = ? WHERE id = ? AND status = 'running'", (reason, run_id)
            )
            if cursor.rowcount != 1:
                raise EngineError(f"no running harvest run with id {run_id}")

    def last_successful_harvest(self, source: str) -> HarvestRun | None:
        return self._one_run("source = ? AND status = 'ok'", (source,))

    def harvest_history(self, source: str | None = None, limit: int = 20) -> list[HarvestRun]:
        where, params = ("WHERE source = ?", (source,)) if source is not None else ("", ())
        with self.db.read() as conn:
            rows = conn.execute(
                f"SELECT {RUN_COLUMNS} FROM harvests {where} ORDER BY id DESC LIMIT ?", (*params, limit)
            ).fetchall()
        return [_run(row) for row in rows]

    def restore_harvest_runs(self, runs: Sequence[HarvestRun]) -> None:
        columns = RUN_COLUMNS.split(", ")
        settings = ", ".join(f"{name} = excluded.{name}" for name in columns[1:])
        rows = [
            (r.id, r.source, r.started, r.status, r.mode, r.from_, r.until, r.finished,
             r.resumption_token, r.pages, r.records, r.deleted, r.quarantined, r.error, r.server_time)
            for r in runs
        ]  # fmt: skip
        with self.db.write() as conn:
            conn.executemany(
                f"INSERT INTO harvests ({RUN_COLUMNS}) VALUES ({', '.join('?' * len(columns))}) "
                f"ON CONFLICT (id) DO UPDATE SET {settings}",
                rows,
            )
            self.db.numbered_after(conn, "harvests")
