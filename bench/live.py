"""Federated search with three live targets beside the union index: how soon readers see results, how
soon the live part is complete, how fast live records are read and merged, and whether a Zebra
target's hit counts are the ones YAZ's own client gets.

Run from the repository root::

    .venv/bin/python bench/live.py [--queries 200] [--repeat 3] [--setup sqlite|elasticsearch]
        [--es-url URL] [--pg-url URL] [--seed 1] [--json OUT]

1. **Network.** The union catalogue holds the Pride and Prejudice editions (``dedup/``, 383 records,
   source ``AUS``) and ``marc21/uva_001_2000.mrc`` (source ``UVA``), imported and indexed by the real
   pipeline, on SQLite or (``--setup elasticsearch``) Elasticsearch with its stores in PostgreSQL. It
   is served by ``unicat serve``'s app in a process of its own (:mod:`bench.served`) with three live
   targets stored in ``catalogue.targets``:

   - ``ZEBZ``: Zebra over Z39.50, database ``marc21`` (the same Pride editions and ``065001035.mrc``;
     :mod:`tests.support.zebra`), records as USMARC;
   - ``ZEBSRU``: the same Zebra over SRU, database ``unimarc`` (the ``cotes*.mrc`` UNIMARC records);
   - ``NEIGHBOUR``: Unicat's own ``/sru`` of a second served catalogue (every third Pride edition and
     ``065001035.mrc``).

2. **Queries**, drawn from the records with a fixed seed (:func:`reader_queries`), as readers type
   them: title words, an author's surname (``au:``), title words and a surname, a subject word
   (``su:``), an ISBN as printed in 020; a quarter with a filter (language, format or a year range).
   Two in three come from the union's records, the rest from the records only the targets hold. The
   same list is measured in every pass, query by query, with and without the targets in turn
   (which goes first alternates), so the machine's load weighs on both alike.

3. **Per query, over HTTP** (one keep-alive session, request sent → whole body received):
   ``/api/search`` with the targets (the union's answer, naming the run) and with ``live=0``, each with
   the server's own time for it (``Server-Timing`` ``app``); then,
   from that same request's start, until the run's NDJSON stream (``/api/search/live/{id}/events``)
   sends its ``done`` state; the page ``/search`` with and without the targets (the page's run is
   waited for before the next request, so no run works under another's timing). Per target, from the
   run's final state: its answer time, the records it sent and those rejected.

4. **Reading and merging, timed apart**, in this process: every query asked of every target once
   (``FederatedSearch.ask``), then ``LiveReader.read`` over all the records the targets sent
   (records/s, the median of ``--repeat`` passes) and ``LiveResultMerger.merge`` of each query's union
   page with its live records (ms per page, on the pages where a target sent records: the server
   merges only then).

5. **Correctness.** For each query, the Zebra target's hit count in every run's status must equal the
   count ``yaz-client`` prints for the same PQF (``federated.query_translation.to_pqf``); every
   mismatch is printed and the command exits with status 1.

Progress goes to stderr, the figures to stdout (``--json OUT`` writes them all; ``--json -`` prints
them as JSON instead of the table). ``bench/README.md`` has the figures of the last recorded run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import pymarc  # noqa: E402
import requests  # noqa: E402

from bench.foundation import machine, percentile, quiet_logging  # noqa: E402
from bench.scale import delete_catalogue, engine_settings  # noqa: E402
from bench.served import client_on, pick_cores, server  # noqa: E402
from federated.query_translation import NothingToSearch, to_pqf  # noqa: E402
from harvester.importer import import_files  # noqa: E402
from indexer import run_index  # noqa: E402
from indexer.decoding import decode_record  # noqa: E402
from indexer.extract import extract  # noqa: E402
from indexer.profiles import builtin_profile  # noqa: E402
from tests.support.shared_data import SHARED_DATA  # noqa: E402
from tests.support.yaz_client import yaz_client  # noqa: E402
from tests.support.zebra import MARC21_DATABASE, UNIMARC_DATABASE, ZebraServer, running_zebra  # noqa: E402
from unicat.errors import RecordError  # noqa: E402
from unicat.live_search import LiveRecord, LiveTarget, LiveTargetError, RawLiveRecord  # noqa: E402
from unicat.model import Profile, Source  # noqa: E402
from unicat.query import SearchQuery, parse_search_params  # noqa: E402
from unicat.settings import Settings  # noqa: E402
from unicat_cli.live import open_live_parts  # noqa: E402
from unicat_cli.wiring import open_catalogue  # noqa: E402

DEFAULT_QUERIES = 200
DEFAULT_REPEAT = 3
DEFAULT_SEED = 1
PRIDE = "dedup/pride-and-prejudice-fixed.mrc"
UVA = "marc21/uva_001_2000.mrc"
OTHER = "marc21/065001035.mrc"
COTES = tuple(f"unimarc/{path.name}" for path in sorted((SHARED_DATA / "unimarc").glob("cotes*.mrc")))
NEIGHBOUR_EVERY = 3
"""The neighbour's catalogue holds every third Pride edition (and all of 065001035.mrc)."""
ZEBRA_TARGET = "ZEBZ"
STREAM_SECONDS = 60.0
"""How long the client waits for a run's stream to end (the targets' timeouts are 10 s)."""
RECORD_TERMINATOR = b"\x1d"
_RUN_RE = re.compile(r'data-live-run="([^"]+)"')
_WORD_RE = re.compile(r"\w+")


