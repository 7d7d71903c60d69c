"""The harvest benchmark: how fast Unicat's harvester brings an OAI-PMH feed into the record store,
beside sickle alone reading the same pages, and how much memory each needs with large pages.

Run from the repository root: ``.venv/bin/python bench/harvest.py [--records N] [--page-size P]
[--memory-page-size Q] [--runs R]``.

A local endpoint (the demo's OAI-PMH provider, :mod:`unicat_cli.demo.oai_endpoint`, in a process of its
own) serves ``--records`` MARCXML records: the 2,000 real records of ``marc21/uva_001_2000.mrc``,
converted once and dealt out again under new identifiers. Each measurement is a fresh process,
so that its peak memory (``ru_maxrss``) is its own:

* **sickle alone**: ``Sickle(url).ListRecords(metadataPrefix=...)``, iterating every record (sickle
  parses each page and each record's metadata): the ceiling a harvester built on sickle can reach;
* **download only**: every page fetched with ``requests`` and thrown away: the endpoint's own speed;
* **Unicat**: ``harvest_source(store, source, settings, full=True)`` into a new SQLite record store,
  with the default settings (politeness delay included), records/s counted from the report.

``bench/README.md`` says what was measured and what it means.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.foundation import DEFAULT_DATA, machine  # noqa: E402

CORPUS_FILE = Path("marc21") / "uva_001_2000.mrc"
DEFAULT_RECORDS = 100_000
DEFAULT_PAGE = 500
MEMORY_PAGE = 10_000
PREFIX = "marcxml"


# -- the endpoint (runs in its own process) ----------------------------------------------------------


def _repository(records: int, data_dir: Path) -> Any:
    from unicat_cli.demo.records import OAIRecord, Repository, build_records

    raws = list(_iso2709(data_dir / CORPUS_FILE))
    base = build_records("oai:bench:base", raws, profile="marc21")
    start = datetime(2020, 1, 1, tzinfo=UTC)
    items = [
        OAIRecord(f"oai:bench:{n}", start + timedelta(seconds=n), base[n % len(base)].metadata)
        for n in range(records)
    ]
    return Repository("Unicat harvest benchmark", items)


def _iso2709(path: Path) -> Iterator[bytes]:
    data = path.read_bytes()
    position = 0
    while position < len(data):
        length = int(data[position : position + 5])
        yield data[position : position + length]
        position += length


async def _serve(records: int, page_size: int, data_dir: Path) -> None:
    from aiohttp import web

    from unicat_cli.demo.oai_endpoint import make_app

    runner = web.AppRunner(make_app(_repository(records, data_dir), page_size), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(f"http://127.0.0.1:{runner.addresses[0][1]}/oai", flush=True)
    await asyncio.Event().wait()


@contextmanager
def endpoint(records: int, page_size: int, data_dir: Path) -> Iterator[str]:
    """The endpoint's URL while its process runs."""
    process = subprocess.Popen(
        [sys.executable, __file__, "serve", str(records), str(page_size), str(data_dir)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        if not url.startswith("http://"):
            raise RuntimeError(f"the benchmark endpoint did not start (said {url!r})")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


# -- the measurements (each in its own process) -------------------------------------------------------


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure_sickle(url: str) -> dict[str, Any]:
    from sickle import Sickle

    started = time.perf_counter()
    count = sum(1 for _record in Sickle(url, max_retries=0, timeout=120).ListRecords(metadataPrefix=PREFIX))
    return {"records": count, "seconds": time.perf_counter() - started, "peak_mib": _peak_mib()}


def measure_download(url: str) -> dict[str, Any]:
    import re

    import requests

    token_re = re.compile(rb"<resumptionToken[^>]*>([^<]+)</resumptionToken>")
    started = time.perf_counter()
    params: dict[str, str] = {"verb": "ListRecords", "metadataPrefix": PREFIX}
    pages = 0
    while True:
        body = requests.get(url, params=params, timeout=120).content
        pages += 1
        match = token_re.search(body[-2048:])
        if match is None:
            break
        params = {"verb": "ListRecords", "resumptionToken": match.group(1).decode()}
    return {"pages": pages, "seconds": time.perf_counter() - started, "peak_mib": _peak_mib()}


def measure_unicat(url: str) -> dict[str, Any]:
    import logging

    from harvester import harvest_source
    from unicat.model import Source
    from unicat.settings import Settings
    from unicat_cli.wiring import open_catalogue

    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="unicat-bench-harvest-") as work:
        settings = Settings(data_dir=Path(work), engine_url=f"sqlite:///{Path(work) / 'unicat.db'}")
        with open_catalogue(settings) as catalogue:
            store = catalogue.records
            source = Source("BENCH", "Benchmark endpoint", url, metadata_prefix=PREFIX)
            store.save_source(source)
            started = time.perf_counter()
            report = harvest_source(store, source, settings, full=True)
            seconds = time.perf_counter() - started
            if report.status != "ok":
                raise RuntimeError(f"the harvest failed: {report.error}")
            live = store.source_counts("BENCH").live
    return {
        "records": report.records,
        "stored": live,
        "seconds": seconds,
        "peak_mib": _peak_mib(),
        "politeness_delay": settings.harvest_politeness_delay,
        "pages": report.pages,
    }


MEASURES = {"sickle": measure_sickle, "download": measure_download, "unicat": measure_unicat}


def run_measure(kind: str, url: str) -> dict[str, Any]:
    answer = subprocess.run(
        [sys.executable, __file__, "measure", kind, url], capture_output=True, text=True, cwd=REPO_ROOT
    )
    if answer.returncode != 0:
        raise RuntimeError(f"{kind} measurement failed:\n{answer.stderr}")
    result: dict[str, Any] = json.loads(answer.stdout)
    return result


# -- the report ---------------------------------------------------------------------------------------


def _rates(results: Sequence[dict[str, Any]], records: int) -> tuple[float, float, float]:
    rates = sorted(records / result["seconds"] for result in results)
    return rates[0], statistics.median(rates), rates[-1]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=DEFAULT_RECORDS)
    parser.add_argument("--page-size", type=int, default=DEFAULT_PAGE)
    parser.add_argument("--memory-page-size", type=int, default=MEMORY_PAGE)
    parser.add_argument("--runs", type=int, default=3, help="runs of each throughput measurement")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    figures: dict[str, Any] = {"machine": machine().line(), "records": args.records}
    print(f"machine: {figures['machine']}", flush=True)

    with endpoint(args.records, args.page_size, args.data) as url:
        rounds: dict[str, list[dict[str, Any]]] = {kind: [] for kind in MEASURES}
        for run in range(args.runs):  # interleaved, so that drifts of the machine hit all alike
            for kind in MEASURES:
                result = run_measure(kind, url)
                rounds[kind].append(result)
                rate = args.records / result["seconds"]
                print(f"  run {run + 1} {kind:<8} {rate:>9,.0f} rec/s", flush=True)
    for kind in ("sickle", "unicat"):
        counted = {result["records"] for result in rounds[kind]}
        if counted != {args.records}:
            raise RuntimeError(f"{kind} saw {counted} records, not {args.records}")
    if {result["stored"] for result in rounds["unicat"]} != {args.records}:
        raise RuntimeError("the record store does not hold every record")
    low, mid, high = {}, {}, {}
    for kind in MEASURES:
        low[kind], mid[kind], high[kind] = _rates(rounds[kind], args.records)
    ratio = mid["unicat"] / mid["sickle"]
    figures["throughput"] = {
        "page_size": args.page_size,
        "runs": args.runs,
        **{kind: {"min": low[kind], "median": mid[kind], "max": high[kind]} for kind in MEASURES},
        "unicat_over_sickle": ratio,
        "politeness_delay": rounds["unicat"][0]["politeness_delay"],
    }

    with endpoint(args.records, args.memory_page_size, args.data) as url:
        memory = {kind: run_measure(kind, url) for kind in ("sickle", "unicat")}
    figures["memory"] = {
        "page_size": args.memory_page_size,
        **{
            kind: {"peak_mib": result["peak_mib"], "rate": args.records / result["seconds"]}
            for kind, result in memory.items()
        },
    }

    print()
    print(
        f"Harvest of {args.records:,} MARCXML records from a local OAI-PMH endpoint, "
        f"{args.page_size:,} per page"
    )
    print(f"(median of {args.runs} runs, min-max in brackets; records/s)")
    names = {
        "download": "download only (no parsing)",
        "sickle": "sickle alone (parse)",
        "unicat": "Unicat harvester → SQLite store",
    }
    for kind in ("download", "sickle", "unicat"):
        print(f"  {names[kind]:<34} {mid[kind]:>9,.0f}  [{low[kind]:,.0f}-{high[kind]:,.0f}]")
    print(f"  Unicat / sickle alone: {ratio:.2f}x (target >= 0.5x)")
    print(f"Peak memory with {args.memory_page_size:,}-record pages (ru_maxrss of the process):")
    for kind in ("sickle", "unicat"):
        entry = figures["memory"][kind]
        print(f"  {names[kind]:<34} {entry['peak_mib']:>7,.0f} MiB  ({entry['rate']:,.0f} rec/s)")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "serve":
        asyncio.run(_serve(int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])))
    elif len(sys.argv) > 1 and sys.argv[1] == "measure":
        print(json.dumps(MEASURES[sys.argv[2]](sys.argv[3])))
    else:
        sys.exit(main())
