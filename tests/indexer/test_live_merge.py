"""Live records merged with union hits on a real catalogue: part of ``dedup/pride-and-prejudice-fixed.mrc``
imported and indexed by the real pipeline on SQLite; what must merge and what must not comes from the
hand-made ground truth ``bench/data/pride-and-prejudice-editions.tsv``, scores from RRF's definition."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pymarc
import pytest

from harvester.importer import import_files
from indexer import run_index
from indexer.live_merge import RRF_K, LiveResultMerger
from indexer.live_records import LiveReader
from tests.indexer.indexer_testdata import (
    PRIDE_2003_A,
    PRIDE_2003_B,
    field_bytes,
    home,
    iso2709_records,
    store_penguin_records,
)
from unicat import merges
from unicat.catalogue import Catalogue
from unicat.libraries import Library, LibraryDirectory
from unicat.live_search import LiveRecord, LiveTarget, MergedHit, RawLiveRecord
from unicat.model import Source, SourceRecord, SourceRef, UnionRecord
from unicat.settings import Settings
from unicat_cli.wiring import open_catalogue

PRIDE_FILE = "dedup/pride-and-prejudice-fixed.mrc"
TRUTH = Path(__file__).resolve().parents[2] / "bench" / "data" / "pride-and-prejudice-editions.tsv"
# Left out of the catalogue: each is the other edition of a catalogue record it shares an identifier
# with (the ground truth's "decided apart, against a shared identifier": 107/109, 212/214).
KEPT_OUT = (109, 214)
CATALOGUE_POSITIONS = tuple(p for p in range(240) if p not in KEPT_OUT)
DIRECTORY = LibraryDirectory([Library("BIB1", "Library one"), Library("BIB2", "Library two")])
TARGETS = {
    "T1": LiveTarget("T1", "Target one", "z3950", "127.0.0.1:210/a", libraries=("BIB1",)),
    "T2": LiveTarget("T2", "Target two", "sru", "http://127.0.0.1/sru", libraries=("BIB2",)),
}


def _editions() -> dict[int, str]:
    """Position → edition label of the ground truth (a record it does not list is its own edition)."""
    labels: dict[int, str] = {}
    for line in TRUTH.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        label, positions = line.split("\t")[:2]
        labels.update((int(position), label) for position in positions.split())
    return labels


EDITIONS = _editions()


def edition(position: int) -> str:
    return EDITIONS.get(position, f"own-{position}")


@dataclass
class Pride:
    catalogue: Catalogue
    raws: list[bytes]
    homes: dict[int, str]  # catalogue position → the union id of its stored copy

    def record(self, position: int) -> UnionRecord:
        found = self.catalogue.index.get_union_record(self.homes[position])
        assert found is not None
        return found

    def live(self, offers: Mapping[str, Sequence[bytes]]) -> list[LiveRecord]:
        """What the targets answered (each list in rank order), read by the live reader."""
        reader = LiveReader(lambda: DIRECTORY)
        read: list[LiveRecord] = []
        for code, raws in offers.items():
            batch = reader.read(
                TARGETS[code], [RawLiveRecord(code, n, raw, "iso2709") for n, raw in enumerate(raws, start=1)]
            )
            assert batch.rejected == []
            read.extend(batch.records)
        return read

    def merge(self, page: Sequence[int], offers: Mapping[str, Sequence[bytes]]) -> list[MergedHit]:
        merger = LiveResultMerger(self.catalogue.records, self.catalogue.index)
        return merger.merge([self.record(p) for p in page], self.live(offers))


@pytest.fixture(scope="module")
def pride(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pride]:
    folder = tmp_path_factory.mktemp("pride")
    raws = iso2709_records(PRIDE_FILE)
    dump = folder / "pride-part.mrc"
    dump.write_bytes(b"".join(raws[p] for p in CATALOGUE_POSITIONS))
    catalogue = open_catalogue(Settings(engine_url=f"sqlite:///{folder / 'unicat.db'}"))
    try:
        source = Source("AUS", "Austen library")
        catalogue.records.save_source(source)
        import_files(catalogue.records, source, [dump])
        run_index(catalogue.records, catalogue.index, workers=1)
        memberships = catalogue.records.memberships()
        by_raw: dict[bytes, str] = {}
        for stored in catalogue.records.iter_source_records("AUS"):
            by_raw[stored.raw] = memberships[("AUS", stored.local_id)]
        yield Pride(catalogue, raws, {p: by_raw[raws[p]] for p in CATALOGUE_POSITIONS})
    finally:
        catalogue.close()


def holders(raw: bytes, code: str) -> set[str]:
    """The libraries a target's copy is held at: its own 852 holdings are the target's (read as a
    harvested source's are), a record without any is held by the libraries the target stands for."""
    return {code} if field_bytes(raw, b"852") is not None else set(TARGETS[code].libraries)


def _rrf(*ranks: int) -> float:
    return sum(1.0 / (RRF_K + rank) for rank in ranks)


def test_copies_of_union_editions_join_their_union_record_on_the_page_or_off_it(pride: Pride) -> None:
    raws = pride.raws
    # 27 and 30 are one edition (pp-e01), 40 is pp-e02 with 57, 156 is pp-e11 with 157: all in the union.
    assert edition(27) == edition(30) and pride.homes[27] == pride.homes[30]
    page = [27, 19, 0]
    assert len({pride.homes[p] for p in page}) == 3
    assert pride.homes[40] not in {pride.homes[p] for p in page}
    hits = pride.merge(page, {"T1": [raws[40], raws[27], raws[156]], "T2": [raws[30]]})

    assert [hit.record.id for hit in hits if hit.record.id in {pride.homes[p] for p in page}] == [
        pride.homes[p] for p in page
    ]
    assert all(hit.in_union for hit in hits)
    by_id = {hit.record.id: hit for hit in hits}
    assert set(by_id) == {pride.homes[p] for p in (*page, 40, 156)}
    on_page = by_id[pride.homes[27]]
    # Union rank 1, T2 rank 1, T1 rank 2: best rank first, ties by name.
    assert on_page.found_by == ["T2", "union", "T1"]
    assert {h.library for h in on_page.live_holdings} == holders(raws[27], "T1") | holders(raws[30], "T2")
    assert on_page.record.holdings == pride.record(27).holdings  # the union's own copies stay apart
    assert on_page.score == pytest.approx(_rrf(1, 1, 2))
    for position, rank in ((40, 1), (156, 3)):
        off_page = by_id[pride.homes[position]]
        assert off_page.found_by == ["T1"] and off_page.score == pytest.approx(_rrf(rank))
        assert {h.library for h in off_page.live_holdings} == holders(raws[position], "T1")
    for p in page[1:]:
        assert by_id[pride.homes[p]].live_holdings == [] and by_id[pride.homes[p]].found_by == ["union"]


def test_other_editions_sharing_an_identifier_stay_lines_of_their_own(pride: Pride) -> None:
    raws = pride.raws
    # The ground truth's pairs decided apart against a shared identifier, catalogue side on the page.
    pairs = {109: 107, 214: 212, 244: 195, 269: 232}
    for live, union in pairs.items():
        assert edition(live) != edition(union)
        assert not any(edition(p) == edition(live) for p in CATALOGUE_POSITIONS)
    hits = pride.merge(list(pairs.values()), {"T1": [raws[p] for p in pairs]})
    union_lines = [hit for hit in hits if hit.in_union]
    assert [hit.record.id for hit in union_lines] == [pride.homes[p] for p in pairs.values()]
    assert all(hit.live_holdings == [] for hit in union_lines)
    live_lines = [hit for hit in hits if not hit.in_union]
    assert len(live_lines) == len(pairs)
    assert all(hit.found_by == ["T1"] and hit.record.id.startswith("live:T1:") for hit in live_lines)
    expected = [holders(raws[p], "T1") for p in pairs]
    assert sorted(sorted({h.library for h in hit.record.holdings}) for hit in live_lines) == sorted(
        sorted(libraries) for libraries in expected
    )


def test_the_same_record_from_two_targets_is_one_line_with_both_targets_holdings(pride: Pride) -> None:
    raws = pride.raws
    assert 250 not in CATALOGUE_POSITIONS and not any(edition(p) == edition(250) for p in CATALOGUE_POSITIONS)
    hits = pride.merge([0], {"T1": [raws[245], raws[250]], "T2": [raws[250]]})
    [line] = [hit for hit in hits if not hit.in_union and len(hit.found_by) == 2]
    assert line.found_by == ["T2", "T1"]  # T2 ranked it first, T1 second
    assert {h.library for h in line.record.holdings} == holders(raws[250], "T1") | holders(raws[250], "T2")
    assert [(ref.source, ref.local_id) for ref in line.record.sources] == [
        ("T2", line.record.sources[0].local_id),
        ("T1", line.record.sources[0].local_id),
    ]
    assert line.score == pytest.approx(_rrf(1, 2))
    assert len(hits) == 3  # the union hit, 245 (pp-e17 with 244, neither in the catalogue), and 250


def test_every_live_record_lands_where_the_ground_truth_puts_it(pride: Pride) -> None:
    raws = pride.raws
    outside: list[int] = []
    for position in range(150, 300):
        same_edition = [p for p in CATALOGUE_POSITIONS if edition(p) == edition(position)]
        [line] = pride.merge([], {"T1": [raws[position]]})
        if same_edition:
            assert line.in_union and line.record.id == pride.homes[same_edition[0]], position
        else:
            assert not line.in_union, position
            outside.append(position)
    # Offered together, the editions the union lacks make one line each, of all their copies.
    hits = pride.merge([], {"T1": [raws[p] for p in outside]})
    sizes: dict[str, int] = {}
    for position in outside:
        sizes[edition(position)] = sizes.get(edition(position), 0) + 1
    assert all(not hit.in_union for hit in hits)
    assert sorted(len(hit.record.sources) for hit in hits) == sorted(sizes.values())
    assert max(sizes.values()) > 1


def test_ranks_fuse_by_rrf_and_the_union_page_keeps_its_order(pride: Pride) -> None:
    raws = pride.raws
    page = [0, 1, 2]
    homes = [pride.homes[p] for p in page]
    assert len(set(homes)) == 3 and pride.homes[27] not in homes
    # 300 is pp-e21 with 298, neither in the catalogue: a live-only edition both targets rank first.
    assert not any(edition(p) == edition(300) for p in CATALOGUE_POSITIONS)
    offers = {"T1": [raws[300], raws[27]], "T2": [raws[300]]}
    hits = pride.merge(page, offers)
    scores = {hit.record.id: hit.score for hit in hits}
    [live_only] = [hit.record.id for hit in hits if not hit.in_union]
    assert scores[live_only] == pytest.approx(_rrf(1, 1))  # above the union's first hit, 1/61
    assert scores[pride.homes[27]] == pytest.approx(_rrf(2))  # 1/62: ties the union's second hit
    assert [scores[h] for h in homes] == pytest.approx([_rrf(1), _rrf(2), _rrf(3)])
    # On a tie the union hit stays first; 1/62 > 1/63 puts the off-page edition before the third hit.
    assert [hit.record.id for hit in hits] == [live_only, homes[0], homes[1], pride.homes[27], homes[2]]
    # The same answers in another order of targets merge to the same list.
    again = pride.merge(page, {"T2": offers["T2"], "T1": offers["T1"]})
    assert [(hit.record.id, hit.found_by, hit.score) for hit in again] == [
        (hit.record.id, hit.found_by, hit.score) for hit in hits
    ]


def test_a_union_hit_a_target_confirms_lifts_the_hits_above_it_instead_of_passing_them(pride: Pride) -> None:
    raws = pride.raws
    page = [0, 1, 2]
    homes = [pride.homes[p] for p in page]
    hits = pride.merge(page, {"T1": [raws[300], raws[27]], "T2": [raws[300], raws[2]]})
    scores = {hit.record.id: hit.score for hit in hits}
    assert scores[homes[2]] == pytest.approx(_rrf(3, 2))  # union rank 3, T2 rank 2: more than 1/61
    assert scores[homes[2]] > scores[homes[0]]
    # The page keeps its order; the union's third hit now weighs 1/63 + 1/62 for the hits above it, so
    # the off-page edition (1/62) comes after all three, and 2/61 still comes first.
    assert [hit.record.id for hit in hits] == [hits[0].record.id, *homes, pride.homes[27]]
    assert not hits[0].in_union and hits[0].score == pytest.approx(_rrf(1, 1))


def test_a_live_copy_without_identifiers_is_found_off_the_page_by_its_title_key(pride: Pride) -> None:
    record = next(pymarc.MARCReader(pride.raws[40], to_unicode=False))
    assert record is not None
    for field in list(record.fields):
        if field.tag in {"001", "003", "010", "015", "016", "020", "022", "024", "035"}:
            record.remove_field(field)
    brief: bytes = record.as_marc()
    [live] = pride.live({"T1": [brief]})
    assert live.record.isbns == [] and live.record.issns == [] and live.record.system_numbers == []
    hits = LiveResultMerger(pride.catalogue.records, pride.catalogue.index).merge([pride.record(19)], [live])
    assert [(hit.record.id, hit.in_union, hit.found_by) for hit in hits] == [
        (pride.homes[19], True, ["union"]),
        (pride.homes[40], True, ["T1"]),
    ]


def test_librarians_splits_hold_where_members_are_union_records(tmp_path: Path) -> None:
    """The copy goes where ``unicat index`` puts the same record harvested (the reference), whatever
    the page's order: ignoring the split, the two members would cluster as one and the copy would
    join whichever of their union records the page shows first."""
    catalogue = open_catalogue(Settings(engine_url=f"sqlite:///{tmp_path / 'unicat.db'}"))
    try:
        store_penguin_records(catalogue.records)
        run_index(catalogue.records, catalogue.index, workers=1)
        merged = home(catalogue.records, PRIDE_2003_A)
        merges.split_member(catalogue, merged, SourceRef(f"L{PRIDE_2003_B}", "r"), reason="two printings")
        run_index(catalogue.records, catalogue.index, workers=1)
        ids = home(catalogue.records, PRIDE_2003_A), home(catalogue.records, PRIDE_2003_B)
        assert ids[0] != ids[1]
        page = [catalogue.index.get_union_record(union_id) for union_id in ids]
        raw = iso2709_records(PRIDE_FILE)[PRIDE_2003_B]
        live = (
            LiveReader(lambda: DIRECTORY)
            .read(TARGETS["T1"], [RawLiveRecord("T1", 1, raw, "iso2709")])
            .records
        )
        merger = LiveResultMerger(catalogue.records, catalogue.index)
        joined = []
        for order in (page, page[::-1]):
            hits = merger.merge([record for record in order if record is not None], live)
            assert len(hits) == 2
            [line] = [hit for hit in hits if "T1" in hit.found_by]
            joined.append(line.record.id)

        catalogue.records.save_source(Source("COPY", "A library harvesting the same record"))
        catalogue.records.store_page("COPY", [SourceRecord("COPY", "r", raw, "iso2709", None)], None)
        run_index(catalogue.records, catalogue.index, workers=1)
        reference = catalogue.records.memberships()[("COPY", "r")]
        assert reference in ids
        assert joined == [reference, reference]
    finally:
        catalogue.close()