# -- the network -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Network:
    union_url: str
    settings: Settings
    zebra: ZebraServer
    targets: tuple[LiveTarget, ...]


def _load(settings: Settings, sources: Sequence[tuple[Source, Sequence[Path]]]) -> int:
    """Import and index ``sources`` into the catalogue of ``settings``; its union records."""
    catalogue = open_catalogue(settings)
    try:
        for source, paths in sources:
            catalogue.records.save_source(source)
            import_files(catalogue.records, source, paths)
        return run_index(catalogue.records, catalogue.index, workers=1).union_records
    finally:
        catalogue.close()


def _split_records(path: Path) -> list[bytes]:
    return [
        chunk + RECORD_TERMINATOR for chunk in path.read_bytes().split(RECORD_TERMINATOR) if len(chunk) >= 24
    ]


def targets_of(zebra: ZebraServer, neighbour_url: str) -> tuple[LiveTarget, ...]:
    return (
        LiveTarget(ZEBRA_TARGET, "Zebra Z39.50", "z3950", zebra.z3950_address(MARC21_DATABASE), "usmarc"),
        # Zebra refuses the ISBN index of this database (diagnostic 16: almost no record has a 010), so
        # the target searches ISBNs as any word, as a librarian would map it (`--map ident=...`).
        LiveTarget(
            "ZEBSRU",
            "Zebra SRU",
            "sru",
            zebra.sru_url(UNIMARC_DATABASE),
            "marcxml",
            profile="unimarc",
            query_map={"ident": "cql.serverChoice"},
        ),
        LiveTarget("NEIGHBOUR", "Neighbour Unicat", "sru", f"{neighbour_url}/sru", "marcxml"),
    )


@contextlib.contextmanager
def network(setup: str, work: Path, es_url: str | None, pg_url: str | None) -> Iterator[Network]:
    """Zebra, the neighbour's served Unicat and the union's served Unicat with the three targets."""
    server_core, client_core = pick_cores()
    neighbour_dir = work / "neighbour"
    neighbour_dir.mkdir()
    pride_part = neighbour_dir / "pride-part.mrc"
    pride = _split_records(SHARED_DATA / PRIDE)
    pride_part.write_bytes(b"".join(pride[::NEIGHBOUR_EVERY]))
    neighbour = Settings(data_dir=neighbour_dir, engine_url=f"sqlite:///{neighbour_dir / 'unicat.db'}")
    began = time.perf_counter()
    count = _load(neighbour, [(Source("NBR", "Neighbour library"), [pride_part, SHARED_DATA / OTHER])])
    _progress(f"neighbour catalogue: {count} union records ({time.perf_counter() - began:.1f} s)")
    union_dir = work / "union"
    union_dir.mkdir()
    with engine_settings(setup, union_dir, es_url, pg_url) as settings:
        began = time.perf_counter()
        count = _load(
            settings,
            [
                (Source("AUS", "Austen library"), [SHARED_DATA / PRIDE]),
                (Source("UVA", "University library"), [SHARED_DATA / UVA]),
            ],
        )
        _progress(f"union catalogue ({setup}): {count} union records ({time.perf_counter() - began:.1f} s)")
        try:
            with (
                running_zebra(work / "zebra") as zebra,
                server(neighbour.engine_url, client_core, {"data_dir": str(neighbour_dir)}) as other,
            ):
                targets = targets_of(zebra, other.url)
                catalogue = open_catalogue(settings)
                try:
                    for target in targets:
                        catalogue.targets.save_target(target)
                finally:
                    catalogue.close()
                served = {"data_dir": str(union_dir)}
                if settings.store_url:
                    served["store_url"] = settings.store_url
                with server(settings.engine_url, server_core, served) as union:
                    yield Network(union.url, settings, zebra, targets)
        finally:
            catalogue = open_catalogue(settings)
            delete_catalogue(catalogue.index)
            catalogue.close()


