"""Relevance of the union index: does a reader's query put the record they mean first, on each engine?

The test set (``bench/data/relevance/queries.toml``) holds real queries as readers type them (known
titles with and without accents, authors, subjects, ISBNs with and without hyphens, misspellings, parts
of titles, title and author) and the records each one means, derived from the data. Each query runs
over the demo catalogue (built by the real ``unicat demo --no-serve``) or the benchmark corpus (the
first block of :mod:`bench.corpus`), on SQLite and on Elasticsearch, through the same path readers
use: the JSON API (``/api/search``) of the real application served on 127.0.0.1. When a search finds
nothing and the answer offers ``did_you_mean``, the benchmark follows it once, as a reader would.

Per engine it prints the mean reciprocal rank of the expected record (1/rank within the first
:data:`DEPTH` hits, 0 when absent), success@1 and success@10, overall, without the misspellings (which
need "did you mean") and per kind of query, and the queries that miss (not first).

    .venv/bin/python bench/relevance.py [--engines sqlite,elasticsearch] [--es-url URL] [--json OUT]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import sys
import tempfile
import tomllib
import unicodedata
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.corpus import BLOCK, union_records  # noqa: E402
from bench.foundation import build_demo  # noqa: E402
from search_app.app import make_app  # noqa: E402
from tests.support.served_app import ServedApp  # noqa: E402
from unicat.catalogue import Catalogue  # noqa: E402
from unicat.engines.elasticsearch import ElasticsearchEngine  # noqa: E402
from unicat.model import UnionRecord  # noqa: E402
from unicat.settings import Settings, load_settings  # noqa: E402
from unicat_cli.wiring import open_catalogue  # noqa: E402

QUERIES_FILE = REPO_ROOT / "bench" / "data" / "relevance" / "queries.toml"
DEPTH = 20
"""Hits read per query: one results page. An expected record below it counts as not found."""
CORPUS_SEED = 1
CORPUS_SIZE = BLOCK
"""The corpus's first block: the same records whatever the size of a full corpus."""
MISSPELLING = "misspelling"
KINDS = (
    "known title",
    "title without accents",
    "author",
    "subject",
    "isbn",
    "isbn with hyphens",
    MISSPELLING,
    "partial title",
    "title and author",
)
CATALOGUES = ("demo", "corpus")
ENGINES = ("sqlite", "elasticsearch")


@dataclass(frozen=True, slots=True)
class Query:
    """One query of the set: what the reader types, what kind it is, where, and the keys it means."""

    q: str
    kind: str
    catalogue: str
    expect: tuple[str, ...]


def load_queries(path: Path = QUERIES_FILE) -> list[Query]:
    """The test set, checked: a known kind and catalogue, at least one expected key of a known form."""
    with path.open("rb") as file:
        document = tomllib.load(file)
    queries = []
    for number, entry in enumerate(document.get("query", []), 1):
        query = Query(str(entry["q"]), str(entry["kind"]), str(entry["catalogue"]), tuple(entry["expect"]))
        if query.kind not in KINDS or query.catalogue not in CATALOGUES or not query.expect:
            raise SystemExit(f"{path}: query {number} ({query.q!r}): bad kind, catalogue or expect")
        for key in query.expect:
            if key.split(":", 1)[0] not in _KEY_KINDS:
                raise SystemExit(f"{path}: query {number}: unknown expect key {key!r}")
        queries.append(query)
    return queries


def fold(text: str) -> str:
    """Lower case, accents removed, runs of anything but letters and digits made one space.

    The benchmark's own folding, not the engines' analysis: expected answers must not depend on the
    code they judge.
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(re.sub(r"[\W_]+", " ", bare).split())


def _demo_member(record: UnionRecord, value: str) -> bool:
    library, number = value.split(":", 1)
    return any(
        ref.source == library and ref.local_id == f"oai:unicat.demo:{library}:{number}"
        for ref in record.sources
    )


def _names(record: UnionRecord) -> list[str]:
    return [*record.authors, *(contributor.name for contributor in record.contributors)]


def _isbn(record: UnionRecord, value: str) -> bool:
    return value in record.isbns


def _union_id(record: UnionRecord, value: str) -> bool:
    return record.id == value


def _title(record: UnionRecord, value: str) -> bool:
    return fold(record.title) == fold(value)


def _author(record: UnionRecord, value: str) -> bool:
    return any(fold(value) in fold(name) for name in _names(record))


def _subject(record: UnionRecord, value: str) -> bool:
    return any(fold(value) in fold(subject) for subject in record.subjects)


_KEY_KINDS: dict[str, Callable[[UnionRecord, str], bool]] = {
    "demo": _demo_member,
    "isbn": _isbn,
    "id": _union_id,
    "title": _title,
    "author": _author,
    "subject": _subject,
}


def resolve(queries: Sequence[Query], records: Iterable[UnionRecord]) -> dict[Query, frozenset[str]]:
    """The union ids each query expects, found by reading every record of its catalogue."""
    found: dict[Query, set[str]] = {query: set() for query in queries}
    keys = {key for query in queries for key in query.expect}
    matches: dict[str, set[str]] = {key: set() for key in keys}
    for record in records:
        for key in keys:
            kind, value = key.split(":", 1)
            if _KEY_KINDS[kind](record, value):
                matches[key].add(record.id)
    for query in queries:
        for key in query.expect:
            if not matches[key]:
                raise SystemExit(f"relevance: expect key {key!r} of {query.q!r} names no record")
            found[query] |= matches[key]
    return {query: frozenset(ids) for query, ids in found.items()}


# -- running the queries --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Outcome:
    """Where a query's first expected record came (0: not within :data:`DEPTH`), and what came first."""

    q: str
    kind: str
    catalogue: str
    rank: int
    first: str
    followed: str | None = None
    """The ``did_you_mean`` query followed, if the search found nothing and offered one."""


