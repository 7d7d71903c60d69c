"""The SRU endpoint, ``GET|POST /sru``: searchRetrieve (CQL) and explain, SRU 1.2 and 2.0.

CQL is parsed by :mod:`search_app.sru.cql` and translated by :mod:`search_app.sru.cql_search` into the
same query model as the web search, then run by the engine in the app's thread pool. Every problem is
an SRU diagnostic in an SRU response, never an HTML error page: SRU 1.2 answers them with HTTP 200 (the
body says what went wrong), SRU 2.0 with the HTTP status that fits a fatal diagnostic (400 for what
the client must change, 503 for a busy engine, 500 for our own failure) and 200 otherwise.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace

from aiohttp import web

from search_app.form_body import posted_form
from search_app.links import record_url
from search_app.sru.cql import CqlError, parse
from search_app.sru.cql_search import resolve_index, translate
from search_app.sru.explain import zeerex
from search_app.sru.request import FACET_NAMES, SruDiagnostic, SruRequest, negotiate_version, read_request
from search_app.sru.xml import CONTENT_TYPES, Facet, explain_response, fatal, search_response
from search_app.state import INDEX, SETTINGS, SOURCES, in_thread
from search_app.timing import add_engine_time
from unicat.errors import BadParameter, EngineUnavailable, QueryTimeout
from unicat.fields import FACETS
from unicat.holding_codes import named_records
from unicat.query import SearchQuery, SearchResult

log = logging.getLogger(__name__)

DEEP_START = 10_000

FACET_LABELS = {facet.name: facet.title for facet in FACETS}
# The query that selects the records of one term of a facet, by the kind of its index: a code is a
# whole value, a decade ("1990-1999") a range that dc.date within understands, a heading a phrase.
_TERM_RELATIONS = {"code": "==", "year": "within", "text": "adj"}
_TERM_QUERIES = {
    facet.name: f"{facet.sru} {_TERM_RELATIONS[resolve_index(facet.sru, {})[2].kind]} {{term}}"
    for facet in FACETS
}


def add_routes(app: web.Application) -> None:
    """``/sru`` for GET and POST (a form-encoded body, as SRU's POST binding sends)."""
    app.router.add_get("/sru", sru, name="sru")
    app.router.add_post("/sru", sru)


async def _params(request: web.Request) -> dict[str, list[str]]:
    """The request's parameters as lists (a repeated one is seen); a POST's body joins its URL's."""
    params: dict[str, list[str]] = {key: request.query.getall(key) for key in request.query}
    if request.method == "POST":
        form = await posted_form(request)
        for key in form:
            params.setdefault(key, []).extend(str(value) for value in form.getall(key))
    return params


def _status(version: str, diagnostic: SruDiagnostic) -> int:
    if version != "2.0":
        return 200
    return {1: 500, 2: 503}.get(diagnostic.code, 400)


def _xml(version: str, body: str, status: int = 200) -> web.Response:
    return web.Response(text=body, status=status, content_type=CONTENT_TYPES[version], charset="utf-8")


async def sru(request: web.Request) -> web.Response:
    """One SRU request: explain or searchRetrieve, or the fatal diagnostic of what is wrong."""
    try:
        raw = await _params(request)
    except BadParameter as exc:  # a body that is not a form: answered in the version the URL asks
        raw = {key: request.query.getall(key) for key in request.query}
        version = negotiate_version(raw)
        echo = {key: values[0] for key, values in raw.items() if values}
        diagnostic = SruDiagnostic(6, "body", exc.message)
        return _xml(version, fatal(version, diagnostic, echo), _status(version, diagnostic))
    version = negotiate_version(raw)
    echo = {key: values[0] for key, values in raw.items() if values}
    try:
        parsed = read_request(raw, request.app[SETTINGS])
        if parsed.operation == "explain":
            return _explain(request, parsed)
        return await _search_retrieve(request, parsed)
    except SruDiagnostic as found:
        diagnostic = found
    except QueryTimeout:
        diagnostic = SruDiagnostic(2, "", "the search took too long; narrow it down")
    except EngineUnavailable as exc:
        log.warning("engine unavailable on SRU %s: %s", request.path_qs, exc)
        diagnostic = SruDiagnostic(2, "", "the catalogue's search engine is not available; try again soon")
    except Exception:
        log.exception("unhandled error on SRU %s", request.path_qs)
        diagnostic = SruDiagnostic(1, "", "an unexpected error occurred; it has been logged")
    return _xml(version, fatal(version, diagnostic, echo), _status(version, diagnostic))


def _explain(request: web.Request, parsed: SruRequest) -> web.Response:
    host, _, port = request.host.rpartition(":")
    if not host or not port.isdigit():
        host, port = request.host, "443" if request.secure else "80"
    record = zeerex(request.app[SETTINGS], host, int(port), request.path.strip("/"), parsed.version)
    return _xml(parsed.version, explain_response(parsed.version, record, parsed.params, parsed.escaping))


def _window(start: int, count: int) -> tuple[int, int]:
    """(page, page_size) of the smallest engine page holding positions ``start``..``start+count-1``:
    SRU pages start anywhere, the engine's at multiples of their size."""
    first = start - 1
    last = first + max(count, 1) - 1
    size = max(count, 1)
    while first // size != last // size:
        size += 1
    return first // size + 1, size


async def _search_retrieve(request: web.Request, parsed: SruRequest) -> web.Response:
    try:
        cql = parse(parsed.query)
        search = translate(cql)
    except CqlError as error:
        raise SruDiagnostic.of_cql(error) from None
    # A sortBy in the query wins over sortKeys (SRU 2.0 puts sorting in CQL).
    sort = search.sort if cql.sort_keys or parsed.sort is None else parsed.sort
    page, size = _window(parsed.start, parsed.maximum)
    query = SearchQuery(
        expression=search.expression,
        sort=sort,
        page=page,
        page_size=size,
        facets=bool(parsed.facet_limits),
        facet_size=max(parsed.facet_limits.values(), default=1),
        text=parsed.query,
        # CQL matches words as written: stemming is what its ``stem`` relation modifier asks for.
        stem_languages=(),
    )
    started = time.perf_counter()
    engine = request.app[INDEX]
    if parsed.start > DEEP_START:
        # Walking to a deep page costs; past the end there is nothing to walk to, so count first.
        counting = replace(query, page=1, page_size=1, facets=False)
        _check_start(parsed.start, (await in_thread(request.app, engine.search, counting)).total)
    result = await in_thread(request.app, engine.search, query)
    add_engine_time(request, started)
    _check_start(parsed.start, result.total)
    skip = parsed.start - 1 - query.offset
    hits = result.hits[skip : skip + parsed.maximum] if parsed.maximum else []
    named = named_records(hits, await request.app[SOURCES].code_tables())
    records = [(record, str(request.url.origin()) + record_url(record.id)) for record in named]
    body = search_response(parsed, result.total, records, _facets(result, parsed.facet_limits))
    return _xml(parsed.version, body)


def _check_start(start: int, total: int) -> None:
    """Diagnostic 61 for a start past the last record (a start of 1 is fine: no records)."""
    if start > 1 and start > total:
        raise SruDiagnostic(61, str(start), f"startRecord {start} is past the {total} records")


def _facets(result: SearchResult, limits: Mapping[str, int]) -> Sequence[Facet]:
    facets: list[Facet] = []
    for name, limit in limits.items():
        counts = result.facets.get(name)
        if counts is None:
            continue
        facets.append(Facet(FACET_NAMES[name], FACET_LABELS[name], counts[:limit], _TERM_QUERIES[name]))
    return facets