# -- the queries -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sample:
    """What a reader may search for a record by (the words as the record prints them)."""

    title: tuple[str, ...]
    surname: str | None
    subject: str | None
    isbn: str | None
    language: str | None
    format: str | None
    year: int | None


def _useful(words: Sequence[str]) -> list[str]:
    # Readers type the longer words, not the articles.
    return [word for word in words if len(word) > 3 and not word.isdigit()]


def samples(path: str, profile: Profile) -> list[Sample]:
    """The samples of every readable record with a title of ``path`` (read by the project's indexer)."""
    found: list[Sample] = []
    source = Source("SAMPLE", "samples", profile=profile)
    for number, data in enumerate(_split_records(SHARED_DATA / path)):
        try:
            decoded = decode_record(data, "iso2709", profile)
        except RecordError:
            continue
        record = extract(decoded.record, builtin_profile(profile), source, f"{path}:{number}")
        title = tuple(_useful(_WORD_RE.findall(record.title.lower())))
        if not title:
            continue
        surname = record.authors[0].split(",")[0].strip().lower() if record.authors else ""
        subject = _useful(_WORD_RE.findall(record.subjects[0].lower())) if record.subjects else []
        found.append(
            Sample(
                title=title,
                surname=surname if len(surname) > 2 and _WORD_RE.fullmatch(surname) else None,
                subject=subject[0] if subject else None,
                isbn=_printed_isbn(data) if profile == "marc21" else None,
                language=record.language,
                format=record.format,
                year=record.year,
            )
        )
    return found


def _printed_isbn(data: bytes) -> str | None:
    """The first 020 $a as a reader copies it from the book: its first word, without hyphens."""
    with contextlib.suppress(Exception):  # a record pymarc cannot cut has no ISBN to offer
        record = pymarc.Record(data=data, to_unicode=True, force_utf8=True)
        for value in (value for found in record.get_fields("020") for value in found.get_subfields("a")):
            word = value.split()[0].replace("-", "") if value.split() else ""
            if re.fullmatch(r"[0-9]{9}[0-9Xx]|[0-9]{13}", word):
                return word
    return None


def reader_queries(count: int, seed: int) -> list[dict[str, list[str]]]:
    """``count`` readers' searches (request parameters), the same for the same ``seed``."""
    union = samples(PRIDE, "marc21") + samples(UVA, "marc21")
    remote = samples(OTHER, "marc21") + [s for path in COTES for s in samples(path, "unimarc")]
    rng = random.Random(seed)
    queries: list[dict[str, list[str]]] = []
    while len(queries) < count:
        sample = rng.choice(union if rng.random() < 2 / 3 else remote)
        params = _reader_query(rng, sample)
        if params is not None:
            queries.append(params)
    return queries


def _reader_query(rng: random.Random, sample: Sample) -> dict[str, list[str]] | None:
    kind = rng.random()
    words = list(sample.title)
    start = rng.randrange(len(words))
    title = " ".join(words[start : start + rng.choice((1, 2, 2, 3))])
    if kind < 0.45:
        text = title
    elif kind < 0.65:
        if sample.surname is None:
            return None
        text = f"au:{sample.surname}" if rng.random() < 0.5 else sample.surname
    elif kind < 0.77:
        if sample.surname is None:
            return None
        text = f"{words[start]} {sample.surname}"
    elif kind < 0.87:
        if sample.subject is None:
            return None
        text = f"su:{sample.subject}"
    else:
        if sample.isbn is None:
            return None
        text = sample.isbn
    params = {"q": [text]}
    extra = rng.random()
    if extra < 0.10 and sample.language:
        params["language"] = [sample.language]
    elif extra < 0.17 and sample.format:
        params["format"] = [sample.format]
    elif extra < 0.25 and sample.year:
        params["year"] = [f"{sample.year - rng.randrange(5)}-{sample.year + rng.randrange(5)}"]
    return params


