"""The OAI-PMH provider at catalogue scale: records/s served by one core, on both engines.

Run from the repository root::

    .venv/bin/python bench/oai.py [--records 200000] [--engines sqlite,elasticsearch] [--es-url URL]
        [--pg-url URL]

For each engine (SQLite alone; or Elasticsearch for the union index with PostgreSQL for the stores):

1. **Catalogue.** ``--records`` union records of :mod:`bench.corpus` written by one
   ``write_union_generation`` (the union index, and the OAI-PMH feed in the record store: every record
   then has one generation), then a wait until that generation's datestamp is in the past (the
   provider serves a generation only from the second after its datestamp).
2. **Server.** The real application (``unicat_cli.steps.serve_step``, as ``unicat serve`` runs it) in a
   process of its own pinned to one core (``os.sched_setaffinity``); the harvesting client runs here,
   pinned to another core. Elasticsearch itself is not pinned: the node has both cores, the figure is
   the web server's one core.
3. **Harvests.** Whole-catalogue lists following resumption tokens with a lean client (``http.client``
   with keep-alive; a regular expression finds the token and the identifiers, a byte count finds the
   ``<record>`` start tags; the count must equal ``--records`` and no identifier may repeat):
   ListRecords marcxml, the same with ``Accept-Encoding: gzip``, ListRecords oai_dc, ListIdentifiers,
   each ``--runs`` times, interleaved; then sickle (``Sickle(url).ListRecords(metadataPrefix="marcxml",
   ignore_deleted=False)``, every record iterated).
4. **Memory.** The server's resident memory before the harvests and its peak after (``VmRSS`` and
   ``VmHWM`` of ``/proc/PID/status``), at ``oai_page_size`` ``--page-size`` and again in a second
   server at ``--memory-page-size``.

``--profile DIR`` runs one more ListRecords marcxml harvest against a server under cProfile (every
thread) and writes its statistics there; those timings are not figures. ``bench/README.md`` says what
each figure means.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import http.client
import json
import re
import statistics
import sys
import tempfile
import time
import urllib.request
import uuid
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit
from xml.sax.saxutils import unescape

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.corpus import DEFAULT_SEED, DEFAULT_SIZE, union_records  # noqa: E402
from bench.foundation import machine, quiet_logging  # noqa: E402
from bench.served import (  # noqa: E402
    NodeCpu,
    Server,
    client_on,
    cpu_seconds,
    elasticsearch,
    es_version,
    memory_mib,
    pick_cores,
    postgresql,
)
from bench.served import server as served_app  # noqa: E402
from unicat.oai_items import seconds_of  # noqa: E402
from unicat.settings import Settings  # noqa: E402
from unicat.union_generation import write_union_generation  # noqa: E402
from unicat_cli.wiring import open_catalogue, open_index  # noqa: E402

TARGET = 2_000.0
"""Records/s the issue asks of ListRecords marcxml served by one core."""
DEFAULT_PAGE = 500
MEMORY_PAGE = 10_000
REQUEST_TIMEOUT = 600.0
# (name, verb, metadataPrefix, gzip), harvested in this order in every run.
CASES: tuple[tuple[str, str, str, bool], ...] = (
    ("ListRecords marcxml", "ListRecords", "marcxml", False),
    ("ListRecords marcxml gzip", "ListRecords", "marcxml", True),
    ("ListRecords oai_dc", "ListRecords", "oai_dc", False),
    ("ListIdentifiers", "ListIdentifiers", "marcxml", False),
)
MAIN_CASE = CASES[0][0]
SICKLE_CASE = "sickle ListRecords marcxml"

# The OAI-PMH elements the client looks for. A record of the list is ``<record>`` without attributes
# (the OAI namespace is the default one); the MARC21 record inside it always carries its xmlns, and
# every value is escaped, so neither the metadata nor the text can fake one of these.
_IDENTIFIER = re.compile(rb"<header[^>]*><identifier>([^<]*)</identifier>")
_TOKEN = re.compile(rb"<resumptionToken([^>]*)>([^<]*)</resumptionToken>")
_LIST_SIZE = re.compile(rb'completeListSize="(\d+)"')
_ERROR = b"<error "
_TOKEN_WINDOW = 4096
"""The token is the last element of a page: search only its tail."""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@contextlib.contextmanager
def server(
    engine_url: str, page_size: int, core: int | None, profile: Path | None = None, store_url: str = ""
) -> Iterator[Server]:
    """The app (:func:`bench.served.server`) over the index ``engine_url`` and the stores
    ``store_url`` (by default the index's SQLite file) at ``oai_page_size`` ``page_size``; its URL
    is the provider's (``…/oai``)."""
    changes = {"oai_page_size": page_size, "store_url": store_url}
    with served_app(engine_url, core, changes, profile) as served:
        yield dataclasses.replace(served, url=f"{served.url}/oai")


# -- the harvests -------------------------------------------------------------------------------------


@dataclass
class Harvest:
    """One whole list, as the client saw it."""

    case: str
    records: int
    pages: int
    seconds: float
    wire_bytes: int
    body_bytes: int
    server_cpu_seconds: float
    node_cpu_seconds: float | None = None

    @property
    def rate(self) -> float:
        return self.records / self.seconds

    @property
    def cpu_rate(self) -> float:
        """Records per CPU second of the server process (independent of waiting)."""
        return self.records / self.server_cpu_seconds if self.server_cpu_seconds else 0.0


class HarvestError(RuntimeError):
    """A list that did not hold every record exactly once, or an answer that was not a page."""


def harvest(oai_url: str, verb: str, prefix: str, *, gzip: bool, expected: int) -> tuple[int, int, int, int]:
    """Every page of one list, following the resumption tokens on one keep-alive connection.

    Returns (records, pages, bytes received, bytes after decompression). Raises :class:`HarvestError`
    unless the list holds ``expected`` records with distinct identifiers and says so in its
    ``completeListSize``."""
    parts = urlsplit(oai_url)
    host = parts.hostname or "127.0.0.1"
    connection = http.client.HTTPConnection(host, parts.port, timeout=REQUEST_TIMEOUT)
    headers = {"Accept-Encoding": "gzip" if gzip else "identity"}
    start_tag = b"<record>" if verb == "ListRecords" else b"<header"
    query = f"verb={verb}&metadataPrefix={prefix}"
    seen: set[bytes] = set()
    records = pages = wire = body_bytes = 0
    try:
        while True:
            connection.request("GET", f"{parts.path}?{query}", headers=headers)
            response = connection.getresponse()
            raw = response.read()
            if response.status != 200:
                raise HarvestError(f"HTTP {response.status} for {query[:200]}")
            coding = response.getheader("Content-Encoding", "identity")
            if gzip != (coding == "gzip"):
                raise HarvestError(f"asked for {headers['Accept-Encoding']}, got Content-Encoding {coding}")
            body = zlib.decompress(raw, 16 + zlib.MAX_WBITS) if gzip else raw
            pages += 1
            wire += len(raw)
            body_bytes += len(body)
            if _ERROR in body:
                raise HarvestError(f"page {pages} is an OAI-PMH error: {body[-600:]!r}")
            identifiers = _IDENTIFIER.findall(body)
            count = body.count(start_tag)
            if count != len(identifiers):
                raise HarvestError(f"page {pages}: {count} start tags but {len(identifiers)} identifiers")
            records += count
            seen.update(identifiers)
            tail = _TOKEN.search(body, max(0, len(body) - _TOKEN_WINDOW))
            if tail is not None and pages == 1:
                size = _LIST_SIZE.search(tail.group(1))
                if size is None or int(size.group(1)) != expected:
                    raise HarvestError(f"completeListSize is {tail.group(1)!r}, not {expected}")
            token = unescape(tail.group(2).decode("ascii")) if tail is not None else ""
            if not token:
                break
            query = f"verb={verb}&resumptionToken={quote(token, safe='')}"
    finally:
        connection.close()
    if records != expected or len(seen) != records:
        raise HarvestError(f"{verb} {prefix}: {records} records, {len(seen)} distinct, {expected} expected")
    return records, pages, wire, body_bytes


def harvest_with_sickle(oai_url: str, expected: int) -> int:
    from sickle import Sickle

    seen: set[str] = set()
    records = 0
    client = Sickle(oai_url, max_retries=0, timeout=REQUEST_TIMEOUT)
    for record in client.ListRecords(metadataPrefix="marcxml", ignore_deleted=False):
        records += 1
        seen.add(record.header.identifier)
    if records != expected or len(seen) != records:
        raise HarvestError(f"sickle: {records} records, {len(seen)} distinct, {expected} expected")
    return records


@dataclass(frozen=True)
class Target:
    """What a harvest runs against: the provider's URL, its process, the catalogue's size, the node."""

    url: str
    pid: int
    expected: int
    node: NodeCpu


def timed(target: Target, case: str, verb: str, prefix: str, gzip: bool) -> Harvest:
    """One whole list (``verb`` ``"sickle"``: sickle's ListRecords), timed, with the CPU time the
    server (and the Elasticsearch node) spent meanwhile."""
    cpu_before, node_before = cpu_seconds(target.pid), target.node.seconds()
    started = time.perf_counter()
    if verb == "sickle":
        records = harvest_with_sickle(target.url, target.expected)
        pages = wire = body = 0
    else:
        records, pages, wire, body = harvest(target.url, verb, prefix, gzip=gzip, expected=target.expected)
    seconds = time.perf_counter() - started
    server_cpu = cpu_seconds(target.pid) - cpu_before
    node_after = target.node.seconds()
    node_cpu = node_after - node_before if node_after is not None and node_before is not None else None
    return Harvest(case, records, pages, seconds, wire, body, server_cpu, node_cpu)


# -- the catalogue --------------------------------------------------------------------------------------


def wait_for_datestamps(settings: Settings) -> None:
    """Until the newest generation's datestamp is in the past (``tests/search_app/oai/conftest.py``)."""
    with open_catalogue(settings) as opened:
        generations = opened.records.oai_generations()
    if generations:
        delay = seconds_of(generations[-1][1]) + 1 - time.time()
        if delay > 0:
            time.sleep(delay + 0.01)


def build(settings: Settings, records: int, seed: int) -> float:
    """Write the corpus into the catalogue of ``settings``; returns the seconds the write took."""
    corpus = list(union_records(records, seed))
    with open_catalogue(settings) as opened:
        started = time.perf_counter()
        written = write_union_generation(opened.records, opened.index, corpus, {})
        seconds = time.perf_counter() - started
        if written != records:
            raise RuntimeError(f"only {written} of {records} union records were written")
        if len(opened.records.oai_generations()) != 1:
            raise RuntimeError("the catalogue is not fresh: the feed has more than one generation")
    return seconds


@contextlib.contextmanager
def catalogue(
    name: str, work: Path, args: argparse.Namespace, es_url: str | None, pg_url: str | None
) -> Iterator[Settings]:
    """The settings of a filled catalogue on engine ``name`` (Elasticsearch: with its stores in the
    PostgreSQL database ``pg_url``), deleted afterwards (unless kept)."""
    if name == "sqlite":
        path = args.db or work / "oai.db"
        settings = Settings(data_dir=work, engine_url=f"sqlite:///{path}")
        if args.db and args.db.exists():
            log(f"sqlite: reusing {args.db}")
        else:
            log(f"sqlite: writing {args.records:,} union records…")
            seconds = build(settings, args.records, args.seed)
            log(f"sqlite: written in {seconds:.1f}s")
        yield settings
        return
    assert es_url is not None and pg_url is not None
    prefix = args.reuse or f"bench-oai-{uuid.uuid4().hex[:8]}"
    settings = Settings(data_dir=work, engine_url=f"{es_url}/{prefix}", store_url=pg_url)
    try:
        if args.reuse:
            log(f"elasticsearch: reusing {prefix}")
        else:
            log(f"elasticsearch: writing {args.records:,} union records under {prefix}…")
            seconds = build(settings, args.records, args.seed)
            log(f"elasticsearch: written in {seconds:.1f}s")
        yield settings
    finally:
        if args.keep or args.reuse:
            log(f"kept catalogue {settings.engine_url}")
        else:
            with open_index(settings) as index:
                drop = getattr(index, "delete_catalogue", None)
                if callable(drop):
                    drop()


# -- one engine ---------------------------------------------------------------------------------------


@dataclass
class EngineFigures:
    engine: str
    records: int
    page_size: int
    server_core: int | None
    client_core: int | None
    harvests: list[Harvest] = field(default_factory=list)
    memory: dict[str, dict[str, float]] = field(default_factory=dict)
    large_page: dict[str, Any] = field(default_factory=dict)
    profile: str | None = None

    def of(self, case: str) -> list[Harvest]:
        return [item for item in self.harvests if item.case == case]

    def summary(self, case: str) -> dict[str, Any]:
        runs = self.of(case)
        rates = sorted(item.rate for item in runs)
        return {
            "runs": len(runs),
            "rate_min": rates[0],
            "rate_median": statistics.median(rates),
            "rate_max": rates[-1],
            "seconds_median": statistics.median(item.seconds for item in runs),
            "server_cpu_share": statistics.median(item.server_cpu_seconds / item.seconds for item in runs),
            "records_per_server_cpu_second": statistics.median(item.cpu_rate for item in runs),
            "wire_bytes": runs[0].wire_bytes,
            "body_bytes": runs[0].body_bytes,
            "pages": runs[0].pages,
            "node_cpu_share": (
                statistics.median((item.node_cpu_seconds or 0.0) / item.seconds for item in runs)
                if runs[0].node_cpu_seconds is not None
                else None
            ),
        }

    def to_json(self) -> dict[str, Any]:
        cases = [case for case, *_ in CASES] + [SICKLE_CASE]
        return {
            "engine": self.engine,
            "records": self.records,
            "page_size": self.page_size,
            "server_core": self.server_core,
            "client_core": self.client_core,
            "summary": {case: self.summary(case) for case in cases if self.of(case)},
            "harvests": [{**asdict(item), "rate": item.rate} for item in self.harvests],
            "memory": self.memory,
            "large_page": self.large_page,
            "profile": self.profile,
        }


def run_engine(
    name: str,
    settings: Settings,
    args: argparse.Namespace,
    cores: tuple[int | None, int | None],
    es_url: str | None,
) -> EngineFigures:
    server_core, client_core = cores
    figures = EngineFigures(name, args.records, args.page_size, server_core, client_core)
    node = NodeCpu(es_url)
    wait_for_datestamps(settings)
    with server(settings.engine_url, args.page_size, server_core, store_url=settings.store_url) as served:
        target = Target(served.url, served.pid, args.records, node)
        # One small request first: the catalogue opened, the app's threads started.
        harvest_identify(served.url)
        figures.memory["before"] = memory_mib(served.pid)
        for run in range(args.runs):
            for case, verb, prefix, gzip in CASES:
                result = timed(target, case, verb, prefix, gzip)
                figures.harvests.append(result)
                log(f"  {name} run {run + 1} {case:<26} {result.rate:>8,.0f} rec/s  {result.seconds:6.1f}s  "
                    f"server CPU {result.server_cpu_seconds / result.seconds:4.0%}")  # fmt: skip
        for run in range(args.sickle_runs):
            result = timed(target, SICKLE_CASE, "sickle", "marcxml", False)
            figures.harvests.append(result)
            log(f"  {name} sickle run {run + 1}: {result.rate:,.0f} rec/s, {result.seconds:.1f}s")
        figures.memory["after"] = memory_mib(served.pid)
    if args.memory_page_size:
        with server(
            settings.engine_url, args.memory_page_size, server_core, store_url=settings.store_url
        ) as served:
            harvest_identify(served.url)
            target = Target(served.url, served.pid, args.records, node)
            before = memory_mib(served.pid)
            result = timed(target, MAIN_CASE, "ListRecords", "marcxml", False)
            gzipped = timed(target, MAIN_CASE + " gzip", "ListRecords", "marcxml", True)
            after = memory_mib(served.pid)
        figures.large_page = {
            "page_size": args.memory_page_size,
            "before": before,
            "after": after,
            "rate": result.rate,
            "gzip_rate": gzipped.rate,
            "pages": result.pages,
        }
        log(f"  {name} {args.memory_page_size}-record pages: {result.rate:,.0f} rec/s, "
            f"peak {after['VmHWM']:.0f} MiB")  # fmt: skip
    if args.profile:
        directory = args.profile / name
        with server(
            settings.engine_url, args.page_size, server_core, directory, settings.store_url
        ) as served:
            timed(
                Target(served.url, served.pid, args.records, node), MAIN_CASE, "ListRecords", "marcxml", False
            )
        figures.profile = str(directory / "server.txt")
        log(f"  {name}: profile of one ListRecords marcxml harvest in {figures.profile}")
    return figures


def harvest_identify(oai_url: str) -> None:
    with urllib.request.urlopen(f"{oai_url}?verb=Identify", timeout=60) as answer:
        if b"<Identify>" not in answer.read():
            raise RuntimeError("the provider did not answer Identify")


# -- the report ---------------------------------------------------------------------------------------


def format_engine(figures: EngineFigures, es: str | None) -> str:
    where = (
        f"server process pinned to core {figures.server_core}, client on core {figures.client_core}"
        if figures.server_core is not None
        else "server and client unpinned (one core only)"
    )
    lines = [
        f"\n{figures.engine}: ListRecords/ListIdentifiers over {figures.records:,} union records, "
        f"oai_page_size {figures.page_size}; {where}"
    ]
    if es:
        lines.append(
            f"  Elasticsearch {es} runs on its own, unpinned (both cores); the rates are the web "
            "server's one core"
        )
    runs = len(figures.of(MAIN_CASE))
    lines.append(
        f"  {'harvest':<28}{'rec/s median':>13}{'min':>8}{'max':>8}{'s':>8}{'server CPU':>11}"
        f"{'rec/CPU-s':>10}{'MiB sent':>10}{'pages':>7}" + ("  node CPU" if es else "")
    )
    for case in [case for case, *_ in CASES] + [SICKLE_CASE]:
        if not figures.of(case):
            continue
        item = figures.summary(case)
        sent = f"{item['wire_bytes'] / 2**20:>10,.1f}" if item["wire_bytes"] else f"{'-':>10}"
        pages = f"{item['pages']:>7,}" if item["pages"] else f"{'-':>7}"
        node = f"{item['node_cpu_share']:>10.0%}" if item["node_cpu_share"] is not None else ""
        lines.append(
            f"  {case:<28}{item['rate_median']:>13,.0f}{item['rate_min']:>8,.0f}{item['rate_max']:>8,.0f}"
            f"{item['seconds_median']:>8.1f}{item['server_cpu_share']:>11.0%}"
            f"{item['records_per_server_cpu_second']:>10,.0f}{sent}{pages}{node}"
        )
    sickle_runs = len(figures.of(SICKLE_CASE))
    lines.append(f"  (median of {runs} runs for the lean client; sickle: {sickle_runs} run(s))")
    plain, gzipped = figures.summary(MAIN_CASE), figures.of(MAIN_CASE + " gzip")
    if gzipped:
        ratio = figures.summary(MAIN_CASE + " gzip")["wire_bytes"] / plain["wire_bytes"]
        lines.append(f"  gzip sends {ratio:.0%} of the bytes of the plain marcxml pages")
    before, after = figures.memory["before"], figures.memory["after"]
    lines.append(
        f"  server memory, {figures.page_size}-record pages: {before['VmRSS']:.0f} MiB resident before the "
        f"harvests, peak {after['VmHWM']:.0f} MiB after them"
    )
    if figures.large_page:
        large = figures.large_page
        lines.append(
            f"  server memory, {large['page_size']:,}-record pages (a second server): "
            f"{large['before']['VmRSS']:.0f} MiB before, peak {large['after']['VmHWM']:.0f} MiB after "
            f"ListRecords marcxml ({large['rate']:,.0f} rec/s) and its gzip ({large['gzip_rate']:,.0f} rec/s)"
        )
    met = plain["rate_median"] >= TARGET
    lines.append(
        f"  target ListRecords marcxml >= {TARGET:,.0f} rec/s served by one core: "
        f"{'met' if met else 'MISSED'} ({plain['rate_median']:,.0f})"
    )
    if figures.profile:
        lines.append(f"  cProfile of the server (not a figure): {figures.profile}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=DEFAULT_SIZE, help="union records (%(default)s)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--engines", default="sqlite,elasticsearch")
    parser.add_argument("--es-url", help="an Elasticsearch node to use instead of starting one")
    parser.add_argument("--pg-url", help="an empty PostgreSQL database to use instead of starting a cluster")
    parser.add_argument("--runs", type=int, default=3, help="runs of each lean-client harvest (3)")
    parser.add_argument("--sickle-runs", type=int, default=1, help="runs of the sickle harvest (1)")
    parser.add_argument("--page-size", type=int, default=DEFAULT_PAGE, help="oai_page_size (500)")
    parser.add_argument(
        "--memory-page-size", type=int, default=MEMORY_PAGE, help="a second server's page size (0: none)"
    )
    parser.add_argument("--profile", type=Path, help="also profile one harvest; cProfile output here")
    parser.add_argument("--db", type=Path, help="SQLite: keep the database here (reused when it exists)")
    parser.add_argument(
        "--keep", action="store_true", help="Elasticsearch: keep the catalogue (in --pg-url's database)"
    )
    parser.add_argument(
        "--reuse", metavar="PREFIX", help="Elasticsearch: serve a kept catalogue (with its --pg-url)"
    )
    parser.add_argument("--json", type=Path, help="write every figure to this file")
    args = parser.parse_args(argv)
    engines = [name.strip() for name in args.engines.split(",") if name.strip()]
    if unknown := set(engines) - {"sqlite", "elasticsearch"}:
        parser.error(f"unknown engines: {', '.join(sorted(unknown))}")
    quiet_logging()
    cores = pick_cores()
    described = machine()
    results: list[EngineFigures] = []
    es: str | None = None
    with contextlib.ExitStack() as stack:
        es_url = stack.enter_context(elasticsearch(args.es_url)) if "elasticsearch" in engines else None
        pg_url = stack.enter_context(postgresql(args.pg_url)) if "elasticsearch" in engines else None
        es = es_version(es_url) if es_url else None
        print(f"Machine: {described.line()}" + (f"; Elasticsearch {es}" if es else ""), flush=True)
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="unicat-bench-oai-")))
        for name in engines:
            with catalogue(name, work, args, es_url, pg_url) as settings, client_on(cores[1]):
                figures = run_engine(name, settings, args, cores, es_url if name == "elasticsearch" else None)
            results.append(figures)
            print(format_engine(figures, es if name == "elasticsearch" else None), flush=True)
    if args.json:
        document = {
            "machine": asdict(described),
            "elasticsearch": es,
            "target_records_per_second": TARGET,
            "engines": [figures.to_json() for figures in results],
        }
        args.json.write_text(json.dumps(document, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
