"""Deduplication on the Pride and Prejudice set: ground truth from identifiers and 008 years."""

from __future__ import annotations

import dataclasses
import re
from collections import defaultdict
from itertools import combinations

import pymarc
import pytest

from indexer.decoding import decode_record
from indexer.dedup import Cluster, cluster_records, merge_keys
from indexer.extract import ExtractedRecord, extract
from indexer.profiles import builtin_profile
from indexer.union import build_union_record
from tests.indexer.indexer_testdata import DATA, iso2709_records
from unicat.model import Source

FILE = "dedup/pride-and-prejudice-fixed.mrc"


@pytest.fixture(scope="module")
def clusters() -> list[Cluster]:
    profile = builtin_profile("marc21")
    extracted: list[ExtractedRecord] = []
    for position, raw in enumerate(iso2709_records(FILE)):
        # Each record its own library: local ids repeat across libraries in this file.
        source = Source(code=f"L{position:03d}", name="library")
        extracted.append(extract(decode_record(raw, "iso2709", "marc21").record, profile, source, "1"))
    return cluster_records(extracted)


def _plain_isbn10s(record: pymarc.Record) -> set[str]:
    """ISBN-10s as written in 020 $a (digits and X), read without the code under test."""
    found = set()
    for marc_field in record.get_fields("020"):
        for value in marc_field.get_subfields("a"):
            match = re.match(r"\s*([0-9]{9}[0-9Xx])\b", value)
            if match:
                found.add(match.group(1).upper())
    return found


def _cluster_of(clusters: list[Cluster]) -> dict[str, int]:
    return {member.source: n for n, cluster in enumerate(clusters) for member in cluster.members}


def test_the_two_2003_penguin_records_with_isbn_0141439513_merge(clusters: list[Cluster]) -> None:
    with (DATA / FILE).open("rb") as handle:
        plain = [r for r in pymarc.MARCReader(handle, to_unicode=True, force_utf8=True) if r is not None]
    holders = [f"L{i:03d}" for i, r in enumerate(plain) if "0141439513" in _plain_isbn10s(r)]
    assert len(holders) == 2
    where = _cluster_of(clusters)
    assert where[holders[0]] == where[holders[1]]
    cluster = clusters[where[holders[0]]]
    assert any(rule.rule == "isbn" and rule.key == "9780141439518" for rule in cluster.rules)
    assert len(cluster.members[0].holdings + cluster.members[1].holdings) >= 2


def test_shared_isbn_merges_only_when_years_agree(clusters: list[Cluster]) -> None:
    with (DATA / FILE).open("rb") as handle:
        plain = [r for r in pymarc.MARCReader(handle, to_unicode=True, force_utf8=True) if r is not None]
    by_isbn: dict[str, list[int]] = defaultdict(list)
    for position, record in enumerate(plain):
        for isbn in _plain_isbn10s(record):
            by_isbn[isbn].append(position)
    where = _cluster_of(clusters)
    same = different = 0
    for positions in by_isbn.values():
        for a, b in combinations(positions, 2):
            fixed_a, fixed_b = ((plain[p]["008"].data or "")[7:11] for p in (a, b))
            if not (fixed_a.isdigit() and fixed_b.isdigit()) or plain[a].leader[6:8] != plain[b].leader[6:8]:
                continue
            if fixed_a == fixed_b:
                assert where[f"L{a:03d}"] == where[f"L{b:03d}"]
                same += 1
            else:
                assert where[f"L{a:03d}"] != where[f"L{b:03d}"]
                different += 1
    assert same >= 10 and different >= 1


def test_every_merge_is_explained_by_a_key_its_members_carry(clusters: list[Cluster]) -> None:
    for cluster in clusters:
        years = {member.year for member in cluster.members if member.year is not None}
        assert len(years) <= 1
        assert len({member.format for member in cluster.members}) == 1
        if len(cluster.members) > 1:
            assert cluster.rules
            for member in cluster.members:
                assert {(rule.rule, rule.key) for rule in cluster.rules} & set(merge_keys(member))
    # 155 records' 245 $a starts "Pride and prejudice" (counted with plain pymarc); only those sharing
    # an identifier and a year may merge, so nearly all of them stay separate editions.
    titled = [
        c for c in clusters if any(m.title.lower().startswith("pride and prejudice") for m in c.members)
    ]
    titled_members = sum(
        1 for c in titled for m in c.members if m.title.lower().startswith("pride and prejudice")
    )
    assert titled_members == 155
    assert len(titled) > 155 * 0.8


def test_a_union_record_has_every_audience_its_members_were_coded_with(clusters: list[Cluster]) -> None:
    merged = [cluster for cluster in clusters if len(cluster.members) > 1]
    # The file holds such a cluster: record 40 (008/22 "g") and record 57 (blank) are one edition.
    assert any(len({tuple(member.audience) for member in cluster.members}) > 1 for cluster in merged)
    for number, cluster in enumerate(merged):
        union = build_union_record(f"u{number}", cluster)
        coded = {value for member in cluster.members for value in member.audience}
        assert len(union.audience) == len(set(union.audience)) and set(union.audience) == coded


def _extracted(relative: str) -> list[ExtractedRecord]:
    profile = builtin_profile("marc21")
    return [
        extract(decode_record(raw, "iso2709", "marc21").record, profile, Source(code="DP", name="x"), str(n))
        for n, raw in enumerate(iso2709_records(relative))
    ]


def test_titles_that_share_a_head_but_not_their_subtitles_stay_apart() -> None:
    # marc4j's 065001035.mrc: 40 Data-Planet dataset records, one publisher, author and year, whose
    # 245 $a is the same and whose 245 $b (country, table, variable) differs on every record.
    relative = "marc21/065001035.mrc"
    with (DATA / relative).open("rb") as handle:
        plain = [r for r in pymarc.MARCReader(handle, to_unicode=True, force_utf8=True) if r is not None]
    assert len({r["245"]["a"] for r in plain}) == 1
    assert len({r["245"]["b"] for r in plain}) == len(plain) == 40
    clusters = cluster_records(_extracted(relative))
    assert len(clusters) == 40


def test_a_copy_without_its_subtitle_still_merges_by_title_author_and_year() -> None:
    # The first dataset record, and the same record with its 245 $b dropped (a brief copy).
    [record] = _extracted("marc21/065001035.mrc")[:1]
    brief = dataclasses.replace(record, local_id="brief", title=record.title_proper or "")
    [cluster] = cluster_records([record, brief])
    assert [rule.rule for rule in cluster.rules] == ["title_author_year"]
