"""Search through the app against bare Elasticsearch: the same searches, the same node, side by side.

Run from the repository root::

    .venv/bin/python bench/app_vs_bare.py [--records 200000] [--es-url URL --pg-url URL] [--keep]
        [--reuse PREFIX]

1. **Catalogue.** The corpus of ``bench/corpus.py`` (``--records``, ``--seed 1``), as per-library MARC
   files (``bench/scale.py``), imported and indexed by Unicat into one Elasticsearch node with its stores
   in PostgreSQL: the scaled-out setup. The node and the database come from ``--es-url``/``--pg-url``
   or are started for the run (``bench/served.py``); ``--keep`` keeps the catalogue and prints its
   prefix, ``--reuse PREFIX`` (with both URLs) searches a kept one without indexing again.
2. **Queries**, chosen from the catalogue's own word counts: *broad*, the most common words, alone and
   in pairs, with every facet the API answers; *selective*, words found in 2-20 records and ISBNs of
   the corpus.
3. **Two ways to answer each**, interleaved (which goes first alternates), each over a keep-alive HTTP
   connection from a client pinned to its own core: (a) ``GET /api/search`` of ``unicat serve``'s app in
   a process of its own (``bench/served.py``, pinned to the other core); (b) one bare ``_search`` to the
   node: the same match, sort, page and terms aggregations, built here from the analysed words (the
   tokens and stems of ``unicat.query``, as a loader of the same documents would compute them), not by
   Unicat's query builder. Each answer is parsed as JSON by the client, as a script would.
4. **Agreement**: for every query, totals, first-page ids and every facet's (value, count) must be
   equal between (a) and (b), or the benchmark stops.
5. **Searches on the node** per ``/api/search``, read from the node's own counter during separate
   passes of the app alone (``indices.search.query_total`` of the one-shard union index: an ``_msearch``
   of two searches counts 2), and the **app's CPU time** per search over the same passes (its
   process's, every thread's). Requests are counted by
   ``tests/search_app/catalogue/test_search_round_trips.py``: one per search.

``bench/README.md`` says what each figure means and records the last run.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import statistics
import sys
import tempfile
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.corpus import BLOCK, _block  # noqa: E402
from bench.foundation import machine, percentile, quiet_logging  # noqa: E402
from bench.scale import EngineRun, build, library_files  # noqa: E402
from bench.served import (  # noqa: E402
    client_on,
    cpu_seconds,
    elasticsearch,
    es_version,
    pick_cores,
    postgresql,
    server,
)
from unicat.documents import STEM_WEIGHTS, TEXT_WEIGHTS  # noqa: E402
from unicat.query import SearchQuery, clause_stems, parse_search_params  # noqa: E402
from unicat.settings import Settings  # noqa: E402
from unicat_cli.wiring import open_catalogue  # noqa: E402

DEFAULT_RECORDS = 200_000
DEFAULT_SEED = 1
# The keyword field of each facet in the union index's documents (mappings/elasticsearch), as the API
# names them.
FACET_KEYS = {
    "library": "libraries",
    "format": "format",
    "language": "language",
    "year": "decade",
    "subject": "subject_facets",
    "audience": "audience",
    "held_at": "held_at",
    "available_at": "available_at",
    "availability": "availability",
}
SORT = [
    {"_score": "desc"},
    {"library_count": {"order": "desc", "missing": "_last"}},
    {"title_sort": "asc"},
    {"id": "asc"},
]
TARGETS = {"broad": 1.3, "selective": 1.5}
"""The issue's targets: p95 through the app at most this many times bare Elasticsearch's."""


@dataclass(frozen=True, slots=True)
class Case:
    """One search: the app's parameters and the bare body of the same search."""

    params: dict[str, str]
    body: dict[str, Any]


@dataclass(slots=True)
class Row:
    name: str
    queries: int
    app: list[float] = field(default_factory=list)
    bare: list[float] = field(default_factory=list)
    node_searches: float = 0.0
    app_cpu_ms: float = 0.0


# -- the bare request --------------------------------------------------------------------------------


def _word(field_name: str, term: str, boost: float) -> dict[str, Any]:
    return {"term": {field_name: {"value": term, "boost": boost}}}