def api_search(base_url: str, q: str) -> dict[str, Any]:
    url = f"{base_url}/api/search?{urllib.parse.urlencode({'q': q, 'page_size': DEPTH, 'facets': 0})}"
    with urllib.request.urlopen(url, timeout=60) as response:
        body: dict[str, Any] = json.load(response)
    return body


def run_query(base_url: str, query: Query, expected: frozenset[str]) -> Outcome:
    """Search as a reader does; follow ``did_you_mean`` once when nothing is found."""
    body = api_search(base_url, query.q)
    followed = None
    suggestion = body.get("did_you_mean")
    if not body.get("hits") and isinstance(suggestion, dict) and suggestion.get("q"):
        followed = str(suggestion["q"])
        body = api_search(base_url, followed)
    hits = [str(hit["id"]) for hit in body.get("hits", [])][:DEPTH]
    rank = next((n for n, union_id in enumerate(hits, 1) if union_id in expected), 0)
    first = body["hits"][0].get("title", hits[0]) if hits else "(nothing)"
    return Outcome(query.q, query.kind, query.catalogue, rank, str(first), followed)


@contextlib.contextmanager
def served(catalogue: Catalogue, settings: Settings) -> Iterator[str]:
    """The real application over ``catalogue`` on 127.0.0.1; yields its base URL."""
    with ServedApp(make_app(catalogue, settings)) as app:
        yield app.url


# -- building the catalogues ----------------------------------------------------------------------------


def catalogue_settings(data_dir: Path, engine_url: str | None = None) -> Settings:
    """The settings of ``unicat --data-dir DIR`` (no config file, no UNICAT_* variables), on another
    engine when ``engine_url`` is given (the stores stay in the data directory)."""
    return load_settings(environ={}, overrides={"data_dir": data_dir, "engine_url": engine_url})


def build_sqlite(work_dir: Path) -> dict[str, Path]:
    """The demo (by the real command) and the corpus, each in a data directory of its own."""
    demo = work_dir / "demo"
    build_demo(demo)
    corpus = work_dir / "corpus"
    with open_catalogue(catalogue_settings(corpus)) as catalogue:
        catalogue.index.replace_union_records(union_records(CORPUS_SIZE, CORPUS_SEED))
    return {"demo": demo, "corpus": corpus}


@contextlib.contextmanager
def elasticsearch_copies(data_dirs: dict[str, Path], es_url: str) -> Iterator[dict[str, str | None]]:
    """Each catalogue's union records indexed into Elasticsearch (beside the same stores), under a
    prefix of its own; yields the engine URL of each, and deletes those catalogues afterwards."""
    prefix = f"relevance-{uuid.uuid4().hex[:12]}"
    urls: dict[str, str | None] = {}
    try:
        for name, data_dir in data_dirs.items():
            url = f"{es_url}/{prefix}-{name}"
            urls[name] = url
            with (
                open_catalogue(catalogue_settings(data_dir)) as source,
                open_catalogue(catalogue_settings(data_dir, url)) as target,
            ):
                target.index.replace_union_records(source.index.iter_union_records())
        yield urls
    finally:
        for created in urls.values():
            assert created is not None
            with ElasticsearchEngine(created, Settings(engine_url=created)) as engine:
                engine.delete_catalogue()


