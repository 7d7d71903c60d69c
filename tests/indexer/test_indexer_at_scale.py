"""The indexer at millions of records: blocks, clustering a block at a time, ids and works on arrays.

The rules are those of :mod:`indexer.dedup`, :mod:`indexer.ids` and :mod:`indexer.works`, whose own
tests state them by hand; here the cases are stated by hand again for the array versions, and on
real records (shared data, each copied to several libraries as copy cataloguing leaves them, with
librarians' decisions and a previous generation) the scaled run must give exactly what the
whole-catalogue functions give.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Sequence

import numpy as np
import pytest

from indexer.blocks import components, multi_record_blocks
from indexer.dedup import Cluster, cluster_records
from indexer.extract import ExtractedRecord
from indexer.ids import assign_ids, derived_id
from indexer.parsing import parse_outcome
from indexer.partition import cluster_in_blocks
from indexer.record_keys import key_hash, pack, unpack
from indexer.record_table import RecordFinder, RecordTable
from indexer.scaled_ids import ScaledIds, assign_scaled_ids, previous_ids
from indexer.scaled_works import scaled_works
from indexer.works import group_works
from tests.indexer.indexer_testdata import iso2709_records
from unicat.model import MergeDecision, Source, SourceRecord, SourceRef
from unicat.spill import Spill

# --- blocks -------------------------------------------------------------------------------------------


def _labels(count: int, carried: Sequence[tuple[int, int]]) -> list[int]:
    """``carried``: (key, record) pairs."""
    table = RecordTable(count)
    for key, owner in carried:
        table.link(owner, [key_hash(str(key))])
    return list(components(count, *table.take_links()).tolist())


def test_records_sharing_no_key_are_blocks_of_their_own() -> None:
    assert _labels(3, []) == [0, 1, 2]
    assert _labels(3, [(7, 0), (8, 1), (9, 2)]) == [0, 1, 2]


def test_a_shared_key_joins_its_records_under_the_smallest() -> None:
    # Key 10 on 0 and 2, key 20 on 1 and 4: {0, 2}, {1, 4}, {3}, {5}, {6}.
    assert _labels(7, [(10, 0), (20, 1), (10, 2), (30, 3), (20, 4), (40, 5)]) == [0, 1, 0, 3, 1, 5, 6]


def test_a_chain_of_shared_keys_is_one_block_however_long() -> None:
    # 9-8 share key 1, 8-7 key 2, ..., 1-0 key 9: one block, labelled 0.
    carried = [(key, record) for key in range(1, 10) for record in (10 - key, 9 - key)]
    assert _labels(10, carried) == [0] * 10


def test_links_keep_their_blocks_when_more_records_come_than_expected() -> None:
    table = RecordTable(2)
    for owner in range(40):
        table.link(owner, [key_hash(str(owner // 2))])
    table.link(1 << 25, [key_hash("0")])  # past the bits the table was sized for: the links widen
    count = (1 << 25) + 1
    label = components(count, *table.take_links())
    assert label[:40].tolist() == [n - n % 2 for n in range(40)]
    assert label[1 << 25] == 0


def test_multi_record_blocks_come_in_the_order_of_their_smallest_record() -> None:
    label = np.array([0, 1, 0, 3, 1, 5, 3], dtype=np.int64)
    assert [block.tolist() for block in multi_record_blocks(label)] == [[0, 2], [1, 4], [3, 6]]


# --- ids, by hand ---------------------------------------------------------------------------------------


def _record(source: str, local_id: str) -> ExtractedRecord:
    return ExtractedRecord(source=source, local_id=local_id, datestamp=None, title="t", format="book")


def _scaled(clusters: list[list[tuple[str, str]]], previous: dict[tuple[str, str], str]) -> ScaledIds:
    """The array assignment of ``clusters`` (each its members' keys, first member first)."""
    keys = sorted(key for members in clusters for key in members)
    number = {key: position for position, key in enumerate(keys)}
    root_of = np.zeros(len(keys), dtype=np.int64)
    for members in clusters:
        root_of[[number[key] for key in members]] = number[members[0]]
    own = np.array([key_hash(*key) for key in keys], dtype=np.int64)
    finder = RecordFinder(own, lambda position: keys[position])
    rows = [(source, local_id, union_id) for (source, local_id), union_id in sorted(previous.items())]
    codes, old_ids = previous_ids(len(keys), finder, rows)
    derived = np.array([derived_id(*key).encode("ascii") for key in keys], dtype="S13")
    return assign_scaled_ids(root_of, derived, codes, old_ids, lambda position: keys[position])


def _ids(result: ScaledIds, clusters: list[list[tuple[str, str]]]) -> list[str]:
    keys = sorted(key for members in clusters for key in members)
    return [result.of(keys.index(members[0])) for members in clusters]


def test_new_clusters_take_their_first_members_derived_id() -> None:
    clusters = [[("A", "1")], [("B", "2"), ("C", "9")]]
    result = _scaled(clusters, {})
    assert _ids(result, clusters) == [derived_id("A", "1"), derived_id("B", "2")]
    assert result.redirects == {}


def test_the_majority_id_is_kept_and_never_given_twice() -> None:
    previous = {("A", "1"): "u-old1", ("B", "1"): "u-old1", ("C", "1"): "u-old1", ("D", "1"): "u-old2"}
    clusters = [[("A", "1"), ("B", "1")], [("C", "1"), ("D", "1")]]
    assert _ids(_scaled(clusters, previous), clusters) == ["u-old1", "u-old2"]


def test_a_tie_goes_to_the_first_members_id_and_the_other_redirects() -> None:
    clusters = [[("A", "1"), ("B", "1")]]
    result = _scaled(clusters, {("A", "1"): "u-bbb", ("B", "1"): "u-aaa"})
    assert _ids(result, clusters) == ["u-bbb"]
    assert result.redirects == {"u-aaa": "u-bbb"}


def test_a_tie_the_first_member_had_no_part_in_goes_to_the_smaller_id() -> None:
    clusters = [[("A", "1"), ("B", "1"), ("C", "1")]]
    result = _scaled(clusters, {("B", "1"): "u-bbb", ("C", "1"): "u-aaa"})
    assert _ids(result, clusters) == ["u-aaa"]
    assert result.redirects == {"u-bbb": "u-aaa"}


def test_the_loser_of_a_split_gets_a_new_id() -> None:
    clusters = [[("A", "1")], [("B", "1")]]
    result = _scaled(clusters, {("A", "1"): "u-one", ("B", "1"): "u-one"})
    assert _ids(result, clusters) == ["u-one", derived_id("B", "1")]
    assert result.redirects == {}


def test_a_derived_id_already_used_is_salted() -> None:
    # B/1's derived id was an old cluster's, whose only member is gone: retired, so never handed out.
    taken = derived_id("B", "1")
    clusters = [[("A", "1")], [("B", "1")]]
    result = _scaled(clusters, {("Z", "gone"): taken})
    assert _ids(result, clusters) == [derived_id("A", "1"), derived_id("B", "1", 1)]


# --- the whole-catalogue functions against the scaled ones, on real records ------------------------------

LIBRARIES = ("BXL", "LGE", "NAM", "MON")


def _copies() -> list[ExtractedRecord]:
    """Real records, each kept by one to four libraries: a copy keeps the edition's fields (ISBN,
    035, title, author, year) under the library's own local id, as copy cataloguing leaves it; now and
    then a library drops the ISBN, or records another year, so that the rules have refusals to make."""
    rng = random.Random(7)
    files = [
        ("UVA", "marc21/uva_001_2000.mrc", "marc21"),
        ("PPE", "dedup/pride-and-prejudice-with-many-errors.mrc", "marc21"),
        ("PPF", "dedup/pride-and-prejudice-fixed.mrc", "marc21"),
        ("SCPO", "unimarc/cotes8.mrc", "unimarc"),
    ]
    parsed: list[ExtractedRecord] = []
    for code, relative, profile in files:
        source = Source(code, code, profile=profile)
        for position, raw in enumerate(iso2709_records(relative)[:700]):
            _, outcome = parse_outcome(SourceRecord(code, f"{position:05d}", raw), {code: source})
            if isinstance(outcome, ExtractedRecord):
                parsed.append(outcome)
    copies: list[ExtractedRecord] = []
    for record in parsed:
        for library in rng.sample(LIBRARIES, rng.randint(1, 4)):
            copy = dataclasses.replace(record, source=library, local_id=f"{record.source}-{record.local_id}")
            if rng.random() < 0.05:
                copy.isbns = []
            if rng.random() < 0.03 and copy.year is not None:
                copy.year += 1
            copies.append(copy)
    return sorted(copies, key=lambda record: record.key)


def _decisions(clusters: Sequence[Cluster]) -> list[MergeDecision]:
    """Librarians' decisions: split the second member off a few clusters, force a few pairs of single
    records together; one names a record that is gone."""
    crowded = [cluster for cluster in clusters if len(cluster.members) > 1]
    single = [cluster for cluster in clusters if len(cluster.members) == 1]
    decisions = [
        MergeDecision("split", _ref(cluster.members[0]), _ref(cluster.members[1])) for cluster in crowded[:15]
    ]
    decisions += [
        MergeDecision("force", _ref(single[i].members[0]), _ref(single[i + 1].members[0]))
        for i in range(0, 20, 2)
    ]
    decisions.append(MergeDecision("force", SourceRef("BXL", "gone"), _ref(single[30].members[0])))
    return decisions


def _ref(record: ExtractedRecord) -> SourceRef:
    return SourceRef(record.source, record.local_id)


def _previous(clusters: Sequence[Cluster], ids: Sequence[str]) -> dict[tuple[str, str], str]:
    """A previous generation that differs from this one: most members kept their id, some clusters
    were one before (their ids now compete), some members came from elsewhere, some are new."""
    rng = random.Random(11)
    previous: dict[tuple[str, str], str] = {}
    for position, cluster in enumerate(clusters):
        for member in cluster.members:
            roll = rng.random()
            if roll < 0.85:
                previous[member.key] = ids[position]
            elif roll < 0.93:
                previous[member.key] = ids[max(0, position - 1)]
            elif roll < 0.97:
                previous[member.key] = f"u-old{rng.randint(0, 40)}"
    previous[("BXL", "gone-1")] = ids[0]
    previous[("BXL", "gone-2")] = "u-retired"
    return previous


@pytest.fixture(scope="module")
def copies() -> list[ExtractedRecord]:
    return _copies()


def test_clusters_ids_and_works_a_block_at_a_time_equal_the_whole_catalogues(
    copies: list[ExtractedRecord],
) -> None:
    decisions = _decisions(cluster_records(copies))
    whole = cluster_records(copies, decisions)
    assert sum(len(cluster.members) > 1 for cluster in whole) > 500
    assert any(cluster.kept_apart for cluster in whole)
    first = assign_ids(whole, {})
    previous = _previous(whole, first.ids)
    expected = assign_ids(whole, previous)
    assert expected.redirects and expected.ids != first.ids
    expected_works = group_works(whole, expected.ids)
    assert len(expected_works) > 20

    with Spill() as spilled, Spill() as notes:
        table = RecordTable(len(copies))
        for record in copies:
            packed = pack(record)
            spilled.append(packed.blob)
            table.add(packed)
        finder = RecordFinder(table.own(), lambda number: unpack(spilled.read(number)).key)
        layout = cluster_in_blocks(table, spilled, finder, decisions, notes)
        clusters = list(layout.clusters())
        assert [cluster for _, cluster in clusters] == whole

        rows = [(source, local_id, union_id) for (source, local_id), union_id in sorted(previous.items())]
        codes, old_ids = previous_ids(len(table), finder, rows)
        ids = assign_scaled_ids(layout.root_of, table.derived(), codes, old_ids, layout.key_of)
        assert [ids.of(root) for root, _ in clusters] == expected.ids
        assert ids.redirects == expected.redirects

        works = scaled_works(layout, table.works(), ids)
        position_of = {root: position for position, (root, _) in enumerate(clusters)}
        assert {position_of[root]: work for root, work in works.items()} == expected_works
