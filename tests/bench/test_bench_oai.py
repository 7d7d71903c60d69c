"""Smoke test of the OAI-PMH provider benchmark: a tiny catalogue on SQLite, one run of each harvest.

The benchmark itself refuses a list that does not hold every record exactly once (its count of
``<record>`` start tags, its distinct identifiers and its ``completeListSize`` must all equal the
catalogue's size); the test checks that it ran every measurement and reported every figure."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bench.oai import CASES, MAIN_CASE, SICKLE_CASE, harvest, main, server

pytestmark = pytest.mark.timeout(180)

RECORDS = 250
PAGE = 100


def test_a_small_oai_benchmark_reports_every_figure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "figures.json"
    arguments = ["--records", str(RECORDS), "--engines", "sqlite", "--runs", "1", "--page-size", str(PAGE)]
    arguments += ["--memory-page-size", "200", "--profile", str(tmp_path / "profile"), "--json", str(out)]
    assert main(arguments) == 0
    figures = json.loads(out.read_text(encoding="utf-8"))
    assert figures["machine"]["cores"] == os.cpu_count()
    (engine,) = figures["engines"]
    assert (engine["engine"], engine["records"], engine["page_size"]) == ("sqlite", RECORDS, PAGE)
    summary = engine["summary"]
    assert set(summary) == {case for case, *_ in CASES} | {SICKLE_CASE}
    for name, item in summary.items():
        assert item["runs"] == 1, name
        assert 0 < item["rate_min"] <= item["rate_median"] <= item["rate_max"], name
    pages = -(-RECORDS // PAGE)
    assert summary[MAIN_CASE]["pages"] == pages
    # gzip is served (the client refuses an uncompressed answer to Accept-Encoding: gzip) and smaller.
    assert summary[MAIN_CASE + " gzip"]["wire_bytes"] < summary[MAIN_CASE]["wire_bytes"] / 3
    assert summary[MAIN_CASE + " gzip"]["body_bytes"] == summary[MAIN_CASE]["body_bytes"]
    assert all(item["records"] == RECORDS for item in engine["harvests"])
    assert engine["memory"]["after"]["VmHWM"] >= engine["memory"]["before"]["VmRSS"] > 10
    assert engine["large_page"]["page_size"] == 200
    profile = Path(engine["profile"])
    assert "handler.py" in profile.read_text(encoding="utf-8")

    printed = capsys.readouterr().out
    assert printed.startswith("Machine: ")
    for case in [MAIN_CASE, "ListRecords oai_dc", "ListIdentifiers", SICKLE_CASE, "200-record pages"]:
        assert case in printed
    assert "target ListRecords marcxml >= 2,000 rec/s" in printed


def test_the_client_refuses_a_list_of_another_size(tmp_path: Path) -> None:
    from bench.oai import HarvestError, build, wait_for_datestamps
    from unicat.settings import Settings

    settings = Settings(data_dir=tmp_path, engine_url=f"sqlite:///{tmp_path / 'oai.db'}")
    build(settings, 30, 1)
    wait_for_datestamps(settings)
    with server(settings.engine_url, 10, None) as served:
        assert harvest(served.url, "ListRecords", "marcxml", gzip=False, expected=30)[:2] == (30, 3)
        with pytest.raises(HarvestError, match="completeListSize"):
            harvest(served.url, "ListIdentifiers", "oai_dc", gzip=True, expected=31)
