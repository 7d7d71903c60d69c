"""What only the SQLite engine has: WAL, migrations, the FTS tokenizer contract, time limits."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from tests.conftest import build_union_record
from tests.support.shared_data import SHARED_DATA
from unicat.analysis import tokens
from unicat.engines.sqlite import SqliteEngine, driver
from unicat.engines.sqlite.connections import ConnectionPool
from unicat.engines.sqlite.schema import MIGRATIONS, SCHEMA_VERSION, migrate
from unicat.errors import EngineUnavailable, QueryTimeout, SchemaError
from unicat.model import UnionRecord
from unicat.query import FACET_FIELDS, Clause, SearchQuery
from unicat.settings import Settings
from unicat.stemming import UNTAGGED_LANGUAGES, stem_text

EXPECTED_TABLES = {
    "schema_version",
    "sources",
    "source_records",
    "harvests",
    "quarantine",
    "union_records",
    "union_libraries",
    "union_subjects",
    "memberships",
    "redirects",
    "union_fts",
}


def open_engine(path: Path, **settings: float) -> SqliteEngine:
    return SqliteEngine(path, Settings().replace(**settings))


def table_names(path: Path) -> set[str]:
    with driver.connect(path) as conn:
        return {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def test_new_database_is_in_wal_mode_with_the_full_schema(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "dir" / "unicat.db"
    open_engine(path).close()
    with driver.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT max(version) FROM schema_version").fetchone()[0] == SCHEMA_VERSION
    assert table_names(path) >= EXPECTED_TABLES


def test_reopening_keeps_data_and_does_not_migrate_again(tmp_path: Path) -> None:
    path = tmp_path / "unicat.db"
    with open_engine(path) as engine:
        engine.replace_union_records([build_union_record("etranger", "L'Étranger")])
    with open_engine(path) as engine:
        assert engine.union_count() == 1
    with driver.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM schema_version").fetchone()[0] == SCHEMA_VERSION


def test_migrations_apply_in_order_and_a_failing_one_changes_nothing(tmp_path: Path) -> None:
    conn = driver.connect(tmp_path / "m.db")
    assert migrate(conn, MIGRATIONS) == len(MIGRATIONS)
    # A table no migration makes (migration 9 made ``comments``).
    later = (*MIGRATIONS, ("CREATE TABLE a_later_table (id INTEGER PRIMARY KEY)",))
    assert migrate(conn, later) == len(MIGRATIONS) + 1
    broken = (*later, ("CREATE TABLE half_done (x)", "THIS IS NOT SQL"))
    with pytest.raises(SchemaError, match=f"migration {len(broken)}"):
        migrate(conn, broken)
    assert conn.execute("SELECT max(version) FROM schema_version").fetchone()[0] == len(later)
    names = {name for (name,) in conn.execute("SELECT name FROM sqlite_master")}
    assert "a_later_table" in names
    assert "half_done" not in names
    conn.close()


def test_a_database_from_a_newer_unicat_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "unicat.db"
    open_engine(path).close()
    with driver.connect(path) as conn:
        conn.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION + 1,))
    with pytest.raises(SchemaError, match=f"schema version {SCHEMA_VERSION + 1}"):
        open_engine(path)


def test_a_file_that_is_not_a_database_is_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "unicat.db"
    path.write_bytes((SHARED_DATA / "malformed" / "error.mrc").read_bytes() * 10)
    with pytest.raises(EngineUnavailable):
        open_engine(path)


def test_a_closed_engine_says_so(tmp_path: Path) -> None:
    engine = open_engine(tmp_path / "unicat.db")
    engine.close()
    with pytest.raises(EngineUnavailable):
        engine.union_count()


def test_fts_tokenizer_keeps_every_analysed_token_whole(tmp_path: Path) -> None:
    title = (
        "Œuvres complètes d'Émile Zola — Ὀδύσσεια, Война и мир, 東京物語, العربية, עברית, "
        "Straße Ærø Łódź, ꭰꭱ Ꮳ, ＡＢＣ ½ 9782070360024 ǅemal"
    )
    analysed = set(tokens(title))
    with open_engine(tmp_path / "unicat.db") as engine:
        engine.replace_union_records([build_union_record("babel", title)])
        for token in analysed:
            hits = engine.search(SearchQuery(clauses=(Clause("title", (token,)),), facets=False))
            assert hits.total == 1, token
    with driver.connect(tmp_path / "unicat.db") as conn:
        conn.execute("CREATE VIRTUAL TABLE temp.vocab USING fts5vocab(main, union_fts, col)")
        indexed = {term for (term,) in conn.execute("SELECT term FROM temp.vocab WHERE col = 'title'")}
        stems = {term for (term,) in conn.execute("SELECT term FROM temp.vocab WHERE col = 'title_stems'")}
    # The FTS index holds exactly the analysed tokens: nothing split, merged or re-folded.
    assert indexed == analysed
    # And their stems (a record without a language: under each language Unicat stems), kept whole too.
    assert stems == set(stem_text(" ".join(tokens(title)), UNTAGGED_LANGUAGES).split())


def many_records(count: int) -> list[UnionRecord]:
    return [
        build_union_record(f"r{n:05d}", f"Histoire de France, tome {n}", year=1800 + n % 200, language="fre")
        for n in range(count)
    ]


def test_a_search_past_its_time_limit_raises_query_timeout(tmp_path: Path) -> None:
    path = tmp_path / "unicat.db"
    with open_engine(path) as engine:
        engine.replace_union_records(many_records(3_000))
    with open_engine(path, query_timeout=0.0) as engine, pytest.raises(QueryTimeout):
        engine.search(SearchQuery(clauses=(Clause("any", ("histoire",)),)))


def test_a_heavy_query_is_stopped_and_the_reader_stays_usable(tmp_path: Path) -> None:
    path = tmp_path / "unicat.db"
    open_engine(path).close()
    pool = ConnectionPool(path, size=1)
    pool.open_readers()
    endless = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n"
    with pytest.raises(QueryTimeout), pool.read() as reader, reader.time_limit(0.05) as conn:
        conn.execute(endless).fetchone()
    with pool.read() as reader, reader.time_limit(1.0) as conn:
        assert conn.execute("SELECT count(*) FROM union_records").fetchone()[0] == 0
    pool.close()


def test_closing_while_another_thread_reads_does_not_fail_and_refuses_later_use(tmp_path: Path) -> None:
    """Stopping the server closes the engine while a scheduled harvest round, in a daemon thread the
    stop does not wait for, may still be reading."""
    path = tmp_path / "unicat.db"
    open_engine(path).close()
    pool = ConnectionPool(path, size=2)
    pool.open_readers()
    reading, counted = threading.Event(), []
    long_count = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000000) "
    long_count += "SELECT count(*) FROM n"

    def reader() -> None:
        with pool.read() as busy:
            reading.set()
            counted.append(busy.conn.execute(long_count).fetchone()[0])

    thread = threading.Thread(target=reader)
    thread.start()
    assert reading.wait(5)
    time.sleep(0.05)  # inside the statement
    pool.close()
    with pytest.raises(EngineUnavailable), pool.read():
        pass
    thread.join(timeout=60)
    # The cut-off reader's statement ran to its end, unharmed.
    assert counted == [10_000_000]


def test_a_facet_past_its_budget_is_dropped_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "unicat.db"
    with open_engine(path) as engine:
        engine.replace_union_records(many_records(3_000))
    with open_engine(path, facet_timeout=0.0) as engine:
        result = engine.search(SearchQuery(clauses=(Clause("any", ("histoire",)),), page_size=5))
    assert result.total == 3_000
    assert len(result.hits) == 5
    assert result.facets == {}
    assert sorted(result.facets_timed_out) == sorted(FACET_FIELDS)
