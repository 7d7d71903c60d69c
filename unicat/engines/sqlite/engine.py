"""The embedded union index: the union records in the SQLite file, text search with FTS5."""

from __future__ import annotations

import contextlib
import itertools
import logging
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import orjson

from unicat.engines.sqlite import driver, overlap
from unicat.engines.sqlite.connections import TimedConnection
from unicat.engines.sqlite.database import SqliteDatabase
from unicat.engines.sqlite.facets import (
    MULTI_VALUED,
    FacetCache,
    FacetColumns,
    MatchSet,
    generation,
    parse_rids,
)
from unicat.engines.sqlite.schema import INSERT_TEXT
from unicat.engines.sqlite.search import CompiledSearch, compile_search, order_scored
from unicat.engines.sqlite.union_rows import CHILD_TABLES, INSERT_UNION_RECORD, insert_children, union_rows
from unicat.engines.sqlite.union_update import update_records
from unicat.errors import EngineError, QueryTimeout
from unicat.model import UnionRecord
from unicat.overlap import LibraryOverlap
from unicat.ports.database import fetch_in, indexes_deferred, iter_keyset
from unicat.ports.union_index import RecordObserver, UnionIndex, UnionWrite
from unicat.query import FACET_FIELDS, SearchQuery, SearchResult
from unicat.settings import Settings
from unicat.vocabulary import MAX_SUGGESTIONS, SHORT_PREFIX, Suggestion, VocabularyCollector, prefix_bounds

# Rows fetched per round trip by the streaming iterators: each batch is its own short read, so an
# export never pins a reader connection or an old WAL snapshot for its whole length.
ITER_BATCH = 500
# Union records written per executemany call during a rebuild.
WRITE_BATCH = 1_000
# The tables a rebuild writes again whole, whose secondary indexes it builds after their rows.
UNION_TABLES = ("union_records", *CHILD_TABLES)
# Time limit (seconds) of internal bulk reads such as loading the facet columns after a rebuild: they
# are not user queries, but a runaway one must still stop.
BULK_READ_TIMEOUT = 300.0

_log = logging.getLogger(__name__)


def _write_vocabulary(conn: driver.Connection, vocabulary: VocabularyCollector) -> None:
    """Replace the words and headings with those of the generation being written, in its transaction."""
    conn.execute("DELETE FROM union_words")
    conn.execute("DELETE FROM union_suggestions")
    conn.execute("DELETE FROM union_suggestion_heads")
    conn.executemany("INSERT INTO union_words (word, count) VALUES (?, ?)", vocabulary.words.items())
    conn.executemany(
        "INSERT INTO union_suggestions (key, kind, count, text) VALUES (?, ?, ?, ?)",
        ((entry.key, entry.kind, entry.count, entry.text) for entry in vocabulary.suggestions()),
    )
    conn.execute(_RANK_HEADS, (SHORT_PREFIX, MAX_SUGGESTIONS))


# The order of suggestions, everywhere: the most used first, then by analysed form and kind.
_SUGGESTION_ORDER = "count DESC, key, kind"
# Up to SHORT_PREFIX letters, the ranked heads answer; past it, the range of keys is small enough.
_RANK_HEADS = f"""
    WITH RECURSIVE lengths (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM lengths WHERE n < ?)
    INSERT INTO union_suggestion_heads (prefix, rank, key, kind, count, text)
    SELECT prefix, rank, key, kind, count, text FROM (
        SELECT substr(key, 1, n) AS prefix, key, kind, count, text,
               row_number() OVER (PARTITION BY substr(key, 1, n) ORDER BY {_SUGGESTION_ORDER}) AS rank
        FROM union_suggestions CROSS JOIN lengths
        WHERE length(key) >= n
    ) WHERE rank <= ?
"""