# -- measuring over HTTP -----------------------------------------------------------------------------


@dataclass
class QueryTimes:
    """One pass over one query: seconds, and the final state of its API run."""

    api_live: float
    api_union: float
    complete: float
    page_live: float
    page_union: float
    total: int
    targets: list[dict[str, Any]]
    api_live_app: float
    api_union_app: float
    """The server's own time for the two API requests (``Server-Timing`` ``app``), seconds."""


def _params(params: Mapping[str, list[str]], live: bool) -> list[tuple[str, str]]:
    pairs = [(name, value) for name, values in params.items() for value in values]
    return pairs if live else [*pairs, ("live", "0")]


def _get(
    session: requests.Session, url: str, params: list[tuple[str, str]]
) -> tuple[float, float, requests.Response]:
    """(when the request was sent, seconds until the whole body was received, the answer)."""
    began = time.perf_counter()
    answer = session.get(url, params=params, timeout=STREAM_SECONDS)
    answer.content  # noqa: B018 - the whole body is part of the time
    seconds = time.perf_counter() - began
    if answer.status_code != 200:
        raise SystemExit(f"GET {answer.url} answered {answer.status_code}: {answer.text[:300]}")
    return began, seconds, answer


def _until_done(session: requests.Session, url: str) -> dict[str, Any]:
    """Read the run's NDJSON stream to its ``done`` state."""
    with session.get(
        url, headers={"Accept": "application/x-ndjson"}, stream=True, timeout=STREAM_SECONDS
    ) as stream:
        for line in stream.iter_lines():
            if line:
                state: dict[str, Any] = json.loads(line)
                if state["done"]:
                    return state
    raise SystemExit(f"the stream {url} ended before the run was done")


def _wait_page_run(session: requests.Session, base: str, html: str) -> None:
    found = _RUN_RE.search(html)
    if found is not None:
        _until_done(session, f"{base}/api/search/live/{found.group(1)}/events")


def _app_seconds(answer: requests.Response) -> float:
    """The app's own time for the request, from its ``Server-Timing`` header (``app;dur=MS``)."""
    for part in answer.headers.get("Server-Timing", "").split(","):
        name, _, duration = part.strip().partition(";dur=")
        if name == "app":
            return float(duration) / 1000
    raise SystemExit(f"GET {answer.url} sent no Server-Timing app time")


def measure_query(
    session: requests.Session, base: str, params: Mapping[str, list[str]], live_first: bool
) -> QueryTimes:
    """One pass over one query: the API and the page, with the targets and without (``live_first``
    says which goes first), and the API run followed to its end."""
    times: dict[str, float] = {}
    state: dict[str, Any] = {}
    totals: set[int] = set()
    for live in (live_first, not live_first):
        began, seconds, answer = _get(session, f"{base}/api/search", _params(params, live))
        body = answer.json()
        totals.add(body["total"])
        times["api_live_app" if live else "api_union_app"] = _app_seconds(answer)
        if not live:
            times["api_union"] = seconds
            continue
        run = body.get("live")
        if not run or run.get("busy"):
            raise SystemExit(f"no live search was started for {dict(params)}: {run}")
        times["api_live"] = seconds
        state = _until_done(session, base + run["stream"])
        times["complete"] = time.perf_counter() - began
    if len(totals) != 1:
        raise SystemExit(f"{dict(params)}: the union's totals differ with and without targets: {totals}")
    for live in (live_first, not live_first):
        _, seconds, answer = _get(session, f"{base}/search", _params(params, live))
        times["page_live" if live else "page_union"] = seconds
        if live:
            _wait_page_run(session, base, answer.text)
    return QueryTimes(
        times["api_live"], times["api_union"], times["complete"], times["page_live"], times["page_union"],
        totals.pop(), state["targets"], times["api_live_app"], times["api_union_app"],
    )  # fmt: skip


