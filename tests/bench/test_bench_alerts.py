"""Smoke test of the alerts benchmark (bench/alerts.py) on a small catalogue, on SQLite.

Expected figures come from the generated searches themselves (how many ask for a word no record
has), never from running the benchmark.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.alerts import build, check, main, run_matching, saved_searches
from bench.scale import engine_settings

pytestmark = pytest.mark.timeout(300)

RECORDS, CANDIDATES, SEARCHES = 2_000, 150, 300


def test_matching_figures_and_the_prefilter_check(tmp_path: Path) -> None:
    with engine_settings("sqlite", tmp_path, None, None) as settings:
        ids, picked, others = build(settings, RECORDS, CANDIDATES, seed=3)
        assert len(ids) == len(picked) == CANDIDATES and others
        searches = saved_searches(SEARCHES, picked, others, 3, settings)
        assert len(searches) == SEARCHES
        # The generator's searches for a word of no record ("zqxw<n>") cannot match: the prefilter skips them.
        impossible = sum(search.query.text.startswith("zqxw") for search in searches)
        assert impossible > 0
        run = run_matching(settings, ids, searches)
        assert run.searches == SEARCHES
        assert impossible <= run.skipped < SEARCHES
        assert 0 < run.matched <= SEARCHES - run.skipped
        assert run.matches >= run.matched and run.peak_rss_mib > 0
        assert check(settings, ids, searches) == 0


def test_one_command_prints_every_size(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "--records",
            "1000",
            "--candidates",
            "100",
            "--searches",
            "50,100",
            "--setups",
            "sqlite",
            "--repeat",
            "1",
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0
    assert "    50 searches" in printed and "   100 searches" in printed
