"""``run_index`` against a real SQLite catalogue with real records."""

from __future__ import annotations

from pathlib import Path

from indexer import IndexProgress, run_index
from tests.indexer.indexer_testdata import control_number, iso2709_records, unreadable_record
from unicat.catalogue import Catalogue
from unicat.model import RecordSyntax, Source, SourceRecord
from unicat.ports.records import RecordStore
from unicat.settings import Settings
from unicat_cli.wiring import open_catalogue

PENGUIN_2003 = ("001395440", "13113436")  # both carry ISBN 0141439513, 008/07-10 2003


def _catalogue(tmp_path: Path) -> Catalogue:
    return open_catalogue(Settings(engine_url=f"sqlite:///{tmp_path / 'unicat.db'}"))


def _store(
    store: RecordStore, source: Source, records: list[tuple[str, bytes]], syntax: RecordSyntax = "iso2709"
) -> None:
    store.save_source(source)
    store.store_page(
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
    catalogue = _catalogue(tmp_path)
    try:
        cotes = iso2709_records("unimarc/cotes8.mrc")
        _store(
            catalogue.records,
            Source("SCPO", "Sciences Po", profile="unimarc"),
            [(f"c{i}", r) for i, r in enumerate(cotes)],
        )
        brk = iso2709_records("marc21/brkrtest.mrc")
        bad = unreadable_record()
        _store(
            catalogue.records,
            Source("BRK", "Test library"),
            [(f"b{i}", r) for i, r in enumerate(brk)] + [("bad", bad)],
        )
        seen: list[IndexProgress] = []
        report = run_index(catalogue.records, catalogue.index, on_progress=seen.append)
        assert report.read == len(cotes) + len(brk) + 1
        assert report.parsed == len(cotes) + len(brk)
        assert report.quarantined == 1
        quarantined = catalogue.records.list_quarantine()
        assert [(q.source, q.local_id, q.stage, q.raw) for q in quarantined] == [("BRK", "bad", "index", bad)]
        assert report.union_records == catalogue.index.union_count()
        assert sum(len(r.sources) for r in catalogue.index.iter_union_records()) == report.parsed
        assert set(report.seconds) == {"parse", "normalise_merge", "write"}
        assert seen and seen[-1].phase == "write"
        scpo = [r for r in catalogue.index.iter_union_records() if "SCPO" in r.libraries]
        assert any(h.call_number and h.call_number.startswith("8") for r in scpo for h in r.holdings)
    finally:
        catalogue.close()


def test_ids_are_stable_and_a_merge_leaves_a_redirect(tmp_path: Path) -> None:
    pride = _pride_by_id()
    first, second = (pride[key] for key in PENGUIN_2003)
    other = next(raw for key, raw in pride.items() if key not in PENGUIN_2003)
    catalogue = _catalogue(tmp_path)
    try:
        # Run 1: library A has one Penguin 2003 copy; library B's record "y" is another edition.
        _store(catalogue.records, Source("A", "Library A"), [("x", first)])
        _store(catalogue.records, Source("B", "Library B"), [("y", other)])
        run_index(catalogue.records, catalogue.index)
        before = catalogue.records.memberships()
        assert len(set(before.values())) == 2

        # Run 2 with nothing changed: the same ids.
        report = run_index(catalogue.records, catalogue.index)
        assert catalogue.records.memberships() == before and report.redirects == 0

        # Run 3: B's record "y" is replaced by the other Penguin 2003 copy: the two merge.
        _store(catalogue.records, Source("B", "Library B"), [("y", second)])
        report = run_index(catalogue.records, catalogue.index)
        after = catalogue.records.memberships()
        assert after[("A", "x")] == after[("B", "y")]
        kept = after[("A", "x")]
        old_ids = {before[("A", "x")], before[("B", "y")]}
        assert kept == min(old_ids)
        (gone,) = old_ids - {kept}
        assert report.redirects == 1
        assert catalogue.records.resolve_redirect(gone) == kept
        merged = catalogue.index.get_union_record(kept)
        assert merged is not None
        assert sorted(h.library for h in merged.holdings) == ["A", "B"]
        assert {(s.source, s.local_id) for s in merged.sources} == {("A", "x"), ("B", "y")}
        assert any(rule.rule == "isbn" for rule in merged.merge)
    finally:
        catalogue.close()


def test_deleted_records_are_skipped(tmp_path: Path) -> None:
    catalogue = _catalogue(tmp_path)
    try:
        brk = iso2709_records("marc21/brkrtest.mrc")
        _store(catalogue.records, Source("BRK", "Test library"), [("b0", brk[0]), ("b1", brk[1])])
        catalogue.records.store_page("BRK", [SourceRecord("BRK", "b1", b"", deleted=True)], None)
        report = run_index(catalogue.records, catalogue.index)
        assert (report.read, report.deleted, report.parsed, report.union_records) == (2, 1, 1, 1)
    finally:
        catalogue.close()