def measure_http(
    base: str, queries: Sequence[Mapping[str, list[str]]], repeat: int
) -> list[list[QueryTimes]]:
    """``repeat`` passes over ``queries``; ``[pass][query]``. The first query of each pass goes
    untimed once first (connections opened, templates compiled)."""
    passes: list[list[QueryTimes]] = []
    with requests.Session() as session:
        measure_query(session, base, queries[0], True)
        for number in range(repeat):
            began = time.perf_counter()
            passes.append(
                [
                    measure_query(session, base, params, (index + number) % 2 == 0)
                    for index, params in enumerate(queries)
                ]
            )
            seconds = time.perf_counter() - began
            _progress(f"pass {number + 1} of {repeat}: {len(queries)} queries in {seconds:.0f} s")
    return passes


# -- reading and merging, timed apart ----------------------------------------------------------------


@dataclass
class Throughput:
    records: int
    rejected: int
    read_seconds: list[float]
    merge_ms: list[float]
    merged_records: int

    @property
    def records_per_second(self) -> float:
        return self.records / statistics.median(self.read_seconds)


async def _ask_all(
    settings: Settings, targets: Sequence[LiveTarget], queries: Sequence[SearchQuery]
) -> list[list[tuple[LiveTarget, list[RawLiveRecord]]]]:
    catalogue = open_catalogue(settings)
    parts = open_live_parts(catalogue)
    try:
        answers: list[list[tuple[LiveTarget, list[RawLiveRecord]]]] = []
        for query in queries:
            asked = await asyncio.gather(
                *(parts.service.ask(target, query) for target in targets), return_exceptions=True
            )
            one: list[tuple[LiveTarget, list[RawLiveRecord]]] = []
            for target, answer in zip(targets, asked, strict=True):
                if isinstance(answer, LiveTargetError):
                    _progress(f"{target.code} failed ({query.text!r}): {answer.message}")
                    one.append((target, []))
                elif isinstance(answer, BaseException):
                    raise answer
                else:
                    one.append((target, answer.records))
            answers.append(one)
        return answers
    finally:
        await parts.service.close()
        catalogue.close()


def measure_reading(
    settings: Settings, targets: Sequence[LiveTarget], queries: Sequence[SearchQuery], repeat: int
) -> Throughput:
    """Every query asked of every target once; then the reader over all the records they sent
    (``repeat`` passes) and the merger per query's page (the last pass's records)."""
    answers = asyncio.run(_ask_all(settings, targets, queries))
    catalogue = open_catalogue(settings)
    parts = open_live_parts(catalogue)
    try:
        records = sum(len(raw) for one in answers for _, raw in one)
        read_seconds: list[float] = []
        read: list[list[LiveRecord]] = []
        rejected = 0
        for _ in range(repeat):
            read, rejected = [], 0
            began = time.perf_counter()
            for one in answers:
                batches = [parts.reader.read(target, raw) for target, raw in one]
                read.append([record for batch in batches for record in batch.records])
                rejected += sum(len(batch.rejected) for batch in batches)
            read_seconds.append(time.perf_counter() - began)
        merge_ms: list[float] = []
        for query, live in zip(queries, read, strict=True):
            if not live:
                continue  # the server merges only when a target sent records
            union = catalogue.index.search(query).hits
            began = time.perf_counter()
            parts.merger.merge(union, live)
            merge_ms.append((time.perf_counter() - began) * 1000)
        return Throughput(records, rejected, read_seconds, merge_ms, sum(map(len, read)))
    finally:
        asyncio.run(parts.service.close())
        catalogue.close()


# -- correctness -------------------------------------------------------------------------------------


@dataclass
class Mismatch:
    query: str
    pqf: str
    unicat: list[int | None]
    yaz_client: int


def check_zebra(
    zebra: ZebraServer,
    target: LiveTarget,
    queries: Sequence[SearchQuery],
    passes: Sequence[Sequence[QueryTimes]],
    work: Path,
) -> tuple[int, list[Mismatch]]:
    """(queries compared, mismatches): the Zebra target's hits in every run against yaz-client's."""
    compared = 0
    mismatches: list[Mismatch] = []
    for number, query in enumerate(queries):
        try:
            pqf = to_pqf(query, target)
        except NothingToSearch:
            continue  # nothing was sent: neither client has a count to give
        expected = yaz_client(zebra.z3950_address(MARC21_DATABASE), pqf, "1+1", work).hits
        found = [_status(one[number], target.code).get("hits") for one in passes]
        compared += 1
        if any(hits != expected for hits in found):
            mismatches.append(Mismatch(query.text, pqf, found, expected))
    return compared, mismatches


def _status(times: QueryTimes, code: str) -> dict[str, Any]:
    return next(status for status in times.targets if status["code"] == code)


