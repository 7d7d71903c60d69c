"""``unicat index`` after a day's changes: only what they reach, written in place (indexer/incremental.py),
on both setups (SQLite alone; PostgreSQL + Elasticsearch).

Real records (shared data) are held by several libraries as copy cataloguing leaves them: the same
bytes under each library's own local id, so copies merge. A day then deletes copies, corrects one
(its bytes replaced by another edition's, so it leaves its union record for another), adds a copy
and touches one. What each change must do follows from the union id rules (docs/indexing.md: a
cluster keeps the id most of its members had, the first member's on a tie; a gone id redirects to
where most of its members went); and the pass must leave exactly what a full rebuild of the same
records then writes (the same records, memberships, redirects, words and suggestions).
"""

from __future__ import annotations

from typing import Any

from indexer import IndexReport, update_index
from tests.indexer.indexer_testdata import iso2709_records
from unicat.catalogue import Catalogue
from unicat.libraries import Library
from unicat.model import MergeDecision, Source, SourceRecord, SourceRef

UVA = iso2709_records("marc21/uva_001_2000.mrc")
PRIDE = iso2709_records("dedup/pride-and-prejudice-fixed.mrc")


def _store(
    catalogue: Catalogue, code: str, records: list[tuple[str, bytes]], day: str = "2026-01-01"
) -> None:
    store = catalogue.records
    if code not in {source.code for source in store.list_sources()}:
        store.save_source(Source(code, f"Library {code}"))
    page = [SourceRecord(code, local_id, raw, "iso2709", f"{day}T00:00:00Z") for local_id, raw in records]
    store.store_page(code, page, None)


def _delete(catalogue: Catalogue, code: str, local_id: str) -> None:
    catalogue.records.store_page(
        code, [SourceRecord(code, local_id, b"", "iso2709", "2026-01-02T00:00:00Z", deleted=True)], None
    )


def _network(catalogue: Catalogue) -> None:
    """A holds Pride and Prejudice's editions and UVA's records 0–119, B UVA's 60–179 (60–119 are
    copies of A's), C copies of the first three editions."""
    _store(catalogue, "A", [(f"p{n:02}", raw) for n, raw in enumerate(PRIDE)])
    _store(catalogue, "A", [(f"a{n:03}", raw) for n, raw in enumerate(UVA[:120])])
    _store(catalogue, "B", [(f"b{n:03}", UVA[n]) for n in range(60, 180)])
    _store(catalogue, "C", [(f"c{n:02}", raw) for n, raw in enumerate(PRIDE[:3])])


def _state(catalogue: Catalogue) -> dict[str, Any]:
    index, store = catalogue.index, catalogue.records
    return {
        "records": sorted((record.to_json() for record in index.iter_union_records()), key=lambda r: r["id"]),
        "memberships": store.memberships(),
        "redirects": sorted(store.iter_redirects()),
        "words": index.vocabulary(),
        "suggestions": [index.suggest(prefix, 20) for prefix in ("pri", "a", "the", "j")],
    }


def _index(catalogue: Catalogue, rebuild: bool = False) -> IndexReport:
    directory = catalogue.libraries.directory()
    return update_index(catalogue.records, catalogue.index, workers=1, directory=directory, rebuild=rebuild)


def _id_of(catalogue: Catalogue, member: tuple[str, str]) -> str:
    return catalogue.records.union_ids_of([member])[member]


