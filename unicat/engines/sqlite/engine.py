"""The embedded engine: everything in one SQLite file, text search with FTS5."""

from __future__ import annotations

import dataclasses
import itertools
import json
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import orjson

from unicat.clock import utc_now
from unicat.documents import index_fields
from unicat.engine import Engine, HarvestMode, one_entry_per_record
from unicat.engines.sqlite import driver, oai, overlap
from unicat.engines.sqlite.connections import TimedConnection
from unicat.engines.sqlite.database import SqliteDatabase
from unicat.engines.sqlite.facets import (
    MULTI_VALUED,
    SINGLE_VALUED,
    FacetCache,
    FacetColumns,
    MatchSet,
    generation,
    parse_rids,
)
from unicat.engines.sqlite.schema import INSERT_TEXT
from unicat.engines.sqlite.search import CompiledSearch, compile_search, order_scored
from unicat.errors import (
    EngineError,
    QueryTimeout,
    SourceNotFound,
)
from unicat.model import (
    QUARANTINE_STAGES,
    HarvestCheckpoint,
    HarvestRun,
    MergeDecision,
    QuarantineEntry,
    QuarantineStage,
    RecordCounts,
    Source,
    SourceRecord,
    SourceRef,
    UnionRecord,
)
from unicat.oai_items import FeedCollector, OaiEntry, OaiItem, OaiSelection
from unicat.overlap import LibraryOverlap
from unicat.ports.database import fetch_in
from unicat.query import FACET_FIELDS, SearchQuery, SearchResult
from unicat.settings import Settings

# Rows fetched per round trip by the streaming iterators: each batch is its own short read, so an
# export never pins a reader connection or an old WAL snapshot for its whole length.
ITER_BATCH = 500
# Values per ``IN (…)`` list: a long list of ids is read in several statements, far below SQLite's
# limit on a statement's variables.
IN_BATCH = 500
# Union records written per executemany call during a rebuild.
WRITE_BATCH = 1_000
# Time limit (seconds) of internal bulk reads such as loading every membership before re-indexing:
# they are not user queries, but a runaway one must still stop.
BULK_READ_TIMEOUT = 300.0
# Redirect chains longer than this are treated as a cycle.
MAX_REDIRECT_HOPS = 16

# One encoder for every stored document: json.dumps with options builds a new one per call. The
# documents are fresh trees of dicts and lists, so the circular-reference check is skipped too.
_DOC_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False)

_RUN_COLUMNS = (
    "id, source, started, status, mode, from_, until, finished, "
    "resumption_token, pages, records, deleted, quarantined, error, server_time"
)
_SOURCE_COLUMNS = "code, name, oai_url, metadata_prefix, set_spec, profile, harvest_interval, mapping"


def _quarantine_entry(row: tuple[Any, ...]) -> QuarantineEntry:
    """A row of ``SELECT source, local_id, stage, reason, raw, created FROM quarantine``."""
    return QuarantineEntry(row[0], row[1], row[2], row[3], bytes(row[4]), row[5])


def _run(row: tuple[Any, ...]) -> HarvestRun:
    (
        run_id, source, started, status, mode, from_, until, finished,
        token, pages, records, deleted, quarantined, error, server_time,
    ) = row  # fmt: skip
    return HarvestRun(
        id=run_id,
        source=source,
        started=started,
        status=status,
        mode=mode,
        from_=from_,
        until=until,
        finished=finished,
        resumption_token=token,
        pages=pages,
        records=records,
        deleted=deleted,
        quarantined=quarantined,
        error=error,
        server_time=server_time,
    )


_INSERT_UNION_RECORD = (
    f"INSERT INTO union_records (rid, id, {', '.join(SINGLE_VALUED.values())}, year, title_sort, doc) "
    f"VALUES (?, ?, {'?, ' * len(SINGLE_VALUED)}?, ?, ?)"
)