# -- the report --------------------------------------------------------------------------------------


def _ms(samples: Sequence[float]) -> dict[str, float]:
    ms = [value * 1000 for value in samples]
    return {"p50": percentile(ms, 0.5), "p95": percentile(ms, 0.95), "max": max(ms)}


def figures(
    queries: Sequence[Mapping[str, list[str]]],
    passes: Sequence[Sequence[QueryTimes]],
    targets: Sequence[LiveTarget],
    throughput: Throughput,
    compared: int,
    mismatches: Sequence[Mismatch],
) -> dict[str, Any]:
    every = [times for one in passes for times in one]
    latency = {
        name: _ms([getattr(times, name) for times in every])
        for name in (
            "api_live",
            "api_union",
            "complete",
            "page_live",
            "page_union",
            "api_live_app",
            "api_union_app",
        )
    }
    # Paired: each query's time with the targets minus the same pass's time without them.
    added = {
        kind: sorted((getattr(t, f"{kind}_live") - getattr(t, f"{kind}_union")) * 1000 for t in every)
        for kind in ("api", "page")
    }
    ratio = {
        kind: {
            "p50": latency[f"{kind}_live"]["p50"] / latency[f"{kind}_union"]["p50"],
            "p95": latency[f"{kind}_live"]["p95"] / latency[f"{kind}_union"]["p95"],
            "added_ms_median": statistics.median(added[kind]),
            "added_ms_p5": percentile(added[kind], 0.05),
            "added_ms_p95": percentile(added[kind], 0.95),
            "pass_p50_ratios": [
                percentile([getattr(t, f"{kind}_live") for t in one], 0.5)
                / percentile([getattr(t, f"{kind}_union") for t in one], 0.5)
                for one in passes
            ],
        }
        for kind in ("api", "page")
    }
    per_target: dict[str, Any] = {}
    for target in targets:
        statuses = [_status(times, target.code) for times in every]
        answered = [status["seconds"] for status in statuses if status["seconds"] is not None]
        per_target[target.code] = {
            "protocol": target.protocol,
            "address": target.address,
            "seconds": _ms(answered) if answered else {},
            "states": {
                state: sum(s["state"] == state for s in statuses) for state in {s["state"] for s in statuses}
            },
            "with_hits": sum(bool(status["hits"]) for status in statuses) / len(passes),
            "records": sum(status["records"] for status in statuses),
            "rejected": sum(status["rejected"] for status in statuses),
        }
    return {
        "machine": asdict(machine()),
        "load": os.getloadavg(),
        "queries": len(queries),
        "passes": len(passes),
        "union_hits_median": statistics.median(t.total for t in passes[0]),
        "latency_ms": latency,
        "live_vs_union": ratio,
        "targets": per_target,
        "reading": {
            "records": throughput.records,
            "rejected": throughput.rejected,
            "seconds": throughput.read_seconds,
            "records_per_second": throughput.records_per_second,
        },
        "merge_ms": {
            "p50": percentile(throughput.merge_ms, 0.5),
            "p95": percentile(throughput.merge_ms, 0.95),
            "max": max(throughput.merge_ms),
            "pages": len(throughput.merge_ms),
            "live_records": throughput.merged_records,
            "records_per_second": throughput.merged_records / (sum(throughput.merge_ms) / 1000),
        },
        "zebra_check": {
            "compared": compared,
            "mismatches": [asdict(mismatch) for mismatch in mismatches],
        },
    }


