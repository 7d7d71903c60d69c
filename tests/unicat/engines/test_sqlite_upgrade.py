"""A database written before the subject facet existed upgrades on open and answers the new facet."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from tests.conftest import build_union_record
from unicat.catalogue import Catalogue
from unicat.documents import INDEXED_FIELDS, TEXT_FIELDS
from unicat.engines.sqlite import SqliteEngine, driver
from unicat.engines.sqlite.schema import (
    MIGRATIONS,
    SCHEMA_VERSION,
    V3_TEXT_COLUMNS,
    V15_TEXT_COLUMNS,
    migrate,
)
from unicat.oai_items import OaiSelection
from unicat.query import SearchQuery, parse_search_params
from unicat.settings import Settings
from unicat.union_generation import write_union_generation
from unicat_cli.wiring import open_catalogue

SUBJECTS = [
    "Austen, Jane, 1775-1817 -- Criticism and interpretation",
    "Austen, Jane, 1775-1817 -- Film adaptations",
    "  Women in literature\t",
    "Courtship",
]


def _catalogue(path: Path) -> Catalogue:
    """The catalogue of the file: its union index and its stores, on one set of connections."""
    return open_catalogue(Settings(engine_url=f"sqlite:///{path}"))


def version_1_database(path: Path) -> None:
    """A version-1 file holding one union record, written as version 1 of the engine wrote it."""
    record = build_union_record("pride", "Pride and prejudice", subjects=SUBJECTS, libraries=["UVA"])
    conn = driver.connect(path)
    assert migrate(conn, MIGRATIONS[:1]) == 1
    conn.execute(
        "INSERT INTO union_records (rid, id, format, language, year, decade, title_sort, doc) "
        "VALUES (1, 'pride', 'book', NULL, NULL, NULL, 'pride and prejudice', ?)",
        (json.dumps(record.to_json()),),
    )
    conn.execute("INSERT INTO union_libraries (record, library) VALUES (1, 'UVA')")
    conn.execute(
        "INSERT INTO union_fts (rowid, title, any) VALUES (1, 'pride and prejudice', 'pride and prejudice')"
    )
    conn.close()


def test_a_version_1_database_gets_its_subject_facet_on_open(tmp_path: Path) -> None:
    path = tmp_path / "unicat.db"
    version_1_database(path)
    with SqliteEngine(path, Settings()) as engine:
        result = engine.search(SearchQuery())
        # Main headings of SUBJECTS by hand: the part before " -- ", surrounding blanks removed, once.
        assert {(f.value, f.count) for f in result.facets["subject"]} == {
            ("Austen, Jane, 1775-1817", 1),
            ("Women in literature", 1),
            ("Courtship", 1),
        }
        filtered = engine.search(SearchQuery(filters={"subject": ("Women in literature",)}))
        assert [hit.id for hit in filtered.hits] == ["pride"]
    with driver.connect(path) as conn:
        assert conn.execute("SELECT max(version) FROM schema_version").fetchone()[0] == SCHEMA_VERSION


def test_an_upgraded_database_finds_every_word_of_its_records_without_a_reindex(tmp_path: Path) -> None:
    path = tmp_path / "unicat.db"
    version_1_database(path)
    with SqliteEngine(path, Settings()) as engine:
        # Words the version-1 text index held only in its ``any`` column, or never (the subjects):
        # the upgrade analysed the stored document again.
        for words in ("prejudice", "title:pride", "subject:courtship", "subject:austen"):
            assert [
                hit.id for hit in engine.search(parse_search_params({"q": [words]}, Settings())).hits
            ] == ["pride"], words
        assert engine.search(parse_search_params({"q": ["title:courtship"]}, Settings())).total == 0


def test_rebuilding_an_upgraded_database_replaces_its_subjects(tmp_path: Path) -> None:
    path = tmp_path / "unicat.db"
    version_1_database(path)
    with SqliteEngine(path, Settings()) as engine:
        engine.replace_union_records(
            [build_union_record("emma", "Emma", subjects=["Matchmaking -- Fiction"])]
        )
        result = engine.search(SearchQuery())
    assert [(f.value, f.count) for f in result.facets["subject"]] == [("Matchmaking", 1)]


def test_the_frozen_text_columns_of_migration_3_are_the_indexed_fields() -> None:
    # Migration 3 keeps its own copy of the columns; if TEXT_FIELDS changes, a new migration must follow.
    assert V3_TEXT_COLUMNS == TEXT_FIELDS
    # Migration 15 froze the stems columns after them in the same way.
    assert V15_TEXT_COLUMNS == INDEXED_FIELDS


def test_a_database_indexed_before_stemming_finds_words_by_their_stems_once_opened(tmp_path: Path) -> None:
    """Migration 15 makes the text index again with its stems columns, from the stored documents: a
    catalogue written before stemming finds "histoire" in *Histoires extraordinaires* without a rebuild
    (never an index whose stems are missing)."""
    path = tmp_path / "unicat.db"
    record = build_union_record("poe", "Histoires extraordinaires", language="fre", libraries=["BNF"])
    conn = driver.connect(path)
    assert migrate(conn, MIGRATIONS[:13]) == 13
    conn.execute(
        "INSERT INTO union_records (rid, id, format, language, year, decade, title_sort, doc) "
        "VALUES (1, 'poe', 'book', 'fre', NULL, NULL, 'histoires extraordinaires', ?)",
        (json.dumps(record.to_json()),),
    )
    conn.execute("INSERT INTO union_libraries (record, library) VALUES (1, 'BNF')")
    conn.execute("INSERT INTO union_fts (rowid, title) VALUES (1, 'histoires extraordinaires')")
    conn.close()
    with SqliteEngine(path, Settings()) as engine:
        for words in ("histoire", "histoires", "title:histoire extraordinaire"):
            result = engine.search(parse_search_params({"q": [words]}, Settings()))
            assert [hit.id for hit in result.hits] == ["poe"], words


def test_a_version_3_database_keeps_its_harvest_state_and_gains_the_new_fields(tmp_path: Path) -> None:
    path = tmp_path / "unicat.db"
    conn = driver.connect(path)
    assert migrate(conn, MIGRATIONS[:3]) == 3
    conn.execute(
        "INSERT INTO sources (code, name, oai_url, metadata_prefix, set_spec, profile) "
        "VALUES ('UVA', 'Virginia', 'http://127.0.0.1:1/oai', 'marcxml', NULL, 'marc21')"
    )
    conn.execute(
        "INSERT INTO harvests (source, mode, started, finished, status, pages, records) "
        "VALUES ('UVA', 'full', '2024-01-01T00:00:00Z', '2024-01-01T00:05:00Z', 'ok', 2, 150)"
    )
    conn.execute(
        "INSERT INTO source_records (source, local_id, syntax, raw) "
        "VALUES ('UVA', 'a', 'marcxml', x'3c722f3e')"
    )
    conn.close()
    with _catalogue(path) as catalogue:
        store = catalogue.records
        assert store.get_source("UVA").harvest_interval is None
        last = store.last_successful_harvest("UVA")
        assert last is not None
        assert (last.records, last.quarantined, last.server_time) == (150, 0, None)
        # A record stored before runs were tracked counts as not seen by a new full harvest.
        run = store.start_harvest("UVA", "full")
        assert store.delete_unseen("UVA", run.id) == 1


def test_an_upgraded_database_serves_its_records_over_oai_pmh_at_once(tmp_path: Path) -> None:
    """Migration 7 gives the union records of an older database their OAI-PMH items, all of one
    generation registered at the upgrade; a rebuild that changes nothing moves no datestamp."""
    path = tmp_path / "unicat.db"
    version_1_database(path)
    with _catalogue(path) as catalogue:
        feed = catalogue.feed
        [(generation, _)] = feed.oai_generations()
        [entry] = feed.oai_list(OaiSelection(0, 2**62), None, 10, with_records=True)
        assert (entry.item.id, entry.item.generation, entry.item.deleted) == ("pride", generation, False)
        assert entry.item.sets == ("format", "format:book", "library", "library:UVA")
        assert entry.record is not None and entry.record.title == "Pride and prejudice"
        record = build_union_record("pride", "Pride and prejudice", subjects=SUBJECTS, libraries=["UVA"])
        write_union_generation(catalogue.records, catalogue.index, [record], {})
        assert [
            (e.item.id, e.item.generation) for e in feed.oai_list(OaiSelection(0, 2**62), None, 10, False)
        ] == [("pride", generation)]
        assert len(feed.oai_generations()) == 1


def test_an_upgraded_database_answers_the_registrys_newer_facets_once_rebuilt(tmp_path: Path) -> None:
    """Migration 10 stores the facets that have no table of their own (the target audience): empty
    until a rebuild, since their values come from the records, then counted and filtered."""
    path = tmp_path / "unicat.db"
    version_1_database(path)
    with SqliteEngine(path, Settings()) as engine:
        assert engine.search(SearchQuery()).facets["audience"] == []
        assert engine.search(SearchQuery(filters={"audience": ("adults",)})).total == 0
        record = build_union_record("pride", "Pride and prejudice", libraries=["UVA"])
        engine.replace_union_records([replace(record, audience=["adults", "young_adults"])])
        result = engine.search(SearchQuery(filters={"audience": ("adults",)}))
        assert [hit.id for hit in result.hits] == ["pride"]
        assert [(f.value, f.count) for f in result.facets["audience"]] == [("adults", 1), ("young_adults", 1)]
