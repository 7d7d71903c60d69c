"""Smoke test of the foundation benchmark: its functions on three small real files and a few queries.

Expected counts come from the files themselves (record terminators, bytes that contain a word) and from
CENSUS.tsv (what pymarc reads), never from running the benchmark.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bench.foundation import (
    INDEX_PHASES,
    IndexRun,
    Latency,
    MarcFile,
    Report,
    build_catalogue,
    corpus_files,
    format_report,
    index_runs,
    machine,
    percentile,
    phase_figures,
    pymarc_parse,
    query_cases,
    search_latencies,
)
from tests.support.shared_data import SHARED_DATA
from unicat.model import check_source_code

pytestmark = pytest.mark.timeout(60)

# Small files of three kinds: UTF-8 MARC21 (40 records), UNIMARC (18), and a record whose directory
# is a byte short in its 250 that pymarc cannot read (CENSUS.tsv: 0 parsed, 1 failed), which Unicat
# reads by its field terminators (every one of its fields ends with one).
TINY_FILES = ("marc21/065001035.mrc", "unimarc/cotesX.mrc", "malformed/error.mrc")
CENSUS_PARSED, CENSUS_FAILED = 40 + 18, 1
RECORD_TERMINATOR = b"\x1d"


def _records_containing(files: list[MarcFile], word: bytes) -> int:
    """Raw records whose bytes contain ``word`` (any case): an upper bound for a search's hits."""
    return sum(
        word in record.lower() for item in files for record in item.path.read_bytes().split(RECORD_TERMINATOR)
    )


@pytest.fixture(scope="module")
def tiny_corpus(tmp_path_factory: pytest.TempPathFactory) -> list[MarcFile]:
    data_dir = tmp_path_factory.mktemp("data")
    for name in TINY_FILES:
        (data_dir / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SHARED_DATA / name, data_dir / name)
    (data_dir / "marc21" / "notes.txt").write_text("not a MARC file", encoding="utf-8")
    return corpus_files(data_dir)


@pytest.fixture(scope="module")
def catalogue(tiny_corpus: list[MarcFile], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, IndexRun]:
    data_dir = tmp_path_factory.mktemp("catalogue")
    return data_dir, build_catalogue(tiny_corpus, data_dir)


def test_corpus_files_gives_each_file_its_source_and_profile(tiny_corpus: list[MarcFile]) -> None:
    assert sorted(f"{item.path.parent.name}/{item.path.name}" for item in tiny_corpus) == sorted(TINY_FILES)
    assert {item.path.name: item.profile for item in tiny_corpus} == {
        "065001035.mrc": "marc21",
        "cotesX.mrc": "unimarc",
        "error.mrc": "marc21",
    }
    codes = [check_source_code(item.code) for item in tiny_corpus]
    assert len(set(codes)) == len(codes)


def test_build_catalogue_counts_and_times_every_phase(
    tiny_corpus: list[MarcFile], catalogue: tuple[Path, IndexRun]
) -> None:
    _, run = catalogue
    terminated = sum(item.path.read_bytes().count(RECORD_TERMINATOR) for item in tiny_corpus)
    assert run.source_records == terminated == CENSUS_PARSED + CENSUS_FAILED
    assert run.refused_files == []
    assert run.index_read == run.source_records
    assert run.index_quarantined == 0
    assert 1 <= run.union_records <= run.index_read - run.index_quarantined
    assert set(INDEX_PHASES) <= set(run.seconds)
    assert all(seconds > 0 for seconds in run.seconds.values())
    parts = sum(run.seconds[phase] for phase in ("import", "parse", "normalise_merge", "write"))
    assert run.seconds["end_to_end"] >= parts

    figures = phase_figures([run, run])
    assert [figure.phase for figure in figures] == list(INDEX_PHASES)
    assert all(figure.records == run.source_records and figure.best_rate > 0 for figure in figures)


def test_index_runs_repeat_the_pass_in_fresh_engines(tiny_corpus: list[MarcFile], tmp_path: Path) -> None:
    runs = index_runs(tiny_corpus, tmp_path, 2)
    assert len(runs) == 2
    assert runs[0].counts() == runs[1].counts()
    assert runs[0].source_records == CENSUS_PARSED + CENSUS_FAILED
    assert list(tmp_path.iterdir()) == []


def test_pymarc_parse_reads_what_the_census_says(tiny_corpus: list[MarcFile]) -> None:
    result = pymarc_parse([item.path for item in tiny_corpus if item.is_iso2709])
    assert (result.files, result.parsed, result.failed) == (3, CENSUS_PARSED, CENSUS_FAILED)
    assert result.seconds > 0


def test_percentile_is_nearest_rank() -> None:
    samples = [float(value) for value in range(10, 0, -1)]
    assert (percentile(samples, 0.5), percentile(samples, 0.95), percentile(samples, 0.01)) == (
        5.0,
        10.0,
        1.0,
    )


def test_search_latency_at_engine_and_over_http(
    tiny_corpus: list[MarcFile], catalogue: tuple[Path, IndexRun], tmp_path: Path
) -> None:
    data_dir, run = catalogue
    # "lords" is in one record only (the 200 $a title "La Chambre des Lords…" of cotesX.mrc);
    # "eurostat" is in the 245 $a title of every record of 065001035.mrc.
    assert _records_containing(tiny_corpus, b"lords") == 1
    broad_bound = _records_containing(tiny_corpus, b"eurostat")
    cases = query_cases("lords", "eurostat")
    rows = search_latencies(data_dir, cases, tmp_path, warmup=1, rounds=3)
    at_engine = [row for row in rows if row.layer == "engine"]
    over_http = [row for row in rows if row.layer == "http"]
    assert rows == at_engine + over_http
    assert "Unicat is serving at http://127.0.0.1:" in (tmp_path / "serve.out").read_text(encoding="utf-8")

    expected_hits = {"selective": (1, 1), "broad": (1, broad_bound), "broad + facets": (1, broad_bound)}
    expected_hits["everything + facets"] = (run.union_records, run.union_records)
    expected_hits["broad + chosen facets"] = (0, broad_bound)
    for layer, latencies in (("engine", at_engine), ("http", over_http)):
        assert [item.case for item in latencies] == [case.name for case in cases]
        for item in latencies:
            low, high = expected_hits[item.case]
            assert low <= item.hits <= high, (layer, item)
            assert (item.layer, item.warmup, item.samples) == (layer, 1, 3)
            assert 0 < item.p50_ms <= item.p95_ms <= item.max_ms
            assert item.facets_dropped == 0
            assert (item.added_ms is None) == (layer == "engine")
    assert [item.hits for item in at_engine] == [item.hits for item in over_http]

    report = Report(machine(), {"smoke": True}, [run], [], 0.0, run.union_records, rows)
    text = format_report(report)
    assert "Machine: " in text and "end to end" in text and "what the web layer adds" in text
    document = json.loads(json.dumps(report.to_json()))
    assert len(document["search"]) == 2 * len(cases)
    assert {key for key in document["search"][0]} == set(Latency.__dataclass_fields__)
