"""Smoke test of the harvest benchmark: a small endpoint, one run of each measurement, real processes.

The benchmark itself refuses figures from a run that did not see, or store, every record the endpoint
serves; the test checks the report it writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.harvest import main

pytestmark = pytest.mark.timeout(120)


def test_a_small_harvest_benchmark_reports_every_figure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "figures.json"
    assert (
        main(
            [
                "--records",
                "600",
                "--page-size",
                "100",
                "--memory-page-size",
                "300",
                "--runs",
                "1",
                "--json",
                str(out),
            ]
        )
        == 0
    )
    figures = json.loads(out.read_text(encoding="utf-8"))
    assert figures["records"] == 600
    throughput = figures["throughput"]
    for kind in ("sickle", "download", "unicat"):
        assert throughput[kind]["min"] <= throughput[kind]["median"] <= throughput[kind]["max"]
        assert throughput[kind]["median"] > 0
    assert throughput["unicat_over_sickle"] == pytest.approx(
        throughput["unicat"]["median"] / throughput["sickle"]["median"]
    )
    assert figures["memory"]["page_size"] == 300
    assert all(figures["memory"][kind]["peak_mib"] > 10 for kind in ("sickle", "unicat"))
    printed = capsys.readouterr().out
    assert "Unicat / sickle alone:" in printed and "Peak memory with 300-record pages" in printed
