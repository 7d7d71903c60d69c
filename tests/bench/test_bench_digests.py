"""Smoke test of the digest run benchmark (bench/digests.py) on a small catalogue, on SQLite.

Expected figures come from the generated searches and the corpus (how many searches ask for a word no
record has, how many readers there are), never from running the benchmark.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.digests import build, main, run_digests
from bench.scale import engine_settings

pytestmark = pytest.mark.timeout(300)

RECORDS, CANDIDATES, SEARCHES = 1_500, 120, 120


def test_one_digest_run_stores_one_digest_per_search_that_found_something(tmp_path: Path) -> None:
    with engine_settings("sqlite", tmp_path, None, None) as settings:
        corpus = build(settings, RECORDS, CANDIDATES, SEARCHES, seed=3)
        assert len(corpus.search_ids) == SEARCHES and corpus.candidates == CANDIDATES
        for size in (SEARCHES // 2, SEARCHES):
            run = run_digests(settings, corpus, size)
            assert run.problems == ()
            assert run.searches == size and run.stored + run.empty == size
            # The generator's searches for a word of no record ("zqxw<n>") find nothing new.
            impossible = sum(params["q"][0].startswith("zqxw") for params in corpus.searches[:size])
            assert impossible > 0 and impossible <= run.empty < size and run.stored > 0
            assert run.seconds > 0 and run.peak_rss_mib > 0
            assert set(run.split) == {"candidates", "matching", "records", "render", "outbox"}


def test_one_command_prints_every_size(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--records", "1000", "--candidates", "80", "--searches", "20,40", "--setups", "sqlite"])
    printed = capsys.readouterr().out
    assert code == 0
    assert "    20 searches" in printed and "    40 searches" in printed and "FAILED" not in printed