def table(found: Mapping[str, Any], setup: str) -> str:
    latency = found["latency_ms"]
    lines = [
        f"{setup}: {found['queries']} queries x {found['passes']} passes, union hits median "
        f"{found['union_hits_median']:g}, load {' '.join(f'{v:.1f}' for v in found['load'])}",
        f"  {'ms over HTTP':<44} {'p50':>8} {'p95':>8} {'max':>8}",
    ]
    rows = (
        ("api_live", "first results: /api/search with 3 targets"),
        ("api_live_app", "  of which in the server (Server-Timing app)"),
        ("api_union", "first results: /api/search live=0"),
        ("api_union_app", "  of which in the server (Server-Timing app)"),
        ("page_live", "first results: /search page with 3 targets"),
        ("page_union", "first results: /search page live=0"),
        ("complete", "complete: request → stream's done"),
    )
    for name, label in rows:
        row = latency[name]
        lines.append(f"  {label:<44} {row['p50']:>8.1f} {row['p95']:>8.1f} {row['max']:>8.1f}")
    for kind, ratio in found["live_vs_union"].items():
        passes = " ".join(f"{value:.2f}" for value in ratio["pass_p50_ratios"])
        lines.append(
            f"  {kind} with targets / without: p50 x{ratio['p50']:.2f}, p95 x{ratio['p95']:.2f}; "
            f"added per query median {ratio['added_ms_median']:+.1f} ms (p5 {ratio['added_ms_p5']:+.1f}, "
            f"p95 {ratio['added_ms_p95']:+.1f}); p50 ratio per pass {passes}"
        )
    lines.append(f"  {'target':<10} {'answer p50':>10} {'p95':>8} {'records':>8} {'rejected':>8}  states")
    for code, target in found["targets"].items():
        seconds = target["seconds"]
        states = ", ".join(f"{state} {count}" for state, count in sorted(target["states"].items()))
        lines.append(
            f"  {code:<10} {seconds.get('p50', 0):>8.1f}ms {seconds.get('p95', 0):>6.1f}ms "
            f"{target['records']:>8} {target['rejected']:>8}  {states} ({target['protocol']})"
        )
    reading, merge = found["reading"], found["merge_ms"]
    lines.append(
        f"  reading: {reading['records']} records from the targets, {reading['rejected']} rejected, "
        f"{reading['records_per_second']:,.0f} records/s (median of {len(reading['seconds'])})"
    )
    lines.append(
        f"  merging: per page p50 {merge['p50']:.1f} ms, p95 {merge['p95']:.1f} ms "
        f"({merge['pages']} pages with live records, {merge['records_per_second']:,.0f} live records/s)"
    )
    check = found["zebra_check"]
    agreed = check["compared"] - len(check["mismatches"])
    lines.append(f"  Zebra hits = yaz-client hits: {agreed} of {check['compared']} queries")
    for mismatch in check["mismatches"]:
        lines.append(f"    MISMATCH {mismatch['query']!r} ({mismatch['pqf']}): runs {mismatch['unicat']}, "
                     f"yaz-client {mismatch['yaz_client']}")  # fmt: skip
    return "\n".join(lines)


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_setup(
    setup: str, count: int, repeat: int, seed: int, es_url: str | None, pg_url: str | None
) -> dict[str, Any]:
    params = reader_queries(count, seed)
    with tempfile.TemporaryDirectory(prefix=f"unicat-live-{setup}-") as folder:
        work = Path(folder)
        with network(setup, work, es_url, pg_url) as net:
            queries = [parse_search_params(one, net.settings) for one in params]
            _, client_core = pick_cores()
            with client_on(client_core):
                passes = measure_http(net.union_url, params, repeat)
            throughput = measure_reading(net.settings, net.targets, queries, repeat)
            zebra = next(target for target in net.targets if target.code == ZEBRA_TARGET)
            compared, mismatches = check_zebra(net.zebra, zebra, queries, passes, work)
    found = figures(params, passes, net.targets, throughput, compared, mismatches)
    found["setup"] = setup
    found["query_list"] = params
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queries", type=int, default=DEFAULT_QUERIES)
    parser.add_argument(
        "--repeat", type=int, default=DEFAULT_REPEAT, help="passes over the queries (%(default)s)"
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--setup", default="sqlite", help="sqlite, elasticsearch, or both comma-separated")
    parser.add_argument("--es-url", help="an Elasticsearch node to use instead of starting one")
    parser.add_argument("--pg-url", help="an empty PostgreSQL database to use instead of starting a cluster")
    parser.add_argument("--json", help="write every figure to this file; - prints them instead of the table")
    args = parser.parse_args(argv)
    if args.queries < 1 or args.repeat < 1:
        parser.error("--queries and --repeat must be at least 1")
    quiet_logging()
    results: list[dict[str, Any]] = []
    if args.json != "-":
        print(machine().line(), flush=True)
    for setup in args.setup.split(","):
        found = run_setup(setup, args.queries, args.repeat, args.seed, args.es_url, args.pg_url)
        results.append(found)
        if args.json != "-":
            print(table(found, setup), flush=True)
    if args.json == "-":
        print(json.dumps(results, indent=2))
    elif args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 1 if any(found["zebra_check"]["mismatches"] for found in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
