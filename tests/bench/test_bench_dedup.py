"""The deduplication benchmark and its evaluation sets: the ground truth file matches the data it
describes, the varied copies and the Open Library set are what their docstrings say, and the product
meets its targets on every set.

The targets (pairwise precision >= 0.995, recall >= 0.95) are the issue's; the ground truths are made
without Unicat's code (bench/dedup_sets.py), so falling below them is a real regression.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pymarc
import pytest

from bench.dedup import TARGET_PRECISION, TARGET_RECALL, main
from bench.dedup_sets import (
    OPEN_LIBRARY_DIR,
    TRUTH_FILE,
    open_library,
    pairwise,
    pride_and_prejudice,
    varied_copies,
)

pytestmark = pytest.mark.timeout(300)


def test_the_truth_file_names_the_records_it_says() -> None:
    records = pride_and_prejudice()
    assert len(records) == 383
    for line in TRUTH_FILE.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        _, positions, control_numbers, why = line.split("\t")
        assert why
        for position, control in zip(positions.split(), control_numbers.split(), strict=True):
            fields = pymarc.Record(
                data=records[int(position)].raw, to_unicode=True, force_utf8=True
            ).get_fields("001")
            assert (fields[0].data if fields else "-") == control


def test_varied_copies_hold_copies_and_negatives_of_each_kind() -> None:
    records = varied_copies(1)
    editions = Counter(record.edition for record in records)
    assert len(records) > 3_000
    assert sum(1 for count in editions.values() if count > 1) > 500
    kinds = Counter(edition[6:7] for edition in editions if len(edition) > 6)
    assert set(kinds) == {"n", "v", "a", "r"}
    # Every record is unique in its (source, local id), the key the truth is given by.
    assert len({(record.source, record.local_id) for record in records}) == len(records)
    assert varied_copies(1) == records  # deterministic


def test_the_open_library_set_is_what_its_docstring_says() -> None:
    records = open_library()
    files = sorted(path.name for path in OPEN_LIBRARY_DIR.iterdir() if path.suffix in {".mrc", ".xml"})
    assert len(files) == 82
    # Left out, read from the files: leader/06 "x" (a MARC 21 holdings code) in both records of one
    # scan, and no 245 $a in seven records.
    left_out = {
        "lesabndioeinas00sche_meta.mrc",
        "lesabndioeinas00sche_marc.xml",
        "scrapbooksofmoun03tupp_meta.mrc",
        "scrapbooksofmoun03tupp_marc.xml",
        "talis_740.mrc",
        "talis_empty_245.mrc",
        "talis_multi_work_tiles.mrc",
        "talis_no_title.mrc",
        "talis_no_title2.mrc",
    }
    assert len(records) == len(files) - len(left_out) == 73
    editions = Counter(record.edition for record in records)
    assert len(editions) == 57
    # 15 scans whose record is there both as ISO 2709 and as MARCXML, and one fetched twice (new_).
    shared = {edition for edition, count in editions.items() if count == 2}
    assert len(shared) == 16 and set(editions.values()) == {1, 2}
    both_forms = {e for e in shared if {f"{e}_meta.mrc", f"{e}_marc.xml"} <= set(files)}
    assert shared - both_forms == {"poganucpeoplethe00stowuoft"}
    assert {"poganucpeoplethe00stowuoft_meta.mrc", "new_poganucpeoplethe00stowuoft_meta.mrc"} <= set(files)
    # The near miss: two editions of Candide, each its own edition.
    assert editions["bpl_0486266893"] == editions["lc_1416500308"] == 1
    assert {record.syntax for record in records} == {"iso2709", "marcxml"}
    assert len({(record.source, record.local_id) for record in records}) == len(records)


def test_pairwise_counts_pairs_as_the_definition_says() -> None:
    truth = {("a", "1"): "x", ("b", "1"): "x", ("c", "1"): "x", ("d", "1"): "y", ("e", "1"): "y"}
    # Truth pairs: ab ac bc de. Found: ab (true), cd (false); missed: ac bc de.
    assert pairwise([[("a", "1"), ("b", "1")], [("c", "1"), ("d", "1")], [("e", "1")]], truth) == (1, 1, 3)


def test_the_benchmark_meets_the_targets_and_reports_timings(tmp_path: Path) -> None:
    out = tmp_path / "dedup.json"
    assert main(["--sizes", "2000,4000", "--runs", "1", "--json", str(out)]) == 0
    figures = json.loads(out.read_text(encoding="utf-8"))
    assert [quality["name"] for quality in figures["quality"]][2] == "open-library"
    for quality in figures["quality"]:
        assert quality["precision"] >= TARGET_PRECISION, quality
        assert quality["recall"] >= TARGET_RECALL, quality
        assert quality["true_positive"] > 0
    assert [timing["records"] for timing in figures["timings"]] == [2000, 4000]