def bare_body(query: SearchQuery, facets: bool, facet_size: int) -> dict[str, Any]:
    """The search of ``query`` as a hand-written Elasticsearch request: each word in any text field
    (or in its own field), or by a stem in the stems fields, all words required; the whole query as a
    title phrase scoring again; the first page by relevance; a terms aggregation per facet."""
    must: list[dict[str, Any]] = []
    for clause in query.clauses:
        if clause.prefix or clause.phrase:
            raise SystemExit(f"the bare request does not cover {clause}: choose plain words")
        if clause.field != "any":
            must += [_word(clause.field, term, 1.0) for term in clause.terms]
            continue
        stems = clause_stems(clause, query.stem_languages) or tuple(() for _ in clause.terms)
        for term, forms in zip(clause.terms, stems, strict=True):
            should = [_word(name, term, boost) for name, boost in TEXT_WEIGHTS.items()]
            should += [_word(name, stem, boost) for name, boost in STEM_WEIGHTS.items() for stem in forms]
            must.append({"bool": {"should": should, "minimum_should_match": 1}})
    match: dict[str, Any] = {"must": must}
    words = [term for clause in query.clauses for term in clause.terms]
    if len(words) > 1 and all(clause.field == "any" for clause in query.clauses):
        spans = [{"span_term": {"title": word}} for word in words]
        match["should"] = [
            {"span_near": {"clauses": spans, "slop": 0, "in_order": True, "boost": TEXT_WEIGHTS["title"]}}
        ]
    body: dict[str, Any] = {
        "query": {"bool": match},
        "sort": SORT,
        "from": 0,
        "size": query.page_size,
        "track_total_hits": True,
        "_source": ["doc"],
    }
    if facets:
        body["aggs"] = {
            name: {
                "terms": {
                    "field": key,
                    "size": facet_size,
                    "order": [{"_count": "desc"}, {"_key": "asc"}],
                }
            }
            for name, key in FACET_KEYS.items()
        }
    return body


# -- the queries ---------------------------------------------------------------------------------------