class SqliteEngine(UnionIndex):
    """The default union index: one SQLite file in WAL mode (shared with the stores by default), one
    writer, a pool of time-limited readers; text search with FTS5."""

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
        self._warn_if_built_before_availability()

    # -- helpers ---------------------------------------------------------------------------------
    def _fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """One read statement under the query time limit."""
        with self._pool.read() as reader, reader.time_limit(self.settings.query_timeout) as conn:
            return conn.execute(sql, params).fetchall()

    def _fetchone(self, sql: str, params: Sequence[Any] = ()) -> Any:
        rows = self._fetchall(sql, params)
        return rows[0] if rows else None

    def _built_before_availability(self) -> bool:
        """Whether the union index was written before availability per copy: its facets held_at,
        available_at and availability keep their values in rows no migration can fill (they derive
        from the records' holdings, read again by a rebuild), so until then they find nothing. Every
        record with a library has a held_at value since: libraries without one mean an older index."""
        libraries, held_at = MULTI_VALUED["library"], MULTI_VALUED["held_at"]
        older = self._fetchone(
            f"SELECT EXISTS (SELECT 1 FROM {libraries.table}) "
            f"AND NOT EXISTS (SELECT 1 FROM {held_at.table} WHERE {held_at.where}1)"
        )
        return bool(older is not None and older[0])

    def _warn_if_built_before_availability(self) -> None:
        if self._built_before_availability():
            _log.warning(
                "the union index in %s was built before availability per copy: the facets held_at, "
                "available_at and availability find nothing until `unicat index --rebuild`",
                self.path,
            )

    # -- lifecycle -------------------------------------------------------------------------------
    def ping(self) -> None:
        self.database.ping()

    def close(self) -> None:
        if self._owns_database:
            self.database.close()

    # -- union index -----------------------------------------------------------------------------
    def replace_union_records(
        self, records: Iterable[UnionRecord], observe: RecordObserver | None = None
    ) -> UnionWrite:
        written = 0
        try:
            with (
                self._pool.write() as conn,
                # Readers keep their WAL snapshot of the old index, indexes and all, until this
                # transaction commits; the new one's indexes are built after its rows.
                indexes_deferred(self.database, conn, UNION_TABLES),
                contextlib.closing(VocabularyCollector()) as vocabulary,
            ):
                # The children first: each row of union_records deleted looks for them (ON DELETE CASCADE).
                for table in CHILD_TABLES:
                    conn.execute(f"DELETE FROM {table}")
                conn.execute("DELETE FROM union_records")
                conn.execute("INSERT INTO union_fts (union_fts) VALUES ('delete-all')")
                conn.execute("UPDATE union_state SET generation = generation + 1")
                rows = union_rows(enumerate(records, 1), observe, vocabulary.add)
                while batch := list(itertools.islice(rows, WRITE_BATCH)):
                    conn.executemany(INSERT_UNION_RECORD, [row[0] for row in batch])
                    insert_children(conn, batch, INSERT_TEXT)
                    written += len(batch)
                _write_vocabulary(conn, vocabulary)
        except driver.IntegrityError as exc:
            raise EngineError(
                f"the union index was not replaced: a union id appears twice ({exc}); "
                "the previous index is unchanged"
            ) from exc
        if self._facets.in_use():
            self._warm_facets()
        return UnionWrite(written)

    def rebuild_reason(self) -> str | None:
        if int(self._fetchone("SELECT generation FROM union_state")[0]) == 0:
            return "the union index was never built"
        if self._fetchone("SELECT EXISTS (SELECT 1 FROM union_records)")[0] == 0:
            return "the union index holds no record"
        if self._built_before_availability():
            return "the union index was built before availability per copy"
        return None

    def update_union_records(
        self,
        upserts: Iterable[UnionRecord],
        deletes: Sequence[str] = (),
        observe: RecordObserver | None = None,
    ) -> UnionWrite:
        """In one transaction (``union_update.py``): readers see the index before or after it."""
        with self._pool.write() as conn:
            written = update_records(conn, upserts, deletes, observe)
        self._warm_facets()
        return UnionWrite(written)

    def _warm_facets(self) -> None:
        """Load the new index's facet columns now, so that the first search after a rebuild is not slow
        (in a process that serves searches: ``unicat index`` alone never loads them)."""
        with self._pool.read() as reader:
            with reader.time_limit(self.settings.query_timeout) as conn:
                current = generation(conn)
            self._facet_columns(reader, current)

    def get_union_record(self, union_id: str) -> UnionRecord | None:
        row = self._fetchone("SELECT doc FROM union_records WHERE id = ?", (union_id,))
        return UnionRecord.from_json(orjson.loads(row[0])) if row is not None else None

    def get_union_records(self, union_ids: Sequence[str]) -> list[UnionRecord]:
        found = {
            union_id: UnionRecord.from_json(orjson.loads(doc))
            for union_id, doc in fetch_in(self.database, "SELECT id, doc FROM union_records", "id", union_ids)
        }
        return [found[union_id] for union_id in union_ids if union_id in found]

    def iter_union_records(self) -> Iterator[UnionRecord]:
        for _, doc in iter_keyset(self.database, "union_records", "id, doc", "id", ITER_BATCH):
            yield UnionRecord.from_json(orjson.loads(doc))

    def union_count(self) -> int:
        return int(self._fetchone("SELECT count(*) FROM union_records")[0])

    def vocabulary(self) -> dict[str, int]:
        # Read once per rebuild by the web app, not a user query: the limit of bulk reads.
        with self._pool.read() as reader, reader.time_limit(BULK_READ_TIMEOUT, "vocabulary") as conn:
            return dict(conn.execute("SELECT word, count FROM union_words"))

    def suggest(self, prefix: str, limit: int) -> list[Suggestion]:
        if len(prefix) <= SHORT_PREFIX:
            rows = self._fetchall(
                "SELECT text, kind, count, key FROM union_suggestion_heads WHERE prefix = ? "
                "ORDER BY rank LIMIT ?",
                (prefix, min(limit, MAX_SUGGESTIONS)),
            )
        else:
            low, high = prefix_bounds(prefix)
            rows = self._fetchall(
                "SELECT text, kind, count, key FROM union_suggestions WHERE key >= ? AND key < ? "
                f"ORDER BY {_SUGGESTION_ORDER} LIMIT ?",
                (low, high, limit),
            )
        return [Suggestion(text, kind, count, key) for text, kind, count, key in rows]

    def library_overlap(self) -> LibraryOverlap:
        # A count over the whole index, not a user query (the web app keeps it per rebuild): the
        # generous limit of bulk reads.
        with self._pool.read() as reader, reader.time_limit(BULK_READ_TIMEOUT, "library overlap") as conn:
            return overlap.library_overlap(conn)

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
                self._count_facets(reader, current, query, matches, result)
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
        ~105; the libraries holding each, now the second key, add more); the score alone orders all
        but ties. The FTS index gives the best ``wanted`` matches and a margin; the sort keys of
        those scoring no worse than the page's last are read, and
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

    def _match_set(
        self, reader: TimedConnection, compiled: CompiledSearch, current: int, budget: float | None = None
    ) -> MatchSet | None:
        """The rids of every match, for the total and the facets; ``None`` past the facets' budget
        (``facet_timeout``, or what is left of it: ``budget``).

        Fetching the match set is the facets' work, so it runs under their budget: when it is too
        slow the facets are dropped and the total is counted in SQL instead.
        """
        rids_sql = compiled.rids_sql()
        if rids_sql is None:
            return MatchSet(None, self._facet_columns(reader, current).records)
        try:
            timeout = self.settings.facet_timeout if budget is None else budget
            with reader.time_limit(timeout, "facets") as conn:
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
        query: SearchQuery,
        matches: MatchSet | None,
        result: SearchResult,
    ) -> None:
        """Every facet over ``matches``, each within ``facet_timeout`` of the facets' start, or dropped.

        A facet with a selection of its own is counted over the match set without that selection
        (:attr:`SearchQuery.selected_facets`): one more match set per selected facet, fetched under
        the same budget.
        """
        deadline = time.monotonic() + self.settings.facet_timeout
        if matches is None or time.monotonic() > deadline:
            result.facets_timed_out.extend(FACET_FIELDS)
            return
        columns = self._facet_columns(reader, current)
        selected = query.selected_facets
        for facet in FACET_FIELDS:
            if time.monotonic() > deadline:
                # A slow facet is dropped, never the page: the user still gets the hits.
                result.facets_timed_out.append(facet)
                continue
            over: MatchSet | None = matches
            if facet in selected:
                # Within what is left of the facets' budget: a choice never doubles it.
                left = max(deadline - time.monotonic(), 0.001)
                over = self._match_set(reader, compile_search(query.without_selection(facet)), current, left)
            if over is None:
                result.facets_timed_out.append(facet)
                continue
            result.facets[facet] = columns.count(facet, over, query.size_of(facet))