def _union_rows(
    records: Iterable[UnionRecord], start: int, gathered: FeedCollector
) -> Iterator[
    tuple[
        tuple[Any, ...],
        tuple[Any, ...],
        dict[str, list[tuple[int, str]]],
        list[tuple[str, str, str]],
    ]
]:
    """Per record: its union_records row, FTS row, rows of (record, value) per multi-valued facet and
    membership rows; and, gathered on the way into ``gathered``, what the OAI-PMH feed needs of it."""
    for rid, record in enumerate(records, start):
        fields = index_fields(record)
        text = fields.text_fields()
        document = record.to_json()
        gathered.add(record, document)
        facets = fields.facets
        yield (
            (
                rid,
                record.id,
                *(values[0] if (values := facets[name]) else None for name in SINGLE_VALUED),
                fields.year,
                fields.title_sort,
                _DOC_ENCODER.encode(document),
            ),
            (rid, *text.values()),
            {name: [(rid, value) for value in facets[name]] for name in MULTI_VALUED},
            [(ref.source, ref.local_id, record.id) for ref in record.sources],
        )


class SqliteEngine(Engine):
    """The default engine: one SQLite file in WAL mode, one writer, a pool of time-limited readers."""

    def __init__(self, path: Path, settings: Settings, database: SqliteDatabase | None = None) -> None:
        """Open the engine on the file at ``path``; or, given the ``database`` already open on that file
        (the stores'), run on it: one file has one writer, whoever writes."""
        self.settings = settings
        self.path = path
        self.url = f"sqlite:///{path}"
        self._owns_database = database is None
        self.database = database or SqliteDatabase(path, settings)
        self._pool = self.database.pool
        self._facets = FacetCache()

    # -- helpers ---------------------------------------------------------------------------------
    def _fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """One read statement under the query time limit."""
        with self._pool.read() as reader, reader.time_limit(self.settings.query_timeout) as conn:
            return conn.execute(sql, params).fetchall()

    def _fetchone(self, sql: str, params: Sequence[Any] = ()) -> Any:
        rows = self._fetchall(sql, params)
        return rows[0] if rows else None

    # -- lifecycle -------------------------------------------------------------------------------
    def ping(self) -> None:
        self.database.ping()

    def close(self) -> None:
        if self._owns_database:
            self.database.close()

    # -- sources ---------------------------------------------------------------------------------
    def save_source(self, source: Source) -> None:
        with self._pool.write() as conn:
            conn.execute(
                f"INSERT OR REPLACE INTO sources ({_SOURCE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
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
        row = self._fetchone(f"SELECT {_SOURCE_COLUMNS} FROM sources WHERE code = ?", (code,))
        if row is None:
            raise SourceNotFound(code)
        return Source(*row)

    def list_sources(self) -> list[Source]:
        rows = self._fetchall(f"SELECT {_SOURCE_COLUMNS} FROM sources ORDER BY code")
        return [Source(*row) for row in rows]

    # -- record store ----------------------------------------------------------------------------
    def store_page(
        self, source: str, records: Sequence[SourceRecord], checkpoint: HarvestCheckpoint | None
    ) -> None:
        strays = {record.source for record in records} - {source}
        if strays:
            raise EngineError(f"store_page({source!r}) was given records of other sources: {sorted(strays)}")
        run = checkpoint.run_id if checkpoint is not None else None
        rows = [
            (
                record.source,
                record.local_id,
                record.syntax,
                record.datestamp,
                int(record.deleted),
                b"" if record.deleted else record.raw,
                run,
            )
            for record in records
        ]
        with self._pool.write() as conn:
            conn.executemany(
                "INSERT INTO source_records (source, local_id, syntax, datestamp, deleted, raw, run) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source, local_id) DO UPDATE SET "
                "syntax = excluded.syntax, datestamp = excluded.datestamp, "
                "deleted = excluded.deleted, raw = excluded.raw, run = excluded.run",
                rows,
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
        row = self._fetchone(
            "SELECT count(*) FROM source_records WHERE source = ? AND deleted = 0 AND run IS NOT ?",
            (source, run_id),
        )
        return int(row[0])

    def delete_unseen(self, source: str, run_id: int) -> int:
        with self._pool.write() as conn:
            cursor = conn.execute(
                "UPDATE source_records SET deleted = 1, raw = x'' "
                "WHERE source = ? AND deleted = 0 AND run IS NOT ?",
                (source, run_id),
            )
            return int(cursor.rowcount)

    def iter_source_records(
        self, source: str | None = None, include_deleted: bool = False
    ) -> Iterator[SourceRecord]:
        conditions = ["(source, local_id) > (?, ?)"]
        fixed: list[Any] = []
        if source is not None:
            conditions.append("source = ?")
            fixed.append(source)
        if not include_deleted:
            conditions.append("deleted = 0")
        sql = (
            "SELECT source, local_id, raw, syntax, datestamp, deleted FROM source_records "
            f"WHERE {' AND '.join(conditions)} ORDER BY source, local_id LIMIT {ITER_BATCH}"
        )
        last: tuple[str, str] = ("", "")
        while True:
            rows = self._fetchall(sql, (*last, *fixed))
            for row in rows:
                yield SourceRecord(row[0], row[1], bytes(row[2]), row[3], row[4], bool(row[5]))
            if len(rows) < ITER_BATCH:
                return
            last = (rows[-1][0], rows[-1][1])

    def get_source_record(self, source: str, local_id: str) -> SourceRecord | None:
        row = self._fetchone(
            "SELECT source, local_id, raw, syntax, datestamp, deleted FROM source_records "
            "WHERE source = ? AND local_id = ?",
            (source, local_id),
        )
        if row is None:
            return None
        return SourceRecord(row[0], row[1], bytes(row[2]), row[3], row[4], bool(row[5]))

    def source_counts(self, source: str | None = None) -> RecordCounts:
        where, params = ("WHERE source = ?", (source,)) if source is not None else ("", ())
        live, deleted = self._fetchone(
            "SELECT count(*) - coalesce(sum(deleted), 0), coalesce(sum(deleted), 0) "
            f"FROM source_records {where}",
            params,
        )
        return RecordCounts(live=live, deleted=deleted)

    # -- harvest state ---------------------------------------------------------------------------
    def start_harvest(
        self,
        source: str,
        mode: HarvestMode,
        from_: str | None = None,
        until: str | None = None,
        server_time: str | None = None,
    ) -> HarvestRun:
        started = utc_now()
        with self._pool.write() as conn:
            cursor = conn.execute(
                "INSERT INTO harvests (source, mode, from_, until, started, server_time) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (source, mode, from_, until, started, server_time),
            )
            run_id = cursor.lastrowid
        assert run_id is not None
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
        row = self._fetchone(
            f"SELECT {_RUN_COLUMNS} FROM harvests WHERE {where} ORDER BY id DESC LIMIT 1", params
        )
        return _run(row) if row is not None else None

    def unfinished_harvest(self, source: str) -> HarvestRun | None:
        return self._one_run("source = ? AND status = 'running'", (source,))

    def finish_harvest(self, run_id: int, status: Literal["ok", "failed"], error: str | None = None) -> None:
        if status not in ("ok", "failed"):
            raise EngineError(f"a harvest finishes 'ok' or 'failed', not {status!r}")
        with self._pool.write() as conn:
            # A finished run has nothing to resume; a failed one keeps its token for the record.
            cursor = conn.execute(
                "UPDATE harvests SET status = ?, finished = ?, error = ?, "
                "resumption_token = CASE WHEN ? = 'ok' THEN NULL ELSE resumption_token END WHERE id = ?",
                (status, utc_now(), error, status, run_id),
            )
            if cursor.rowcount != 1:
                raise EngineError(f"no harvest run with id {run_id}")

    def last_successful_harvest(self, source: str) -> HarvestRun | None:
        return self._one_run("source = ? AND status = 'ok'", (source,))

    def harvest_history(self, source: str | None = None, limit: int = 20) -> list[HarvestRun]:
        where, params = ("WHERE source = ?", (source,)) if source is not None else ("", ())
        rows = self._fetchall(
            f"SELECT {_RUN_COLUMNS} FROM harvests {where} ORDER BY id DESC LIMIT ?", (*params, limit)
        )
        return [_run(row) for row in rows]

    def restore_harvest_runs(self, runs: Sequence[HarvestRun]) -> None:
        # Explicit ids in an AUTOINCREMENT table move its sequence past them: later runs get higher ids.
        rows = [
            (r.id, r.source, r.mode, r.from_, r.until, r.started, r.finished, r.status,
             r.resumption_token, r.pages, r.records, r.deleted, r.quarantined, r.error, r.server_time)
            for r in runs
        ]  # fmt: skip
        with self._pool.write() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO harvests (id, source, mode, from_, until, started, finished, "
                "status, resumption_token, pages, records, deleted, quarantined, error, server_time) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )

    # -- quarantine ------------------------------------------------------------------------------
    def add_quarantine(self, entries: Sequence[QuarantineEntry]) -> None:
        now = utc_now()
        entries = one_entry_per_record(entries)
        rows = [(e.source, e.local_id, e.stage, e.reason, e.created or now, e.raw) for e in entries]
        with self._pool.write() as conn:
            # A record quarantined again (a page fetched twice, a record still broken) keeps one entry.
            conn.executemany(
                "DELETE FROM quarantine WHERE source = ? AND stage = ? AND local_id = ?",
                [(e.source, e.stage, e.local_id) for e in entries if e.local_id is not None],
            )
            conn.executemany(
                "INSERT INTO quarantine (source, local_id, stage, reason, created, raw) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )

    def clear_quarantine(self, stage: QuarantineStage, source: str | None = None) -> None:
        where, params = ("AND source = ?", (source,)) if source is not None else ("", ())
        with self._pool.write() as conn:
            conn.execute(f"DELETE FROM quarantine WHERE stage = ? {where}", (stage, *params))

    def list_quarantine(
        self,
        source: str | None = None,
        limit: int = 100,
        *,
        stage: QuarantineStage | None = None,
        offset: int = 0,
    ) -> list[QuarantineEntry]:
        conditions = [(column, value) for column, value in (("source", source), ("stage", stage)) if value]
        where = " AND ".join(f"{column} = ?" for column, _ in conditions)
        rows = self._fetchall(
            "SELECT source, local_id, stage, reason, raw, created FROM quarantine "
            f"{'WHERE ' + where if where else ''} ORDER BY id DESC LIMIT ? OFFSET ?",
            (*(value for _, value in conditions), max(0, limit), max(0, offset)),
        )
        return [_quarantine_entry(row) for row in rows]

    def count_quarantine(self, source: str | None = None) -> int:
        where, params = ("WHERE source = ?", (source,)) if source is not None else ("", ())
        return int(self._fetchone(f"SELECT count(*) FROM quarantine {where}", params)[0])

    def quarantine_counts(self) -> dict[tuple[str, QuarantineStage], int]:
        rows = self._fetchall("SELECT source, stage, count(*) FROM quarantine GROUP BY source, stage")
        return {(row[0], row[1]): int(row[2]) for row in rows}

    def get_quarantined(self, source: str, local_id: str) -> list[QuarantineEntry]:
        # ``stage IN (…)`` lets the lookup use the (source, stage, local_id) index.
        marks = ", ".join("?" for _ in QUARANTINE_STAGES)
        rows = self._fetchall(
            "SELECT source, local_id, stage, reason, raw, created FROM quarantine "
            f"WHERE source = ? AND stage IN ({marks}) AND local_id = ? ORDER BY id DESC",
            (source, *QUARANTINE_STAGES, local_id),
        )
        return [_quarantine_entry(row) for row in rows]

    def remove_quarantine(
        self, source: str, local_ids: Sequence[str], stages: Sequence[QuarantineStage] = QUARANTINE_STAGES
    ) -> None:
        pairs = [(source, stage, local_id) for local_id in local_ids for stage in stages]
        if not pairs:
            return
        with self._pool.write() as conn:
            conn.executemany("DELETE FROM quarantine WHERE source = ? AND stage = ? AND local_id = ?", pairs)

    # -- librarians' merge decisions -------------------------------------------------------------
    def save_merge_decision(self, decision: MergeDecision) -> MergeDecision:
        (first_source, first_local), (second_source, second_local) = decision.pair
        at = decision.at or utc_now()
        with self._pool.write() as conn:
            conn.execute(
                "DELETE FROM merge_decisions WHERE first_source = ? AND first_local_id = ? "
                "AND second_source = ? AND second_local_id = ?",
                (first_source, first_local, second_source, second_local),
            )
            conn.execute(
                "INSERT INTO merge_decisions (kind, first_source, first_local_id, second_source, "
                "second_local_id, reason, by_, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (decision.kind, first_source, first_local, second_source, second_local, decision.reason,
                 decision.by, at),
            )  # fmt: skip
            decision_id = conn.execute("SELECT last_insert_rowid()").fetchone()[0]
        first, second = SourceRef(first_source, first_local), SourceRef(second_source, second_local)
        return dataclasses.replace(decision, first=first, second=second, id=int(decision_id), at=at)

    def merge_decisions(self) -> list[MergeDecision]:
        rows = self._fetchall(
            "SELECT id, kind, first_source, first_local_id, second_source, second_local_id, reason, by_, at "
            "FROM merge_decisions ORDER BY id"
        )
        return [
            MergeDecision(
                kind=row[1],
                first=SourceRef(row[2], row[3]),
                second=SourceRef(row[4], row[5]),
                reason=row[6],
                by=row[7],
                at=row[8],
                id=int(row[0]),
            )
            for row in rows
        ]

    def remove_merge_decision(self, decision_id: int) -> bool:
        with self._pool.write() as conn:
            conn.execute("DELETE FROM merge_decisions WHERE id = ?", (decision_id,))
            return bool(conn.execute("SELECT changes()").fetchone()[0])

    # -- redirects -------------------------------------------------------------------------------
    def redirects_from(self, union_ids: Sequence[str]) -> dict[str, str]:
        rows = fetch_in(self.database, "SELECT old_id, new_id FROM redirects", "old_id", union_ids)
        return {str(old): str(new) for old, new in rows}

    def redirects_to(self, union_ids: Sequence[str]) -> dict[str, list[str]]:
        pointing: dict[str, list[str]] = {}
        for new, old in fetch_in(self.database, "SELECT new_id, old_id FROM redirects", "new_id", union_ids):
            pointing.setdefault(str(new), []).append(str(old))
        return {new: sorted(olds) for new, olds in pointing.items()}

    # -- union index -----------------------------------------------------------------------------
    def replace_union_records(self, records: Iterable[UnionRecord], redirects: Mapping[str, str]) -> int:
        written = 0
        try:
            with self._pool.write() as conn:
                # Readers keep their WAL snapshot of the old index until this transaction commits.
                for table in sorted({storage.table for storage in MULTI_VALUED.values()}):
                    conn.execute(f"DELETE FROM {table}")
                conn.execute("DELETE FROM union_records")
                conn.execute("DELETE FROM memberships")
                conn.execute("INSERT INTO union_fts (union_fts) VALUES ('delete-all')")
                conn.execute("UPDATE union_state SET generation = generation + 1")
                previous = oai.load_items(conn)
                gathered = FeedCollector()
                rows = _union_rows(records, 1, gathered)
                while batch := list(itertools.islice(rows, WRITE_BATCH)):
                    conn.executemany(_INSERT_UNION_RECORD, [row[0] for row in batch])
                    conn.executemany(INSERT_TEXT, [row[1] for row in batch])
                    for name, storage in MULTI_VALUED.items():
                        conn.executemany(storage.insert, [value for row in batch for value in row[2][name]])
                    conn.executemany(
                        "INSERT INTO memberships (source, local_id, union_id) VALUES (?, ?, ?)",
                        [member for row in batch for member in row[3]],
                    )
                    written += len(batch)
                conn.executemany(
                    "INSERT OR REPLACE INTO redirects (old_id, new_id) VALUES (?, ?)",
                    [(old, new) for old, new in redirects.items() if old != new],
                )
                # An id that lives again (a split undone) must not keep redirecting elsewhere.
                conn.execute("DELETE FROM redirects WHERE old_id IN (SELECT id FROM union_records)")
                # Last: the feed's items and the generation's datestamp, read from the clock now.
                oai.save_changes(conn, previous, gathered, generation(conn))
        except driver.IntegrityError as exc:
            raise EngineError(
                f"the union index was not replaced: a union id or a (source, local_id) member appears "
                f"twice ({exc}); the previous index is unchanged"
            ) from exc
        self._warm_facets()
        return written

    def _warm_facets(self) -> None:
        """Load the new index's facet columns now, so that the first search after a rebuild is not slow."""
        with self._pool.read() as reader:
            with reader.time_limit(self.settings.query_timeout) as conn:
                current = generation(conn)
            self._facet_columns(reader, current)

    def memberships(self) -> dict[tuple[str, str], str]:
        with self._pool.read() as reader, reader.time_limit(BULK_READ_TIMEOUT, "membership load") as conn:
            cursor = conn.execute("SELECT source, local_id, union_id FROM memberships")
            return {(source, local_id): union_id for source, local_id, union_id in cursor}

    def iter_redirects(self) -> Iterator[tuple[str, str]]:
        for row in self._fetchall("SELECT old_id, new_id FROM redirects ORDER BY old_id"):
            yield str(row[0]), str(row[1])

    def resolve_redirect(self, union_id: str) -> str | None:
        with self._pool.read() as reader, reader.time_limit(self.settings.query_timeout) as conn:
            current = union_id
            for _ in range(MAX_REDIRECT_HOPS):
                row = conn.execute("SELECT new_id FROM redirects WHERE old_id = ?", (current,)).fetchone()
                if row is None:
                    break
                current = row[0]
            if current == union_id:
                return None
            exists = conn.execute("SELECT 1 FROM union_records WHERE id = ?", (current,)).fetchone()
            return current if exists else None

    def get_union_record(self, union_id: str) -> UnionRecord | None:
        row = self._fetchone("SELECT doc FROM union_records WHERE id = ?", (union_id,))
        return UnionRecord.from_json(orjson.loads(row[0])) if row is not None else None

    def get_union_records(self, union_ids: Sequence[str]) -> list[UnionRecord]:
        found: dict[str, UnionRecord] = {}
        for start in range(0, len(union_ids), ITER_BATCH):
            batch = list(union_ids[start : start + ITER_BATCH])
            marks = ", ".join("?" * len(batch))
            for union_id, doc in self._fetchall(
                f"SELECT id, doc FROM union_records WHERE id IN ({marks})", batch
            ):
                found[union_id] = UnionRecord.from_json(orjson.loads(doc))
        return [found[union_id] for union_id in union_ids if union_id in found]

    def iter_union_records(self) -> Iterator[UnionRecord]:
        last = ""
        while True:
            rows = self._fetchall(
                f"SELECT id, doc FROM union_records WHERE id > ? ORDER BY id LIMIT {ITER_BATCH}", (last,)
            )
            for _, doc in rows:
                yield UnionRecord.from_json(orjson.loads(doc))
            if len(rows) < ITER_BATCH:
                return
            last = rows[-1][0]

    def union_count(self) -> int:
        return int(self._fetchone("SELECT count(*) FROM union_records")[0])

    def library_overlap(self) -> LibraryOverlap:
        # A count over the whole index, not a user query (the web app keeps it per rebuild): the
        # generous limit of bulk reads.
        with self._pool.read() as reader, reader.time_limit(BULK_READ_TIMEOUT, "library overlap") as conn:
            return overlap.library_overlap(conn)

    # -- OAI-PMH feed ----------------------------------------------------------------------------
    def oai_generations(self) -> list[tuple[int, str]]:
        with self._pool.read() as reader, reader.time_limit(self.settings.query_timeout) as conn:
            return oai.generations(conn)

    def oai_list(
        self, selection: OaiSelection, after: tuple[int, str] | None, limit: int, with_records: bool
    ) -> list[OaiEntry]:
        sql, params = oai.list_sql(selection, after, limit, with_records)
        return list(oai.entries(self._fetchall(sql, params), with_records))

    def oai_count(self, selection: OaiSelection) -> int:
        sql, params = oai.count_sql(selection)
        return int(self._fetchone(sql, params)[0])

    def oai_entry(self, union_id: str, with_record: bool) -> OaiEntry | None:
        rows = self._fetchall(oai.entry_sql(with_record), (union_id,))
        return next(oai.entries(rows, with_record), None)

    def restore_oai_feed(
        self, items: Iterable[OaiItem], generations: Sequence[tuple[int, str]], sets: Mapping[str, str]
    ) -> int:
        with self._pool.write() as conn:
            return oai.restore(conn, items, generations, sets)

    def oai_sets(self) -> dict[str, str]:
        return {
            str(spec): str(name)
            for spec, name in self._fetchall("SELECT spec, name FROM oai_sets ORDER BY spec")
        }

    def search(self, query: SearchQuery) -> SearchResult:
        began = time.perf_counter()
        compiled = compile_search(query)
        with self._pool.read() as reader:
            # One read transaction: the total, the page and the facets all see the same snapshot.
            with reader.time_limit(self.settings.query_timeout, "search") as conn:
                current = generation(conn)
            matches = self._match_set(reader, compiled, current) if query.facets else None
            with reader.time_limit(self.settings.query_timeout, "search") as conn:
                if matches is None:
                    total = int(conn.execute(compiled.count_sql(), compiled.params).fetchone()[0])
                else:
                    total = matches.total
                page = self._page(conn, compiled, query)
                marks = ", ".join("?" for _ in page)
                docs = dict(conn.execute(f"SELECT rid, doc FROM union_records WHERE rid IN ({marks})", page))
                hits = [UnionRecord.from_json(orjson.loads(docs[rid])) for rid in page]
            result = SearchResult(total=total, hits=hits)
            if query.facets and total:
                self._count_facets(reader, current, matches, query.facet_size, result)
        result.took_ms = (time.perf_counter() - began) * 1000
        return result

    def _page(self, conn: driver.Connection, compiled: CompiledSearch, query: SearchQuery) -> list[int]:
        """The rids of the page of hits, in order."""
        page = self._page_by_score(conn, compiled, query)
        if page is None:
            sql, params = compiled.page_sql(query)
            page = [rid for (rid,) in conn.execute(sql, params)]
        return page

    def _page_by_score(
        self, conn: driver.Connection, compiled: CompiledSearch, query: SearchQuery
    ) -> list[int] | None:
        """The page of a relevance search from its best scores alone, or ``None`` to use the full sort.

        Ranking 50,000 matches by (score, title_sort, id) seeks every match's sort keys (~35 ms of
        ~105); the score alone orders all but ties. The FTS index gives the best ``wanted`` matches
        and a margin; the sort keys of those scoring no worse than the page's last are read, and
        SQLite orders them exactly as the full sort would. When the margin is all ties the page's
        last score may be shared by matches beyond it: then the full sort decides.
        """
        scored = compiled.scored_sql(query)
        if scored is None:
            return None
        sql, params, wanted, limit = scored
        rows = conn.execute(sql, params).fetchall()
        if len(rows) == limit:
            last = rows[wanted - 1][1]
            if rows[-1][1] <= last:
                return None
            rows = [row for row in rows if row[1] <= last]
        if not rows:
            return []
        sql, params = order_scored(rows, query)
        return [rid for (rid,) in conn.execute(sql, params)]

    def _match_set(self, reader: TimedConnection, compiled: CompiledSearch, current: int) -> MatchSet | None:
        """The rids of every match, for the total and the facets; ``None`` past the facets' budget.

        Fetching the match set is the facets' work, so it runs under their budget: when it is too
        slow the facets are dropped and the total is counted in SQL instead.
        """
        rids_sql = compiled.rids_sql()
        if rids_sql is None:
            return MatchSet(None, self._facet_columns(reader, current).records)
        try:
            with reader.time_limit(self.settings.facet_timeout, "facets") as conn:
                rids = parse_rids(conn.execute(*rids_sql).fetchone()[0])
        except QueryTimeout:
            return None
        return MatchSet(rids, len(rids))

    def _facet_columns(self, reader: TimedConnection, current: int) -> FacetColumns:
        # A bulk read once per rebuild, not a user query: its own generous limit.
        with reader.time_limit(BULK_READ_TIMEOUT, "facet load") as conn:
            return self._facets.columns(conn, current)

    def _count_facets(
        self,
        reader: TimedConnection,
        current: int,
        matches: MatchSet | None,
        size: int,
        result: SearchResult,
    ) -> None:
        """Every facet over ``matches``, each within ``facet_timeout`` of the facets' start, or dropped."""
        deadline = time.monotonic() + self.settings.facet_timeout
        if matches is None or time.monotonic() > deadline:
            result.facets_timed_out.extend(FACET_FIELDS)
            return
        columns = self._facet_columns(reader, current)
        for facet in FACET_FIELDS:
            if time.monotonic() > deadline:
                # A slow facet is dropped, never the page: the user still gets the hits.
                result.facets_timed_out.append(facet)
                continue
            result.facets[facet] = columns.count(facet, matches, size)