def query_sets(vocabulary: dict[str, int], settings: Settings, seed: int, size: int) -> dict[str, list[Case]]:
    """Broad: the ``size`` most common words, half alone and half in pairs, with facets. Selective: words
    found in 2-20 records, spread over the vocabulary, and ISBNs of the corpus."""
    plain = {word: count for word, count in vocabulary.items() if word.isalpha() and len(word) > 1}
    common = sorted(plain, key=lambda word: (-plain[word], word))[:size]
    half = max(1, size // 2)
    broad = common[:half] + [f"{a} {b}" for a, b in zip(common[half:], common[half + 1 :], strict=False)]
    rare = sorted(word for word, count in plain.items() if 2 <= count <= 20)
    step = max(1, len(rare) // half)
    selective = rare[::step][:half]
    isbns = [record.isbns[0] for record in _block(0, BLOCK, seed) if record.isbns]
    selective += isbns[:: max(1, len(isbns) // (size - half))][: size - half]

    def cases(texts: Sequence[str], facets: bool) -> list[Case]:
        made = []
        for text in texts:
            params = {"q": text} if facets else {"q": text, "facets": "0"}
            query = parse_search_params({key: [value] for key, value in params.items()}, settings)
            made.append(Case(params, bare_body(query, facets, settings.facet_size)))
        return made

    return {"broad": cases(broad, True), "selective": cases(selective, False)}


# -- the two clients -----------------------------------------------------------------------------------


class Client:
    """GET and POST over one keep-alive connection, answers parsed as JSON."""

    def __init__(self, base_url: str) -> None:
        parts = urllib.parse.urlsplit(base_url)
        self.connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=60)

    def call(self, method: str, path: str, body: bytes | None = None) -> Any:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        self.connection.request(method, path, body=body, headers=headers)
        answer = self.connection.getresponse()
        data = answer.read()
        if answer.status != 200:
            raise SystemExit(f"{method} {path} answered {answer.status}: {data[:300]!r}")
        return json.loads(data)

    def close(self) -> None:
        self.connection.close()


def app_answer(client: Client, case: Case) -> dict[str, Any]:
    return dict(client.call("GET", "/api/search?" + urllib.parse.urlencode(case.params)))


def bare_answer(client: Client, index: str, case: Case) -> dict[str, Any]:
    return dict(client.call("POST", f"/{index}/_search", json.dumps(case.body).encode()))


# -- agreement -----------------------------------------------------------------------------------------


def _app_view(answer: dict[str, Any]) -> tuple[int, list[str], dict[str, list[tuple[str, int]]]]:
    facets = {
        name: sorted((value["value"], value["count"]) for value in values)
        for name, values in answer["facets"].items()
        if values
    }
    return answer["total"], [hit["id"] for hit in answer["hits"]], facets


def _bare_view(answer: dict[str, Any]) -> tuple[int, list[str], dict[str, list[tuple[str, int]]]]:
    facets = {
        name: sorted((str(bucket["key"]), int(bucket["doc_count"])) for bucket in body["buckets"])
        for name, body in answer.get("aggregations", {}).items()
        if body["buckets"]
    }
    return answer["hits"]["total"]["value"], [hit["_id"] for hit in answer["hits"]["hits"]], facets


def check_agree(name: str, case: Case, app: dict[str, Any], bare: dict[str, Any]) -> None:
    """Stop the benchmark when the app and the bare request answer ``case`` differently."""
    ours, theirs = _app_view(app), _bare_view(bare)
    for what, a, b in zip(("total", "first-page ids", "facets"), ours, theirs, strict=True):
        if a != b:
            raise SystemExit(f"{name} {case.params}: the {what} differ: app {a!r}, bare {b!r}")


# -- timing --------------------------------------------------------------------------------------------


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def run_rows(
    app: Client, node: Client, index: str, sets: dict[str, list[Case]], rounds: int, warmup: int
) -> list[Row]:
    rows = []
    for name, cases in sets.items():
        row = Row(name, len(cases))
        for case in cases:
            check_agree(name, case, app_answer(app, case), bare_answer(node, index, case))
        for number in range(warmup + rounds):
            for position, case in enumerate(cases):
                ask_app = lambda case=case: app_answer(app, case)  # noqa: E731
                ask_node = lambda case=case: bare_answer(node, index, case)  # noqa: E731
                if (number + position) % 2:  # the other order every other time
                    theirs, ours = timed(ask_node), timed(ask_app)
                else:
                    ours, theirs = timed(ask_app), timed(ask_node)
                if number >= warmup:
                    row.app.append(ours)
                    row.bare.append(theirs)
        rows.append(row)
    return rows


def _node_searches(node: Client, index: str) -> int:
    stats = node.call("GET", f"/{index}/_stats/search")
    return int(stats["_all"]["primaries"]["search"]["query_total"])


def count_round_trips(
    app: Client,
    node: Client,
    index: str,
    rows: list[Row],
    sets: dict[str, list[Case]],
    server_pid: int,
    passes: int,
) -> None:
    """Each row's searches on the node and the app process's CPU time (its threads', user and
    system) per ``/api/search``, over ``passes`` passes of the app alone asking: the app's own work,
    which the machine's other load moves far less than it moves latencies."""
    for row in rows:
        cases = sets[row.name]
        searches, cpu = _node_searches(node, index), cpu_seconds(server_pid)
        for _ in range(passes):
            for case in cases:
                app_answer(app, case)
        asked = passes * len(cases)
        row.app_cpu_ms = (cpu_seconds(server_pid) - cpu) * 1000 / asked
        row.node_searches = (_node_searches(node, index) - searches) / asked


# -- the run -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Figures:
    """One row's figures, in ms: p50 and p95 of the app and of bare, and their ratios."""

    app50: float
    app95: float
    bare50: float
    bare95: float

    @classmethod
    def of(cls, row: Row) -> Figures:
        return cls(
            percentile(row.app, 0.5) * 1000,
            percentile(row.app, 0.95) * 1000,
            percentile(row.bare, 0.5) * 1000,
            percentile(row.bare, 0.95) * 1000,
        )

    @property
    def ratio50(self) -> float:
        return self.app50 / self.bare50

    @property
    def ratio95(self) -> float:
        return self.app95 / self.bare95


def report(runs: Sequence[Sequence[Row]]) -> str:
    """The table of each run, then, with several runs, the median of the runs' figures (each column's
    median on its own, the ratios the medians of each run's ratios)."""
    head = (
        f"{'queries':<12}{'n':>4}{'app p50':>9}{'p95':>7}{'bare p50':>10}{'p95':>7}"
        f"{'p50 x':>7}{'p95 x':>7}{'target':>8}{'es searches':>13}{'app cpu':>9}"
    )

    def line(row: Row, numbers: Sequence[float]) -> str:
        app50, app95, bare50, bare95, ratio50, ratio95, cpu = numbers
        return (
            f"{row.name:<12}{row.queries:>4}{app50:>9.1f}{app95:>7.1f}{bare50:>10.1f}{bare95:>7.1f}"
            f"{ratio50:>7.2f}{ratio95:>7.2f}{'≤ ' + str(TARGETS[row.name]):>8}{row.node_searches:>13.1f}"
            f"{cpu:>9.2f}"
        )

    def numbers(row: Row) -> list[float]:
        figures = Figures.of(row)
        return [
            figures.app50,
            figures.app95,
            figures.bare50,
            figures.bare95,
            figures.ratio50,
            figures.ratio95,
            row.app_cpu_ms,
        ]

    blocks = []
    for number, rows in enumerate(runs, 1):
        title = [f"run {number} of {len(runs)}"] if len(runs) > 1 else []
        blocks.append("\n".join([*title, head, *(line(row, numbers(row)) for row in rows)]))
    if len(runs) > 1:
        lines = [f"median of {len(runs)} runs", head]
        for position, row in enumerate(runs[0]):
            each = [numbers(rows[position]) for rows in runs]
            lines.append(line(row, [statistics.median(column) for column in zip(*each, strict=True)]))
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


@contextlib.contextmanager
def catalogue_prefix(args: argparse.Namespace, es_url: str, pg_url: str, work: Path) -> Iterator[str]:
    """The index prefix of the catalogue searched: a kept one, or one built now (deleted at the end
    unless ``--keep``)."""
    if args.reuse:
        yield args.reuse
        return
    prefix = f"app-vs-bare-{uuid.uuid4().hex[:8]}"
    settings = Settings(data_dir=work, engine_url=f"{es_url}/{prefix}", store_url=pg_url)
    catalogue = open_catalogue(settings)
    try:
        files = library_files(args.records, args.seed, args.cache)
        run = EngineRun("elasticsearch")
        started = time.perf_counter()
        build(catalogue, files, run, 1)
        print(
            f"catalogue {prefix}: {run.source_records:,} source records → {run.union_records:,} union "
            f"records in {time.perf_counter() - started:.0f} s",
            file=sys.stderr,
            flush=True,
        )
        yield prefix
    finally:
        if args.keep:
            print(f"kept catalogue {prefix} (with --es-url {es_url} --pg-url {pg_url})", file=sys.stderr)
        else:
            drop = getattr(catalogue.index, "delete_catalogue", None)
            if callable(drop):
                drop()
        catalogue.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=DEFAULT_RECORDS, help="editions (%(default)s)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--es-url", help="an Elasticsearch node to use instead of starting one")
    parser.add_argument("--pg-url", help="an empty PostgreSQL database to use instead of starting a cluster")
    parser.add_argument("--queries", type=int, default=20, help="queries per set (%(default)s)")
    parser.add_argument("--rounds", type=int, default=10, help="timed passes over each set (%(default)s)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed passes before (%(default)s)")
    parser.add_argument(
        "--repeat", type=int, default=1, help="timed runs of every set, one after the other (%(default)s)"
    )
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "unicat")
    parser.add_argument("--keep", action="store_true", help="keep the catalogue (its prefix is printed)")
    parser.add_argument("--reuse", metavar="PREFIX", help="search a kept catalogue (needs both URLs)")
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="run the app under cProfile, its report in DIR (not figures)",
    )
    args = parser.parse_args(argv)
    if args.reuse and not (args.es_url and args.pg_url):
        parser.error("--reuse needs the --es-url and --pg-url the catalogue was kept in")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    quiet_logging()
    print(machine().line(), flush=True)
    server_core, client_core = pick_cores()
    with (
        tempfile.TemporaryDirectory(prefix="unicat-app-vs-bare-") as work_dir,
        elasticsearch(args.es_url) as es_url,
        postgresql(args.pg_url) as pg_url,
        catalogue_prefix(args, es_url, pg_url, Path(work_dir)) as prefix,
    ):
        settings = Settings(data_dir=Path(work_dir), engine_url=f"{es_url}/{prefix}", store_url=pg_url)
        catalogue = open_catalogue(settings)
        try:
            sets = query_sets(catalogue.index.vocabulary(), settings, args.seed, args.queries)
        finally:
            catalogue.close()
        print(f"Elasticsearch {es_version(es_url)}, one node; stores in PostgreSQL", flush=True)
        served = {"data_dir": work_dir, "store_url": pg_url}
        with (
            server(settings.engine_url, server_core, served, args.profile) as app_server,
            client_on(client_core),
        ):
            app, node = Client(app_server.url), Client(es_url)
            try:
                index = f"{prefix}-union"
                runs = [
                    run_rows(app, node, index, sets, args.rounds, args.warmup) for _ in range(args.repeat)
                ]
                for rows in runs:
                    count_round_trips(app, node, index, rows, sets, app_server.pid, args.rounds)
            finally:
                app.close()
                node.close()
    shape = f"{args.queries} queries per set × {args.rounds} rounds, interleaved, {args.repeat} run(s)"
    print(f"{shape}; times in ms")
    print(report(runs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