def run_engine(
    queries: Sequence[Query], data_dirs: dict[str, Path], engine_urls: dict[str, str | None]
) -> list[Outcome]:
    """Every query on one engine: each catalogue opened and served, its expected ids resolved."""
    outcomes: list[Outcome] = []
    for name in CATALOGUES:
        mine = [query for query in queries if query.catalogue == name]
        if not mine:
            continue
        settings = catalogue_settings(data_dirs[name], engine_urls[name])
        with open_catalogue(settings) as catalogue, served(catalogue, settings) as url:
            expected = resolve(mine, catalogue.index.iter_union_records())
            outcomes.extend(run_query(url, query, expected[query]) for query in mine)
    return outcomes


# -- figures --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Scores:
    queries: int
    mrr: float
    success_at_1: float
    success_at_10: float


def scores(outcomes: Sequence[Outcome]) -> Scores:
    """Mean reciprocal rank (0 for a record not in the first :data:`DEPTH`), success@1, success@10."""
    n = len(outcomes)
    if n == 0:
        return Scores(0, 0.0, 0.0, 0.0)
    return Scores(
        queries=n,
        mrr=sum(1 / o.rank for o in outcomes if o.rank) / n,
        success_at_1=sum(o.rank == 1 for o in outcomes) / n,
        success_at_10=sum(0 < o.rank <= 10 for o in outcomes) / n,
    )


@dataclass
class EngineReport:
    engine: str
    outcomes: list[Outcome]
    overall: Scores = field(init=False)
    without_misspellings: Scores = field(init=False)
    by_kind: dict[str, Scores] = field(init=False)

    def __post_init__(self) -> None:
        self.overall = scores(self.outcomes)
        self.without_misspellings = scores([o for o in self.outcomes if o.kind != MISSPELLING])
        self.by_kind = {kind: scores([o for o in self.outcomes if o.kind == kind]) for kind in KINDS}


def _line(label: str, figures: Scores) -> str:
    return (
        f"  {label:<24} {figures.queries:>4}   MRR {figures.mrr:.3f}   "
        f"success@1 {figures.success_at_1:.3f}   success@10 {figures.success_at_10:.3f}"
    )


def format_report(report: EngineReport) -> str:
    lines = [f"{report.engine}:", _line("all queries", report.overall)]
    lines.append(_line("without misspellings", report.without_misspellings))
    lines.extend(_line(kind, figures) for kind, figures in report.by_kind.items() if figures.queries)
    misses = [o for o in report.outcomes if o.rank != 1]
    lines.append(f"  not first ({len(misses)}):")
    for o in misses:
        where = f"rank {o.rank}" if o.rank else f"not in the first {DEPTH}"
        via = f" (followed did_you_mean {o.followed!r})" if o.followed else ""
        lines.append(f"    [{o.catalogue}, {o.kind}] {o.q!r}: {where}{via}; first: {o.first[:60]!r}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", default=",".join(ENGINES), help="default %(default)s")
    parser.add_argument("--es-url", help="a running Elasticsearch node (default: start one)")
    parser.add_argument("--queries", type=Path, default=QUERIES_FILE, help="the test set (TOML)")
    parser.add_argument("--json", type=Path, help="write every figure and outcome to this file")
    parser.add_argument(
        "--work-dir", type=Path, help="build the catalogues here and keep them; reused when already built"
    )
    args = parser.parse_args(argv)
    engines = [name.strip() for name in args.engines.split(",") if name.strip()]
    if not engines or set(engines) - set(ENGINES):
        parser.error(f"--engines: choose among {', '.join(ENGINES)}")
    queries = load_queries(args.queries)
    reports = []
    with contextlib.ExitStack() as stack:
        work = args.work_dir or Path(
            stack.enter_context(tempfile.TemporaryDirectory(prefix="unicat-relevance-"))
        )
        data_dirs = {name: work / name for name in CATALOGUES}
        if not all((path / "unicat.db").is_file() for path in data_dirs.values()):
            print("building the demo catalogue and the corpus…", file=sys.stderr)
            data_dirs = build_sqlite(work)
        if "sqlite" in engines:
            reports.append(EngineReport("sqlite", run_engine(queries, data_dirs, dict.fromkeys(data_dirs))))
        if "elasticsearch" in engines:
            with _node(args.es_url) as es_url, elasticsearch_copies(data_dirs, es_url) as urls:
                reports.append(EngineReport("elasticsearch", run_engine(queries, data_dirs, urls)))
    print(f"Relevance: {len(queries)} queries ({QUERIES_FILE.relative_to(REPO_ROOT)}), first {DEPTH} hits")
    for report in reports:
        print(format_report(report))
    if args.json:
        args.json.write_text(json.dumps([asdict(report) for report in reports], indent=2, ensure_ascii=False))
    return 0


@contextlib.contextmanager
def _node(es_url: str | None) -> Iterator[str]:
    if es_url:
        yield es_url.rstrip("/")
        return
    from tests.support.es_node import running_node

    with running_node() as url:
        yield url


if __name__ == "__main__":
    raise SystemExit(main())