def test_a_days_changes_are_written_in_place_as_a_rebuild_would_write_them(catalogue: Catalogue) -> None:
    _network(catalogue)
    first = _index(catalogue)
    assert first.mode == "full" and first.rebuild_reason == "no generation was built with change marks yet"
    total = catalogue.index.union_count()
    # The copies merged: B's copy of UVA 70 and A's are one union record, as are the editions' copies.
    copy_of_70 = _id_of(catalogue, ("A", "a070"))
    assert _id_of(catalogue, ("B", "b070")) == copy_of_70
    assert _id_of(catalogue, ("C", "c00")) == _id_of(catalogue, ("A", "p00"))
    lone_10, uva_20, uva_150 = (_id_of(catalogue, m) for m in (("A", "a010"), ("A", "a020"), ("B", "b150")))
    assert len({lone_10, uva_20, uva_150, copy_of_70}) == 4

    _delete(catalogue, "A", "a070")  # one copy of two gone: the union record stays, with B's
    _delete(catalogue, "A", "a010")  # the only copy gone: so is its union record
    _store(catalogue, "B", [("b150", UVA[20])], day="2026-01-02")  # corrected into a copy of UVA 20
    _store(catalogue, "D", [("d00", PRIDE[0])], day="2026-01-02")  # a new library's copy of an edition
    _store(catalogue, "A", [("a030", UVA[30])], day="2026-01-03")  # touched: only its datestamp moved

    report = _index(catalogue)
    assert report.mode == "incremental", report.rebuild_reason
    assert report.changed == 5
    assert 5 <= report.region < 0.25 * (len(PRIDE) + 120 + 120 + 3)
    # a010's id is gone; the corrected b150 joined a020, whose id its union record keeps (the first
    # member's on a tie of one vote each), and b150's old id leads there.
    assert catalogue.index.get_union_record(lone_10) is None
    assert _id_of(catalogue, ("B", "b150")) == _id_of(catalogue, ("A", "a020")) == uva_20
    assert catalogue.records.resolve_redirect(uva_150) == uva_20
    kept = catalogue.index.get_union_record(copy_of_70)
    assert kept is not None and [(ref.source, ref.local_id) for ref in kept.sources] == [("B", "b070")]
    assert _id_of(catalogue, ("D", "d00")) == _id_of(catalogue, ("A", "p00"))
    assert catalogue.index.union_count() == total - 2  # a010's record and b150's old one
    assert catalogue.records.indexed_mark() == catalogue.records.change_mark()

    after_pass = _state(catalogue)
    rebuilt = _index(catalogue, rebuild=True)
    assert rebuilt.mode == "full" and rebuilt.rebuild_reason == "asked for"
    assert _state(catalogue) == after_pass


def test_a_source_given_a_library_has_every_record_read_again(catalogue: Catalogue) -> None:
    _network(catalogue)
    _index(catalogue)
    # No record changed, but C's copies are now kept by a library of the directory: each union record
    # holding one shows that library as the copy's site.
    catalogue.libraries.add_library(Library("CC", "Library CC", source="C"))
    report = _index(catalogue)
    assert report.mode == "incremental" and report.changed == 3
    record = catalogue.index.get_union_record(_id_of(catalogue, ("C", "c00")))
    assert record is not None
    assert {holding.site for holding in record.holdings if holding.library == "C"} == {"CC"}
    after_pass = _state(catalogue)
    _index(catalogue, rebuild=True)
    assert _state(catalogue) == after_pass


def test_nothing_changed_writes_nothing_and_too_much_changed_rebuilds_whole(catalogue: Catalogue) -> None:
    _network(catalogue)
    _index(catalogue)
    before = _state(catalogue)
    idle = _index(catalogue)
    assert (idle.mode, idle.changed, idle.region, idle.union_records, idle.removed) == (
        "incremental",
        0,
        0,
        0,
        0,
    )
    assert _state(catalogue) == before
    # Every UVA copy of A's deleted at once: 120 changes, more than a quarter of what stays live.
    for n in range(120):
        _delete(catalogue, "A", f"a{n:03}")
    report = _index(catalogue)
    assert report.mode == "full"
    assert report.rebuild_reason == "the changes reach more than 25% of the live records"
    assert not any(
        source == "A" and local_id.startswith("a") for source, local_id in catalogue.records.memberships()
    )


def test_a_librarians_split_and_its_undoing_are_applied_by_the_next_pass(catalogue: Catalogue) -> None:
    _network(catalogue)
    _index(catalogue)
    edition = _id_of(catalogue, ("A", "p00"))
    assert _id_of(catalogue, ("C", "c00")) == edition
    split = catalogue.records.save_merge_decision(
        MergeDecision("split", SourceRef("C", "c00"), SourceRef("A", "p00"), "another printing", "test")
    )
    report = _index(catalogue)
    # Kept apart from A's copy (and so from every copy of the edition), C's copy is a union record of
    # its own, under the id derived from it; the edition keeps its id.
    assert report.mode == "incremental" and report.changed == 2
    assert _id_of(catalogue, ("A", "p00")) == edition != _id_of(catalogue, ("C", "c00"))
    after_pass = _state(catalogue)
    _index(catalogue, rebuild=True)
    assert _state(catalogue) == after_pass
    assert split.id is not None and catalogue.records.remove_merge_decision(split.id)
    assert _index(catalogue).mode == "incremental"
    assert _id_of(catalogue, ("C", "c00")) == edition
