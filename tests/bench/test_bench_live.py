"""Smoke test of the federated search benchmark (bench/live.py): a few queries over the whole network
(Zebra over Z39.50 and SRU, a second served Unicat's /sru, the union's served app), on SQLite.

What is asserted comes from the network's definition (three targets, the queries asked) and from
YAZ's own client (the Zebra hit counts), never from an earlier run of the benchmark.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.live import main, reader_queries

pytestmark = [pytest.mark.peers, pytest.mark.timeout(600)]

QUERIES = 8


def test_the_queries_are_the_same_for_the_same_seed_and_read_like_a_readers() -> None:
    first = reader_queries(40, seed=5)
    assert first == reader_queries(40, seed=5)
    assert first != reader_queries(40, seed=6)
    texts = [params["q"][0] for params in first]
    assert all(text.strip() for text in texts)
    # Some with a filter, some by author, some by ISBN (as the benchmark's docstring promises).
    assert any(set(params) - {"q"} for params in first)
    assert any(text.startswith("au:") for text in texts)
    assert any(text.isdigit() and len(text) in (10, 13) for text in texts)


def test_one_command_prints_the_figures_and_zebra_agrees_with_yaz_client(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "live.json"
    code = main(["--queries", str(QUERIES), "--repeat", "1", "--json", str(out)])
    printed = capsys.readouterr().out
    assert code == 0, printed
    for label in (
        "first results: /api/search with 3 targets",
        "first results: /api/search live=0",
        "complete: request → stream's done",
        "reading:",
        "merging:",
    ):
        assert label in printed
    assert f"Zebra hits = yaz-client hits: {QUERIES} of {QUERIES} queries" in printed
    (found,) = json.loads(out.read_text(encoding="utf-8"))
    assert found["queries"] == QUERIES and found["passes"] == 1
    assert set(found["targets"]) == {"ZEBZ", "ZEBSRU", "NEIGHBOUR"}
    for target in found["targets"].values():
        # Every target answered every query (none timed out or failed) and its answer was timed.
        assert target["states"] == {"done": QUERIES}
        assert target["seconds"]["p50"] >= 0
    assert found["reading"]["records"] == sum(t["records"] for t in found["targets"].values())
    assert found["reading"]["records"] > 0 and found["reading"]["records_per_second"] > 0
    assert found["zebra_check"] == {"compared": QUERIES, "mismatches": []}
