"""``run_index`` against the real SQLite engine with real records."""

from __future__ import annotations

from pathlib import Path

from indexer import IndexProgress, run_index
from tests.indexer.indexer_testdata import DATA, control_number, iso2709_records
from unicat.engine import Engine
from unicat.engines.sqlite import SqliteEngine
from unicat.model import RecordSyntax, Source, SourceRecord
from unicat.settings import Settings

PENGUIN_2003 = ("001395440", "13113436")  # both carry ISBN 0141439513, 008/07-10 2003


def _engine(tmp_path: Path) -> SqliteEngine:
    return SqliteEngine(tmp_path / "unicat.db", Settings())


def _store(
    engine: Engine, source: Source, records: list[tuple[str, bytes]], syntax: RecordSyntax = "iso2709"
) -> None:
    engine.save_source(source)
    engine.store_page(
        source.code,
        [
            SourceRecord(source.code, local_id, raw, syntax, "2024-01-01T00:00:00Z")
            for local_id, raw in records
        ],
        None,
    )


def _pride_by_id() -> dict[str, bytes]:
    return {control_number(raw) or "": raw for raw in iso2709_records("dedup/pride-and-prejudice-fixed.mrc")}


def test_index_real_sources_with_a_malformed_record_quarantined(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    try:
        cotes = iso2709_records("unimarc/cotes8.mrc")
        _store(
            engine,
            Source("SCPO", "Sciences Po", profile="unimarc"),
            [(f"c{i}", r) for i, r in enumerate(cotes)],
        )
        brk = iso2709_records("marc21/brkrtest.mrc")
        bad = (DATA / "malformed/error.mrc").read_bytes()
        _store(
            engine, Source("BRK", "Test library"), [(f"b{i}", r) for i, r in enumerate(brk)] + [("bad", bad)]
        )
        seen: list[IndexProgress] = []
        report = run_index(engine, on_progress=seen.append)
        assert report.read == len(cotes) + len(brk) + 1
        assert report.parsed == len(cotes) + len(brk)
        assert report.quarantined == 1
        quarantined = engine.list_quarantine()
        assert [(q.source, q.local_id, q.stage, q.raw) for q in quarantined] == [("BRK", "bad", "index", bad)]
        assert report.union_records == engine.union_count()
        assert sum(len(r.sources) for r in engine.iter_union_records()) == report.parsed
        assert set(report.seconds) == {"parse", "normalise_merge", "write"}
        assert seen and seen[-1].phase == "write"
        scpo = [r for r in engine.iter_union_records() if "SCPO" in r.libraries]
        assert any(h.call_number and h.call_number.startswith("8") for r in scpo for h in r.holdings)
    finally:
        engine.close()


def test_ids_are_stable_and_a_merge_leaves_a_redirect(tmp_path: Path) -> None:
    pride = _pride_by_id()
    first, second = (pride[key] for key in PENGUIN_2003)
    other = next(raw for key, raw in pride.items() if key not in PENGUIN_2003)
    engine = _engine(tmp_path)
    try:
        # Run 1: library A has one Penguin 2003 copy; library B's record "y" is another edition.
        _store(engine, Source("A", "Library A"), [("x", first)])
        _store(engine, Source("B", "Library B"), [("y", other)])
        run_index(engine)
        before = engine.memberships()
        assert len(set(before.values())) == 2

        # Run 2 with nothing changed: the same ids.
        report = run_index(engine)
        assert engine.memberships() == before and report.redirects == 0

        # Run 3: B's record "y" is replaced by the other Penguin 2003 copy: the two merge.
        _store(engine, Source("B", "Library B"), [("y", second)])
        report = run_index(engine)
        after = engine.memberships()
        assert after[("A", "x")] == after[("B", "y")]
        kept = after[("A", "x")]
        old_ids = {before[("A", "x")], before[("B", "y")]}
        assert kept == min(old_ids)
        (gone,) = old_ids - {kept}
        assert report.redirects == 1
        assert engine.resolve_redirect(gone) == kept
        merged = engine.get_union_record(kept)
        assert merged is not None
        assert sorted(h.library for h in merged.holdings) == ["A", "B"]
        assert {(s.source, s.local_id) for s in merged.sources} == {("A", "x"), ("B", "y")}
        assert any(rule.rule == "isbn" for rule in merged.merge)
    finally:
        engine.close()


def test_deleted_records_are_skipped(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    try:
        brk = iso2709_records("marc21/brkrtest.mrc")
        _store(engine, Source("BRK", "Test library"), [("b0", brk[0]), ("b1", brk[1])])
        engine.store_page("BRK", [SourceRecord("BRK", "b1", b"", deleted=True)], None)
        report = run_index(engine)
        assert (report.read, report.deleted, report.parsed, report.union_records) == (2, 1, 1, 1)
    finally:
        engine.close()
